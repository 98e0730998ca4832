"""Importing organizations and persons from files, through the same services as the API.

Every row is created by ``create_organization`` / ``create_person``, so the duplicate rule,
the blocklist, validation and rights hold exactly as when a user types the client in. Each
row runs in its own savepoint: a row that fails is rolled back alone, reported with its line
(CSV) or card number (vCard) and the reason, and the import goes on; nothing is dropped
silently. A duplicate is reported as skipped together with the existing record it matched
(as the duplicate rule describes it: a record of a team the user cannot see is named only by
its team).

A dry run does all of that inside one outer savepoint and rolls it back at the end, so the
report is exactly what a real import would do (including duplicates inside the file itself)
and nothing is written.

A person's organization (CSV column or vCard ORG) is linked when the user can see an
organization of that name or brand; otherwise it is created in the same team. When that
creation is refused (a duplicate in another team, the blocklist), the person is still
created, without the link, and the row carries a warning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.actor import Actor
from core.clients.common import choose_team
from core.clients.fields import definitions
from core.clients.organizations import create_organization
from core.clients.persons import create_person
from core.errors import CoreError, DuplicateError, ValidationFailed
from core.exchange import columns as cols
from core.exchange.csv_io import read_csv
from core.exchange.vcard import looks_like_vcard, read_vcards
from core.models import Organization, Person
from core.normalize import name_key
from core.rights import visible

Progress = Callable[[int, int], None]


@dataclass
class RowResult:
    """What became of one row or card."""

    row: int
    status: str
    """``created``, ``duplicate`` or ``failed``."""
    id: int | None = None
    name: str = ""
    field: str | None = None
    reason: str = ""
    existing: dict[str, Any] | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)
    organization_created: bool = False
    """For persons: their organization did not exist and was created with them."""


@dataclass
class ImportReport:
    """The outcome of one import: every row accounted for."""

    kind: str
    format: str
    dry_run: bool
    encoding: str = ""
    delimiter: str | None = None
    ignored_columns: list[str] = dataclasses.field(default_factory=list)
    rows: list[RowResult] = dataclasses.field(default_factory=list)

    @property
    def organizations_created(self) -> int:
        """Organizations created along with imported persons."""
        return sum(1 for r in self.rows if r.organization_created)

    @property
    def created(self) -> list[RowResult]:
        """Rows that became new records."""
        return [r for r in self.rows if r.status == "created"]

    @property
    def duplicates(self) -> list[RowResult]:
        """Rows skipped because the client already exists."""
        return [r for r in self.rows if r.status == "duplicate"]

    @property
    def failed(self) -> list[RowResult]:
        """Rows that could not be imported, with the reason."""
        return [r for r in self.rows if r.status == "failed"]

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data, rows grouped by outcome."""
        return {
            "kind": self.kind,
            "format": self.format,
            "dry_run": self.dry_run,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "ignored_columns": self.ignored_columns,
            "total": len(self.rows),
            "organizations_created": self.organizations_created,
            "created": [asdict(r) for r in self.created],
            "duplicates": [asdict(r) for r in self.duplicates],
            "failed": [asdict(r) for r in self.failed],
        }


def _failure(row: int, exc: CoreError) -> RowResult:
    if isinstance(exc, ValidationFailed):
        first = exc.problems[0]
        return RowResult(row=row, status="failed", field=first.field, reason=exc.message)
    return RowResult(row=row, status="failed", reason=exc.message)


def _duplicate(row: int, name: str, exc: DuplicateError) -> RowResult:
    e = exc.existing
    existing = {"type": e.type, "id": e.id or None, "name": e.name, "matched_on": e.matched_on}
    return RowResult(row=row, status="duplicate", name=name, reason=exc.message, existing=existing)


Work = Callable[[int], RowResult]


def _run_rows(
    session: Session,
    report: ImportReport,
    items: list[tuple[int, Work | CoreError]],
    dry_run: bool,
    progress: Progress | None,
) -> None:
    outer = session.begin_nested() if dry_run else None
    total = len(items)
    for done, (row, work) in enumerate(items, start=1):
        if isinstance(work, CoreError):
            report.rows.append(_failure(row, work))
        else:
            try:
                with session.begin_nested():
                    result = work(row)
                report.rows.append(result)
            except DuplicateError as exc:
                report.rows.append(_duplicate(row, "", exc))
            except CoreError as exc:
                report.rows.append(_failure(row, exc))
            except SQLAlchemyError as exc:
                reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:300]
                report.rows.append(
                    RowResult(row=row, status="failed", reason=f"the database refused the row: {reason}")
                )
        if progress is not None:
            progress(done, total)
    if outer is not None:
        outer.rollback()
    report.rows.sort(key=lambda r: r.row)


def _check_lengths(model: Any, kwargs: dict[str, Any]) -> None:
    columns = model.__table__.c
    for key, value in kwargs.items():
        length = getattr(columns[key].type, "length", None) if key in columns else None
        if isinstance(value, str) and length and len(value) > length:
            raise ValidationFailed.one(key, f"is longer than {length} characters")


def _org_kwargs(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in values.items() if not k.startswith("custom.")}
    custom = {k.removeprefix("custom."): v for k, v in values.items() if k.startswith("custom.")}
    if custom:
        out["custom"] = custom
    if "potential" in out:
        out["potential"] = cols.parse_int(out["potential"], "potential")
    if "deal_amount" in out:
        out["deal_amount"] = cols.parse_amount(out["deal_amount"], "deal_amount")
    if "first_contact_on" in out:
        out["first_contact_on"] = cols.parse_date(out["first_contact_on"], "first_contact_on")
    if "status" in out:
        out["status"] = out["status"].lower()
    if not str(out.get("name") or "").strip():
        raise ValidationFailed.one("name", "is empty (a column 'name' / 'Название' is required)")
    _check_lengths(Organization, out)
    return out


def _person_kwargs(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in values.items() if not k.startswith("custom.")}
    custom = {k.removeprefix("custom."): v for k, v in values.items() if k.startswith("custom.")}
    if custom:
        out["custom"] = custom
    full, fio = out.pop("full_name", ""), out.pop("fio", "")
    if not (out.get("first_name") or out.get("last_name")) and (full or fio):
        first, middle, last = cols.split_full_name(fio or full, russian_order=bool(fio))
        out.update(first_name=first, last_name=last)
        out.setdefault("middle_name", middle)
    if isinstance(out.get("birthday"), str):
        out["birthday"] = cols.parse_date(out["birthday"], "birthday")
    _check_lengths(Person, out)
    return out


def _find_org(session: Session, actor: Actor, name: str) -> Organization | None:
    key = name_key(name)
    if not key:
        return None
    stmt = select(Organization).where(
        or_(Organization.name_key == key, Organization.brand_key == key),
        visible(actor, Organization.team_id),
        Organization.merged_into_id.is_(None),
    )
    return session.scalars(stmt.order_by(Organization.id).limit(1)).first()


def import_organizations(
    session: Session,
    *,
    actor: Actor,
    data: bytes,
    team_id: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Create organizations from a CSV file, row by row; a report of every row."""
    team = choose_team(session, actor, team_id)
    table = read_csv(data)
    report = ImportReport(
        kind="organization", format="csv", dry_run=dry_run, encoding=table.encoding, delimiter=table.delimiter
    )
    fields, report.ignored_columns = cols.match_header(
        table.header, cols.ORG_COLUMNS, definitions(session, "organization")
    )
    if "name" not in fields:
        raise ValidationFailed.one("file", "no column for the organization's name ('name' / 'Название') was found")
    items: list[tuple[int, Any]] = [(line, ValidationFailed.one("file", reason)) for line, reason in table.broken]
    for line, cells in table.rows:
        values = cols.collect(fields, cells)

        def work(row: int, values: dict[str, Any] = values) -> RowResult:
            org = create_organization(session, actor=actor, team_id=team, **_org_kwargs(values))
            return RowResult(row=row, status="created", id=org.id, name=org.name)

        items.append((line, work))
    _run_rows(session, report, items, dry_run, progress)
    return report


def _person_work(session: Session, actor: Actor, team: int, values: dict[str, Any], warnings: list[str]) -> Work:
    def work(row: int) -> RowResult:
        kwargs = _person_kwargs(values)
        org_name = str(kwargs.pop("organization", "") or "").strip()[:300]
        result = RowResult(row=row, status="created", warnings=list(warnings))
        if org_name:
            org = _find_org(session, actor, org_name)
            if org is None:
                try:
                    with session.begin_nested():
                        org = create_organization(session, actor=actor, name=org_name, team_id=team)
                    result.organization_created = True
                except CoreError as exc:
                    result.warnings.append(f"organization '{org_name}' was not linked: {exc.message}")
            if org is not None:
                kwargs["organizations"] = [{"organization_id": org.id, "role": kwargs.get("position", "")}]
        person = create_person(session, actor=actor, team_id=team, **kwargs)
        result.id, result.name = person.id, person.full_name
        return result

    return work


def import_persons(
    session: Session,
    *,
    actor: Actor,
    data: bytes,
    team_id: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Create persons from a CSV or vCard (3.0/4.0) file, one by one; a report of every row or card."""
    team = choose_team(session, actor, team_id)
    items: list[tuple[int, Any]] = []
    if looks_like_vcard(data):
        cards, encoding = read_vcards(data)
        report = ImportReport(kind="person", format="vcard", dry_run=dry_run, encoding=encoding)
        for card in cards:
            if card.values is None:
                items.append((card.number, ValidationFailed.one("file", card.error or "cannot be read")))
            else:
                items.append((card.number, _person_work(session, actor, team, card.values, card.warnings)))
    else:
        table = read_csv(data)
        report = ImportReport(
            kind="person", format="csv", dry_run=dry_run, encoding=table.encoding, delimiter=table.delimiter
        )
        fields, report.ignored_columns = cols.match_header(
            table.header, cols.PERSON_COLUMNS, definitions(session, "person")
        )
        if not {"first_name", "last_name", "full_name", "fio"} & set(fields):
            raise ValidationFailed.one(
                "file", "no column for the person's name ('name', 'last name' / 'ФИО', 'Фамилия') was found"
            )
        items = [(line, ValidationFailed.one("file", reason)) for line, reason in table.broken]
        for line, cells in table.rows:
            items.append((line, _person_work(session, actor, team, cols.collect(fields, cells), [])))
    _run_rows(session, report, items, dry_run, progress)
    return report
