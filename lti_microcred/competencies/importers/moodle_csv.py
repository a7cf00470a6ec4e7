"""Moodle competency framework CSV, as `tool_lpimportcsv` exports it (admin/tool/lpimportcsv).

One header row, then one row with "Is framework" = 1 (the framework: ID number, short name, description,
scale, taxonomy), then one row per competency naming its parent by "Parent ID number" (empty = top level).
Moodle maps columns by position (its headers are translated), so a header we do not recognise at all is
read in Moodle's column order. Scales, rules, cross-references and taxonomies are not stored; HTML
descriptions (format 1) are kept as plain text. Unlike Moodle, which silently drops rows whose parent is
missing and lets a repeated ID number overwrite the earlier row, we refuse both.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Protocol

from lti_microcred.competencies.importers.decode import MOODLE_CSV
from lti_microcred.competencies.importers.html_text import html_to_text
from lti_microcred.competencies.importers.parsed import ParsedCompetency, ParsedFramework, ProblemList
from lti_microcred.competencies.importers.validate import MAX_CODE, MAX_COMPETENCIES

# framework_importer::list_required_headers(), in order (lang/en/tool_lpimportcsv.php).
COLUMNS = (
    ("parent", "Parent ID number"), ("idnumber", "ID number"), ("shortname", "Short name"),
    ("description", "Description"), ("descriptionformat", "Description format"), ("scalevalues", "Scale values"),
    ("scaleconfiguration", "Scale configuration"), ("ruletype", "Rule type (optional)"),
    ("ruleoutcome", "Rule outcome (optional)"), ("ruleconfig", "Rule config (optional)"),
    ("relatedidnumbers", "Cross-referenced competency ID numbers"), ("exportid", "Exported ID (optional)"),
    ("isframework", "Is framework"), ("taxonomy", "Taxonomy"),
)
LABELS = dict(COLUMNS)
BY_HEADER = {label.casefold(): key for key, label in COLUMNS}
REQUIRED = ("parent", "idnumber", "shortname", "isframework")
FORMAT_HTML = "1"
_TRUE = frozenset({"1", "true", "yes", "y"})
_FALSE = frozenset({"", "0", "false", "no", "n"})
_FLAGS = _TRUE | _FALSE

Row = tuple[int, list[str]]


class Cell(Protocol):
    """One row's value by column key."""

    def __call__(self, key: str, strip: bool = True) -> str: ...


def parse_moodle_csv(text: str, problems: ProblemList,
                     max_competencies: int = MAX_COMPETENCIES) -> ParsedFramework | None:
    """Read a Moodle framework export; returns None when the rows cannot be read at all."""
    rows = _read_rows(text, problems, max_competencies + 2)
    if not rows:
        return None
    columns = _columns(rows[0][1], problems)
    if columns is None:
        return None
    framework: ParsedFramework | None = None
    competencies: list[ParsedCompetency] = []
    for line, row in rows[1:]:
        cell = _reader(row, columns)
        is_framework = _flag(cell("isframework"), line, problems)
        if is_framework and framework is not None:
            problems.add(f"line {line}", f"A second framework row (the first is on {framework.location}).")
        elif is_framework:
            framework = _framework(line, cell)
        else:
            competencies.append(_competency(line, cell))
    if framework is None:
        problems.add("file", f"No row has “{LABELS['isframework']}” = 1: a Moodle export starts with the "
                             "framework's own row.")
        return None
    _top_level_by_framework_id(framework, competencies)
    siblings: Counter[str | None] = Counter()
    for c in competencies:  # Moodle keeps the file's order among siblings
        siblings[c.parent] += 1
        c.sort_order = siblings[c.parent]
    framework.competencies = competencies
    return framework


def _read_rows(text: str, problems: ProblemList, max_rows: int) -> list[Row] | None:
    """Non-blank records with the line each starts on; stops at the first CSV error or past max_rows."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    rows: list[Row] = []
    start = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((start, row))
            if len(rows) > max_rows:
                problems.add(f"line {start}", f"The file has more than {max_rows - 2:,} competencies; stopped here.")
                return None
            start = reader.line_num + 1
    except csv.Error as exc:
        upto = f" (read up to line {reader.line_num})" if reader.line_num > start else ""
        problems.add(f"line {start}", f"The CSV is malformed{upto}: {exc}. Check for an unclosed quote.")
        return None
    if not rows:
        problems.add("file", "The file has no rows.")
    elif len(rows) == 1:
        problems.add("file", "The file has a header but no framework or competency rows.")
        return None
    return rows


def _delimiter(text: str) -> str:
    """Moodle lets the exporter choose; a spreadsheet in many locales saves with semicolons."""
    header = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=header.count)


def _columns(header: list[str], problems: ProblemList) -> dict[str, int] | None:
    names = [" ".join(h.split()).casefold() for h in header]
    found: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in BY_HEADER:
            found.setdefault(BY_HEADER[name], index)
    if not found and len(header) >= len(COLUMNS):
        return {key: index for index, (key, _) in enumerate(COLUMNS)}
    missing = [LABELS[key] for key in REQUIRED if key not in found]
    if missing:
        problems.add("line 1", f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}. "
                               f"A Moodle competency framework export has the columns: "
                               f"{', '.join(label for _, label in COLUMNS)}.")
        return None
    return found


def _reader(row: list[str], columns: dict[str, int]) -> Cell:
    def cell(key: str, strip: bool = True) -> str:
        index = columns.get(key)
        value = row[index] if index is not None and index < len(row) else ""
        return value.strip() if strip else value
    return cell


def _flag(value: str, line: int, problems: ProblemList) -> bool:
    lowered = value.lower()
    if lowered not in _FLAGS:
        problems.add(f"line {line}", f"“{LABELS['isframework']}” must be 1 or empty, not {value[:20]!r}.")
    return lowered in _TRUE


def _description(cell: Cell) -> str:
    raw = cell("description", strip=False)
    return html_to_text(raw) if cell("descriptionformat") == FORMAT_HTML else raw.strip()


def _framework(line: int, cell: Cell) -> ParsedFramework:
    return ParsedFramework(source=MOODLE_CSV, identifier=cell("idnumber"), title=cell("shortname"),
                           location=f"line {line}", id_label="ID number", title_label="Short name",
                           name_label="Short name", description=_description(cell))


def _competency(line: int, cell: Cell) -> ParsedCompetency:
    identifier, parent = cell("idnumber"), cell("parent") or None
    return ParsedCompetency(
        identifier=identifier, short_name=cell("shortname"), description=_description(cell),
        code=identifier if 0 < len(identifier) <= MAX_CODE else None, parent=parent,
        location=f"line {line}", position=f"line {line}",
    )


def _top_level_by_framework_id(framework: ParsedFramework, competencies: list[ParsedCompetency]) -> None:
    """A parent naming the framework's own ID number means top level (unless a competency has that ID)."""
    ids = {c.identifier for c in competencies}
    if framework.identifier in ids:
        return
    for c in competencies:
        if c.parent == framework.identifier:
            c.parent = None
