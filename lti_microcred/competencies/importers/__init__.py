"""Competency framework import (1EdTech CASE 1.1 JSON, Moodle `tool_lpimportcsv` CSV), all or nothing.

The whole file is checked before a single row is written, and every problem is reported with where it
is (CSV line, CASE identifier). Then the framework is written in the caller's transaction (flush only),
matched by identifier so that re-importing updates in place and keeps competency ids.

Limits, so that hostile input costs bounded work: the size is checked before decoding (DEFAULT_MAX_BYTES),
at most MAX_COMPETENCIES competencies, MAX_DEPTH levels, MAX_PROBLEMS problems listed, CSV fields of at
most 128 KiB (the csv module's limit). Over-long fields: see `validate`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from lti_microcred.competencies.importers.case import parse_case
from lti_microcred.competencies.importers.decode import CASE, MOODLE_CSV, check_size, decode, detect_format
from lti_microcred.competencies.importers.moodle_csv import parse_moodle_csv
from lti_microcred.competencies.importers.parsed import (
    FrameworkImportError,
    ImportReport,
    ParsedFramework,
    Problem,
    ProblemList,
)
from lti_microcred.competencies.importers.validate import MAX_COMPETENCIES, MAX_DEPTH, validate
from lti_microcred.competencies.importers.writer import write_framework

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
PARSERS = {CASE: parse_case, MOODLE_CSV: parse_moodle_csv}
FORMAT_LABELS = {CASE: "CASE 1.1 JSON", MOODLE_CSV: "Moodle CSV"}


def parse_framework(data: bytes, filename: str | None = None, fmt: str | None = None,
                    max_bytes: int = DEFAULT_MAX_BYTES,
                    max_competencies: int = MAX_COMPETENCIES) -> ParsedFramework:
    """Decode, detect, parse and validate; FrameworkImportError lists every problem found."""
    text = decode(data, max_bytes)
    problems = ProblemList()
    parsed = PARSERS[detect_format(text, filename, fmt)](text, problems, max_competencies)
    if parsed is not None:
        validate(parsed, problems, max_competencies)
    problems.raise_if_any()
    assert parsed is not None  # a parser that gives up always says why
    return parsed


def import_framework(session: Session, platform_id: int, data: bytes, filename: str | None = None,
                     fmt: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                     max_competencies: int = MAX_COMPETENCIES) -> ImportReport:
    """Validate the whole file, then create or update the platform's framework; the caller commits."""
    parsed = parse_framework(data, filename, fmt, max_bytes, max_competencies)
    return write_framework(session, platform_id, parsed)


__all__ = [
    "CASE", "DEFAULT_MAX_BYTES", "FORMAT_LABELS", "MAX_COMPETENCIES", "MAX_DEPTH", "MOODLE_CSV",
    "FrameworkImportError", "ImportReport", "Problem", "check_size", "import_framework", "parse_framework",
]
