"""What a parser hands to validation and the writer, and what an import tells its caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lti_microcred.competencies.errors import DomainError

if TYPE_CHECKING:
    from lti_microcred.competencies.models import Framework

MAX_PROBLEMS = 200


@dataclass(frozen=True)
class Problem:
    """One reason a file cannot be imported, with where it is (CSV line, CASE identifier)."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class FrameworkImportError(DomainError):
    """The file was refused and nothing was written; `problems` lists every reason found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = len(problems)
        super().__init__(f"The framework was not imported: {count} problem{'s' if count != 1 else ''} found.")


class ProblemList:
    """Collects problems up to a cap, so a hostile file cannot make the report itself huge."""

    def __init__(self, cap: int = MAX_PROBLEMS) -> None:
        self.cap = cap
        self.items: list[Problem] = []
        self.dropped = 0

    def add(self, location: str, message: str) -> None:
        if len(self.items) < self.cap:
            self.items.append(Problem(location, message))
        else:
            self.dropped += 1

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        found = list(self.items)
        if self.dropped:
            found.append(Problem("", f"… and {self.dropped} more problems not listed."))
        raise FrameworkImportError(found)


def refuse(location: str, message: str) -> FrameworkImportError:
    """A refusal with a single problem (whole-file checks: size, encoding, format)."""
    return FrameworkImportError([Problem(location, message)])


@dataclass
class ParsedCompetency:
    """One competency as read from the file, before anything touches the database."""

    identifier: str
    short_name: str
    description: str = ""
    uri: str | None = None
    code: str | None = None
    parent: str | None = None  # identifier of the parent competency; None = top level
    sort_order: int = 0
    location: str = ""  # how messages name it: "line 7", "CFItem 4f1c…"
    position: str = ""  # where it sits in the file, to tell duplicates apart: "line 7", "CFItems[3]"


@dataclass
class ParsedFramework:
    """A whole framework read from one file: the document and its competencies in file order."""

    source: str  # case | moodle_csv (Framework.source)
    identifier: str
    title: str
    location: str
    id_label: str  # what the format calls an identifier: "identifier" (CASE) or "ID number" (Moodle)
    title_label: str  # and the framework's title ("title", "Short name") and a competency's ("fullStatement")
    name_label: str
    description: str = ""
    uri: str | None = None
    version: str | None = None
    competencies: list[ParsedCompetency] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """What an import did, for the person who ran it (counts and the framework row)."""

    framework: Framework
    source: str
    framework_created: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # In the database but no longer in the file: kept, because requirements and evidence point at them.
    retained: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        verb = "created" if self.framework_created else "imported again"
        line = (f"Framework “{self.framework.title}” {verb}: {self.created} competencies created, "
                f"{self.updated} updated, {self.unchanged} unchanged.")
        if self.retained:
            line += f" {len(self.retained)} no longer in the file were kept."
        return line
