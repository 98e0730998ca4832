"""Moving client data in and out: import, export, merge, and the GDPR export and erase of a person.

Imports are synchronous: the upload is read (up to the size cap), every row goes through the
create services in its own savepoint, and the answer is the full report. Exports are built
in memory with the same filters as the client lists and sent as attachments.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, Response, UploadFile

from core.clients import merge, privacy
from core.exchange import exporter, importer
from core.records.blobs import TooLarge, read_chunks, size_cap
from hub.api.clients import Filter
from hub.api.records import check_upload_size
from hub.deps import CurrentActor, DbSession
from hub.schemas.clients import OrganizationRead, PersonRead
from hub.schemas.records import ErasureRead, ImportReportRead, MergeIn

router = APIRouter(tags=["transfer"])
DryRun = Annotated[bool, Query(description="Check every row and report, but write nothing")]


def _read_upload(request: Request, upload: UploadFile) -> bytes:
    check_upload_size(request)
    cap, parts, size = size_cap(), [], 0
    for chunk in read_chunks(upload.file):
        size += len(chunk)
        if size > cap:
            raise TooLarge.one("file", f"is larger than the limit of {cap // (1024 * 1024)} MB")
        parts.append(chunk)
    return b"".join(parts)


def _attachment(body: str, media_type: str, filename: str) -> Response:
    return Response(
        content=body.encode("utf-8"),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff"},
    )


@router.post("/import/organizations", response_model=ImportReportRead)
def import_organizations(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    file: UploadFile = File(..., description="A CSV file (UTF-8 or Windows-1251; ';' or ',')"),
    dry_run: DryRun = False,
    team_id: int | None = None,
) -> ImportReportRead:
    """Create organizations from a CSV file; the report lists every row created, skipped or failed."""
    report = importer.import_organizations(
        session, actor=actor, data=_read_upload(request, file), team_id=team_id, dry_run=dry_run
    )
    return ImportReportRead.model_validate(report.as_dict())


@router.post("/import/persons", response_model=ImportReportRead)
def import_persons(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    file: UploadFile = File(..., description="A CSV file or a vCard 3.0 / 4.0 file"),
    dry_run: DryRun = False,
    team_id: int | None = None,
) -> ImportReportRead:
    """Create persons from a CSV or vCard file; the report lists every row or card."""
    report = importer.import_persons(
        session, actor=actor, data=_read_upload(request, file), team_id=team_id, dry_run=dry_run
    )
    return ImportReportRead.model_validate(report.as_dict())


@router.get("/export/organizations.csv", response_class=Response)
def export_organizations(session: DbSession, actor: CurrentActor, f: Filter) -> Response:
    """The organizations the caller may see (same filters as the list) as CSV."""
    body = exporter.export_organizations_csv(session, actor=actor, filter=f)
    return _attachment(body, "text/csv; charset=utf-8", "organizations.csv")


@router.get("/export/persons.csv", response_class=Response)
def export_persons(session: DbSession, actor: CurrentActor, f: Filter) -> Response:
    """The persons the caller may see (same filters as the list) as CSV."""
    body = exporter.export_persons_csv(session, actor=actor, filter=f)
    return _attachment(body, "text/csv; charset=utf-8", "persons.csv")


@router.get("/export/persons.vcf", response_class=Response)
def export_persons_vcf(
    session: DbSession,
    actor: CurrentActor,
    f: Filter,
    version: str = Query("3.0", pattern=r"^(3\.0|4\.0)$"),
) -> Response:
    """The persons the caller may see (same filters as the list) as vCards (3.0 or 4.0)."""
    body = exporter.export_persons_vcf(session, actor=actor, filter=f, version=version)
    return _attachment(body, "text/vcard; charset=utf-8", "persons.vcf")


@router.post("/organizations/{org_id}/merge", response_model=OrganizationRead)
def merge_organizations(org_id: int, body: MergeIn, session: DbSession, actor: CurrentActor) -> OrganizationRead:
    """Fold organization ``other_id`` into this one; everything of both ends here."""
    org = merge.merge_organizations(
        session, actor=actor, survivor_id=org_id, other_id=body.other_id, field_choices=body.fields
    )
    return OrganizationRead.of(org)


@router.post("/persons/{person_id}/merge", response_model=PersonRead)
def merge_persons(person_id: int, body: MergeIn, session: DbSession, actor: CurrentActor) -> PersonRead:
    """Fold person ``other_id`` into this one; everything of both ends here."""
    person = merge.merge_persons(
        session, actor=actor, survivor_id=person_id, other_id=body.other_id, field_choices=body.fields
    )
    return PersonRead.of(person)


@router.get("/persons/{person_id}/privacy-export")
def privacy_export(person_id: int, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """Everything stored about the person (admins, managers, auditors)."""
    return privacy.export_person(session, actor=actor, person_id=person_id)


@router.post("/persons/{person_id}/erase", response_model=ErasureRead)
def erase_person(person_id: int, session: DbSession, actor: CurrentActor) -> ErasureRead:
    """Erase the person and their personal data for good (admins)."""
    return ErasureRead.model_validate(privacy.erase_person(session, actor=actor, person_id=person_id).as_dict())
