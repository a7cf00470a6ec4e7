"""A Canvas developer key made by pasting the tool's JSON (`BASE_URL/lti/config.json`): Canvas requires at least one
redirect URI in it (lib/schemas/internal_lti_configuration.rb) and sends launches only to a redirect URI the key
lists (app/controllers/lti/ims/authentication_controller.rb), so the JSON carries BASE_URL/lti/launch."""

from __future__ import annotations

import pytest

from lti_microcred.core.db import transaction
from lti_microcred.devplatform.adapters import PlatformRefusal
from lti_microcred.lti.admin import PlatformSpec, add_platform
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle, reason_of


def test_the_pasted_json_makes_a_key_the_tool_launches_with(canvas: LmsHandle, browser: Browser,
                                                            services: Services) -> None:
    config = browser.http.get(browser.tool_url + "/lti/config.json").json()
    client_id = canvas.platform.install_developer_key(config)
    lms = canvas.platform
    spec = PlatformSpec(lms.issuer, client_id, lms.url("/auth"), lms.url("/token"), key_set_url=lms.url("/jwks"),
                        deployment_policy="accept")
    with transaction(services.sessions) as session:
        add_platform(session, spec, [])
    services.reset_caches()
    login = browser.start_login(lms.login_url("learner-1", client_id=client_id))
    page = browser.follow(browser.post_launch(*browser.authorize(login)))
    assert page.status_code == 200, reason_of(page)


def test_canvas_refuses_a_key_without_redirect_uris_and_launches_to_unlisted_ones(canvas: LmsHandle,
                                                                                   browser: Browser) -> None:
    config = browser.http.get(browser.tool_url + "/lti/config.json").json()
    with pytest.raises(PlatformRefusal, match="redirect URI"):
        canvas.platform.install_developer_key({k: v for k, v in config.items() if k != "redirect_uris"})
    client_id = canvas.platform.install_developer_key({**config, "redirect_uris": ["https://elsewhere.example/x"]})
    login = browser.start_login(canvas.login_url("learner-1"))
    params = {**login.auth_params, "client_id": client_id}
    with pytest.raises(PlatformRefusal, match="Invalid redirect_uri"):
        canvas.platform.authorize(params)
