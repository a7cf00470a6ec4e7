"""SVG baking (OB 3.0 section 5.3.2): the credential in <openbadges:credential> right inside the root <svg>.

The SVG is edited as text (one start tag widened, one element inserted) rather than re-serialised, so the
artwork is untouched; parsing is done with defusedxml (no entity expansion, no external resources).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # only for its types and ParseError; parsing goes through defusedxml
from typing import Final
from xml.parsers import expat

import defusedxml
import defusedxml.ElementTree as SafeET

from lti_microcred.credentials.errors import BakingError

NAMESPACE: Final = "https://purl.imsglobal.org/ob/v3p0"
SVG_NAMESPACE: Final = "http://www.w3.org/2000/svg"
MAX_SVG_BYTES: Final = 5 * 1024 * 1024
_CREDENTIAL_TAG: Final = f"{{{NAMESPACE}}}credential"
_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def bake_svg(svg: bytes, credential: str) -> bytes:
    """The SVG (UTF-8) with the credential, JSON or compact JWT, as the root's first child."""
    root = _parse(svg)
    if root.find(f".//{_CREDENTIAL_TAG}") is not None:
        raise BakingError("This SVG already carries a credential; bake a fresh copy of the badge image.")
    name, attributes, start = _root_start(svg)
    end, self_closing = _start_tag_end(svg, start)
    bound = attributes.get("xmlns:openbadges")
    if bound not in (None, NAMESPACE):
        raise BakingError("The SVG binds the 'openbadges' prefix to another namespace.")
    declaration = b"" if bound else f' xmlns:openbadges="{NAMESPACE}"'.encode()
    tag_body = svg[start : end - (2 if self_closing else 1)].rstrip()
    cdata = _xml_safe(credential).replace("]]>", "]]]]><![CDATA[>")
    element = f"<openbadges:credential><![CDATA[{cdata}]]></openbadges:credential>".encode()
    closing = f"</{name}>".encode() if self_closing else b""
    baked = svg[:start] + tag_body + declaration + b">" + element + closing + svg[end:]
    _parse(baked)
    return baked


def _xml_safe(credential: str) -> str:
    """Characters XML cannot carry (U+FFFE in a title, say) as JSON escapes: the same JSON to its readers."""
    return _NOT_XML.sub(lambda found: f"\\u{ord(found.group()):04x}", credential)


def extract_svg(svg: bytes) -> str:
    """The credential text baked into an SVG; BakingError if it is not an SVG or carries none."""
    element = _parse(svg).find(f".//{_CREDENTIAL_TAG}")
    text = "".join(element.itertext()).strip() if element is not None else ""
    if not text:
        raise BakingError("This SVG carries no Open Badges 3.0 credential (<openbadges:credential>).")
    return text


def _parse(svg: bytes) -> ET.Element:
    if len(svg) > MAX_SVG_BYTES:
        raise BakingError(f"The SVG is larger than {MAX_SVG_BYTES // (1024 * 1024)} MB.")
    try:
        svg.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BakingError("Only UTF-8 SVG files can be baked or read.") from exc
    try:
        root = SafeET.fromstring(svg, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except (ET.ParseError, defusedxml.DefusedXmlException) as exc:
        raise BakingError(f"This file is not a well-formed, safe SVG: {exc}") from exc
    if root.tag != f"{{{SVG_NAMESPACE}}}svg":
        raise BakingError("This file is XML but not an SVG image (root is not <svg>).")
    return root


def _root_start(svg: bytes) -> tuple[str, dict[str, str], int]:
    """Name, raw attributes and byte offset of the root start tag (document already parsed safely)."""
    found: list[tuple[str, dict[str, str], int]] = []
    parser = expat.ParserCreate()

    def start(name: str, attributes: dict[str, str]) -> None:
        if not found:
            found.append((name, attributes, parser.CurrentByteIndex))

    parser.StartElementHandler = start
    parser.Parse(svg, True)
    return found[0]


def _start_tag_end(svg: bytes, start: int) -> tuple[int, bool]:
    """Offset just past the start tag's '>' (quotes respected), and whether it was '/>'."""
    quote = 0
    for offset in range(start, len(svg)):
        char = svg[offset]
        if quote:
            quote = 0 if char == quote else quote
        elif char in b"\"'":
            quote = char
        elif char == ord(">"):
            return offset + 1, svg[offset - 1] == ord("/")
    raise BakingError("The SVG root start tag is not closed.")
