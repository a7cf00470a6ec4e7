"""Evidence files: stored under random keys, refused above a size limit while streaming, typed by content.

`FileStorage` is the interface the web layer uses; `LocalFileStorage` keeps files in a directory
(`settings.resolved_storage_path`). An object-store implementation only has to provide the same methods.
Nothing is ever served from the storage path directly: files go out through a view that checks who asks.
A file is written before the transaction that refers to it commits; `core/file_sweep.py` deletes the ones a
killed process left behind.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import secrets
import tempfile
import time
import unicodedata
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from lti_microcred.core.config import Settings

CHUNK = 64 * 1024
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")
MAX_NAME = 120
ACCEPTED_LABEL = ("PDF, PNG, JPEG, GIF, WebP, plain text, CSV, Markdown, Word, Excel, PowerPoint, "
                  "OpenDocument text or MP4")

# content type -> (canonical extension, other accepted extensions)
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "video/mp4": (".mp4", ".m4v"),
    "text/plain": (".txt", ".text", ".log"),
    "text/csv": (".csv",),
    "text/markdown": (".md", ".markdown"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (".pptx",),
    "application/vnd.oasis.opendocument.text": (".odt",),
}
MP4_BRANDS = frozenset({b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
                        b"dash", b"mmp4", b"MSNV"})
OOXML_PARTS = (("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
               ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
               ("ppt/presentation.xml", "application/vnd.openxmlformats-officedocument.presentationml.presentation"))
ODT = b"application/vnd.oasis.opendocument.text"


class StorageError(Exception):
    """An upload we refuse, with a message for the person who sent it."""


class FileTooLarge(StorageError):
    """An upload over the size limit (the web answers 413 with its *too large* page)."""


class StoredFileMissing(LookupError):
    """No file under this key (never stored, deleted, or not a key at all)."""


@dataclass(frozen=True)
class StoredFile:
    """What the storage kept: its key, a safe display name, the type found in its content, size and digest."""

    key: str
    name: str
    content_type: str
    size: int
    sha256: str


class FileStorage(ABC):
    """Where evidence files live. Implementations must keep keys unguessable and check every upload."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    @abstractmethod
    def put(self, stream: IO[bytes], filename: str, max_bytes: int | None = None) -> StoredFile:
        """Store a stream, reading at most the limit + 1 bytes; StorageError if too large, empty or not allowed."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """The stored bytes, for reading; StoredFileMissing when there is none."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Forget a file (missing files are not an error: deletes may be repeated)."""

    @abstractmethod
    def stale_keys(self, older_than_seconds: float) -> Iterator[str]:
        """Keys of the files written longer ago than that (what the orphan sweep checks); partial uploads that
        old are deleted on the way."""


class LocalFileStorage(FileStorage):
    """Files in a local directory, two levels deep by key prefix; written atomically after every check."""

    def __init__(self, root: str | Path, max_bytes: int) -> None:
        super().__init__(max_bytes)
        self.root = Path(root)

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalFileStorage:
        return cls(settings.resolved_storage_path, settings.upload_max_bytes)

    def put(self, stream: IO[bytes], filename: str, max_bytes: int | None = None) -> StoredFile:
        limit = self.max_bytes if max_bytes is None else min(max_bytes, self.max_bytes)
        incoming = self.root / ".incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=incoming)
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                scan = _copy_bounded(stream, out, limit)
            content_type = detect_type(temp, scan.head, scan.is_text, filename)
            key = secrets.token_urlsafe(24)
            final = self._path(key)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return StoredFile(key, safe_name(filename, content_type), content_type, scan.size, scan.sha256)

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise StoredFileMissing(key) from exc

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except StoredFileMissing:
            return

    def stale_keys(self, older_than_seconds: float) -> Iterator[str]:
        cutoff = time.time() - older_than_seconds
        for path in (self.root / ".incoming").glob("tmp*"):  # a process killed while writing
            if _written_before(path, cutoff):
                path.unlink(missing_ok=True)
        for folder in self.root.glob("??"):
            for path in folder.iterdir() if folder.is_dir() else ():
                if KEY_PATTERN.match(path.name) and path.name[:2] == folder.name and _written_before(path, cutoff):
                    yield path.name  # only our own keys: nothing else in the folder is ever touched

    def _path(self, key: str) -> Path:
        if not KEY_PATTERN.match(key or ""):
            raise StoredFileMissing(key)
        return self.root / key[:2] / key


def _written_before(path: Path, cutoff: float) -> bool:
    try:
        return path.is_file() and path.stat().st_mtime < cutoff
    except FileNotFoundError:  # deleted meanwhile (by a failed request, or another process's sweep)
        return False


@dataclass(frozen=True)
class _Scan:
    size: int
    sha256: str
    head: bytes
    is_text: bool


def _copy_bounded(stream: IO[bytes], out: IO[bytes], limit: int) -> _Scan:
    """Copy while counting, hashing and checking UTF-8; stops as soon as the limit is passed."""
    digest, decoder = hashlib.sha256(), codecs.getincrementaldecoder("utf-8")("strict")
    size, head, is_text = 0, b"", True
    while True:
        chunk = stream.read(min(CHUNK, limit + 1 - size))
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise FileTooLarge(f"The file is larger than {megabytes(limit)}. Upload a smaller file or share a link.")
        if len(head) < 4096:
            head += chunk[:4096 - len(head)]
        digest.update(chunk)
        out.write(chunk)
        is_text = is_text and b"\x00" not in chunk and _decodes(decoder, chunk)
    if size == 0:
        raise StorageError("The file is empty.")
    return _Scan(size, digest.hexdigest(), head, is_text and _decodes(decoder, b"", final=True))


def _decodes(decoder: codecs.IncrementalDecoder, chunk: bytes, final: bool = False) -> bool:
    try:
        decoder.decode(chunk, final)
    except UnicodeDecodeError:
        return False
    return True


def detect_type(path: Path, head: bytes, is_text: bool, filename: str) -> str:
    """The content type the bytes prove, from the allow-list; StorageError for anything else."""
    found = _signature(head)
    if found == "application/zip":
        found = _office_type(path)
    if found is None and is_text:
        found = _text_type(filename)
    if found is None:
        raise StorageError(f"This type of file is not accepted. Accepted: {ACCEPTED_LABEL}.")
    return found


def _signature(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in MP4_BRANDS:
        return "video/mp4"
    if head.startswith(b"PK\x03\x04"):
        return "application/zip"
    return None


def _office_type(path: Path) -> str:
    """Word/Excel/PowerPoint (OOXML) or OpenDocument text; other ZIP archives are refused."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" in names:
                for part, content_type in OOXML_PARTS:
                    if part in names:
                        return content_type
            info = archive.getinfo("mimetype") if "mimetype" in names else None
            if info is not None and info.file_size <= 100 and archive.read(info).strip() == ODT:
                return ODT.decode()
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
        raise StorageError("The file looks like a damaged or encrypted archive.") from exc
    raise StorageError("ZIP archives are not accepted; only Word, Excel, PowerPoint and OpenDocument text files.")


def _text_type(filename: str) -> str:
    extension = os.path.splitext(filename.lower())[1]
    if extension == ".csv":
        return "text/csv"
    if extension in (".md", ".markdown"):
        return "text/markdown"
    return "text/plain"


def safe_name(filename: str, content_type: str) -> str:
    """A display name without paths or odd characters, ending with an extension that matches the content."""
    name = unicodedata.normalize("NFKC", filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^\w.\- ]+", "_", name).strip(" ._") or "evidence"
    stem, extension = os.path.splitext(name)
    accepted = EXTENSIONS.get(content_type, ("",))
    if extension.lower() not in accepted:
        if extension.lower() not in _all_extensions():
            stem = name  # "page.html" that is text becomes "page.html.txt": its real type stays visible
        extension = accepted[0]
    return (stem[:MAX_NAME - len(extension)].rstrip(" .") or "evidence") + extension


def _all_extensions() -> set[str]:
    return {e for extensions in EXTENSIONS.values() for e in extensions}


def megabytes(size: int) -> str:
    """A size limit as a person reads it."""
    return f"{size / (1024 * 1024):g} MB" if size >= 1024 * 1024 else f"{size:,} bytes"
