"""Evidence uploads from forms: stored before the domain verb runs, removed again if the action fails; a file
left by a process killed before its commit is deleted by the orphan sweep (core/file_sweep.py) an hour later."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from lti_microcred.competencies.evidence import Attachment
from lti_microcred.core.storage import FileTooLarge, StoredFile
from lti_microcred.web.common.views_support import storage

T = TypeVar("T")


def stored_upload(field: str = "file") -> StoredFile | None:
    """The form's file, checked and stored; None when none was chosen. Raises StorageError when refused, and
    RequestEntityTooLarge (the 413 *too large* page, as for a form over the request limit) above the file limit."""
    upload = request.files.get(field)
    if upload is None or not upload.filename:
        return None
    try:
        return storage().put(upload.stream, upload.filename)
    except FileTooLarge as exc:
        raise RequestEntityTooLarge(str(exc)) from exc


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
