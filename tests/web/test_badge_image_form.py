"""The badge image form on a micro-credential's page: an instructor uploads the institution's own PNG or SVG or
goes back to the generated design; a refused file gets an error summary and the same message at its field (never
a 5xx); what is saved is what learners, their credentials' baked badges and employers then show."""

from __future__ import annotations

import io
import re

import pytest
import requests
from PIL import Image
from sqlalchemy import select

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.audit import Actor
from lti_microcred.competencies.models import MicroCredential
from lti_microcred.core.db import transaction
from lti_microcred.credentials.images.png_baking import extract_png
from lti_microcred.credentials.issuing.issuance import issue
from lti_microcred.lti.models import User
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle
from tests.web.support import CREDENTIAL_FORM, Visit, credential_key, text_of, visit

SCRIPTED_SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)">'
                b'<script>alert(2)</script><circle cx="5" cy="5" r="4" fill="#7A1F5C"/></svg>')


def picture(fmt: str = "PNG", size: tuple[int, int] = (512, 512), colour: tuple[int, int, int] = (200, 30, 90)
            ) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def instructor_with_credential(browser: Browser, services: Services, moodle: LmsHandle) -> tuple[Visit, str]:
    instructor = visit(browser, services, moodle, "instructor-1")
    assert instructor.post("/credentials/", CREDENTIAL_FORM).status_code == 200
    return instructor, credential_key(services, CREDENTIAL_FORM["title"])


def upload(staff: Visit, key: str, image: tuple[str, bytes], png_copy: tuple[str, bytes] | None = None
           ) -> requests.Response:
    files = {"image": image, **({"png_copy": png_copy} if png_copy else {})}
    return staff.post(f"/credentials/{key}/badge-image", files=files)


def problem(page: requests.Response, field: str) -> str:
    found = re.search(rf'data-problem="{field}"><span class="visually-hidden">Error: </span>([^<]+)<', page.text)
    return found.group(1) if found else ""


def test_the_page_shows_the_generated_design_until_an_image_is_uploaded(browser: Browser, services: Services,
                                                                        moodle: LmsHandle) -> None:
    staff, key = instructor_with_credential(browser, services, moodle)
    page = staff.get(f"/credentials/{key}")
    assert 'id="badge-image"' in page.text and "The generated design" in text_of(page)
    preview = staff.get(f"/credentials/{key}/badge.svg")
    assert preview.status_code == 200 and b">Data Analysis Essentials</text>" not in preview.content  # in lines
    assert b">Data Analysis</text>" in preview.content and b">Essentials</text>" in preview.content
    assert preview.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_a_png_is_saved_and_becomes_every_credentials_picture(browser: Browser, services: Services,
                                                              moodle: LmsHandle) -> None:
    staff, key = instructor_with_credential(browser, services, moodle)
    saved = upload(staff, key, ("our-badge.png", picture()))
    assert saved.status_code == 200 and "The badge image was saved" in saved.text
    assert "our-badge.png" in saved.text and "(PNG, uploaded" in text_of(saved)
    assert "changed the badge image of" in text_of(saved)  # in the decisions about it
    own = Image.open(io.BytesIO(staff.get(f"/credentials/{key}/badge.png").content)).convert("RGB")
    assert own.size == (512, 512) and own.getpixel((5, 5)) == (200, 30, 90)
    with transaction(services.sessions) as session:
        credential = session.scalars(select(MicroCredential).where(MicroCredential.key == key)).one()
        learner = session.scalars(select(User).where(User.platform_id == moodle.platform_id)).first()
        assert learner is not None
        staff_actor = Actor(moodle.platform_id, credential.context_id, None, "system", "instructor")
        award = ops.award_manually(session, staff_actor, credential, learner.id, "Assessed at work.")
        row = issue(session, services.issuer.state(), services.credential_urls, award.id)
    baked = requests.get(services.settings.url(f"/credentials/{row.public_id}.png"), timeout=10).content
    assert Image.open(io.BytesIO(baked)).convert("RGB").getpixel((5, 5)) == (200, 30, 90)
    assert extract_png(baked) == row.signed_json
    back = staff.post(f"/credentials/{key}/badge-image", {"use": "generated"})
    assert back.status_code == 200 and "The generated design is used again" in back.text


def test_a_script_bearing_svg_is_cleaned(browser: Browser, services: Services, moodle: LmsHandle) -> None:
    staff, key = instructor_with_credential(browser, services, moodle)
    saved = upload(staff, key, ("badge.svg", SCRIPTED_SVG))
    assert saved.status_code == 200 and "the generated design until you add a PNG" in text_of(saved)
    served = staff.get(f"/credentials/{key}/badge.svg").content
    assert b"script" not in served and b"onload" not in served and b'fill="#7A1F5C"' in served
    with_copy = upload(staff, key, ("badge.svg", SCRIPTED_SVG), ("badge.png", picture()))
    assert with_copy.status_code == 200 and "until you add a PNG" not in text_of(with_copy)


@pytest.mark.parametrize("name, data, field, message", [
    ("photo.png", picture("JPEG"), "image", "photo.png: This file is a JPEG photo, not a PNG or SVG image."),
    ("huge.png", picture() + b"\0" * (1024 * 1024), "image", "a badge image may be at most 1.0 MB"),
    ("wide.png", picture(size=(2400, 200)), "image", "2400 \u00d7 200 pixels; a badge image may be at most 2048"),
    ("tiny.png", picture(size=(64, 64)), "image", "too small to stay sharp"),
    ("broken.png", picture()[:200], "image", "damaged or incomplete"),
    ("notes.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><g>", "image", "not a well-formed SVG"),
    ("bomb.svg", b'<!DOCTYPE s [<!ENTITY a "x">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>', "image",
     "not a well-formed SVG"),
    ("empty.png", b"", "image", "Choose the PNG or SVG file"),
])
def test_a_refused_file_is_explained_at_the_top_and_at_its_field(browser: Browser, services: Services,
                                                                 moodle: LmsHandle, name: str, data: bytes,
                                                                 field: str, message: str) -> None:
    staff, key = instructor_with_credential(browser, services, moodle)
    refused = upload(staff, key, (name, data))
    assert refused.status_code == 422, refused.text[:300]
    assert 'id="error-summary"' in refused.text and f'href="#{field}"' in refused.text
    assert message in problem(refused, field)
    assert "<details class=\"disclosure\" open>" in refused.text  # the form stays open at the problem
    assert "The generated design" in text_of(refused)  # nothing was saved


def test_a_bad_png_copy_is_named(browser: Browser, services: Services, moodle: LmsHandle) -> None:
    staff, key = instructor_with_credential(browser, services, moodle)
    refused = upload(staff, key, ("badge.svg", SCRIPTED_SVG), ("copy.png", picture("GIF")))
    assert refused.status_code == 422 and "copy.png: This file is a GIF image, not a PNG image." in problem(
        refused, "png_copy")


def test_odd_files_never_break_the_page(browser: Browser, services: Services, moodle: LmsHandle) -> None:
    staff, key = instructor_with_credential(browser, services, moodle)
    odd = [b"\x89PNG\r\n\x1a\n", b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + b"\xff" * 17, b"<", b"<?xml?>",
           "<svg xmlns='http://www.w3.org/2000/svg'>\udcff</svg>".encode("utf-8", "surrogateescape"),
           b"\xef\xbb\xbf<svg xmlns='http://www.w3.org/2000/svg'/>", bytes(range(256)) * 4, b"\0" * 3000]
    for data in odd:
        answer = upload(staff, key, ("odd.png", data))
        assert answer.status_code in (200, 422), (data[:20], answer.status_code)


def test_assessors_see_the_picture_but_cannot_change_it(browser: Browser, services: Services,
                                                       moodle: LmsHandle) -> None:
    _staff, key = instructor_with_credential(browser, services, moodle)
    assessor = visit(Browser(services.settings.base_url), services, moodle, "ta-1")
    page = assessor.get(f"/credentials/{key}")
    assert 'id="badge-image"' in page.text and 'id="badge-image-form"' not in page.text
    assert assessor.get(f"/credentials/{key}/badge.png").status_code == 200
    assert upload(assessor, key, ("badge.png", picture())).status_code == 403
