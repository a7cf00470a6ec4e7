"""`microcred platform add/move` and `microcred institution merge`, run as real processes: what they say about
the institution a registration joins, and their refusals (exit code 1, nothing changed)."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import instance, microcred

__all__ = ["instance"]  # the module's initialised instance folder (a fixture)


def add(tmp: Path, issuer: str, client_id: str, *extra: str) -> str:
    result = microcred(tmp, "platform", "add", "--issuer", issuer, "--client-id", client_id,
                       "--auth-login-url", issuer + "/auth", "--auth-token-url", issuer + "/token",
                       "--key-set-url", issuer + "/jwks", *extra)
    assert result.returncode == 0, result.stderr
    return result.stdout


def platform_id(output: str) -> str:
    return output.split()[1].rstrip(":")


def test_a_second_registration_of_one_lms_says_it_joins_the_first_ones_institution(instance: Path) -> None:
    assert microcred(instance, "institution", "create", "--slug", "east", "--name", "East College").returncode == 0
    first = add(instance, "https://east.example.edu", "e1", "--institution", "east")
    assert "institution: east (East College)" in first
    second = add(instance, "https://east.example.edu", "e2")
    assert f"institution: east (East College), as platform {platform_id(first)} of the same LMS" in second
    canvas = add(instance, "https://canvas.instructure.com", "10000000000077")
    assert "institution: default" in canvas and "same LMS" not in canvas
    listing = microcred(instance, "platform", "list").stdout
    assert "institution=east" in listing


def test_move_and_merge_with_their_refusals(instance: Path) -> None:
    assert microcred(instance, "institution", "create", "--slug", "west", "--name", "West College").returncode == 0
    assert microcred(instance, "institution", "create", "--slug", "wide", "--name", "Wide College").returncode == 0
    added = platform_id(add(instance, "https://west.example.edu", "w1", "--institution", "west"))
    moved = microcred(instance, "platform", "move", added, "--institution", "wide")
    assert moved.returncode == 0, moved.stderr
    assert "now belongs to wide (Wide College), moved from west (West College)" in moved.stdout
    again = microcred(instance, "platform", "move", added, "--institution", "wide")
    assert again.returncode == 1 and "already belongs to wide" in again.stderr and "Traceback" not in again.stderr
    unknown = microcred(instance, "platform", "move", "9999", "--institution", "wide")
    assert unknown.returncode == 1 and "no platform 9999" in unknown.stderr
    root = microcred(instance, "institution", "merge", "default", "wide")
    assert root.returncode == 1 and "host root" in root.stderr
    merged = microcred(instance, "institution", "merge", "wide", "west")
    assert merged.returncode == 0, merged.stderr
    assert "1 registration(s) moved from wide (Wide College) to west (West College)" in merged.stdout
    assert "issued no credential" in merged.stdout
    listing = microcred(instance, "institution", "list").stdout
    assert "wide" not in listing and "West College  (1 registration(s))" in listing
