"""Competency ratings in Moodle: a competency achieved in the tool (or no longer achieved) rates the learner's
course competency in Moodle's own competency framework, through Moodle's web services.

No LTI service carries competency results, so this is off unless an administrator gives the tool a Moodle
web-service token for the registration (`microcred moodle-ratings enable`). The ratings go through the same
outbox as grades (kind RATE_COMPETENCY, written by the domain), with the same ordering, retries and visible
state per learner and competency (`lms_deliveries` rows of subject kind `moodle_rating`).

`models` (the settings per registration), `webservice` (Moodle's REST protocol and its errors), `scales` (course
competencies and the value to rate with), `ratings` (the outbox handler), `admin` (enable, disable, status,
check, retry), `overview` (what the Gradebook page shows).
"""
