"""An uploaded SVG made safe to serve from our origin and to bake: parsed with defusedxml (no DTD, entities or
external resources), then only SVG drawing elements and presentation attributes are kept, and written out again
by us (so no comment, processing instruction or stray namespace survives). Gone: scripts, foreignObject,
animation (it can rewrite a link), event attributes (`on…`), links and references other than to a fragment of
the same picture (`#id`) or an embedded raster image (`data:image/png|jpeg|gif|webp;base64,…`), CSS that imports
or fetches anything. What is left draws the same picture.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # only for its types and ParseError; parsing goes through defusedxml
from typing import Final
from xml.sax.saxutils import escape

import defusedxml
import defusedxml.ElementTree as SafeET

from lti_microcred.credentials.errors import BakingError

SVG: Final = "http://www.w3.org/2000/svg"
XLINK: Final = "http://www.w3.org/1999/xlink"
XML_NS: Final = "http://www.w3.org/XML/1998/namespace"
MAX_ELEMENTS: Final = 20_000
ELEMENTS: Final = frozenset((
    "svg", "g", "defs", "symbol", "use", "title", "desc", "path", "rect", "circle", "ellipse", "line", "polyline",
    "polygon", "text", "tspan", "textPath", "linearGradient", "radialGradient", "stop", "pattern", "clipPath",
    "mask", "marker", "image", "style", "switch", "view", "filter", "feBlend", "feColorMatrix",
    "feComponentTransfer", "feComposite", "feConvolveMatrix", "feDiffuseLighting", "feDisplacementMap",
    "feDistantLight", "feDropShadow", "feFlood", "feFuncA", "feFuncB", "feFuncG", "feFuncR", "feGaussianBlur",
    "feMerge", "feMergeNode", "feMorphology", "feOffset", "fePointLight", "feSpecularLighting", "feSpotLight",
    "feTile", "feTurbulence",
))
_SAFE_DATA: Final = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*", re.IGNORECASE)
_URL: Final = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_DANGER: Final = re.compile(r"javascript:|vbscript:|@import|expression\s*\(|image-set|cross-fade|element\(|\\|<",
                            re.IGNORECASE)  # CSS that fetches without url(), or hides a word behind an escape


class UnsafeSvg(BakingError):
    """The file is not an SVG we can make safe."""


def sanitised(svg: bytes) -> bytes:
    """The SVG, rewritten with only what draws; UnsafeSvg when it is no SVG at all."""
    try:
        root = SafeET.fromstring(svg, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ET.ParseError, defusedxml.DefusedXmlException, ValueError) as exc:
        raise UnsafeSvg(f"This file is not a well-formed SVG ({_first_line(exc)}).") from exc
    if root.tag != f"{{{SVG}}}svg":
        raise UnsafeSvg("This file is XML but not an SVG image (its root element is not <svg>).")
    if sum(1 for _ in root.iter()) > MAX_ELEMENTS:
        raise UnsafeSvg(f"This SVG has more than {MAX_ELEMENTS:,} elements; simplify it and upload it again.")
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    _write(root, parts, top=True)
    return "".join(parts).encode("utf-8")


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else exc.__class__.__name__


def _local(tag: str) -> str | None:
    """The element's name when it is an SVG element we keep (a link becomes a plain group), else None."""
    if not tag.startswith(f"{{{SVG}}}"):
        return None
    name = tag[len(SVG) + 2:]
    return "g" if name == "a" else name if name in ELEMENTS else None


def _write(element: ET.Element, parts: list[str], top: bool = False) -> None:
    name = _local(element.tag)
    if name is None:
        return
    if name == "style" and not _safe_css(element.text or ""):
        return
    attributes = _attributes(element) if element.tag != f"{{{SVG}}}a" else ""
    if top:
        attributes = f' xmlns="{SVG}" xmlns:xlink="{XLINK}"' + attributes
    parts.append(f"<{name}{attributes}>")
    if element.text:
        parts.append(escape(element.text))
    for child in element:
        _write(child, parts)
        if child.tail:
            parts.append(escape(child.tail))
    parts.append(f"</{name}>")


def _attributes(element: ET.Element) -> str:
    kept = []
    for key, value in element.attrib.items():
        name = _attribute_name(key)
        if name is None or not _safe_value(name, value):
            continue
        kept.append(f' {name}="{escape(value, {chr(34): "&#34;", chr(10): "&#10;", chr(9): "&#9;"})}"')
    return "".join(kept)


def _attribute_name(key: str) -> str | None:
    """How an attribute is written back: plain names and xlink:href / xml:space; nothing of other namespaces,
    and no event handler."""
    if key == f"{{{XLINK}}}href":
        return "xlink:href"
    if key == f"{{{XML_NS}}}space":
        return "xml:space"
    if key.startswith("{") or key.lower().startswith("on"):
        return None
    return key if re.fullmatch(r"[A-Za-z][A-Za-z0-9_.:-]*", key) and ":" not in key else None


def _safe_value(name: str, value: str) -> bool:
    if name in ("href", "xlink:href"):
        return value.startswith("#") or bool(_SAFE_DATA.fullmatch(value.strip()))
    if _DANGER.search(value):
        return False
    return all(_safe_reference(target) for _quote, target in _URL.findall(value)) and \
        "url(" not in _URL.sub("", value).lower()


def _safe_css(text: str) -> bool:
    return not _DANGER.search(text) and _safe_value("style", text)


def _safe_reference(target: str) -> bool:
    target = target.strip()
    return target.startswith("#") or bool(_SAFE_DATA.fullmatch(target))
