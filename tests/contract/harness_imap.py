"""The contract harness of the IMAP connector: the peer is a real Dovecot on 127.0.0.1.

One Dovecot serves every IMAP harness of the test process (it starts in about 0.1 s, but a
process per test adds up); each harness gets a fresh user with three messages in INBOX, read in
batches of two. IMAP is pull-only: ``push_operation`` is None and the suite skips the push test.
"""

from __future__ import annotations

import atexit
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from connectors.email.config import ImapConfig
from connectors.email.connector import ImapConnector
from core.integration import Connector, ConnectorContext, PushOperation
from core.mail import MailMessage
from tests.peers.dovecot import Dovecot

_server: Dovecot | None = None


def shared_dovecot() -> Dovecot:
    """The Dovecot of this test process, started on first use and stopped at exit."""
    global _server
    if _server is None:
        if shutil.which("dovecot") is None:
            pytest.skip("dovecot is not installed (apt-get install dovecot-core dovecot-imapd)")
        _server = Dovecot().start()
        atexit.register(_server.stop)
    return _server


def message(n: int, tag: str) -> bytes:
    """A small well-formed message with its own Message-ID."""
    return (
        f"From: Client {n} <client{n}@contract.test>\r\nTo: me@ourcompany.test\r\nSubject: Contract {n}\r\n"
        f"Message-ID: <{tag}-{n}@contract.test>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0300\r\n\r\nBody {n}\r\n"
    ).encode()


class ImapHarness:
    """A Dovecot user with three messages in INBOX."""

    kind = "imap"
    stream = "mail:INBOX"

    def __init__(self, server: Dovecot) -> None:
        self.server = server
        self.user = f"c{secrets.token_hex(6)}@ourcompany.test"
        self.secret = f"contract-{secrets.token_urlsafe(9)}"
        self.tag = secrets.token_hex(4)
        server.add_user(self.user, self.secret)
        self._count = 3
        server.append(self.user, "INBOX", [message(n, self.tag) for n in range(self._count)])

    def connector(self) -> Connector:
        config = ImapConfig(
            host=self.server.host,
            port=self.server.port,
            security="plain",
            username=self.user,
            password=self.secret,
            batch_size=2,
        )
        return ImapConnector(config, ConnectorContext(account_id=1, owner_email=self.user))

    def expected_keys(self) -> set[str]:
        return {f"{self.tag}-{n}@contract.test" for n in range(self._count)}

    def key(self, change: Any) -> str:
        assert isinstance(change, MailMessage)
        return change.message_id

    def server_change(self) -> str:
        n, self._count = self._count, self._count + 1
        self.server.append(self.user, "INBOX", [message(n, self.tag)])
        return f"{self.tag}-{n}@contract.test"

    def stale_cursor(self, cursor: dict[str, Any]) -> dict[str, Any]:
        self.server.set_uidvalidity(self.user, "INBOX", self.server.uidvalidity(self.user, "INBOX") + 1)
        return cursor

    def push_operation(self) -> PushOperation | None:
        return None

    def remote_state(self) -> Any:
        return self.server.flags(self.user, "INBOX")


@contextmanager
def imap_harness(tmp_path: Path) -> Iterator[ImapHarness]:
    """An IMAP harness: a fresh user on the process's Dovecot."""
    yield ImapHarness(shared_dovecot())
