"""WSGI entry point for servers: `lti_microcred.wsgi:app` (settings from the environment / instance file)."""

from lti_microcred.app.factory import create_app

app = create_app()
