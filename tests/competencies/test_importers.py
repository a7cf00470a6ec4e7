"""Framework import: real-shaped CASE and Moodle files, every refusal named, all or nothing, ids kept."""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from lti_microcred.competencies.importers import FrameworkImportError, ImportReport, import_framework
from lti_microcred.competencies.models import Competency, Framework
from lti_microcred.core.db import transaction
from lti_microcred.lti.models import Platform
from lti_microcred.services import Services

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "frameworks"
CASE_FILE = "digital_skills_case.json"
MOODLE_FILE = "digital_skills_moodle.csv"
DOC_ID = "cf05cfbd-96e2-5f13-9707-3dd3e7bb547f"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def add_platform(services: Services, issuer: str, client_id: str) -> int:
    with transaction(services.sessions) as session:
        row = Platform(name=issuer, issuer=issuer, client_id=client_id, auth_login_url=f"{issuer}/auth",
                       auth_token_url=f"{issuer}/token")
        session.add(row)
        session.flush()
        return row.id


@pytest.fixture
def platform_id(services: Services) -> int:
    return add_platform(services, "https://moodle.example.edu", "client-1")


def run_import(services: Services, platform_id: int, data: bytes, filename: str | None = None,
               **kwargs: Any) -> ImportReport:
    with transaction(services.sessions) as session:
        return import_framework(session, platform_id, data, filename, **kwargs)


def refused(services: Services, platform_id: int, data: bytes, filename: str | None = None,
            **kwargs: Any) -> list[str]:
    with pytest.raises(FrameworkImportError) as caught:
        run_import(services, platform_id, data, filename, **kwargs)
    return [str(problem) for problem in caught.value.problems]


def counts(services: Services) -> tuple[int, int]:
    with services.read_sessions() as session:
        return (session.scalar(select(func.count()).select_from(Framework)) or 0,
                session.scalar(select(func.count()).select_from(Competency)) or 0)


def by_code(services: Services) -> dict[str, Competency]:
    with services.read_sessions() as session:
        return {c.code: c for c in session.scalars(select(Competency)) if c.code}


def parent_code(comps: dict[str, Competency], code: str) -> str | None:
    codes = {c.id: c.code for c in comps.values()}
    parent_id = comps[code].parent_id
    return None if parent_id is None else codes[parent_id]


def test_case_package_keeps_identifiers_uris_codes_and_hierarchy(services: Services, platform_id: int) -> None:
    report = run_import(services, platform_id, fixture(CASE_FILE), CASE_FILE)
    assert (report.created, report.updated, report.unchanged, report.framework_created) == (20, 0, 0, True)
    fw = report.framework
    assert (fw.identifier, fw.title, fw.version, fw.source) == (DOC_ID, "Digital Skills for Learners", "1.0", "case")
    assert fw.uri == f"https://case.example.edu/uri/{DOC_ID}"
    comps = by_code(services)
    outcome = comps["DS.1.1.2"]
    assert (parent_code(comps, "DS.1.1.2"), parent_code(comps, "DS.1.1"), parent_code(comps, "DS.1")) == (
        "DS.1.1", "DS.1", None)
    assert comps["DS.1"].parent_id is None and outcome.sort_order == 2  # sequenceNumber
    assert outcome.uri == f"https://case.example.edu/uri/{outcome.identifier}"
    assert comps["DS.1.1"].short_name.startswith("Browsing, searching")  # abbreviatedStatement
    assert comps["DS.1.1"].description.startswith("Articulate information needs")  # fullStatement
    assert outcome.short_name == outcome.description  # no abbreviatedStatement: the statement itself


def test_moodle_export_gives_the_same_tree_with_plain_text(services: Services, platform_id: int) -> None:
    report = run_import(services, platform_id, fixture(MOODLE_FILE), MOODLE_FILE)
    assert (report.created, report.framework.identifier, report.framework.source) == (20, "DSL-2025", "moodle_csv")
    assert "« compétences numériques »" in report.framework.description
    assert "<p" not in report.framework.description
    comps = by_code(services)
    assert parent_code(comps, "DS.3.2.1") == "DS.3.2"
    assert comps["DS.3.2"].description.splitlines()[1:] == ["Creative Commons licences", "Fair use & exceptions"]
    assert [c.sort_order for c in sorted(comps.values(), key=lambda c: c.id) if c.parent_id is None] == [1, 2, 3, 4]


def _semicolons(data: bytes) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(csv.reader(io.StringIO(data.decode())))
    return out.getvalue().encode()


@pytest.mark.parametrize("variant", ["bom", "semicolons_crlf"])
def test_spreadsheet_saved_variants_are_read(variant: str, services: Services, platform_id: int) -> None:
    data = fixture(MOODLE_FILE)
    data = codecs.BOM_UTF8 + data if variant == "bom" else _semicolons(data)
    assert run_import(services, platform_id, data, "export.csv").created == 20


def _case_doc() -> dict[str, Any]:
    return json.loads(fixture(CASE_FILE))


def _item(doc: dict[str, Any], code: str) -> dict[str, Any]:
    return next(i for i in doc["CFItems"] if i["humanCodingScheme"] == code)


def _child_of(doc: dict[str, Any], code: str) -> dict[str, Any]:
    ident = _item(doc, code)["identifier"]
    return next(a for a in doc["CFAssociations"]
                if a["associationType"] == "isChildOf" and a["originNodeURI"]["identifier"] == ident)


def test_reimport_updates_by_identifier_keeps_ids_and_never_deletes(services: Services, platform_id: int) -> None:
    run_import(services, platform_id, fixture(CASE_FILE))
    before = {c.identifier: c.id for c in by_code(services).values()}
    again = run_import(services, platform_id, fixture(CASE_FILE))
    assert (again.created, again.updated, again.unchanged, again.framework_created) == (0, 0, 20, False)

    doc = _case_doc()
    _item(doc, "DS.1.2.1")["fullStatement"] = "Checks author, date, purpose and evidence of a source."
    _child_of(doc, "DS.2.2")["destinationNodeURI"] = {"identifier": _item(doc, "DS.1")["identifier"], "title": "x"}
    removed = _item(doc, "DS.4.2.1")
    doc["CFItems"].remove(removed)
    doc["CFAssociations"].remove(_child_of_id(doc, removed["identifier"]))
    new = {**_item(doc, "DS.4.1"), "identifier": "0c7f3b0e-1d2a-4a51-8f3e-5c9d2b7a6e01",
           "humanCodingScheme": "DS.4.1.1", "fullStatement": "Installs security updates.",
           "uri": "https://case.example.edu/uri/new"}
    new.pop("abbreviatedStatement")
    doc["CFItems"].append(new)
    report = run_import(services, platform_id, json.dumps(doc).encode())

    assert (report.created, report.updated, report.unchanged) == (1, 2, 17)
    assert report.retained == [removed["identifier"]]
    after = by_code(services)
    assert {c.identifier: c.id for c in after.values() if c.identifier in before} == before
    assert counts(services) == (1, 21)
    assert after["DS.1.2.1"].description.startswith("Checks author, date, purpose")
    assert after["DS.2.2"].parent_id == after["DS.1"].id
    assert after["DS.4.1.1"].parent_id is None  # no isChildOf association: top level


def _child_of_id(doc: dict[str, Any], ident: str) -> dict[str, Any]:
    return next(a for a in doc["CFAssociations"] if a["originNodeURI"]["identifier"] == ident)


def test_refused_reimport_leaves_the_framework_as_it_was(services: Services, platform_id: int) -> None:
    run_import(services, platform_id, fixture(CASE_FILE))
    doc = _case_doc()
    _item(doc, "DS.1")["fullStatement"] = "Changed"
    _child_of(doc, "DS.1")["destinationNodeURI"] = {"identifier": _item(doc, "DS.1.1.1")["identifier"]}
    problems = refused(services, platform_id, json.dumps(doc).encode())
    assert any("cycle" in p for p in problems)
    assert by_code(services)["DS.1"].description == "Information and data literacy"
    assert counts(services) == (1, 20)


def test_same_framework_in_two_institutions_stays_apart(services: Services, platform_id: int) -> None:
    other = add_platform(services, "https://canvas.instructure.com", "10000000000042")
    first = run_import(services, platform_id, fixture(CASE_FILE))
    second = run_import(services, other, fixture(CASE_FILE))
    assert second.framework_created and first.framework.id != second.framework.id
    assert counts(services) == (2, 40)


BROKEN = [
    ("moodle_latin1.csv", ["line 2: The file is not UTF-8 text: byte 0xE9"]),
    ("case_cycle.json", ["CFItem 7d1b5a20-4c1e-4f7a-9d51-0c0de00000a2: The parents form a cycle",
                         "CFItem 7d1b5a20-4c1e-4f7a-9d51-0c0de00000a4: It is its own parent"]),
    ("moodle_cycle.csv", ["line 4: The parents form a cycle: 'SPR.2' → 'SPR.3' → 'SPR.2'",
                          "line 6: It is its own parent"]),
    ("case_unknown_parent.json", ["CFItem 7d1b5a20-4c1e-4f7a-9d51-0c0de00000a2: Its parent "
                                  "'7d1b5a20-4c1e-4f7a-9d51-0c0de00000ff' is not a competency of this file"]),
    ("moodle_unknown_parent.csv", ["line 4: Its parent 'SPR.9' is not a competency of this file"]),
    ("case_duplicate_ids.json", ["is used more than once (CFItems[0] and CFItems[2])"]),
    ("moodle_duplicate_ids.csv", ["line 5: The ID number 'SPR.1' is used more than once (line 3 and line 5)"]),
    ("case_malformed.json", ["line 34, column 29: The file is not valid JSON"]),
    ("moodle_malformed.csv", ["line 4: The CSV is malformed"]),
    ("moodle_missing_columns.csv", ["line 1: Missing columns: Parent ID number, Is framework"]),
    ("case_missing_fields.json", ["CFItems[2]: The CFItem has no identifier",
                                  "CFDocument 7d1b5a20-4c1e-4f7a-9d51-0c0de0000001: The framework's title is missing",
                                  "CFItem 7d1b5a20-4c1e-4f7a-9d51-0c0de00000a2: The fullStatement is missing"]),
]


@pytest.mark.parametrize(("name", "expected"), BROKEN, ids=[name for name, _ in BROKEN])
def test_broken_files_are_refused_with_every_problem_located(name: str, expected: list[str], services: Services,
                                                             platform_id: int) -> None:
    problems = refused(services, platform_id, fixture(name), name)
    for text in expected:
        assert any(p.startswith(text) or text in p for p in problems), (text, problems)
    assert len(problems) == len(expected)
    assert counts(services) == (0, 0)


@pytest.fixture
def count_statements(services: Services) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(services.engine, "before_cursor_execute", record)
    yield seen
    event.remove(services.engine, "before_cursor_execute", record)


def _big_csv(count: int, depth: int = 3) -> bytes:
    lines = ['"Parent ID number","ID number","Short name",Description,"Description format","Is framework"',
             ',BIG,"Big framework",,1,1']
    for n in range(count):
        parent = f"C{n // 10}" if n >= 10 and n // 10 < n else ""
        lines.append(f'{parent},C{n},"Competency {n}","Statement {n}",2,')
    return ("\n".join(lines) + "\n").encode()


def test_thousands_of_competencies_take_a_handful_of_statements(services: Services, platform_id: int,
                                                                count_statements: list[str]) -> None:
    data = _big_csv(3000)
    assert run_import(services, platform_id, data).created == 3000
    first = len(count_statements)
    report = run_import(services, platform_id, data.replace(b'"Statement 7"', b'"Statement seven"'))
    assert (report.updated, report.unchanged) == (1, 2999)
    assert first < 15 and len(count_statements) - first < 15, count_statements


def test_limits_are_checked_before_work(services: Services, platform_id: int) -> None:
    huge = b"{" + b" " * (10 * 1024 * 1024)
    assert refused(services, platform_id, huge, "big.json") == [
        "file: The file is 10,485,761 bytes; the limit is 10,485,760 bytes (10 MB). Import a smaller file: leave out "
        "the branches your courses do not need, or split it into several frameworks."]
    assert refused(services, platform_id, b"x" * (12 * 1024 * 1024), "big.csv")[0].startswith(
        "file: The file is 12.0 MB; the limit is 10 MB.")
    too_many = refused(services, platform_id, _big_csv(20_001), "many.csv")
    assert too_many == ["line 20003: The file has more than 20,000 competencies; stopped here."]
    nested = refused(services, platform_id, b"[" * 200_000, "deep.json")
    assert nested and "not a JSON document we can read" in nested[0]
    assert counts(services) == (0, 0)


def test_hostile_values_are_refused_not_stored(services: Services, platform_id: int) -> None:
    doc = _case_doc()
    _item(doc, "DS.1")["identifier"] = "x" * 300
    _item(doc, "DS.2")["fullStatement"] = "bad \u0000 byte"
    _item(doc, "DS.3")["humanCodingScheme"] = "C" * 101
    _item(doc, "DS.4")["fullStatement"] = "y" * 10_001
    _item(doc, "DS.1.1")["uri"] = "not a uri"
    problems = refused(services, platform_id, json.dumps(doc).encode())
    assert any("identifier is 300 characters long" in p for p in problems)
    assert any("NUL character" in p for p in problems)
    assert any("code is 101 characters" in p for p in problems)
    assert any("description is 10,001 characters" in p for p in problems)
    assert any("is not an absolute URI" in p for p in problems)
    assert counts(services) == (0, 0)


def test_long_names_are_cut_with_a_warning(services: Services, platform_id: int) -> None:
    doc = _case_doc()
    _item(doc, "DS.1")["abbreviatedStatement"] = "word " * 80
    report = run_import(services, platform_id, json.dumps(doc).encode())
    assert any("the name was cut to 255 characters" in w for w in report.warnings)
    assert len(by_code(services)["DS.1"].short_name) <= 255


def test_too_deep_a_hierarchy_is_refused(services: Services, platform_id: int) -> None:
    rows = ['"Parent ID number","ID number","Short name","Is framework"', ",CHAIN,Chain,1"]
    rows += [f"{'L' + str(n - 1) if n else ''},L{n},Level {n}," for n in range(40)]
    problems = refused(services, platform_id, "\n".join(rows).encode())
    assert problems == ["line 35: The hierarchy is deeper than 32 levels here."]


def test_an_item_with_two_parents_keeps_the_first(services: Services, platform_id: int) -> None:
    doc = _case_doc()
    extra = dict(_child_of(doc, "DS.3.2.1"), identifier="second-parent")
    extra["destinationNodeURI"] = {"identifier": _item(doc, "DS.3.1")["identifier"]}
    doc["CFAssociations"].append(extra)
    report = run_import(services, platform_id, json.dumps(doc).encode())
    assert any("more than one parent" in w for w in report.warnings)
    comps = by_code(services)
    assert comps["DS.3.2.1"].parent_id == comps["DS.3.2"].id


def test_format_can_be_forced(services: Services, platform_id: int) -> None:
    assert refused(services, platform_id, fixture(MOODLE_FILE), fmt="case")[0].startswith("line 1, column 1")
    assert refused(services, platform_id, fixture(MOODLE_FILE), fmt="xml") == [
        "format: Unknown format 'xml': use “case” or “moodle-csv”."]
    assert run_import(services, platform_id, fixture(CASE_FILE), "framework.txt").source == "case"
