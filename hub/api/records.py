"""Files, comments, custom field definitions and the audit log.

Downloads are always served as attachments with ``X-Content-Type-Options: nosniff``: the
content type is whatever the uploader declared, so the browser must neither render nor sniff
it. The file name travels twice in ``Content-Disposition``: an ASCII fallback and the exact
UTF-8 name (RFC 6266 / 5987), so Cyrillic names survive and no name can break the header.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import FileResponse

from core.records import audit_log, comments, custom_fields, files
from core.records.blobs import TooLarge, size_cap
from hub.deps import CurrentActor, DbSession
from hub.schemas.common import Page
from hub.schemas.records import (
    AuditEntryRead,
    CommentCreate,
    CommentRead,
    CustomFieldCreate,
    CustomFieldRead,
    CustomFieldUpdate,
    FileRead,
)

router = APIRouter(tags=["records"])
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]
MULTIPART_OVERHEAD = 64 * 1024


def content_disposition(filename: str) -> str:
    """An ``attachment`` header value with an ASCII fallback name and the exact UTF-8 name."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = re.sub(r"[^A-Za-z0-9._ -]", "_", fallback).strip() or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def check_upload_size(request: Request) -> None:
    """Refuse an upload whose declared length is already over the cap, before reading it."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > size_cap() + MULTIPART_OVERHEAD:
        raise TooLarge.one("file", f"is larger than the limit of {size_cap() // (1024 * 1024)} MB")


def _upload(session: DbSession, actor: CurrentActor, request: Request, upload: UploadFile, **owner: int) -> FileRead:
    check_upload_size(request)
    stored = files.store_stream(
        session,
        actor=actor,
        stream=upload.file,
        filename=upload.filename or "file",
        content_type=upload.content_type,
        **owner,
    )
    return FileRead.model_validate(stored)


@router.post("/organizations/{org_id}/files", response_model=FileRead, status_code=201)
def upload_org_file(
    org_id: int, request: Request, session: DbSession, actor: CurrentActor, file: UploadFile = File(...)
) -> FileRead:
    """Attach a file to an organization (multipart field ``file``)."""
    return _upload(session, actor, request, file, organization_id=org_id)


@router.post("/persons/{person_id}/files", response_model=FileRead, status_code=201)
def upload_person_file(
    person_id: int, request: Request, session: DbSession, actor: CurrentActor, file: UploadFile = File(...)
) -> FileRead:
    """Attach a file to a person (multipart field ``file``)."""
    return _upload(session, actor, request, file, person_id=person_id)


@router.post("/interactions/{interaction_id}/files", response_model=FileRead, status_code=201)
def upload_interaction_file(
    interaction_id: int, request: Request, session: DbSession, actor: CurrentActor, file: UploadFile = File(...)
) -> FileRead:
    """Attach a file to an interaction (multipart field ``file``)."""
    return _upload(session, actor, request, file, interaction_id=interaction_id)


@router.get("/organizations/{org_id}/files", response_model=list[FileRead])
def org_files(org_id: int, session: DbSession, actor: CurrentActor) -> list[FileRead]:
    """The files of an organization's card (its own and its interactions')."""
    return [FileRead.model_validate(f) for f in files.list_files(session, actor=actor, organization_id=org_id)]


@router.get("/persons/{person_id}/files", response_model=list[FileRead])
def person_files(person_id: int, session: DbSession, actor: CurrentActor) -> list[FileRead]:
    """The files of a person's card (their own and their interactions')."""
    return [FileRead.model_validate(f) for f in files.list_files(session, actor=actor, person_id=person_id)]


@router.get("/interactions/{interaction_id}/files", response_model=list[FileRead])
def interaction_files(interaction_id: int, session: DbSession, actor: CurrentActor) -> list[FileRead]:
    """The files of one interaction (and of its mail)."""
    rows = files.list_files(session, actor=actor, interaction_id=interaction_id)
    return [FileRead.model_validate(f) for f in rows]


@router.get("/files/{file_id}", response_model=FileRead)
def get_file(file_id: int, session: DbSession, actor: CurrentActor) -> FileRead:
    """A file's metadata."""
    return FileRead.model_validate(files.get_file(session, actor=actor, file_id=file_id))


@router.get("/files/{file_id}/content", response_class=FileResponse)
def download_file(file_id: int, session: DbSession, actor: CurrentActor) -> FileResponse:
    """The file's bytes, as an attachment."""
    f, path = files.file_path(session, actor=actor, file_id=file_id)
    return FileResponse(
        path,
        media_type=f.content_type,
        headers={
            "Content-Disposition": content_disposition(f.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@router.delete("/files/{file_id}", status_code=204)
def delete_file(file_id: int, session: DbSession, actor: CurrentActor) -> None:
    """Delete a file."""
    files.delete_file(session, actor=actor, file_id=file_id)


@router.get("/organizations/{org_id}/comments", response_model=list[CommentRead])
def org_comments(org_id: int, session: DbSession, actor: CurrentActor) -> list[CommentRead]:
    """Comments on an organization, oldest first."""
    rows = comments.list_comments(session, actor=actor, organization_id=org_id)
    return [CommentRead.model_validate(c) for c in rows]


@router.post("/organizations/{org_id}/comments", response_model=CommentRead, status_code=201)
def add_org_comment(org_id: int, body: CommentCreate, session: DbSession, actor: CurrentActor) -> CommentRead:
    """Comment on an organization."""
    return CommentRead.model_validate(
        comments.add_comment(session, actor=actor, organization_id=org_id, body=body.body)
    )


@router.get("/persons/{person_id}/comments", response_model=list[CommentRead])
def person_comments(person_id: int, session: DbSession, actor: CurrentActor) -> list[CommentRead]:
    """Comments on a person, oldest first."""
    return [CommentRead.model_validate(c) for c in comments.list_comments(session, actor=actor, person_id=person_id)]


@router.post("/persons/{person_id}/comments", response_model=CommentRead, status_code=201)
def add_person_comment(person_id: int, body: CommentCreate, session: DbSession, actor: CurrentActor) -> CommentRead:
    """Comment on a person."""
    return CommentRead.model_validate(comments.add_comment(session, actor=actor, person_id=person_id, body=body.body))


@router.delete("/comments/{comment_id}", status_code=204)
def delete_comment(comment_id: int, session: DbSession, actor: CurrentActor) -> None:
    """Delete a comment (its author, managers, admins)."""
    comments.delete_comment(session, actor=actor, comment_id=comment_id)


@router.get("/custom-fields", response_model=list[CustomFieldRead])
def list_custom_fields(
    session: DbSession, actor: CurrentActor, entity: str | None = Query(None, pattern=r"^(organization|person)$")
) -> list[CustomFieldRead]:
    """Custom field definitions."""
    return [CustomFieldRead.model_validate(f) for f in custom_fields.list_fields(session, actor=actor, entity=entity)]


@router.post("/custom-fields", response_model=CustomFieldRead, status_code=201)
def create_custom_field(body: CustomFieldCreate, session: DbSession, actor: CurrentActor) -> CustomFieldRead:
    """Define a custom field (admins)."""
    return CustomFieldRead.model_validate(custom_fields.create_field(session, actor=actor, **body.model_dump()))


@router.patch("/custom-fields/{field_id}", response_model=CustomFieldRead)
def update_custom_field(
    field_id: int, body: CustomFieldUpdate, session: DbSession, actor: CurrentActor
) -> CustomFieldRead:
    """Change a custom field's labels, choices, order or required flag (admins)."""
    changes = body.model_dump(exclude_unset=True)
    return CustomFieldRead.model_validate(
        custom_fields.update_field(session, actor=actor, field_id=field_id, changes=changes)
    )


@router.delete("/custom-fields/{field_id}", status_code=204)
def delete_custom_field(field_id: int, session: DbSession, actor: CurrentActor) -> None:
    """Delete a custom field and its values (admins)."""
    custom_fields.delete_field(session, actor=actor, field_id=field_id)


@router.get("/audit", response_model=Page[AuditEntryRead])
def query_audit(
    session: DbSession,
    actor: CurrentActor,
    entity_type: str | None = Query(None, max_length=40),
    entity_id: int | None = None,
    user_id: int | None = None,
    action: str | None = Query(None, max_length=30),
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AuditEntryRead]:
    """The audit log, newest first (admins and auditors)."""
    rows, total = audit_log.query_log(
        session,
        actor=actor,
        entity_type=entity_type,
        entity_id=entity_id,
        user_id=user_id,
        action=action,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return Page(items=[AuditEntryRead.model_validate(e) for e in rows], total=total, limit=limit, offset=offset)


@router.get("/history/{entity_type}/{entity_id}", response_model=Page[AuditEntryRead])
def entity_history(
    entity_type: str, entity_id: int, session: DbSession, actor: CurrentActor, limit: Limit = 100, offset: Offset = 0
) -> Page[AuditEntryRead]:
    """Who changed one record and when (anyone who may see the record)."""
    rows, total = audit_log.entity_history(
        session, actor=actor, entity_type=entity_type, entity_id=entity_id, limit=limit, offset=offset
    )
    return Page(items=[AuditEntryRead.model_validate(e) for e in rows], total=total, limit=limit, offset=offset)
