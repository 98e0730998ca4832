"""Files attached to organizations, persons, interactions and mails: metadata in the DB, bytes on disk.

A file follows the rights of what it is attached to: whoever may see the organization, person
or interaction may list and download it; whoever may change that client may attach and
delete. A mail attachment stored by the mail import (``mail_id`` set, no client) is visible
through the interactions that log that mail. The bytes are kept by ``core.records.blobs``,
once per content; a row's ``sha256`` is None when only the metadata was kept (an
attachment over the size cap).

Other core code stores files through ``store_bytes``, or ``attach_written`` for many at once
(the mail import, with ``mail_id``);
the API streams uploads through ``store_stream`` so a large upload never sits in memory.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import Forbidden, NotFound, ValidationFailed
from core.models import Interaction, Organization, Person, StoredFile
from core.records.blobs import blob_path, read_chunks, remove_after_commit, write_blob
from core.rights import WRITERS, can_see_team

DEFAULT_TYPE = "application/octet-stream"
_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")


def clean_filename(raw: str) -> str:
    """A safe display name: no folders, no control characters, at most 300 characters."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    if not name:
        return "file"
    if len(name) > 300:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 290 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else name[:300]
    return name


def clean_content_type(raw: str | None) -> str:
    """The declared content type if it is well formed (parameters dropped), else octet-stream."""
    value = (raw or "").split(";")[0].strip().lower()
    return value if _TYPE_RE.match(value) else DEFAULT_TYPE


def _owners(session: Session, f: StoredFile) -> list[int]:
    """The team ids of the records the file hangs on."""
    teams: list[int] = []
    if f.organization_id is not None:
        org = session.get(Organization, f.organization_id)
        teams += [org.team_id] if org else []
    if f.person_id is not None:
        person = session.get(Person, f.person_id)
        teams += [person.team_id] if person else []
    if f.interaction_id is not None:
        interaction = session.get(Interaction, f.interaction_id)
        teams += [interaction.team_id] if interaction else []
    if f.mail_id is not None:
        teams += list(session.scalars(select(Interaction.team_id).where(Interaction.mail_id == f.mail_id)))
    return teams


def _may_see(session: Session, actor: Actor, f: StoredFile | None) -> bool:
    if f is None:
        return False
    return actor.sees_everything or any(can_see_team(actor, t) for t in _owners(session, f))


def _owner_for_write(
    session: Session,
    actor: Actor,
    *,
    organization_id: int | None,
    person_id: int | None,
    interaction_id: int | None,
    mail_id: int | None,
) -> None:
    if organization_id is None and person_id is None and interaction_id is None:
        if mail_id is None:
            raise ValidationFailed.one("organization_id", "attach the file to an organization, person or interaction")
        if not actor.is_admin:
            raise Forbidden("Only the mail import may store a mail attachment on its own")
    for model, record_id, what in (
        (Organization, organization_id, "Organization"),
        (Person, person_id, "Person"),
        (Interaction, interaction_id, "Interaction"),
    ):
        if record_id is None:
            continue
        record = session.get(model, record_id)
        if record is None or not can_see_team(actor, record.team_id):
            raise NotFound(f"{what} not found")
        if actor.role not in WRITERS:
            raise Forbidden(f"Your role ({actor.role.value}) may not attach files")


def _audit_name(f: StoredFile) -> str:
    """How the audit log names a file: by its name, except a mail's attachment, whose name is the mail's to keep.

    That one gets no summary: the audit page shows it as its kind and number ("File #12") in
    the reader's language, where an English phrase stored here would show as it is.
    """
    return "" if f.mail_id is not None else f.filename


@dataclass(frozen=True)
class WrittenFile:
    """A file to attach whose bytes ``blobs.write_blobs`` has stored (``written``), or only its name and size."""

    filename: str
    content_type: str | None
    size: int
    written: tuple[str, int] | None
    """(sha256, size) of the stored bytes; None when only the name and size are kept (over the cap)."""
    owners: dict[str, int | None]
    """organization_id, person_id, interaction_id and mail_id, as ``store_bytes`` takes them."""


def attach_written(session: Session, *, actor: Actor, files: Sequence[WrittenFile]) -> list[StoredFile]:
    """Attach several files at once, each as ``store_bytes`` does with ``content=None``: checked, audited, one flush."""
    checked: set[tuple[tuple[str, int | None], ...]] = set()
    for f in files:
        owners = tuple(sorted(f.owners.items()))
        if owners not in checked:
            _owner_for_write(session, actor, **f.owners)
            checked.add(owners)
    rows = [
        _new_row(actor, f.filename, f.content_type, *(f.written or (None, max(f.size, 0))), f.owners) for f in files
    ]
    session.add_all(rows)
    session.flush()
    for row, f in zip(rows, files, strict=True):
        _audit_created(session, actor, row, f.owners)
    return rows


def _new_row(
    actor: Actor, filename: str, content_type: str | None, sha256: str | None, size: int, owners: dict[str, int | None]
) -> StoredFile:
    return StoredFile(
        filename=clean_filename(filename),
        content_type=clean_content_type(content_type),
        size=size,
        sha256=sha256,
        uploaded_by_id=actor.user_id,
        **owners,
    )


def _audit_created(session: Session, actor: Actor, row: StoredFile, owners: dict[str, int | None]) -> None:
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="file",
        entity_id=row.id,
        summary=_audit_name(row),
        changes={**{k: v for k, v in owners.items() if v is not None}, "size": row.size, "sha256": row.sha256},
    )


def _create_row(
    session: Session,
    *,
    actor: Actor,
    filename: str,
    content_type: str | None,
    size: int,
    sha256: str | None,
    owners: dict[str, int | None],
) -> StoredFile:
    row = _new_row(actor, filename, content_type, sha256, size, owners)
    session.add(row)
    session.flush()
    _audit_created(session, actor, row, owners)
    return row


def store_chunks(
    session: Session,
    *,
    actor: Actor,
    chunks: Iterable[bytes],
    filename: str,
    content_type: str | None = None,
    organization_id: int | None = None,
    person_id: int | None = None,
    interaction_id: int | None = None,
    mail_id: int | None = None,
) -> StoredFile:
    """Store bytes given in chunks (refused over the size cap) and attach them; audited."""
    owners = {
        "organization_id": organization_id,
        "person_id": person_id,
        "interaction_id": interaction_id,
        "mail_id": mail_id,
    }
    _owner_for_write(session, actor, **owners)
    sha, size = write_blob(chunks)
    return _create_row(
        session, actor=actor, filename=filename, content_type=content_type, size=size, sha256=sha, owners=owners
    )


def store_bytes(
    session: Session,
    *,
    actor: Actor,
    content: bytes | None,
    filename: str,
    content_type: str | None = None,
    size: int | None = None,
    written: tuple[str, int] | None = None,
    organization_id: int | None = None,
    person_id: int | None = None,
    interaction_id: int | None = None,
    mail_id: int | None = None,
) -> StoredFile:
    """Store a file's bytes and attach it; audited.

    With ``content=None``: only its name and ``size`` (a file over the cap), or, given
    ``written``, the sha256 and size of bytes ``blobs.write_blobs`` has already stored.
    """
    owners = {
        "organization_id": organization_id,
        "person_id": person_id,
        "interaction_id": interaction_id,
        "mail_id": mail_id,
    }
    if content is None:
        (row,) = attach_written(
            session,
            actor=actor,
            files=[WrittenFile(filename, content_type, int(size or 0), written, owners)],
        )
        return row
    return store_chunks(session, actor=actor, chunks=[content], filename=filename, content_type=content_type, **owners)


def store_stream(session: Session, *, actor: Actor, stream: Any, filename: str, **kwargs: Any) -> StoredFile:
    """Store an uploaded file read from a binary stream in chunks (refused over the size cap)."""
    return store_chunks(session, actor=actor, chunks=read_chunks(stream), filename=filename, **kwargs)


def get_file(session: Session, *, actor: Actor, file_id: int) -> StoredFile:
    """The file's metadata, if the actor may see what it is attached to."""
    f = session.get(StoredFile, file_id)
    if not _may_see(session, actor, f):
        raise NotFound("File not found")
    assert f is not None
    return f


def file_path(session: Session, *, actor: Actor, file_id: int) -> tuple[StoredFile, Path]:
    """The file's metadata and where its bytes are, for a download (NotFound when not kept)."""
    f = get_file(session, actor=actor, file_id=file_id)
    if f.sha256 is None:
        raise NotFound(f"Only the name and size of '{f.filename}' were kept (it was over the size cap)")
    path = blob_path(f.sha256)
    if not path.is_file():
        raise NotFound(f"The content of '{f.filename}' is missing from the file store; ask an admin to check it")
    return f, path


def delete_file(session: Session, *, actor: Actor, file_id: int) -> None:
    """Delete a file (writers who see its client); the bytes go when no other row uses them."""
    f = get_file(session, actor=actor, file_id=file_id)
    if actor.role not in WRITERS:
        raise Forbidden(f"Your role ({actor.role.value}) may not delete files")
    delete_rows(session, actor=actor, files=[f])


def delete_rows(session: Session, *, actor: Actor, files: Iterable[StoredFile], audited: bool = True) -> int:
    """Delete these file rows (rights already checked by the caller) and schedule their bytes' removal."""
    count = 0
    for f in files:
        if audited:
            name = _audit_name(f)
            audit.record(session, actor=actor, action="delete", entity_type="file", entity_id=f.id, summary=name)
        remove_after_commit(session, f.sha256)
        session.delete(f)
        count += 1
    session.flush()
    return count


def list_files(
    session: Session,
    *,
    actor: Actor,
    organization_id: int | None = None,
    person_id: int | None = None,
    interaction_id: int | None = None,
) -> list[StoredFile]:
    """The files of one client card (its own, its interactions' and their mails') or of one interaction."""
    given = [x for x in (organization_id, person_id, interaction_id) if x is not None]
    if len(given) != 1:
        raise ValidationFailed.one("organization_id", "give exactly one of organization, person or interaction")
    if interaction_id is not None:
        record: Any = session.get(Interaction, interaction_id)
        what, cond = (
            "Interaction",
            or_(
                StoredFile.interaction_id == interaction_id,
                (StoredFile.mail_id.is_not(None)) & (StoredFile.mail_id == (record.mail_id if record else None)),
            ),
        )
    else:
        model: Any = Organization if organization_id is not None else Person
        record_id = organization_id if organization_id is not None else person_id
        record = session.get(model, record_id)
        what = model.__name__
        own = StoredFile.organization_id if model is Organization else StoredFile.person_id
        client_col = Interaction.organization_id if model is Organization else Interaction.person_id
        cond = or_(
            own == record_id,
            exists().where(Interaction.id == StoredFile.interaction_id, client_col == record_id),
            exists().where(Interaction.mail_id == StoredFile.mail_id, client_col == record_id),
        )
    if record is None or not can_see_team(actor, record.team_id):
        raise NotFound(f"{what} not found")
    return list(session.scalars(select(StoredFile).where(cond).order_by(StoredFile.created_at.desc(), StoredFile.id)))
