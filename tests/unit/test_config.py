"""Settings layers and start-up validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from lti_microcred.core.config import DEV_SECRET_KEY, ConfigError, load_settings


def test_defaults_then_file_then_environment(tmp_path: Path) -> None:
    (tmp_path / "microcred.toml").write_text('base_url = "https://from-file.example"\ntool_name = "File name"\n')
    env = {"LTI_MICROCRED_INSTANCE_PATH": str(tmp_path), "LTI_MICROCRED_TOOL_NAME": "Env name",
           "LTI_MICROCRED_IAT_MAX_AGE_SECONDS": "120"}
    settings = load_settings(environ=env)
    assert settings.base_url == "https://from-file.example"  # file beats default
    assert settings.tool_name == "Env name"  # env beats file
    assert settings.iat_max_age_seconds == 120  # typed from the environment string
    assert settings.state_ttl_seconds == 600  # default


def test_a_session_may_be_shorter_than_the_iat_window(tmp_path: Path) -> None:
    """Spent nonces outlive their sessions (the purge keeps them for the window), so nothing forbids this."""
    settings = load_settings(environ={"LTI_MICROCRED_INSTANCE_PATH": str(tmp_path),
                                      "LTI_MICROCRED_SESSION_TTL_SECONDS": "60",
                                      "LTI_MICROCRED_IAT_MAX_AGE_SECONDS": "300"})
    assert settings.session_ttl_seconds < settings.iat_max_age_seconds


def site_and_instance(root: Path, site: str, instance: str) -> dict[str, str]:
    """A working directory with the site-wide config/microcred.toml and an instance file."""
    (root / "config").mkdir()
    (root / "config" / "microcred.toml").write_text(site)
    (root / "instance").mkdir()
    (root / "instance" / "microcred.toml").write_text(instance)
    return {"LTI_MICROCRED_INSTANCE_PATH": str(root / "instance")}


def test_defaults_then_site_file_then_instance_file_then_environment(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = site_and_instance(tmp_path, 'base_url = "https://site.example"\ntool_name = "Site"\nlog_level = "DEBUG"\n',
                            'tool_name = "Instance"\nlog_level = "WARNING"\n')
    settings = load_settings(environ={**env, "LTI_MICROCRED_LOG_LEVEL": "ERROR"})
    assert settings.base_url == "https://site.example"  # site file beats default
    assert settings.tool_name == "Instance"  # instance file beats site file
    assert settings.log_level == "ERROR"  # environment beats both
    assert settings.clock_skew_seconds == 60  # default


def test_site_file_applies_under_an_explicit_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    site_and_instance(tmp_path, 'tool_name = "Site"\nbase_url = "https://site.example"\n', 'tool_name = "Ignored"\n')
    explicit = tmp_path / "elsewhere.toml"
    explicit.write_text('tool_name = "Explicit"\n')
    settings = load_settings(environ={"LTI_MICROCRED_CONFIG": str(explicit)})
    assert (settings.base_url, settings.tool_name) == ("https://site.example", "Explicit")


def test_site_file_may_name_the_instance_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    site_and_instance(tmp_path, f'instance_path = "{tmp_path / "var"}"\n', 'tool_name = "Not this folder"\n')
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "microcred.toml").write_text('tool_name = "Instance"\n')
    settings = load_settings(environ={})
    assert (settings.tool_name, settings.instance_path) == ("Instance", str(tmp_path / "var"))


def test_unknown_key_in_site_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = site_and_instance(tmp_path, 'base_urll = "https://typo.example"\n', "")
    with pytest.raises(ConfigError, match=r"config/microcred\.toml has unknown keys: base_urll"):
        load_settings(environ=env)


def test_the_example_file_is_never_read_as_a_layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "microcred.example.toml").write_text('tool_name = "Example"\n')
    assert load_settings(environ={"LTI_MICROCRED_INSTANCE_PATH": str(tmp_path)}).tool_name == "Micro-credentials"


def test_explicit_settings_file(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text('database_url = "postgresql+psycopg://u@db/microcred"\n')
    assert load_settings(environ={"LTI_MICROCRED_CONFIG": str(path)}).database_url.endswith("/microcred")


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path: Path) -> None:
    settings = load_settings(environ={"LTI_MICROCRED_INSTANCE_PATH": str(tmp_path)})
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'microcred.sqlite3'}"


@pytest.mark.parametrize("secret", ["", DEV_SECRET_KEY, "short"])
def test_production_refuses_default_or_weak_secret(secret: str) -> None:
    env = {"LTI_MICROCRED_ENV": "production", "LTI_MICROCRED_BASE_URL": "https://tool.example.edu",
           "LTI_MICROCRED_SECRET_KEY": secret}
    with pytest.raises(ConfigError, match=r"(?i)secret"):
        load_settings(environ=env)


def test_production_needs_https() -> None:
    env = {"LTI_MICROCRED_ENV": "production", "LTI_MICROCRED_BASE_URL": "http://tool.example.edu",
           "LTI_MICROCRED_SECRET_KEY": "x" * 40}
    with pytest.raises(ConfigError, match="https"):
        load_settings(environ=env)


def test_production_with_good_settings_starts() -> None:
    env = {"LTI_MICROCRED_ENV": "production", "LTI_MICROCRED_BASE_URL": "https://tool.example.edu",
           "LTI_MICROCRED_SECRET_KEY": "x" * 40}
    assert load_settings(environ=env).is_production


@pytest.mark.parametrize("env, message", [
    ({"LTI_MICROCRED_IAT_MAX_AGE_SECONDS": "ten"}, "must be a number"),
    ({"LTI_MICROCRED_DEFAULT_DEPLOYMENT_POLICY": "maybe"}, "hold"),
    ({"LTI_MICROCRED_BASE_URL": "tool.example.edu"}, "absolute"),
    ({"LTI_MICROCRED_ENV": "staging"}, "env must be"),
])
def test_bad_values_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=env)


def test_unknown_key_in_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "microcred.toml").write_text('secret_kee = "typo"\n')
    with pytest.raises(ConfigError, match="secret_kee"):
        load_settings(environ={"LTI_MICROCRED_INSTANCE_PATH": str(tmp_path)})


def test_broken_toml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "microcred.toml").write_text("base_url = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(environ={"LTI_MICROCRED_INSTANCE_PATH": str(tmp_path)})


def test_example_settings_file_is_complete_and_valid() -> None:
    import tomllib

    from lti_microcred.core.config import Settings

    example = tomllib.loads((Path(__file__).parents[2] / "config" / "microcred.example.toml").read_text())
    fields = {f for f in Settings.__dataclass_fields__}
    assert set(example) <= fields
    assert fields - set(example) <= {"secret_key", "key_encryption_key", "redis_url", "instance_path"}
    load_settings({**example, "secret_key": "s" * 40}, environ={})


def test_an_empty_environment_value_means_unset(tmp_path: Path) -> None:
    """`LTI_MICROCRED_SECRET_KEY=` in an env file must not override the secret `microcred init` wrote."""
    (tmp_path / "microcred.toml").write_text('secret_key = "' + "s" * 48 + '"\n')
    env = {"LTI_MICROCRED_INSTANCE_PATH": str(tmp_path), "LTI_MICROCRED_ENV": "production",
           "LTI_MICROCRED_BASE_URL": "https://tool.example.edu", "LTI_MICROCRED_SECRET_KEY": ""}
    assert load_settings(environ=env).secret_key == "s" * 48


def test_production_refuses_a_short_key_encryption_key() -> None:
    env = {"LTI_MICROCRED_ENV": "production", "LTI_MICROCRED_BASE_URL": "https://tool.example.edu",
           "LTI_MICROCRED_SECRET_KEY": "x" * 40, "LTI_MICROCRED_KEY_ENCRYPTION_KEY": "CHANGE_ME"}
    with pytest.raises(ConfigError, match="key_encryption_key"):
        load_settings(environ=env)


@pytest.mark.parametrize("files, expected", [
    ({"cpu.max": "200000 100000\n"}, 2),  # cgroup v2: a limit of 2 CPUs
    ({"cpu.max": "max 100000\n"}, None),  # no limit: the affinity
    ({"cpu/cpu.cfs_quota_us": "150000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 2),  # v1: 1.5 CPUs, rounded up
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({}, None),
])
def test_uwsgi_processes_follow_a_container_cpu_limit(tmp_path: Path, files: dict[str, str],
                                                      expected: int | None) -> None:
    import os

    from lti_microcred.app.server import available_cpus

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    affinity = len(os.sched_getaffinity(0))
    assert available_cpus(tmp_path) == (min(expected, affinity) if expected else affinity)
