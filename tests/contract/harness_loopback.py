"""The contract harness of the loopback connector: the peer is a server folder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from connectors.loopback.client import LoopbackServer
from connectors.loopback.config import LoopbackConfig
from connectors.loopback.connector import LoopbackConnector
from core.integration import Connector, ConnectorContext, PushOperation
from core.integration.records import RemoteContact

PASSWORD = "contract-Secret-42"


class LoopbackHarness:
    """A loopback server with three contacts, read in batches of two."""

    kind = "loopback"
    stream = "contacts"
    secret = PASSWORD

    def __init__(self, path: Path) -> None:
        people = [
            {"first_name": f"Name{i}", "last_name": "Contract", "emails": [f"c{i}@contract.test"]} for i in range(3)
        ]
        self.server = LoopbackServer.create(path, password=PASSWORD, contacts=people)
        self._changes = 0

    def connector(self) -> Connector:
        config = LoopbackConfig(path=str(self.server.path), password=PASSWORD, batch_size=2)
        return LoopbackConnector(config, ConnectorContext(account_id=1))

    def expected_keys(self) -> set[str]:
        return {k for k, v in self.server.snapshot()["items"].items() if not v["deleted"]}

    def key(self, change: Any) -> str:
        assert isinstance(change, RemoteContact)
        return change.remote_id

    def server_change(self) -> str:
        self._changes += 1
        self.server.change("c2", title=f"Changed {self._changes}")
        return "c2"

    def stale_cursor(self, cursor: dict[str, Any]) -> dict[str, Any]:
        self.server.compact()
        return cursor

    def push_operation(self) -> PushOperation | None:
        payload = {"first_name": "Pushed", "last_name": "Once", "emails": ["pushed@contract.test"]}
        return PushOperation(key="contract:1", action="upsert_contact", payload=payload)

    def remote_state(self) -> Any:
        return self.server.snapshot()


@contextmanager
def loopback_harness(tmp_path: Path) -> Iterator[LoopbackHarness]:
    """A loopback harness in a temporary folder."""
    yield LoopbackHarness(tmp_path / "loopback-peer")
