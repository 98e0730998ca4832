"""The loopback connector the engine drives: check, pull contacts batch by batch, push idempotently.

The cursor is ``{"generation": g, "seq": n}`` (plus the progress of a first full read); it
goes stale when the server compacts its log, and ``pull`` then raises ``CursorInvalidError``.
Every failure is classified by ``errors.classify`` or raised by the server as a core error.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from pydantic import BaseModel

from connectors.loopback.client import LoopbackServer
from connectors.loopback.config import LoopbackConfig
from connectors.loopback.errors import classify
from connectors.loopback.mapping import to_record, unreadable
from core.integration import (
    Batch,
    CheckResult,
    Connector,
    ConnectorContext,
    ConnectorError,
    PermanentError,
    PushOperation,
    PushResult,
    StreamInfo,
)

STREAM = "contacts"


class LoopbackConnector(Connector):
    """Contacts in a loopback server folder, both ways."""

    kind: ClassVar[str] = "loopback"
    title: ClassVar[str] = "Loopback (a test server in a folder)"
    config_model: ClassVar[type[BaseModel]] = LoopbackConfig
    pull_ahead: ClassVar[bool] = True
    pull_in_process: ClassVar[bool] = True
    offered_streams: ClassVar[tuple[StreamInfo, ...]] = (StreamInfo(STREAM, "both", "Contacts"),)

    def __init__(self, config: BaseModel, context: ConnectorContext) -> None:
        super().__init__(config, context)
        assert isinstance(config, LoopbackConfig)
        self.cfg = config
        self.server = LoopbackServer(config.path)

    def _login(self, step: str) -> dict[str, Any]:
        password = self.cfg.password.get_secret_value()
        try:
            control = self.server.login(password)
            self.server.fail_transient_if_asked(step, password)
        except Exception as exc:  # noqa: BLE001 - classified below
            raise classify(exc, step) from None
        return control

    def check(self) -> CheckResult:
        """Reach the server folder and log in."""
        try:
            self.server.login(self.cfg.password.get_secret_value())
        except ConnectorError as exc:
            return CheckResult(ok=False, step="login", message=exc.message)
        except Exception as exc:  # noqa: BLE001 - a check reports, it does not raise
            return CheckResult(ok=False, step="connect", message=classify(exc, "connect").message)
        return CheckResult(ok=True)

    def streams(self) -> list[StreamInfo]:
        """One stream: the contacts."""
        return list(self.offered_streams)

    def pull(self, stream: str, cursor: dict[str, Any] | None) -> Batch:
        """The next batch of contacts changed after ``cursor``."""
        if stream != STREAM:
            raise PermanentError(f"the loopback server has no stream '{stream}'", item_ref=stream)
        started = time.time()
        control = self._login("pull")
        if control.get("delay"):
            time.sleep(float(control["delay"]))
        try:
            items, after, more, (done, total) = self.server.changes(cursor, self.cfg.batch_size)
            self.server.record_call(self.context.account_id, started)
        except Exception as exc:  # noqa: BLE001 - classified below
            raise classify(exc, "pull") from None
        batch = Batch(cursor=after, more=more, progress_done=done, progress_total=total)
        broken = set(control.get("permanent", []))
        for item in items:
            if item["id"] in broken:
                batch.failures.append(unreadable(item, "the server sent this contact in a form that cannot be read"))
                continue
            try:
                batch.changes.append(to_record(item))
            except PermanentError as exc:
                batch.failures.append(unreadable(item, exc.message))
        return batch

    def push(self, operation: PushOperation) -> PushResult:
        """Create, update or delete the contact this operation's key stands for (idempotent by key)."""
        control = self._login("push")
        if control.get("delay"):
            time.sleep(float(control["delay"]))
        try:
            remote_id, version, conflict = self.server.put(
                operation.key, operation.action, dict(operation.payload), control
            )
        except Exception as exc:  # noqa: BLE001 - classified below
            raise classify(exc, "push") from None
        return PushResult(remote_id=remote_id, remote_version=version, conflict=conflict)
