"""Who is asking for a credential's address: a person's browser (shown the verification page) or a program
(given the signed JSON).

Browsers name HTML in Accept when they open a page (Chrome: `text/html,…,*/*;q=0.8`), so the `*/*` they add
must not read as a wish for JSON. A JSON type named at least as strongly as HTML wins (a wallet, a verifier,
`fetch` with `Accept: application/json`). With neither named (`*/*` alone, or no Accept at all) the User-Agent
decides: browsers and link previews call themselves Mozilla; curl, wget and HTTP libraries do not, and a
program that dereferences a credential's id wants the credential.
"""

from __future__ import annotations

from typing import Final

from werkzeug.datastructures import MIMEAccept

HTML: Final = frozenset({"text/html", "application/xhtml+xml"})
JSON: Final = frozenset({"application/json", "application/ld+json", "application/vc+ld+json", "application/vc",
                         "application/vc+jwt", "application/jwt"})


def _named(accept: MIMEAccept, kinds: frozenset[str]) -> float:
    """The highest quality given to one of `kinds` by name (wildcards do not count)."""
    return max((quality for value, quality in accept if value.lower() in kinds
                or (kinds is JSON and value.lower().endswith("+json"))), default=0.0)


def wants_page(accept: MIMEAccept, user_agent: str) -> bool:
    html, json = _named(accept, HTML), _named(accept, JSON)
    if json > 0 and json >= html:
        return False
    if html > 0:
        return True
    return "Mozilla/" in user_agent
