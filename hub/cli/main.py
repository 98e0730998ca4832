"""The ``crmhub`` command: set-up, serving, users and (from other modules) sync and demo data."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from core.actor import Actor
from core.config import get_settings
from core.db import Database
from core.errors import CoreError
from core.models import Role
from hub.cli.demo import demo
from hub.cli.sync import keys_app, sync_app, worker
from hub.cli.transfer import export_app, import_app

app = typer.Typer(
    help="crmhub: one client base behind Outlook, mailboxes, calendars and Telegram.", no_args_is_help=True
)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(sync_app, name="sync")
app.add_typer(keys_app, name="keys")
app.command()(worker)
app.command()(demo)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
console = Console()


def open_db() -> Database:
    """The configured database."""
    return Database(get_settings().effective_database_url)


def fail(message: str) -> None:
    """Print an error in words and exit with status 1."""
    console.print(f"[red]Error:[/red] {message}")
    raise typer.Exit(1)


@app.command()
def init(
    admin_email: str = typer.Option("admin@example.com", help="E-mail of the first admin"),
    admin_password: str = typer.Option(
        None, help="Password of the first admin (generated when omitted)", envvar="CRMHUB_ADMIN_PASSWORD"
    ),
    data_dir: Path = typer.Option(Path("var"), help="Folder for the database file and uploaded files"),
) -> None:
    """Create the config file, the database and the first admin (safe to run again)."""
    from hub.cli.setup import initialise

    try:
        result = initialise(admin_email=admin_email, admin_password=admin_password, data_dir=data_dir)
    except CoreError as exc:
        fail(exc.message)
    if result.config_written:
        console.print(f"Wrote config with new keys to [bold]{result.config_file}[/bold] (keep it private).")
    console.print(f"Database ready: {result.database_url}")
    if result.admin_password:
        console.print(f"First admin: [bold]{result.admin_email}[/bold] password [bold]{result.admin_password}[/bold]")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    worker: bool = typer.Option(None, help="Also run one background worker (default: the run_worker setting)"),
) -> None:
    """Run the API, the web UI and one background worker in this process."""
    import uvicorn

    from hub.app import create_app

    settings = get_settings()
    if worker is not None:
        settings.run_worker = worker
    console.print(f"crmhub on [bold]http://{host}:{port}/[/bold] (API docs at /api/v1/docs)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level=settings.log_level.lower(), proxy_headers=False)


@user_app.command("create")
def user_create(
    email: str,
    full_name: str = typer.Option(..., "--name", help="Full name"),
    role: Role = typer.Option(Role.staff, help="admin, manager, staff, marketer or auditor"),
    team: list[str] = typer.Option([], help="Team name (repeat for several); created when missing"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Create a user."""
    from sqlalchemy import select

    from core.models import Team
    from core.users.service import create_team, create_user

    db = open_db()
    system = Actor.system(source="cli")
    try:
        with db.session(write=True) as s:
            ids = []
            for name in team:
                found = s.scalars(select(Team).where(Team.name == name)).first()
                ids.append((found or create_team(s, actor=system, name=name)).id)
            user = create_user(
                s, actor=system, email=email, full_name=full_name, password=password, role=role, team_ids=ids
            )
            console.print(f"Created user #{user.id} {user.email} ({user.role})")
    except CoreError as exc:
        fail(exc.message)


@user_app.command("list")
def user_list() -> None:
    """List users."""
    from core.users.service import list_users

    with open_db().session() as s:
        table = Table("id", "e-mail", "name", "role", "teams", "active")
        for u in list_users(s, actor=Actor.system(source="cli"), include_inactive=True):
            table.add_row(
                str(u.id),
                u.email,
                u.full_name,
                u.role,
                ", ".join(t.name for t in u.teams),
                "yes" if u.is_active else "no",
            )
        console.print(table)


@user_app.command("passwd")
def user_passwd(
    email: str,
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Set a user's password."""
    from sqlalchemy import select

    from core.models import User
    from core.users.service import set_password

    try:
        with open_db().session(write=True) as s:
            user = s.scalars(select(User).where(User.email == email.lower())).first()
            if user is None:
                fail(f"no user with e-mail {email}")
            set_password(s, actor=Actor.system(source="cli"), user_id=user.id, password=password)
            console.print(f"Password of {email} changed; their sessions were ended.")
    except CoreError as exc:
        fail(exc.message)


if __name__ == "__main__":
    app()
