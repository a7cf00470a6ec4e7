"""The credential column is the instructor's choice, on the micro-credential's form: on by default, with what it
does to the course total and what to set by hand in Moodle and Canvas."""

from __future__ import annotations

from sqlalchemy import select

from lti_microcred.competencies.models import MicroCredential
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle
from tests.web.support import CREDENTIAL_FORM, credential_key, text_of, visit


def test_the_form_offers_the_credential_column_and_explains_the_course_total(moodle: LmsHandle, browser: Browser,
                                                                            services: Services) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    form = instructor.get("/credentials/new")
    assert ('<input type="checkbox" id="gradebook_column" name="gradebook_column" value="yes" '
            'aria-describedby="gradebook_column-help" checked>') in form.text  # on, as before
    text = text_of(form)
    assert "Add a credential column to the LMS gradebook" in text
    assert "each award puts 100 points in it, a revocation empties it again" in text
    assert "weight 0 or Hidden" in text and "Do not count this assignment towards the final grade" in text

    without = {**CREDENTIAL_FORM, "title": "No column", "gradebook_column_shown": "1"}  # the box left unticked
    assert instructor.post("/credentials/", without).status_code == 200
    assert instructor.post("/credentials/", {**CREDENTIAL_FORM, "title": "Old form"}).status_code == 200
    with services.read_sessions() as session:
        chosen = dict(session.execute(select(MicroCredential.title, MicroCredential.gradebook_column)).all())
    assert chosen == {"No column": False, "Old form": True}  # a form from before the box keeps the column
    edit = instructor.get(f"/credentials/{credential_key(services, 'No column')}/edit")
    assert 'aria-describedby="gradebook_column-help">' in edit.text  # shown unticked
