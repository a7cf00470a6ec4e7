"""Layered settings: defaults -> config/microcred.toml -> instance settings file -> LTI_MICROCRED_* environment,
validated at start."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "LTI_MICROCRED_"
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105 (refused in production)
SETTINGS_FILE_NAME = "microcred.toml"
# Site-wide settings shared by every instance run from this directory (optional, never committed).
SITE_SETTINGS_FILE = Path("config") / SETTINGS_FILE_NAME


class ConfigError(Exception):
    """The settings cannot run the tool; the message lists every problem found."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every setting the tool reads. Names map to LTI_MICROCRED_<NAME> in the environment."""

    env: str = "development"
    base_url: str = "http://127.0.0.1:8000"
    instance_path: str = "instance"
    database_url: str = ""
    secret_key: str = ""
    key_encryption_key: str = ""
    redis_url: str = ""
    tool_name: str = "Micro-credentials"
    log_level: str = "INFO"
    # "text" (a line of words) or "json" (one object per line: time, level, logger, message, request_id, launch_id).
    log_format: str = "text"
    # Launch hardening: how old an id_token's iat may be, and the clock skew we tolerate.
    iat_max_age_seconds: int = 600
    clock_skew_seconds: int = 60
    # Lifetimes of stored protocol state.
    state_ttl_seconds: int = 600
    session_ttl_seconds: int = 8 * 3600
    pending_launch_ttl_seconds: int = 120
    # Platform key sets and the registry are cached per process.
    jwks_cache_seconds: int = 3600
    jwks_min_refetch_seconds: float = 5.0
    registry_cache_seconds: float = 30.0
    # What happens to a deployment id we have not seen for a known client: "hold" or "accept".
    default_deployment_policy: str = "hold"
    launch_max_bytes: int = 128 * 1024
    http_connect_timeout: float = 3.05
    http_read_timeout: float = 10.0
    # A retired signing key stays in our JWKS this long, so tokens it signed still verify.
    retired_key_publish_seconds: int = 24 * 3600
    dynamic_registration_invite_hours: int = 48
    workers: int = 0
    threads: int = 4
    # Evidence files: where they are stored (default: instance/files) and how large one may be.
    storage_path: str = ""
    upload_max_bytes: int = 10 * 1024 * 1024
    # Outbox delivery (gradebook, credentials): a thread in each web process unless 0 (then run `microcred worker`).
    worker_in_process: int = 1
    worker_poll_seconds: float = 1.0
    delivery_backoff_seconds: float = 2.0
    delivery_backoff_max_seconds: float = 3600.0
    # How often rosters (NRPS) and LMS gradebook results (AGS) are read back, per course.
    roster_sync_minutes: int = 60
    grade_readback_minutes: int = 15
    # Prometheus: GET /metrics answers only with this bearer token (empty: 404); uWSGI's processes share
    # counters in metrics_dir (default instance/metrics); a `microcred worker` serves its own on metrics_listen.
    metrics_token: str = ""
    metrics_dir: str = ""
    metrics_listen: str = ""

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(self.instance_path).resolve() / 'microcred.sqlite3'}"

    @property
    def resolved_secret_key(self) -> str:
        return self.secret_key or DEV_SECRET_KEY

    @property
    def resolved_storage_path(self) -> str:
        return self.storage_path or str(Path(self.instance_path).resolve() / "files")

    @property
    def resolved_metrics_dir(self) -> str:
        return self.metrics_dir or str(Path(self.instance_path).resolve() / "metrics")

    @property
    def base_host(self) -> str:
        return urlsplit(self.base_url).netloc

    def url(self, path: str) -> str:
        """Absolute public URL of one of our paths, as the LMS must reach it."""
        return self.base_url.rstrip("/") + path


def load_settings(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the layers in order (defaults, site file, instance file, environment, overrides) and validate."""
    environ = os.environ if environ is None else environ
    site = site_settings()
    values: dict[str, Any] = dict(site)
    values.update(_read_file(_settings_file(environ, instance_folder(environ, overrides, site))))
    values.update(_read_env(environ))
    values.update(overrides or {})
    settings = Settings(**_coerce(values))
    validate(settings)
    return settings


def site_settings() -> dict[str, Any]:
    """The site-wide layer: config/microcred.toml in the working directory ({} when there is none)."""
    return _read_file(SITE_SETTINGS_FILE.resolve() if SITE_SETTINGS_FILE.is_file() else None)


def instance_folder(environ: Mapping[str, str], overrides: Mapping[str, Any] | None, site: Mapping[str, Any]) -> str:
    """Where the instance file lives: the environment, the overrides, the site file, else ./instance."""
    return str(environ.get(ENV_PREFIX + "INSTANCE_PATH") or (overrides or {}).get("instance_path")
               or site.get("instance_path") or "instance")


def _settings_file(environ: Mapping[str, str], instance_path: str) -> Path | None:
    explicit = environ.get(ENV_PREFIX + "CONFIG")
    if explicit:
        return Path(explicit)
    candidate = Path(instance_path) / SETTINGS_FILE_NAME
    return candidate if candidate.exists() else None


def _read_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"settings file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"settings file {path} is not valid TOML: {exc}") from exc
    unknown = set(data) - _field_names()
    if unknown:
        raise ConfigError(f"settings file {path} has unknown keys: {', '.join(sorted(unknown))}")
    return data


def _read_env(environ: Mapping[str, str]) -> dict[str, Any]:
    names = _field_names()
    found = {}
    for key, value in environ.items():
        if key.startswith(ENV_PREFIX) and value != "":  # `NAME=` in an env file means unset, not ""
            name = key[len(ENV_PREFIX):].lower()
            if name in names:
                found[name] = value
    return found


def _field_names() -> set[str]:
    return {f.name for f in dataclasses.fields(Settings)}


def _coerce(values: Mapping[str, Any]) -> dict[str, Any]:
    """Turn strings from the environment into the field's type; refuse unknown names."""
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    result: dict[str, Any] = {}
    for name, value in values.items():
        if name not in fields:
            raise ConfigError(f"unknown setting {name!r}")
        kind = fields[name].type
        try:
            if kind == "int":
                result[name] = int(value)
            elif kind == "float":
                result[name] = float(value)
            else:
                result[name] = str(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"setting {name} must be a number, got {value!r}") from exc
    return result


def validate(settings: Settings) -> None:
    """Refuse settings that cannot work or are unsafe, naming every problem at once."""
    problems: list[str] = []
    if settings.env not in {"development", "production", "test"}:
        problems.append("env must be development, production or test")
    base = urlsplit(settings.base_url)
    if base.scheme not in {"http", "https"} or not base.netloc:
        problems.append(f"base_url must be an absolute http(s) URL, got {settings.base_url!r}")
    if settings.default_deployment_policy not in {"hold", "accept"}:
        problems.append("default_deployment_policy must be 'hold' or 'accept'")
    if settings.log_format not in {"text", "json"}:
        problems.append(f"log_format must be 'text' or 'json', got {settings.log_format!r}")
    if settings.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        problems.append(f"log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {settings.log_level!r}")
    for name in ("iat_max_age_seconds", "state_ttl_seconds", "session_ttl_seconds", "launch_max_bytes",
                 "upload_max_bytes", "worker_poll_seconds", "delivery_backoff_seconds"):
        if getattr(settings, name) <= 0:
            problems.append(f"{name} must be positive")
    if settings.is_production:
        if not settings.secret_key or settings.secret_key == DEV_SECRET_KEY:
            problems.append("production mode needs LTI_MICROCRED_SECRET_KEY (the default is refused)")
        elif len(settings.secret_key) < 32:
            problems.append("secret_key must be at least 32 characters in production")
        if base.scheme != "https":
            problems.append("production mode needs an https base_url: LMS launches require it")
        if settings.key_encryption_key and len(settings.key_encryption_key) < 32:
            problems.append("key_encryption_key must be at least 32 characters in production")
        if settings.metrics_token and len(settings.metrics_token) < 32:
            problems.append("metrics_token must be at least 32 characters in production")
    problems += _metrics_listen_problems(settings.metrics_listen)
    if problems:
        raise ConfigError("; ".join(problems))


def _metrics_listen_problems(listen: str) -> list[str]:
    if not listen:
        return []
    try:
        host_and_port(listen)
    except ValueError as exc:
        return [f"metrics_listen must be host:port (e.g. 127.0.0.1:9464): {exc}"]
    return []


def host_and_port(listen: str) -> tuple[str, int]:
    """`host:port` (an IPv6 host in brackets) -> (host, port); ValueError when it is not one."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host.strip("[]") or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"got {listen!r}")
    return host.strip("[]"), int(port)
