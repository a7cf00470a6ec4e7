"""Moodle's web services (REST) on the loopback Moodle: the competency functions the tool rates with, shaped on
Moodle's own API so the tool is tested against Moodle's behaviour, not its own idea of it.

- webservice/rest/server.php: POST (or GET) `wstoken`, `wsfunction`, `moodlewsrestformat=json` and the
  parameters; every error answers HTTP 200 with {"exception", "errorcode", "message"}
  (webservice_rest_server::generate_error). A token Moodle does not know is `invalidtoken`; a function outside
  the token's external service `accessexception` (webservice_access_exception); a missing capability
  `nopermissions` (required_capability_exception); a parameter that is not of its type `invalidparameter`.
- core_webservice_get_site_info: the site, the token's user and the functions its service allows.
- core_competency_list_course_competencies(id), core_competency_read_competency_framework(id),
  core_competency_grade_competency_in_course(courseid, userid, competencyid, grade, note)
  (competency/classes/external.php; the checks of competency/classes/api.php, grade_competency_in_course:
  moodle/competency:usercompetencyview and moodle/competency:competencygrade in the course, the competency in the
  course, moodle/competency:competencyview on its framework, the user enrolled and gradable).

The state (tokens, competencies, course competencies, enrolments, ratings, a log of calls) is plain data the
tests arrange and read; `down` makes the next calls answer 503, as Moodle in maintenance mode does.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request

from lti_microcred.devplatform.platform import DevPlatform

REST_PATH = "/webservice/rest/server.php"
GRADE = "core_competency_grade_competency_in_course"
LIST = "core_competency_list_course_competencies"
READ_FRAMEWORK = "core_competency_read_competency_framework"
SITE_INFO = "core_webservice_get_site_info"
FUNCTIONS = (GRADE, LIST, READ_FRAMEWORK, SITE_INFO)
# What a course-level role needs for each function (competency/classes/api.php), besides entering the course.
NEEDS = {LIST: ("moodle/competency:coursecompetencyview",),
         GRADE: ("moodle/competency:usercompetencyview", "moodle/competency:competencygrade")}
COURSE_ROLE = ("moodle/course:view", "moodle/competency:coursecompetencyview", "moodle/competency:usercompetencyview",
               "moodle/competency:competencygrade")
TWO_VALUES = '[{"scaleid":"2"},{"id":1,"scaledefault":1,"proficient":0},{"id":2,"scaledefault":0,"proficient":1}]'


class WsError(Exception):
    def __init__(self, exception: str, errorcode: str, message: str) -> None:
        super().__init__(message)
        self.body = {"exception": exception, "errorcode": errorcode, "message": message}


def no_permission(capability: str) -> WsError:
    return WsError("required_capability_exception", "nopermissions",
                   f"Sorry, but you do not currently have permissions to do that ({capability}).")


@dataclass
class WsToken:
    user_id: int
    functions: set[str] = field(default_factory=lambda: set(FUNCTIONS))
    course_capabilities: dict[int, set[str]] = field(default_factory=dict)  # course id -> capabilities there
    competencyview: bool = True  # the authenticated-user role's default, on the frameworks' contexts


@dataclass
class MoodleSite:
    """The competency side of the loopback Moodle site."""

    platform: DevPlatform
    tokens: dict[str, WsToken] = field(default_factory=dict)
    frameworks: dict[int, dict[str, Any]] = field(default_factory=dict)
    competencies: dict[int, dict[str, Any]] = field(default_factory=dict)
    course_competencies: dict[int, list[int]] = field(default_factory=dict)
    scales: dict[int, int] = field(default_factory=dict)  # scale id -> how many values it has
    gradable: dict[int, set[int]] = field(default_factory=dict)  # course id -> enrolled, gradable user ids
    ratings: dict[tuple[int, int, int], dict[str, Any]] = field(default_factory=dict)  # (course, user, competency)
    rating_log: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, str]] = field(default_factory=list)  # every call's function and parameters, no token
    down: int = 0  # the next calls answer 503 (maintenance mode)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def reset(self) -> None:
        with self.lock:
            for part in (self.tokens, self.frameworks, self.competencies, self.course_competencies, self.scales,
                         self.gradable, self.ratings, self.rating_log, self.calls):
                part.clear()
            self.down = 0

    def add_token(self, user_id: int = 9, courses: tuple[int, ...] = (), **options: Any) -> str:
        """A token of a web-service user holding the least role of the README in these courses."""
        token = secrets.token_hex(16)
        with self.lock:
            self.tokens[token] = WsToken(user_id, course_capabilities={c: set(COURSE_ROLE) for c in courses},
                                         **options)
        return token

    def add_framework(self, framework_id: int, idnumber: str, scaleconfiguration: str = TWO_VALUES,
                      values: int = 2) -> None:
        with self.lock:
            self.scales[int(json.loads(scaleconfiguration)[0]["scaleid"])] = values
            self.frameworks[framework_id] = {"id": framework_id, "idnumber": idnumber, "shortname": idnumber,
                                             "scaleid": json.loads(scaleconfiguration)[0]["scaleid"],
                                             "scaleconfiguration": scaleconfiguration, "contextid": 1, "visible": 1}

    def add_competency(self, competency_id: int, idnumber: str, framework_id: int, course_ids: tuple[int, ...] = (),
                       scaleconfiguration: str | None = None, values: int = 2) -> None:
        with self.lock:
            if scaleconfiguration:
                self.scales[int(json.loads(scaleconfiguration)[0]["scaleid"])] = values
            self.competencies[competency_id] = {
                "id": competency_id, "idnumber": idnumber, "shortname": idnumber, "competencyframeworkid": framework_id,
                "scaleid": json.loads(scaleconfiguration)[0]["scaleid"] if scaleconfiguration else None,
                "scaleconfiguration": scaleconfiguration, "parentid": 0, "sortorder": 0, "ruleoutcome": 0}
            for course in course_ids:
                self.course_competencies.setdefault(course, []).append(competency_id)

    def enrol(self, course_id: int, *user_ids: int) -> None:
        with self.lock:
            self.gradable.setdefault(course_id, set()).update(user_ids)

    def rating(self, course_id: int, user_id: int, competency_id: int) -> dict[str, Any] | None:
        with self.lock:
            return self.ratings.get((course_id, user_id, competency_id))

    # --- the functions ---------------------------------------------------------------------------------
    def site_info(self, token: WsToken, _params: dict[str, str]) -> dict[str, Any]:
        return {"sitename": "Loopback Moodle", "username": "microcred-ws", "fullname": "Micro-credentials WS",
                "userid": token.user_id, "siteurl": self.platform.setup.base_url, "release": "4.5 (Build: 20241007)",
                "version": "2024100700", "lang": "en", "functions": [{"name": f, "version": "2024100700"}
                                                                     for f in sorted(token.functions)]}

    def list_course_competencies(self, token: WsToken, params: dict[str, str]) -> list[dict[str, Any]]:
        course = _course(token, _int(params, "id"), LIST)
        return [{"competency": self.competencies[c], "coursecompetency": {"courseid": course, "competencyid": c,
                                                                          "ruleoutcome": 0, "sortorder": i}}
                for i, c in enumerate(self.course_competencies.get(course, []))]

    def read_framework(self, token: WsToken, params: dict[str, str]) -> dict[str, Any]:
        framework = self.frameworks.get(_int(params, "id"))
        if framework is None:
            raise WsError("dml_missing_record_exception", "invalidrecord",
                          "Can't find data record in database table competency_framework.")
        if not token.competencyview:
            raise no_permission("View competency frameworks")
        return framework

    def grade_in_course(self, token: WsToken, params: dict[str, str]) -> dict[str, Any]:
        course, user, competency = _int(params, "courseid"), _int(params, "userid"), _int(params, "competencyid")
        grade = _int(params, "grade")
        _course(token, course, GRADE)
        if competency not in self.course_competencies.get(course, []):
            raise WsError("coding_exception", "codingerror", "Coding error detected, it must be fixed by a programmer: "
                                                             "The competency does not belong to this course.")
        if not token.competencyview:
            raise no_permission("View competency frameworks")
        if user not in self.gradable.get(course, set()):
            raise WsError("coding_exception", "codingerror", "Coding error detected, it must be fixed by a programmer: "
                                                             "The competency may not be rated at this time.")
        scale_size, proficient = self._scale(competency)
        if not 1 <= grade <= scale_size:  # user_competency::validate_grade
            raise WsError("core\\invalid_persistent_exception", "invalidpersistent", "Invalid grade")
        entry = {"courseid": course, "userid": user, "competencyid": competency, "grade": grade,
                 "proficiency": grade in proficient, "note": params.get("note", ""), "by": token.user_id}
        self.ratings[(course, user, competency)] = entry
        self.rating_log.append(entry)
        return {"id": len(self.rating_log), "usercompetencyid": user * 1000 + competency, "action": 3,  # override
                "grade": grade, "gradename": f"value {grade}", "note": entry["note"], "actionuserid": token.user_id,
                "descidentifier": "evidence_manualoverrideincourse", "desccomponent": "core_competency"}

    def _scale(self, competency_id: int) -> tuple[int, set[int]]:
        """The competency's scale (its own, else its framework's): how many values, which are proficient."""
        competency = self.competencies[competency_id]
        config = json.loads(competency["scaleconfiguration"] or self.frameworks[competency["competencyframeworkid"]][
            "scaleconfiguration"])
        return self.scales.get(int(config[0]["scaleid"]), 2), {int(i["id"]) for i in config[1:] if i.get("proficient")}


def _int(params: dict[str, str], name: str) -> int:
    """PARAM_INT, VALUE_REQUIRED (external_api::validate_parameters)."""
    value = params.get(name, "")
    if not value.lstrip("-").isdigit():
        raise WsError("invalid_parameter_exception", "invalidparameter", "Invalid parameter value detected")
    return int(value)


def _course(token: WsToken, course_id: int, function: str) -> int:
    """self::validate_context(context_course) (require_login: enrolled, or moodle/course:view), then the
    function's own capabilities."""
    held = token.course_capabilities.get(course_id, set())
    if "moodle/course:view" not in held:
        raise WsError("require_login_exception", "requireloginerror", "Course or activity not accessible.")
    for capability in NEEDS[function]:
        if capability not in held:
            raise no_permission(capability)
    return course_id


HANDLERS = {SITE_INFO: MoodleSite.site_info, LIST: MoodleSite.list_course_competencies,
            READ_FRAMEWORK: MoodleSite.read_framework, GRADE: MoodleSite.grade_in_course}


def answer(site: MoodleSite, params: dict[str, str]) -> tuple[Any, int]:
    """The body and status of one call to server.php."""
    with site.lock:
        if site.down > 0:
            site.down -= 1
            return "<html><body>This site is undergoing maintenance and is currently unavailable</body></html>", 503
        function = params.get("wsfunction", "")
        site.calls.append({k: v for k, v in params.items() if k != "wstoken"})
        try:
            token = site.tokens.get(params.get("wstoken", ""))
            if token is None:
                raise WsError("moodle_exception", "invalidtoken", "Invalid token - token not found")
            if function not in token.functions or function not in HANDLERS:
                raise WsError("webservice_access_exception", "accessexception", "Access control exception")
            return HANDLERS[function](site, token, params), 200
        except WsError as exc:
            return exc.body, 200


def moodle_site(platform: DevPlatform) -> MoodleSite:
    """The web-service side of a loopback Moodle (made on first use)."""
    with platform.lock:
        site = getattr(platform, "_moodle_site", None)
        if site is None:
            site = MoodleSite(platform)
            platform._moodle_site = site  # type: ignore[attr-defined]
        return site


def register_moodle_webservice(app: Flask, platform: DevPlatform) -> None:
    """Mount server.php on a Moodle-shaped loopback LMS (Canvas has no such endpoint)."""
    if platform.setup.flavour != "moodle":
        return
    site = moodle_site(platform)

    @app.route(REST_PATH, methods=["GET", "POST"])
    def moodle_rest_server() -> Response:
        body, status = answer(site, request.values.to_dict())
        if isinstance(body, str):
            return Response(body, status, mimetype="text/html")
        return Response(json.dumps(body), status, mimetype="application/json")
