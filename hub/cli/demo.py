"""``crmhub demo``: load a realistic demo client base, with a progress bar and the demo logins."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.config import get_settings
from core.db import Database
from core.demo import DEFAULT_SEED, load_demo
from core.errors import CoreError

console = Console()


def demo(
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when the database already has organizations"),
    orgs: int = typer.Option(300, "--orgs", min=1, max=5000, help="How many organizations (the rest scales with it)"),
    seed: int = typer.Option(DEFAULT_SEED, help="Random seed: the same seed gives the same data"),
) -> None:
    """Load demo data: teams, users, organizations, persons, deals, a year of interactions, tasks."""
    db = Database(get_settings().effective_database_url)
    columns = (TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=False) as bar, db.session(write=True) as session:
            tasks: dict[str, int] = {}

            def progress(step: str, done: int, total: int) -> None:
                if step not in tasks:
                    tasks[step] = bar.add_task(step, total=total)
                bar.update(tasks[step], completed=done)

            result = load_demo(session, orgs=orgs, seed=seed, if_empty=if_empty, progress=progress)
    except CoreError as exc:
        console.print(f"[red]Error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    if result.skipped:
        console.print("The database already has organizations; demo data not loaded (--if-empty).")
        return
    console.print(
        f"Loaded {result.organizations} organizations, {result.persons} persons, {result.deals} deals, "
        f"{result.interactions} interactions and {result.tasks} tasks in {result.seconds} s."
    )
    table = Table(title="Demo logins")
    table.add_column("e-mail", no_wrap=True)
    table.add_column("name")
    table.add_column("role", no_wrap=True)
    table.add_column("teams")
    table.add_column("password", no_wrap=True)
    for user in result.users:
        password = user.password or "[dim](unchanged)[/dim]"
        table.add_row(user.email, user.full_name, str(user.role), ", ".join(user.teams), password)
    console.print(table)
