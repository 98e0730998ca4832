"""The bytes of stored files on disk, named by their SHA-256 (content addressed).

A file's bytes live at ``<files_dir>/ab/cd/abcdef...`` (two levels of folders from the hash,
so no folder grows past a few thousand entries). The same content uploaded twice, or the
same attachment in ten mails, is stored once; each ``files`` row points at the hash.

Writes are atomic: bytes go to a temporary file in ``<files_dir>/.tmp`` (the same file
system), are flushed and fsynced, then renamed into place, so a reader never sees half a
file and a crash leaves at most a stray temporary file. Removal happens only after the
transaction that deleted the last row has committed, and only when no row points at the hash
any more (checked on a fresh connection against committed rows), so a rolled-back delete
never loses bytes. (A blob written by a transaction that
then rolled back stays on disk unreferenced; it is harmless and reused by the next upload of
the same content.)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from core.config import get_settings
from core.errors import ValidationFailed
from core.models import StoredFile

CHUNK = 1024 * 1024
_PENDING = "crmhub_blobs_to_remove"
_LISTENING = "crmhub_blobs_listening"


class TooLarge(ValidationFailed):
    """The file is over the upload size cap."""


def files_dir() -> Path:
    """The folder holding stored bytes (``settings.files_dir``)."""
    return get_settings().files_dir


def size_cap() -> int:
    """The largest file accepted, in bytes (``settings.max_upload_mb``)."""
    return get_settings().max_upload_mb * 1024 * 1024


def blob_path(sha256: str) -> Path:
    """Where the bytes with this hash live."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256 hex digest")
    return files_dir() / sha256[:2] / sha256[2:4] / sha256


def write_blob(chunks: Iterable[bytes], *, limit: int | None = None, field: str = "file") -> tuple[str, int]:
    """Store the bytes atomically under their hash; return (sha256, size). Over ``limit`` raises TooLarge."""
    cap = size_cap() if limit is None else limit
    tmp_dir = files_dir() / ".tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="up-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > cap:
                    raise TooLarge.one(field, f"is larger than the limit of {cap // (1024 * 1024)} MB")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha = digest.hexdigest()
        final = blob_path(sha)
        if final.exists() and final.stat().st_size == size:
            tmp.unlink()
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
        return sha, size
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


WRITERS = 8
"""Blobs written side by side: enough to overlap the disk's flushes, few enough to be polite."""

_writers: ThreadPoolExecutor | None = None
_writers_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """The process's blob writers (started on first use and kept: a batch of mail must not start threads)."""
    global _writers
    with _writers_lock:
        if _writers is None:
            _writers = ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="crmhub-blob")
        return _writers


class BlobsBeingWritten:
    """Blobs being stored in the background (``start_writing``); ``result`` waits for them."""

    def __init__(self, futures: list[Future[tuple[str, int]]]) -> None:
        self._futures = futures

    def result(self) -> list[tuple[str, int]]:
        """(sha256, size) of each blob, in order; the first failure is raised once every write has ended."""
        wait(self._futures)
        return [future.result() for future in self._futures]


def start_writing(contents: Sequence[bytes], *, limit: int | None = None) -> BlobsBeingWritten:
    """Start storing several files' bytes, each as ``write_blob`` does, side by side; the caller goes on meanwhile.

    Each blob is fsynced before it is renamed into place, and most of that time is the disk's:
    done in a few threads, the flushes of a batch of attachments overlap instead of queueing,
    and with the caller's own work (a mail batch's database writes) too.
    """
    return BlobsBeingWritten([_pool().submit(write_blob, [content], limit=limit) for content in contents])


def write_blobs(contents: Sequence[bytes], *, limit: int | None = None) -> list[tuple[str, int]]:
    """Store several files' bytes side by side (``start_writing``) and wait for them; (sha256, size) of each."""
    if len(contents) < 2:
        return [write_blob([content], limit=limit) for content in contents]
    return start_writing(contents, limit=limit).result()


def read_chunks(stream: object, chunk_size: int = CHUNK) -> Iterable[bytes]:
    """The chunks of a binary file-like object, until it ends."""
    read = stream.read  # type: ignore[attr-defined]
    while True:
        chunk = read(chunk_size)
        if not chunk:
            return
        yield chunk


def _remove_unreferenced(session: Session, transaction: SessionTransaction) -> None:
    """At the end of the outermost transaction (committed or not), drop bytes no committed row uses."""
    if transaction.parent is not None:
        return
    hashes = session.info.pop(_PENDING, set())
    if not hashes:
        return
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    with engine.connect() as conn:
        for sha in hashes:
            still_used = conn.execute(select(StoredFile.id).where(StoredFile.sha256 == sha).limit(1)).first()
            if still_used is None:
                with contextlib.suppress(FileNotFoundError):
                    blob_path(sha).unlink()


def remove_after_commit(session: Session, sha256: str | None) -> None:
    """Remove these bytes when the session's transaction ends, unless a committed row still uses them."""
    if not sha256:
        return
    if not session.info.get(_LISTENING):
        session.info[_LISTENING] = True
        event.listen(session, "after_transaction_end", _remove_unreferenced)
    session.info.setdefault(_PENDING, set()).add(sha256)
