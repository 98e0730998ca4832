"""The loopback server: a folder holding an address book as JSON, with a change log and a generation.

``server.json`` holds the contacts, each stamped with the sequence number of its last change
(deleted ones stay as tombstones), the highest sequence number, the password, a generation
number and the outbound changes already received (by idempotency key). Reading "changes after
sequence N" is the change log; ``compact()`` drops the tombstones and starts a new
generation, which makes every older cursor stale, as a real server's expired sync token.

``control.json`` (optional) makes the server misbehave on demand, for tests of the engine:

* ``delay``: seconds every pull and push waits (a slow server);
* ``transient``: fail this many of the next pulls or pushes with a transient error,
  ``retry_after`` giving the server's back-off hint;
* ``permanent``: ids of contacts the server returns in a form that cannot be read;
* ``conflict_keys``: outbound keys whose push ends in a conflict;
* ``echo_secret``: put the password into transient error messages (a careless library), to
  prove the engine masks it anyway.

``calls.jsonl`` is the server's access log: one line per pull (process, account, start, end).

Every read and write holds an exclusive ``flock`` on ``.lock`` and files are replaced
atomically, so tests, workers and the connector can use one server at the same time.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.integration import AuthError, CursorInvalidError, PermanentError, TransientError

DATA, CONTROL, CALLS, LOCK = "server.json", "control.json", "calls.jsonl", ".lock"
FIELDS = ("first_name", "last_name", "emails", "phones", "company", "title")


def _digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class LoopbackServer:
    """The server in one folder; every method is one locked, atomic step."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @classmethod
    def create(cls, path: str | Path, *, password: str, contacts: list[dict[str, Any]] | None = None) -> LoopbackServer:
        """Make a new server folder with these contacts (each a dict of ``FIELDS``)."""
        server = cls(path)
        server.path.mkdir(parents=True, exist_ok=True)
        data = {"password": password, "generation": 1, "seq": 0, "next_id": 1, "items": {}, "pushed": {}}
        server._write(DATA, data)
        for contact in contacts or []:
            server._add(data, contact)
        server._write(DATA, data)
        return server

    # -- plumbing ----------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        if not (self.path / DATA).exists():
            raise FileNotFoundError(2, "No such file or directory", str(self.path / DATA))
        with open(self.path / LOCK, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self, name: str, default: Any = None) -> Any:
        try:
            return json.loads((self.path / name).read_text())
        except FileNotFoundError:
            if default is not None:
                return default
            raise

    def _write(self, name: str, value: Any) -> None:
        tmp = self.path / f".{name}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(value, ensure_ascii=False))
        os.replace(tmp, self.path / name)

    @staticmethod
    def _add(data: dict[str, Any], contact: dict[str, Any]) -> str:
        item_id = f"c{data['next_id']}"
        data["next_id"] += 1
        data["seq"] += 1
        data["items"][item_id] = {
            "id": item_id,
            **{f: contact.get(f, [] if f in ("emails", "phones") else "") for f in FIELDS},
            "seq": data["seq"],
            "deleted": False,
        }
        return item_id

    # -- what tests do to the server ---------------------------------------------------------

    def add(self, **contact: Any) -> str:
        """Add a contact on the server side; returns its id."""
        with self._locked():
            data = self._read(DATA)
            item_id = self._add(data, contact)
            self._write(DATA, data)
        return item_id

    def change(self, item_id: str, **fields: Any) -> None:
        """Change fields of a contact on the server side."""
        with self._locked():
            data = self._read(DATA)
            data["seq"] += 1
            data["items"][item_id].update(fields, seq=data["seq"])
            self._write(DATA, data)

    def delete(self, item_id: str) -> None:
        """Delete a contact on the server side (a tombstone stays until ``compact``)."""
        with self._locked():
            data = self._read(DATA)
            data["seq"] += 1
            data["items"][item_id].update(deleted=True, seq=data["seq"])
            self._write(DATA, data)

    def compact(self) -> None:
        """Drop tombstones and start a new generation: every older cursor becomes stale."""
        with self._locked():
            data = self._read(DATA)
            data["items"] = {k: v for k, v in data["items"].items() if not v["deleted"]}
            data["generation"] += 1
            self._write(DATA, data)

    def set_password(self, password: str) -> None:
        """Change the password the server expects."""
        with self._locked():
            data = self._read(DATA)
            data["password"] = password
            self._write(DATA, data)

    def set_control(self, **values: Any) -> None:
        """Set misbehaviour directives (see the module docstring); None removes one."""
        with self._locked():
            control = self._read(CONTROL, {})
            control.update(values)
            self._write(CONTROL, {k: v for k, v in control.items() if v is not None})

    def snapshot(self) -> dict[str, Any]:
        """Everything the server holds (contacts, sequence, generation, pushed keys)."""
        with self._locked():
            return self._read(DATA)

    def calls(self) -> list[dict[str, Any]]:
        """The access log: one entry per pull."""
        path = self.path / CALLS
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    # -- what the connector does -------------------------------------------------------------

    def login(self, password: str, *, echo: bool = True) -> dict[str, Any]:
        """Check the password and return the control directives; AuthError when it is wrong."""
        with self._locked():
            data = self._read(DATA)
            control = self._read(CONTROL, {})
        if data["password"] != password:
            raise AuthError("login: the server refused the password")
        return control

    def fail_transient_if_asked(self, step: str, password: str) -> None:
        """Raise TransientError while the control file asks for failures (each raise uses one up)."""
        with self._locked():
            control = self._read(CONTROL, {})
            left = int(control.get("transient", 0))
            if left <= 0:
                return
            control["transient"] = left - 1
            self._write(CONTROL, control)
        detail = f" (logged in with {password})" if control.get("echo_secret") else ""
        raise TransientError(f"{step}: the server is busy, try later{detail}", retry_after=control.get("retry_after"))

    def changes(
        self, cursor: dict[str, Any] | None, limit: int
    ) -> tuple[list[dict[str, Any]], dict[str, Any], bool, tuple[int, int]]:
        """Contacts changed after the cursor (all live ones without one): page, next cursor, more, (done, total)."""
        with self._locked():
            data = self._read(DATA)
        if cursor is None:
            cursor = {"generation": data["generation"], "seq": 0, "full": True, "from": data["seq"]}
        if cursor.get("generation") != data["generation"]:
            raise CursorInvalidError(
                f"the server's change log was compacted (generation {data['generation']}, "
                f"the cursor is from generation {cursor.get('generation')})"
            )
        # A full read skips contacts deleted before it began; later deletions come as tombstones.
        full, start = bool(cursor.get("full")), int(cursor.get("from", 0))
        pending = sorted(
            (
                i
                for i in data["items"].values()
                if i["seq"] > cursor["seq"] and not (full and i["deleted"] and i["seq"] <= start)
            ),
            key=lambda i: i["seq"],
        )
        page, more = pending[:limit], len(pending) > limit
        seq = page[-1]["seq"] if more else data["seq"]
        before = int(cursor.get("done", 0))
        after = {"generation": data["generation"], "seq": seq}
        if full and more:
            after.update({"full": True, "from": start, "done": before + len(page)})
        return page, after, more, (before + len(page), before + len(pending))

    def record_call(self, account_id: int, started: float) -> None:
        """Append one line to the access log."""
        line = {"pid": os.getpid(), "account": account_id, "start": started, "end": time.time()}
        with self._locked(), open(self.path / CALLS, "a") as log:
            log.write(json.dumps(line) + "\n")

    def put(
        self, key: str, action: str, payload: dict[str, Any], control: dict[str, Any]
    ) -> tuple[str | None, str | None, str | None]:
        """Apply one outbound change idempotently by key: (remote id, remote version, conflict)."""
        with self._locked():
            data = self._read(DATA)
            known = data["pushed"].get(key)
            item = data["items"].get(known["id"]) if known else None
            if key in control.get("conflict_keys", []):
                return (known or {}).get("id"), None, "the contact was changed on the server too"
            if known and known["digest"] == _digest([action, payload]):
                return known["id"], str(item["seq"]) if item else None, None
            if action == "upsert_contact":
                fields = {f: payload.get(f, [] if f in ("emails", "phones") else "") for f in FIELDS}
                if item is None:
                    item_id = self._add(data, fields)
                else:
                    data["seq"] += 1
                    item.update(fields, seq=data["seq"], deleted=False)
                    item_id = item["id"]
            elif action == "delete_contact":
                if item is None:
                    raise PermanentError(f"delete_contact {key}: the server has no contact for this key", item_ref=key)
                data["seq"] += 1
                item.update(deleted=True, seq=data["seq"])
                item_id = item["id"]
            else:
                raise PermanentError(f"the server does not know the action '{action}'", item_ref=key)
            data["pushed"][key] = {"id": item_id, "digest": _digest([action, payload])}
            self._write(DATA, data)
            return item_id, str(data["items"][item_id]["seq"]), None
