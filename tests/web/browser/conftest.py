"""A real crmhub server and a real headless Chromium for the end-to-end tests.

``crmhub serve`` runs in a subprocess on a free port with its own database: a copy of the
session's migrated template (a file on SQLite, ``CREATE DATABASE ... TEMPLATE`` on
PostgreSQL) with the demo data. One browser per session, a new context (cookies, viewport,
language) per test. Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from core.db import Database
from tests.conftest import BACKEND, PASSWORD, _pg_admin, _pg_url
from tests.web.demo import Demo, seed

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_LOGS: list[Path] = []
"""Where the servers of this session write, shown when a login does not finish."""
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass
class Server:
    """The running hub: its address and the demo data in its database."""

    url: str
    demo: Demo
    log: Path
    env: dict[str, str]
    """The server's environment: a command run with it (``crmhub sync run``) works on the same database."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server(template_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``crmhub serve`` on a free port with a database of its own holding the demo data."""
    folder = tmp_path_factory.mktemp("web-server")
    pg_name = ""
    if BACKEND == "postgres":
        pg_name = f"crmhub_web_{uuid.uuid4().hex[:10]}"
        admin = _pg_admin()
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{pg_name}" TEMPLATE "{template_db}"')
        admin.dispose()
        url = _pg_url(pg_name)
    else:
        shutil.copy(template_db, folder / "crmhub.db")
        url = f"sqlite:///{folder / 'crmhub.db'}"
    db = Database(url)
    demo = seed(db, filler=30)
    db.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "CRMHUB_CONFIG": str(folder / "absent.toml"),
        "CRMHUB_DATABASE_URL": url,
        "CRMHUB_DATA_DIR": str(folder / "data"),
        "CRMHUB_SECRET_KEY": "browser-test-secret-0123456789",
        "CRMHUB_ENCRYPTION_KEYS": json.dumps([Fernet.generate_key().decode()]),  # sealed connector secrets
        "CRMHUB_RUN_WORKER": "false",
        "CRMHUB_LOG_LEVEL": "INFO",
    }
    log = (folder / "server.log").open("w")
    SERVER_LOGS.append(folder / "server.log")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=folder,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # imports alone take seconds on a busy machine
        while True:
            try:
                if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError("crmhub serve did not start:\n" + (folder / "server.log").read_text())
            time.sleep(0.1)
        yield Server(base, demo, folder / "server.log", env)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        if pg_name:
            admin = _pg_admin()
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            admin.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the whole session."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (scripts/install-test-deps.sh installs it)")
    manager = playwright_api.sync_playwright().start()
    chromium = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    manager.stop()


@pytest.fixture(scope="session")
def sessions() -> dict[str, object]:
    """Browser storage (the session cookie) of users already logged in once, by e-mail."""
    return {}


@pytest.fixture
def new_page(browser: object, server: Server, sessions: dict[str, object]):  # noqa: ANN201
    """A factory of pages, each in a fresh context: ``new_page(viewport=PHONE, locale="ru", user="ivan@...")``
    (``timezone="Europe/Moscow"`` sets the browser's time zone).

    With ``user`` the page starts logged in: the user logs in through the form once per session
    and later contexts reuse that session's cookie (Argon2 makes every login cost a second).
    """
    contexts = []

    def context_for(viewport: dict[str, int], locale: str, state: object = None, timezone: str | None = None):  # noqa: ANN202
        context = browser.new_context(  # type: ignore[attr-defined]
            base_url=server.url,
            viewport=viewport,
            locale=locale,
            extra_http_headers={"Accept-Language": locale},
            storage_state=state,
            timezone_id=timezone,
        )
        context.set_default_timeout(20_000)  # a shared CI machine can be slow
        contexts.append(context)
        return context

    def make(  # noqa: ANN202
        viewport: dict[str, int] = DESKTOP, locale: str = "en", user: str | None = None, timezone: str | None = None
    ):
        if user is not None and user not in sessions:
            first = context_for(viewport, locale)
            login(first.new_page(), user)
            sessions[user] = first.storage_state()
        return context_for(viewport, locale, sessions.get(user) if user else None, timezone).new_page()

    yield make
    for context in contexts:
        context.close()


def login(page, email: str, password: str = PASSWORD) -> None:  # noqa: ANN001
    """Log in through the form and wait for the client base."""
    page.goto("/login")
    page.fill("#f-email", email)
    page.fill("#f-password", password)
    page.press("#f-password", "Enter")
    try:
        page.locator("#global-q").wait_for(timeout=60_000)
    except Exception:
        logs = "\n".join(p.read_text()[-2000:] for p in SERVER_LOGS if p.exists())
        raise AssertionError(f"login did not finish; page at {page.url}; server log:\n{logs}") from None
    page.wait_for_load_state("load")  # our script is in place (deferred scripts run before "load")


def shot(page, name: str) -> Path:  # noqa: ANN001
    """Save a full-page screenshot under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
