"""What the verifier must not be handed: JSON it cannot read without failing, i.e. nested deeper than a parser's
recursion allows, or escaping half of a UTF-16 surrogate pair (`\\ud800`), which no text can hold. Checked on
the text (and on a compact JWT's header and payload) before anything parses it."""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re

MAX_JSON_DEPTH = 100  # real credentials nest a dozen levels at most
TOO_DEEP = f"The credential nests its JSON too deep (more than {MAX_JSON_DEPTH} levels); no credential does."
LONE_SURROGATE = ("The credential escapes half of a UTF-16 surrogate pair (like \\ud800): that is not text, "
                  "so it is no credential.")
_JSON_STRINGS = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def unreadable(text: str) -> str | None:
    """Why this credential text would break the verifier instead of getting a verdict; None when it would not."""
    for part in _json_parts(text):
        if _nesting(part) > MAX_JSON_DEPTH:
            return TOO_DEEP
        if _SURROGATE_ESCAPE.search(part) and _holds_lone_surrogate(part):
            return LONE_SURROGATE
    return None


def _json_parts(text: str) -> list[str]:
    stripped = text.strip()
    if stripped.startswith(("{", "[")) or stripped.count(".") != 2:
        return [text]
    return [text, *(_base64url(segment) for segment in stripped.split(".")[:2])]


def _nesting(text: str) -> int:
    """How deep the brackets outside strings go, counted without parsing (the parser is what would fail)."""
    brackets = _NOT_BRACKETS.sub("", _JSON_STRINGS.sub("", text))
    return max(itertools.accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def _holds_lone_surrogate(text: str) -> bool:
    try:
        value = json.loads(text)  # nesting already bounded, so no RecursionError
    except ValueError:
        return False
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _base64url(segment: str) -> str:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""
