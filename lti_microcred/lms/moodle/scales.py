"""Which Moodle competency a rating is for, and which value of its scale to rate with.

Moodle knows a competency by a numeric id; the tool knows it by the `idnumber` the framework's CSV export gave it
(and the framework by the framework's own `idnumber`). core_competency_list_course_competencies(id=courseid)
lists the course's competencies with their idnumber and framework id (competency/classes/external.php,
list_course_competencies; the competency_exporter fields), and core_competency_read_competency_framework(id)
gives the framework's idnumber and scale. Both are cached per process for a few minutes.

The scale: a competency rates on its own scale when it has one (`scaleid` set), else on its framework's
(tool_lp's competency_summary_exporter does the same). `scaleconfiguration` is Moodle's JSON list
[{"scaleid": "2"}, {"id": 1, "scaledefault": 1, "proficient": 0}, {"id": 2, "scaledefault": 0, "proficient": 1}],
where `id` is the 1-based position of a value in the scale, the position core_competency_grade_competency_in_course
takes as `grade`; values it does not list are neither default nor proficient.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lti_microcred.lms.errors import PERMANENT, ServiceError
from lti_microcred.lms.moodle.webservice import LIST_COURSE_COMPETENCIES, READ_FRAMEWORK, MoodleWebService

CACHE_SECONDS = 300.0


@dataclass(frozen=True)
class CourseCompetency:
    id: int
    idnumber: str
    shortname: str
    framework_id: int
    scale_id: int | None
    scale_configuration: str | None


@dataclass(frozen=True)
class MoodleFramework:
    id: int
    idnumber: str
    scale_id: int | None
    scale_configuration: str | None


@dataclass(frozen=True)
class Scale:
    """The 1-based values of a scale that Moodle counts as proficient."""

    proficient: tuple[int, ...]

    def grade(self, achieved: bool) -> int:
        """Achieved: the first proficient value, the least the scale calls proficient, so the tool never claims
        more than "met". No longer achieved: the lowest value (Moodle has no "unrated"), which is then not
        proficient, so the course competency stops counting as proficient."""
        if not self.proficient:
            raise ServiceError("the competency's scale marks no value as proficient in Moodle", PERMANENT)
        if achieved:
            return min(self.proficient)
        if 1 in self.proficient:
            raise ServiceError("the lowest value of the competency's scale is marked proficient in Moodle, so no "
                               "rating can withdraw the achievement", PERMANENT)
        return 1


def parse_scale(configuration: str | None) -> Scale:
    try:
        items = json.loads(configuration or "")
        proficient = sorted({int(i["id"]) for i in items[1:] if isinstance(i, dict) and int(i.get("proficient") or 0)})
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ServiceError(f"Moodle gave a scale configuration the tool cannot read: {configuration!r:.120}",
                           PERMANENT) from exc
    return Scale(tuple(proficient))


def _optional_int(value: Any) -> int | None:
    return int(value) if value not in (None, "", 0, "0") else None


def course_competency(entry: dict[str, Any]) -> CourseCompetency:
    c = entry["competency"]
    return CourseCompetency(int(c["id"]), str(c.get("idnumber") or ""), str(c.get("shortname") or ""),
                            int(c["competencyframeworkid"]), _optional_int(c.get("scaleid")),
                            c.get("scaleconfiguration"))


class CompetencyDirectory:
    """Per process: each course's competencies and each framework, by site, kept for CACHE_SECONDS."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._courses: dict[tuple[str, int], tuple[float, list[CourseCompetency]]] = {}
        self._frameworks: dict[tuple[str, int], tuple[float, MoodleFramework]] = {}

    def find(self, ws: MoodleWebService, course_id: int, idnumber: str, framework_idnumber: str) -> CourseCompetency:
        """The course's competency with this idnumber in the framework with this idnumber; ServiceError
        (permanent) when the course has none. A miss in a cached list is checked against a fresh one (the
        competency may have been added to the course since)."""
        listed, fetched = self._course(ws, course_id)
        found = self._match(ws, listed, idnumber, framework_idnumber)
        if found is None and not fetched:
            found = self._match(ws, self._course(ws, course_id, fresh=True)[0], idnumber, framework_idnumber)
        if found is None:
            raise ServiceError(f"not in the Moodle course's competencies: Moodle course {course_id} has no competency "
                               f"with ID number {idnumber!r} of framework {framework_idnumber!r}; add it to the course "
                               "in Moodle (Course > More > Competencies), then `microcred moodle-ratings retry`",
                               PERMANENT)
        return found

    def scale(self, ws: MoodleWebService, competency: CourseCompetency) -> Scale:
        if competency.scale_id is not None:
            return parse_scale(competency.scale_configuration)
        return parse_scale(self.framework(ws, competency.framework_id).scale_configuration)

    def framework(self, ws: MoodleWebService, framework_id: int) -> MoodleFramework:
        key = (ws.url, framework_id)
        cached = self._fresh(self._frameworks, key)
        if cached is None:
            f = ws.call(READ_FRAMEWORK, id=framework_id)
            cached = MoodleFramework(int(f["id"]), str(f.get("idnumber") or ""), _optional_int(f.get("scaleid")),
                                     f.get("scaleconfiguration"))
            with self._lock:
                self._frameworks[key] = (self._clock(), cached)
        return cached

    def forget(self) -> None:
        with self._lock:
            self._courses.clear()
            self._frameworks.clear()

    def _match(self, ws: MoodleWebService, listed: list[CourseCompetency], idnumber: str,
               framework_idnumber: str) -> CourseCompetency | None:
        """Moodle's idnumbers are unique within a framework only: the framework's idnumber decides."""
        candidates = [c for c in listed if c.idnumber == idnumber]
        return next((c for c in candidates if self.framework(ws, c.framework_id).idnumber == framework_idnumber),
                    None)

    def _course(self, ws: MoodleWebService, course_id: int,
                fresh: bool = False) -> tuple[list[CourseCompetency], bool]:
        """The course's competencies, and whether they were read from Moodle just now."""
        key = (ws.url, course_id)
        cached = None if fresh else self._fresh(self._courses, key)
        if cached is not None:
            return cached, False
        answer = ws.call(LIST_COURSE_COMPETENCIES, id=course_id)
        if not isinstance(answer, list):
            raise ServiceError(f"{LIST_COURSE_COMPETENCIES} answered {type(answer).__name__}, not a list", PERMANENT)
        listed = [course_competency(entry) for entry in answer]
        with self._lock:
            self._courses[key] = (self._clock(), listed)
        return listed, True

    def _fresh(self, cache: dict[Any, tuple[float, Any]], key: Any) -> Any:
        with self._lock:
            found = cache.get(key)
        return found[1] if found and self._clock() - found[0] < CACHE_SECONDS else None
