"""``crmhub import`` and ``crmhub export``: clients in and out of the store from the command line.

The CLI acts as the system (an admin attributed to no user, source ``cli``): it sees every
client, and whatever it creates goes through the same services, duplicate rule and
blocklist as the API. Imports show a progress bar and end with the report; a failed row is
listed with its line and reason, and the exit status is 1 when any row failed.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from core.actor import Actor
from core.config import get_settings
from core.db import Database
from core.errors import CoreError

import_app = typer.Typer(help="Import organizations or persons from CSV or vCard files.", no_args_is_help=True)
export_app = typer.Typer(help="Export organizations or persons as CSV or vCard.", no_args_is_help=True)
console = Console(stderr=True)


class Kind(StrEnum):
    organizations = "organizations"
    persons = "persons"


class Format(StrEnum):
    csv = "csv"
    vcf = "vcf"


def _fail(message: str) -> None:
    console.print(f"[red]Error:[/red] {message}")
    raise typer.Exit(1)


def _team_id(session: object, name: str | None) -> int | None:
    from sqlalchemy import func, select

    from core.models import Team

    if not name:
        return None
    team_id = session.scalar(select(Team.id).where(func.lower(Team.name) == name.strip().lower()))  # type: ignore[attr-defined]
    if team_id is None:
        _fail(f"there is no team named '{name}' (see `crmhub user list` for teams in use)")
    return team_id


def _print_report(report: object) -> None:
    data = report.as_dict()  # type: ignore[attr-defined]
    verb = "would be created" if data["dry_run"] else "created"
    console.print(
        f"{len(data['created'])} {verb}, {len(data['duplicates'])} skipped as duplicates, "
        f"{len(data['failed'])} failed (of {data['total']}; read as {data['encoding']}"
        + (f", delimiter '{data['delimiter']}'" if data.get("delimiter") else "")
        + ")"
    )
    if data["organizations_created"]:
        console.print(f"{data['organizations_created']} organization(s) created for persons' companies")
    if data["ignored_columns"]:
        console.print(f"Ignored columns: {', '.join(data['ignored_columns'])}")
    if data["duplicates"] or data["failed"]:
        table = Table("row", "outcome", "reason")
        for row in data["duplicates"]:
            table.add_row(str(row["row"]), "duplicate", row["reason"])
        for row in data["failed"]:
            table.add_row(str(row["row"]), "failed", row["reason"])
        console.print(table)


@import_app.command("organizations")
def import_organizations(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="A CSV file"),
    team: str = typer.Option(None, "--team", help="Team (direction) the clients go to"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row and report, but write nothing"),
) -> None:
    """Import organizations from a CSV file."""
    _import(Kind.organizations, file, team, dry_run)


@import_app.command("persons")
def import_persons(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="A CSV or vCard file"),
    team: str = typer.Option(None, "--team", help="Team (direction) the clients go to"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row and report, but write nothing"),
) -> None:
    """Import persons from a CSV or vCard (3.0 / 4.0) file."""
    _import(Kind.persons, file, team, dry_run)


def _import(kind: Kind, file: Path, team: str | None, dry_run: bool) -> None:
    from core.exchange import importer

    data = file.read_bytes()
    db = Database(get_settings().effective_database_url)
    actor = Actor.system(source="cli")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    try:
        with db.session(write=True) as session, Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(f"Importing {kind.value}", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            run = importer.import_organizations if kind == Kind.organizations else importer.import_persons
            report = run(
                session, actor=actor, data=data, team_id=_team_id(session, team), dry_run=dry_run, progress=progress
            )
    except CoreError as exc:
        _fail(exc.message)
    finally:
        db.dispose()
    _print_report(report)
    if report.failed:
        raise typer.Exit(1)


@export_app.command("organizations")
def export_organizations(
    output: Path = typer.Option(None, "-o", "--output", help="File to write (standard output when omitted)"),
    format: Format = typer.Option(Format.csv, "--format", help="csv (vCard is for persons)"),
) -> None:
    """Export every organization as CSV."""
    if format != Format.csv:
        _fail("organizations are exported as CSV only (--format csv)")
    _export(Kind.organizations, Format.csv, output, "3.0")


@export_app.command("persons")
def export_persons(
    output: Path = typer.Option(None, "-o", "--output", help="File to write (standard output when omitted)"),
    format: Format = typer.Option(Format.csv, "--format", help="csv or vcf"),
    vcard_version: str = typer.Option("3.0", "--vcard-version", help="3.0 or 4.0"),
) -> None:
    """Export every person as CSV or vCard."""
    _export(Kind.persons, format, output, vcard_version)


def _export(kind: Kind, fmt: Format, output: Path | None, version: str) -> None:
    from core.exchange import exporter

    db = Database(get_settings().effective_database_url)
    actor = Actor.system(source="cli")
    try:
        with db.session(write=True) as session, console.status(f"Exporting {kind.value}..."):
            if kind == Kind.organizations:
                text = exporter.export_organizations_csv(session, actor=actor)
            elif fmt == Format.csv:
                text = exporter.export_persons_csv(session, actor=actor)
            else:
                text = exporter.export_persons_vcf(session, actor=actor, version=version)
    except CoreError as exc:
        _fail(exc.message)
    finally:
        db.dispose()
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        output.write_text(text, encoding="utf-8", newline="")
        console.print(f"Wrote {output}")
