"""Bytes to text and which format it is: the checks that come before any parsing."""

from __future__ import annotations

import codecs

from lti_microcred.competencies.importers.parsed import refuse

CASE = "case"
MOODLE_CSV = "moodle_csv"
FORMAT_NAMES = {"case": CASE, "case-json": CASE, "json": CASE,
                "moodle-csv": MOODLE_CSV, "moodle_csv": MOODLE_CSV, "csv": MOODLE_CSV}
UTF8_ADVICE = ("Save it as UTF-8 and import it again (Excel: “CSV UTF-8 (Comma delimited)”; "
               "LibreOffice: character set “Unicode (UTF-8)”).")


MEGABYTE = 1024 * 1024


def _sizes(size: int, max_bytes: int) -> tuple[str, str]:
    """The file's size and the limit as a person reads them: in MB, or in bytes when the MB figures would
    not tell them apart (a file a few bytes over the limit)."""
    limit = f"{max_bytes / MEGABYTE:g} MB"
    if round(size / MEGABYTE, 1) > max_bytes / MEGABYTE:
        return f"{size / MEGABYTE:.1f} MB", limit
    return f"{size:,} bytes", f"{max_bytes:,} bytes ({limit})"


def check_size(size: int, max_bytes: int) -> None:
    """Refuse before reading or parsing anything when the file is over the limit."""
    if size > max_bytes:
        shown, limit = _sizes(size, max_bytes)
        raise refuse("file", f"The file is {shown}; the limit is {limit}. Import a smaller file: leave out the "
                             "branches your courses do not need, or split it into several frameworks.")


def decode(data: bytes, max_bytes: int) -> str:
    """The file as text: UTF-8 (a byte-order mark is dropped), nothing else, no NUL characters."""
    check_size(len(data), max_bytes)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise refuse("file", "The file is UTF-16 text, not UTF-8. " + UTF8_ADVICE)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise refuse(f"line {line}", f"The file is not UTF-8 text: byte 0x{data[exc.start]:02X} at column {column} "
                                     "is not valid UTF-8 (the file is probably Latin-1 or Windows-1252). "
                                     + UTF8_ADVICE) from None
    if not text.strip():
        raise refuse("file", "The file is empty.")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise refuse(f"line {line}", "The file contains a NUL character: it is not a text file.")
    return text


def detect_format(text: str, filename: str | None, fmt: str | None) -> str:
    """The format asked for, else JSON-looking content or a .json name means CASE, anything else Moodle CSV."""
    if fmt:
        try:
            return FORMAT_NAMES[fmt.strip().lower()]
        except KeyError:
            raise refuse("format", f"Unknown format {fmt!r}: use “case” or “moodle-csv”.") from None
    if text.lstrip().startswith(("{", "[")) or (filename or "").lower().endswith(".json"):
        return CASE
    return MOODLE_CSV

