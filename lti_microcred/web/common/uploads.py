"""Evidence uploads from forms: stored before the domain verb runs, removed again if the action fails; a file
left by a process killed before its commit is deleted by the orphan sweep (core/file_sweep.py) an hour later.
A refused file is named with the real reason: "report.pdf is not really a PDF: it is a Windows program"."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from lti_microcred.competencies.evidence import Attachment
from lti_microcred.core.storage import ACCEPTED_LABEL, EXTENSIONS, FileTooLarge, StorageError, StoredFile
from lti_microcred.web.common.views_support import storage

T = TypeVar("T")
HEAD = 512
# What a file claims by its extension, in words.
CLAIMED = {"application/pdf": "a PDF", "image/png": "a PNG image", "image/jpeg": "a JPEG image",
           "image/gif": "a GIF image", "image/webp": "a WebP image", "video/mp4": "an MP4 video",
           "text/plain": "a text file", "text/csv": "a CSV file", "text/markdown": "a Markdown file",
           "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "a Word document",
           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "an Excel workbook",
           "application/vnd.openxmlformats-officedocument.presentationml.presentation": "a PowerPoint presentation",
           "application/vnd.oasis.opendocument.text": "an OpenDocument text"}
# What the first bytes show, for files we refuse.
SIGNATURES = ((b"MZ", "a Windows program"), (b"\x7fELF", "a program"), (b"PK\x03\x04", "a ZIP archive"),
              (b"Rar!", "a RAR archive"), (b"7z\xbc\xaf", "a 7-Zip archive"), (b"\x1f\x8b", "a compressed file"),
              (b"\xd0\xcf\x11\xe0", "an older Office file (.doc, .xls or .ppt)"), (b"{\\rtf", "an RTF document"),
              (b"<!doctype html", "a web page"), (b"<html", "a web page"), (b"%!PS", "a PostScript file"))


def stored_upload(field: str = "file") -> StoredFile | None:
    """The form's file, checked and stored; None when none was chosen. Raises StorageError when refused (with a
    message that names the file), and RequestEntityTooLarge (the 413 *too large* page) above the file limit."""
    upload = request.files.get(field)
    if upload is None or not upload.filename:
        return None
    head = upload.stream.read(HEAD)
    upload.stream.seek(0)
    try:
        return storage().put(upload.stream, upload.filename)
    except FileTooLarge as exc:
        raise RequestEntityTooLarge(str(exc)) from exc
    except StorageError as exc:
        raise StorageError(refusal(upload.filename, head, str(exc))) from exc


def refusal(filename: str, head: bytes, reason: str) -> str:
    """Why a file was refused, naming it: what its name claims against what its content is."""
    name = display_name(filename)
    if not head:
        return f"{name} is empty. Choose the file again, or another one."
    extension = os.path.splitext(name.lower())[1]
    claimed = next((CLAIMED[t] for t, extensions in EXTENSIONS.items() if extension in extensions), None)
    found = content_of(head)
    if claimed is None:
        return f"{name} is {found or 'a type of file'} we do not accept. Accepted: {ACCEPTED_LABEL}."
    if head.startswith(b"PK\x03\x04") and "archive" in reason:
        return f"{name} is not really {claimed}: it looks like a damaged or encrypted archive. Save it again, or " \
               "export it as a PDF."
    actual = f"it is {found}" if found else "its content is of another kind"
    return f"{name} is not really {claimed}: {actual}. Export it as a PDF, or choose another file."


def content_of(head: bytes) -> str | None:
    """What the first bytes of a refused file show, in words (None when they show nothing we know)."""
    lowered = head.lstrip()[:20].lower()
    found = next((words for signature, words in SIGNATURES if lowered.startswith(signature.lower())), None)
    return found or ("binary data, not text" if b"\x00" in head else None)


def display_name(filename: str) -> str:
    """The name the person chose, without its folders, short enough for a sentence."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "The file"
    return name if len(name) <= 80 else name[:60] + "…" + name[-12:]


def attachment_of(stored: StoredFile | None) -> Attachment | None:
    return None if stored is None else Attachment(stored.key, stored.name, stored.content_type, stored.size)


def with_upload(action: Callable[[Attachment | None], T], field: str = "file") -> T:
    """Run `action` (the verb and the commit) with the stored file; on any failure the file is deleted."""
    stored = stored_upload(field)
    try:
        return action(attachment_of(stored))
    except BaseException:
        if stored is not None:
            storage().delete(stored.key)
        raise
