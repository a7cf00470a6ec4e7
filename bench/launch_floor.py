"""The floor of a launch on this stack: the least a secure three-request launch does, on Flask, SQLAlchemy Core,
PyJWT and (under launch_bench.py) the very uWSGI command `microcred run` uses.

  1. GET /login: a random state, a nonce derived from it by HMAC (nothing stored), a state cookie, a 302;
  2. POST /launch: the cookie checked against the state, the id_token verified (RS256, aud, iss, exp, iat,
     nonce), one INSERT of a session row (its unique nonce refuses replays), one commit, a 303 to /s/<token>/;
  3. GET /s/<token>/: one SELECT of the session by the token's hash, one small Jinja template.

No registry, no user/course/link/membership rows, no role mapping, no security headers, no error pages, no
storage fallbacks. What the tool costs above this is the price of its features; this itself is what the
framework, the ORM's Core, PyJWT and the server cost, and nothing inside the tool can remove it.

launch_bench.py serves it as `launch_floor:app` (settings from FLOOR_* environment variables) and measures it
in the same rounds as the tool and the bare pylti1p3 pattern.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import jwt
from flask import Flask, redirect, request
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, bindparam, create_engine, event, insert, select
from werkzeug.wrappers import Response

METADATA = MetaData()
SESSIONS = Table(
    "floor_sessions", METADATA,
    Column("id", Integer, primary_key=True), Column("token_hash", String(64), unique=True),
    Column("nonce", String(64), unique=True), Column("sub", String(255)), Column("name", String(255)),
    Column("context_id", String(255)), Column("created", Integer),
)
CONTEXT_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/context"
PAGE = ('<!doctype html><title>Home</title><main data-role="floor"><h1>Hello {{ name }}</h1>'
        "<p>Course {{ context }}</p></main>")


def make_engine(database_url: str) -> Engine:
    engine = create_engine(database_url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _wal(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")

    return engine


def create_tables(database_url: str) -> None:
    """Before the server starts (its processes would race to create the table)."""
    METADATA.create_all(make_engine(database_url))


def create_app(database_url: str, jwk: dict[str, Any], issuer: str, client_id: str, secret: bytes) -> Flask:
    engine = make_engine(database_url)
    public_key = jwt.PyJWK(jwk).key
    insert_session = insert(SESSIONS)
    select_session = select(SESSIONS.c.name, SESSIONS.c.context_id).where(
        SESSIONS.c.token_hash == bindparam("token_hash"))
    app = Flask(__name__)
    template = app.jinja_env.from_string(PAGE)  # compiled once, as Flask does for template files

    def mac(value: str) -> str:
        return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()

    @app.get("/health")
    def health() -> str:
        return "ok"

    @app.get("/login")
    def login() -> Response:
        state = secrets.token_urlsafe(24)
        query = urlencode({"scope": "openid", "response_type": "id_token", "client_id": client_id,
                           "redirect_uri": request.args["target_link_uri"], "login_hint": request.args["login_hint"],
                           "lti_message_hint": request.args.get("lti_message_hint", ""), "state": state,
                           "nonce": mac("nonce" + state), "response_mode": "form_post", "prompt": "none"})
        response = redirect(issuer + "/auth?" + query, 302)
        response.set_cookie("floor_state", mac("cookie" + state), httponly=True, path="/")
        return response

    @app.post("/launch")
    def launch() -> Response | tuple[str, int]:
        state = request.form["state"]
        if not hmac.compare_digest(request.cookies.get("floor_state", ""), mac("cookie" + state)):
            return "state mismatch", 400
        claims = jwt.decode(request.form["id_token"], public_key, algorithms=["RS256"], audience=client_id,
                            issuer=issuer, options={"require": ["exp", "iat", "nonce", "sub"]})
        if claims["nonce"] != mac("nonce" + state):
            return "nonce mismatch", 400
        token = secrets.token_urlsafe(32)
        context = claims.get(CONTEXT_CLAIM)
        with engine.begin() as conn:
            conn.execute(insert_session, {
                "token_hash": hashlib.sha256(token.encode()).hexdigest(), "nonce": claims["nonce"],
                "sub": claims["sub"], "name": claims.get("name"),
                "context_id": context.get("id") if isinstance(context, dict) else None, "created": int(time.time())})
        return redirect(f"/s/{token}/", 303)

    @app.get("/s/<token>/")
    def home(token: str) -> str | tuple[str, int]:
        with engine.connect() as conn:
            row = conn.execute(select_session, {"token_hash": hashlib.sha256(token.encode()).hexdigest()}).first()
        if row is None:
            return "no session", 403
        return template.render(name=row.name, context=row.context_id)

    return app


if os.environ.get("FLOOR_DATABASE_URL"):  # imported by the server that launch_bench.py starts
    app = create_app(os.environ["FLOOR_DATABASE_URL"], json.loads(os.environ["FLOOR_JWK"]),
                     os.environ["FLOOR_ISSUER"], os.environ["FLOOR_CLIENT_ID"], os.environ["FLOOR_SECRET"].encode())
