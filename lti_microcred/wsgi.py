"""WSGI entry point for servers: `lti_microcred.wsgi:app` (settings from the environment / instance file)."""

from . import create_app

app = create_app()
