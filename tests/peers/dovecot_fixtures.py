"""Pytest fixtures for the Dovecot peer; import them into a test module, no conftest needed.

    from tests.peers.dovecot_fixtures import dovecot, mailbox  # noqa: F401

``dovecot`` is one server per test session (it starts in about 0.1 s, but a session fixture also
keeps the process count low); ``mailbox`` is a fresh user with a random name per test, so tests
never see each other's mail and need no clean-up.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.peers.dovecot import Dovecot


@dataclass(frozen=True)
class Mailbox:
    """A user on the test Dovecot: where to connect and how to log in."""

    server: Dovecot
    user: str
    password: str

    @property
    def host(self) -> str:
        """The server address (always 127.0.0.1)."""
        return self.server.host

    @property
    def port(self) -> int:
        """The server's plain IMAP port."""
        return self.server.port

    def append(self, folder: str, messages: list[bytes], flags: tuple[str, ...] = ()) -> list[int]:
        """Store raw messages byte-exact in one of this user's folders; return their UIDs."""
        return self.server.append(self.user, folder, messages, flags)

    def create_folder(self, name: str, special_use: str | None = None) -> None:
        """Create a folder for this user, optionally with a SPECIAL-USE flag."""
        self.server.create_folder(self.user, name, special_use)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """A private Dovecot on a free port of 127.0.0.1 for the whole test session."""
    if shutil.which("dovecot") is None or shutil.which("doveadm") is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-core dovecot-imapd)")
    server = Dovecot().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Mailbox:
    """A fresh user with a random name and password on the session's Dovecot."""
    user = f"u{secrets.token_hex(6)}@example.test"
    password = secrets.token_urlsafe(12).replace(":", "_")
    dovecot.add_user(user, password)
    return Mailbox(server=dovecot, user=user, password=password)
