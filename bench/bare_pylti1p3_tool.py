"""A bare LTI 1.3 tool built the way pylti1p3's documentation and Flask example build one.

This is the comparison point for bench/launch_bench.py; it is not part of lti_microcred.
Pattern (from pylti1p3's README and its Flask example, https://github.com/dmitry-viskov/pylti1.3-flask-example):

  * every request builds `ToolConfJsonFile(<config path>)` (the JSON file and the tool's key files are
    read and parsed on every request, as in the example's `login()` / `launch()` views);
  * launch data (nonce, state validity, launch data) go to Flask-Caching through `FlaskCacheDataStorage`;
  * login: `FlaskOIDCLogin(FlaskRequest(), tool_conf, launch_data_storage=...).redirect(target_link_uri)`
    (a plain 302; the example adds `.enable_check_cookies()`, which answers an HTML page instead, and our
    tool also answers a plain 302 for this kind of request, so both sides do the same work);
  * launch: `FlaskMessageLaunch(FlaskRequest(), tool_conf, launch_data_storage=...).get_launch_data()`,
    with no `requests_session` and no `set_public_key_caching()`, so, as documented, pylti1p3 builds a
    new requests.Session and fetches the platform's JWKS over HTTP on every launch;
  * the first page shows the user's name and role. BARE_FLOW=inline (default, as the example does)
    renders it in the launch response; BARE_FLOW=redirect answers 303 to /page/<launch_id>/, which
    restores the launch with `FlaskMessageLaunch.from_cache(...)` the way the example's later requests
    do. The redirect flow has the same three requests as lti_microcred.

Differences from the example, all in the bare tool's favour: DEBUG is off, launch data are not
pprint-ed to stdout, and the page template is compiled once (a DictLoader instead of a templates
directory, which Flask caches the same way).

Settings (environment):
  BARE_LTI_CONFIG   path of the pylti1p3 JSON tool config (written by launch_bench.py)
  BARE_CACHE        redis (default) | filesystem | simple
                    The nonce written at login must be readable at launch, and login and launch may
                    reach different server workers, so a per-process cache (simple) is only correct
                    with one worker. redis is what a production deployment of this pattern would use.
  BARE_REDIS_URL    default redis://127.0.0.1:6379/15
  BARE_CACHE_DIR    for BARE_CACHE=filesystem
  BARE_CACHE_KEY_PREFIX  prefix of the cache keys (default bare_lti_; the benchmark uses one per run
                    and deletes its keys afterwards: pylti1p3 stores them for 24 h)
  BARE_FLOW         inline (default) | redirect

Run it under gunicorn with gthread workers (launch_bench.py's default) or uWSGI (--bare-server uwsgi), e.g.
  gunicorn --chdir bench -k gthread --threads 4 -w 3 -b 127.0.0.1:8100 bare_pylti1p3_tool:app
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from flask import Flask, redirect, render_template, url_for
from flask_caching import Cache
from jinja2 import DictLoader
from pylti1p3.contrib.flask import FlaskCacheDataStorage, FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.tool_config import ToolConfJsonFile

CONFIG_PATH = os.environ.get("BARE_LTI_CONFIG", "")
CACHE_KIND = os.environ.get("BARE_CACHE", "redis")
FLOW = os.environ.get("BARE_FLOW", "inline")

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ page_title }}</title></head>
<body>
<main data-role="{{ role }}">
  <h1>{{ page_title }}</h1>
  <p>Hello <span id="who-name">{{ name }}</span> ({{ email }}), you are <span id="who-role">{{ role }}</span>
  in {{ course }}.</p>
</main>
</body>
</html>
"""

app = Flask("pylti1p3-bare-tool")
config: dict[str, object] = {
    "CACHE_DEFAULT_TIMEOUT": 600,
    "SECRET_KEY": os.environ.get("BARE_SECRET_KEY", "bench-only-secret"),
    "SESSION_COOKIE_HTTPONLY": True,
    "CACHE_KEY_PREFIX": os.environ.get("BARE_CACHE_KEY_PREFIX", "bare_lti_"),
}
if CACHE_KIND == "redis":
    config.update(
        CACHE_TYPE="RedisCache", CACHE_REDIS_URL=os.environ.get("BARE_REDIS_URL", "redis://127.0.0.1:6379/15")
    )
elif CACHE_KIND == "filesystem":
    config.update(
        CACHE_TYPE="FileSystemCache",
        CACHE_DIR=os.environ.get("BARE_CACHE_DIR") or tempfile.mkdtemp(prefix="bare-cache-"),
        CACHE_THRESHOLD=100000,
    )
elif CACHE_KIND == "simple":
    config.update(CACHE_TYPE="SimpleCache", CACHE_THRESHOLD=100000)
else:
    raise RuntimeError(f"BARE_CACHE must be redis, filesystem or simple, not {CACHE_KIND!r}")
app.config.from_mapping(config)
app.jinja_loader = DictLoader({"page.html": PAGE})
cache = Cache(app)


def get_lti_config_path() -> str:
    if not CONFIG_PATH:
        raise RuntimeError("set BARE_LTI_CONFIG to the pylti1p3 JSON tool config")
    return CONFIG_PATH


def get_launch_data_storage() -> FlaskCacheDataStorage:
    return FlaskCacheDataStorage(cache)


def role_of(message_launch: Any) -> str:
    if message_launch.check_teacher_access():
        return "instructor"
    if message_launch.check_teaching_assistant_access():
        return "assessor"
    if message_launch.check_student_access():
        return "learner"
    return "guest"


def render_page(message_launch: Any) -> str:
    data = message_launch.get_launch_data()
    context = data.get("https://purl.imsglobal.org/spec/lti/claim/context", {})
    return render_template(
        "page.html",
        page_title="Micro-credentials",
        name=data.get("name", ""),
        email=data.get("email", ""),
        role=role_of(message_launch),
        course=context.get("title", ""),
    )


@app.route("/login/", methods=["GET", "POST"])
def login() -> Any:
    tool_conf = ToolConfJsonFile(get_lti_config_path())
    launch_data_storage = get_launch_data_storage()

    flask_request = FlaskRequest()
    target_link_uri = flask_request.get_param("target_link_uri")
    if not target_link_uri:
        raise Exception('Missing "target_link_uri" param')

    oidc_login = FlaskOIDCLogin(flask_request, tool_conf, launch_data_storage=launch_data_storage)
    return oidc_login.redirect(target_link_uri)


@app.route("/launch/", methods=["POST"])
def launch() -> Any:
    tool_conf = ToolConfJsonFile(get_lti_config_path())
    flask_request = FlaskRequest()
    launch_data_storage = get_launch_data_storage()
    message_launch = FlaskMessageLaunch(flask_request, tool_conf, launch_data_storage=launch_data_storage)
    # Validates: state cookie, nonce in the cache, JWKS fetch, signature, deployment, claims.
    message_launch.get_launch_data()
    if FLOW == "redirect":
        return redirect(url_for("page", launch_id=message_launch.get_launch_id()), 303)
    return render_page(message_launch)


@app.route("/page/<launch_id>/")
def page(launch_id: str) -> Any:
    tool_conf = ToolConfJsonFile(get_lti_config_path())
    flask_request = FlaskRequest()
    message_launch = FlaskMessageLaunch.from_cache(
        launch_id, flask_request, tool_conf, launch_data_storage=get_launch_data_storage()
    )
    return render_page(message_launch)


@app.route("/health")
def health() -> Any:
    return {"status": "ok"}
