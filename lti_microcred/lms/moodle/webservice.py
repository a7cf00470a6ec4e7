"""Moodle's web services over REST, from the client side: one form-encoded POST per function call, and Moodle's
errors classified once so the worker knows whether a retry can help.

The protocol (webservice/rest/server.php, webservice/rest/locallib.php): POST {wwwroot}/webservice/rest/server.php
with `wstoken`, `wsfunction`, `moodlewsrestformat=json` and the function's parameters as form fields, a list or
structure as `name[0][key]=value`. Moodle answers a failed call with HTTP 200 and the JSON body
{"exception": class, "errorcode": code, "message": text} (webservice_rest_server::generate_error). The function
names are those of lib/db/services.php; their parameters are declared in competency/classes/external.php and
webservice/classes/external.php (core_webservice_get_site_info).

The token travels in the request body only, so no address, log line or error message ever carries it.
"""

from __future__ import annotations

from typing import Any

from lti_microcred.core.outbound import MAX_JSON_BYTES, OutboundError, OutboundHTTP
from lti_microcred.lms.errors import AUTH, PERMANENT, TRANSIENT, ServiceError
from lti_microcred.lms.http import classify, said

REST_PATH = "/webservice/rest/server.php"
SITE_INFO = "core_webservice_get_site_info"
LIST_COURSE_COMPETENCIES = "core_competency_list_course_competencies"
READ_FRAMEWORK = "core_competency_read_competency_framework"
GRADE_IN_COURSE = "core_competency_grade_competency_in_course"
# What the token's external service must contain (the README tells admins how to make it).
NEEDED_FUNCTIONS = (GRADE_IN_COURSE, LIST_COURSE_COMPETENCIES, READ_FRAMEWORK, SITE_INFO)

# Moodle's error codes (lang/en/error.php, lang/en/webservice.php) and what they mean for us.
ADMIN_HINTS = {
    "invalidtoken": "the web-service token is not valid (deleted, expired, restricted to other addresses or of "
                    "another site): give the tool a new one with `microcred moodle-ratings enable`",
    "accessexception": "the token's external service does not allow this function: add it to the service "
                       "(Site administration > Server > Web services > External services)",
    "nopermissions": "the web-service user lacks a capability here: check the role the README describes",
    "requireloginerror": "the web-service user cannot enter the course: give its role moodle/course:view "
                         "at the category, or enrol it",
    "competenciesarenotenabled": "competencies are turned off in Moodle (Site administration > Advanced features)",
    "servicerequireslogin": "the external service is restricted to other users: add the web-service user to it",
}
TRANSIENT_PREFIXES = ("dml",)  # Moodle's own database trouble (dmlreadexception, dmlwriteexception, …)
# Refusals Moodle words as a coding_exception (competency/classes/api.php, grade_competency_in_course).
MESSAGE_HINTS = {"may not be rated at this time": "the learner is not enrolled in the Moodle course with a gradable "
                                                  "role (moodle/competency:coursecompetencygradable, e.g. Student)"}


class MoodleError(ServiceError):
    """Moodle refused a call with an error body; `admin_problem` when the token, the service or the web-service
    user's role is at fault (every rating fails alike until an administrator acts)."""

    def __init__(self, function: str, body: dict[str, Any]) -> None:
        self.function = function
        self.errorcode = str(body.get("errorcode") or "")
        self.exception = str(body.get("exception") or "")
        reason = " ".join(str(body.get("message") or "it gave no reason").split())[:300]
        hint = ADMIN_HINTS.get(self.errorcode) or next((h for m, h in MESSAGE_HINTS.items() if m in reason), None)
        message = f"Moodle refused {function} ({self.errorcode or self.exception or 'error'}): {reason}"
        transient = self.errorcode.startswith(TRANSIENT_PREFIXES)
        super().__init__(message + (f"; {hint}" if hint else ""), TRANSIENT if transient else PERMANENT,
                         detail=reason)

    @property
    def admin_problem(self) -> bool:
        return self.errorcode in ADMIN_HINTS


def form_fields(params: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Parameters as Moodle's REST server reads them: `name[0][key]=value` for lists and structures."""
    fields: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict):
            fields.update(form_fields(value, name))
        elif isinstance(value, list | tuple):
            fields.update(form_fields({str(i): v for i, v in enumerate(value)}, name))
        elif isinstance(value, bool):
            fields[name] = "1" if value else "0"
        elif value is not None:
            fields[name] = str(value)
    return fields


def service_url(base_url: str) -> str:
    return base_url.rstrip("/") + REST_PATH


class MoodleWebService:
    """Calls to one Moodle site with one token, over the process's pooled HTTP client."""

    def __init__(self, outbound: OutboundHTTP, base_url: str, token: str) -> None:
        self.outbound = outbound
        self.url = service_url(base_url)
        self._token = token

    def call(self, function: str, **params: Any) -> Any:
        """The function's JSON answer; ServiceError (MoodleError for Moodle's own refusals) otherwise."""
        fields = {"wstoken": self._token, "wsfunction": function, "moodlewsrestformat": "json", **form_fields(params)}
        try:
            response = self.outbound.request("POST", self.url, data=fields, allow_redirects=False)
        except OutboundError as exc:
            raise ServiceError(f"{function}: Moodle could not be reached: {exc}", TRANSIENT) from exc
        if not 200 <= response.status_code < 300:
            raise _http_error(function, response, self.url)
        if len(response.content) > MAX_JSON_BYTES:
            raise ServiceError(f"{function}: Moodle answered more than {MAX_JSON_BYTES} bytes", PERMANENT)
        try:
            body = response.json()
        except ValueError as exc:  # a proxy's or a maintenance page: Moodle itself always answers JSON here
            raise ServiceError(f"{function}: {self.url} did not answer JSON: {said(response)[:120]}",
                               TRANSIENT, response.status_code) from exc
        if isinstance(body, dict) and ("exception" in body or "errorcode" in body):
            raise MoodleError(function, body)
        return body


def _http_error(function: str, response: Any, url: str) -> ServiceError:
    """5xx and 408/429 are retried; a redirect or another 4xx is a setting to fix (the wrong address, REST off)."""
    error = classify(response, "POST", url)
    if response.is_redirect:
        where = response.headers.get("Location", "elsewhere")
        return ServiceError(f"{function}: {url} redirects to {where}: set the Moodle address to where the site "
                            "answers (`microcred moodle-ratings enable --moodle-url`)", PERMANENT, response.status_code)
    if error.kind == AUTH or (error.kind == PERMANENT and response.status_code in (403, 404)):
        return ServiceError(f"{error} (is the REST protocol enabled in Site administration > Server > Web services "
                            "> Manage protocols, and is this Moodle's address?)", PERMANENT, response.status_code,
                            detail=error.detail)
    return error
