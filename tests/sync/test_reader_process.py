"""sync.reader_process: a long stream read by a child process gives the engine exactly what reading it here gives.

Real child processes (forked from the fork server, as in production) on the loopback
connector, whose access log names the process of every pull.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from connectors.loopback.client import LoopbackServer
from core.config import get_settings
from core.db import Database
from core.integration import CursorInvalidError, TransientError
from core.models import AccountStatus
from sync.reader_process import (
    ReaderProcess,
    ReaderProcessError,
    ReadingJob,
    Share,
    _database_modules,
    _stops_held,
    warm_up,
)
from tests.sync.conftest import account, add_account, contacts, last_run, linked_persons, run_now


@contextmanager
def reading(db: Database, account_id: int) -> Iterator[ReaderProcess]:
    """A reading process for the account's contacts, up and ready; ended afterwards."""
    process = ReaderProcess(ReadingJob(db.url, account_id, "contacts"))
    try:
        deadline = time.monotonic() + 60
        while process.started() is False:
            assert time.monotonic() < deadline, "the reading process did not start"
            time.sleep(0.02)
        yield process
    finally:
        process.close()


def _pullers(server: LoopbackServer) -> list[int]:
    return [call["pid"] for call in server.calls()]


def test_the_child_reads_batch_after_batch_as_asked(
    db: Database, server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="crmhub.sync")
    with reading(db, add_account(db, server)) as process:
        process.request(None)
        first = process.receive()
        process.request(first.cursor)
        second = process.receive()
        child = process.pid
    names = [c.first_name for c in first.changes + second.changes]
    assert names == ["First0", "First1", "First2", "First3"]
    assert (second.progress_done, second.progress_total, second.more) == (4, 5, True)
    assert _pullers(server) == [child, child] and child != os.getpid(), "both pulls made by the child"
    assert process.usage is not None and process.usage.cpu_seconds > 0 and process.usage.peak_rss_mb > 10
    (said,) = [r for r in caplog.records if "was read by process" in r.getMessage()]
    assert f"by process {child}: " in said.getMessage() and said.reader_usage == process.usage


def test_a_child_reads_with_the_engines_settings_not_those_its_fork_server_started_with(
    db: Database, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    warm_up()  # the server keeps the environment of this moment
    monkeypatch.setenv("CRMHUB_ENCRYPTION_KEYS", json.dumps([Fernet.generate_key().decode()]))
    get_settings.cache_clear()
    account_id = add_account(db, server)  # its password sealed with a key the server never saw
    with reading(db, account_id) as process:
        assert process.started() is True
        process.request(None)
        assert [c.first_name for c in process.receive().changes] == ["First0", "First1"]


def test_a_connector_error_crosses_as_itself(db: Database, server: LoopbackServer) -> None:
    with reading(db, add_account(db, server)) as process:
        process.request(None)
        cursor = process.receive().cursor
        server.compact()
        process.request(cursor)
        with pytest.raises(CursorInvalidError, match="compacted"):
            process.receive()
        process.request(None)  # it goes on serving after an error
        assert len(process.receive().changes) == 2


def test_a_child_killed_mid_read_is_a_transient_error(db: Database, server: LoopbackServer) -> None:
    account_id = add_account(db, server)
    server.set_control(delay=30)
    with reading(db, account_id) as process:
        process.request(None)
        time.sleep(0.5)
        os.kill(process.pid, signal.SIGKILL)
        with pytest.raises(TransientError, match=r"stopped unexpectedly \(exit code -9\)"):
            process.receive()
        with pytest.raises(TransientError):
            process.request(None)


def test_a_child_stuck_in_a_read_is_stopped_on_close(db: Database, server: LoopbackServer) -> None:
    account_id = add_account(db, server)
    server.set_control(delay=60)
    with reading(db, account_id) as process:
        process.request(None)  # a read that will not end in time
        time.sleep(0.5)
        pid = process.pid
        started = time.monotonic()
    assert time.monotonic() - started < 20
    with pytest.raises(ProcessLookupError):  # it ignores SIGTERM, so it was killed
        os.kill(pid, 0)


def test_a_child_that_cannot_start_says_why(db: Database, server: LoopbackServer) -> None:
    with reading(db, 999_999) as process:
        assert process.started() is None
        process.request(None)
        with pytest.raises(ReaderProcessError, match="account #999999 no longer exists"):
            process.receive()


def test_the_childs_share_of_the_parsing_follows_who_waits() -> None:
    share = Share()
    assert share.value == 0.5
    for _ in range(3):
        share.after(waited=False)  # the batch was ready when the engine asked: the child has time to spare
    assert share.value == pytest.approx(0.8)
    for _ in range(20):
        share.after(waited=True)
    assert share.value == 0.0, "never below nothing"
    for _ in range(20):
        share.after(waited=False)
    assert share.value == 1.0, "never above everything"


def test_the_share_moves_up_when_a_batch_was_ready_and_down_when_it_was_waited_for(
    db: Database, server: LoopbackServer
) -> None:
    with reading(db, add_account(db, server)) as process:
        process.request(None)
        time.sleep(0.5)  # the child has the batch ready long before it is asked for
        first = process.receive()
        assert process.share.value == pytest.approx(0.6)
        server.set_control(delay=1.0)
        process.request(first.cursor)
        process.receive()  # this one is waited for
        assert process.share.value == pytest.approx(0.5)


@pytest.fixture
def process_from_six(monkeypatch: pytest.MonkeyPatch) -> None:
    """Streams with six or more contacts left are read by a process (the default waits for thousands)."""
    monkeypatch.setenv("CRMHUB_SYNC_READER_PROCESS_ITEMS", "6")
    get_settings.cache_clear()


def test_a_long_first_import_is_read_by_a_child_and_applied_whole(
    db: Database, tmp_path, process_from_six: None
) -> None:
    server = LoopbackServer.create(tmp_path / "big", password="s3cret-loopback-Pa55", contacts=contacts(40))
    account_id = add_account(db, server, name="Big")
    server.set_control(delay=0.1)  # 20 batches: time enough for the child to start
    assert run_now(db, account_id) == "done"
    persons = linked_persons(db, account_id)
    assert sorted(p.first_name for p in persons.values()) == sorted(f"First{i}" for i in range(40))
    run = last_run(db, account_id)
    assert (run.status, run.pulled, run.failed) == ("ok", 40, 0)
    pullers = _pullers(server)
    assert pullers[0] == os.getpid(), "the first batch, which shows the stream is long, is read here"
    assert pullers[-1] != os.getpid(), "the rest is read by the child once it is up"
    assert account(db, account_id).status == AccountStatus.ok


def test_a_short_stream_never_starts_a_process(db: Database, server: LoopbackServer, process_from_six: None) -> None:
    account_id = add_account(db, server)  # five contacts
    assert run_now(db, account_id) == "done"
    assert set(_pullers(server)) == {os.getpid()}


def test_a_stop_sent_while_the_fork_server_starts_is_held_not_lost() -> None:
    """The fork server starts with SIGTERM blocked, not ignored: the worker's handler still gets a stop sent then."""
    received: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda sig, _frame: received.append(sig))
    try:
        with _stops_held():
            signal.pthread_kill(threading.get_ident(), signal.SIGTERM)  # to this thread, which holds it
            assert signal.SIGTERM in signal.sigpending()
            assert received == []
        assert received == [signal.SIGTERM]
        assert signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, [])
    finally:
        signal.signal(signal.SIGTERM, previous)


WARM_UP_AND_NAME_THE_SERVER = """
import os
import sys
import threading
from pathlib import Path
from sync.reader_process import warm_up

if sys.argv[1] == "thread":  # as crmhub serve runs its worker
    starter = threading.Thread(target=warm_up)
    starter.start()
    starter.join()
else:
    warm_up()
for entry in Path("/proc").iterdir():
    try:
        parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
        if parent == str(os.getpid()) and b"forkserver" in (entry / "cmdline").read_bytes():
            print(entry.name, flush=True)
    except (OSError, IndexError):  # not a process, or one gone meanwhile
        continue
input()  # the server lives until this process ends
"""


@pytest.mark.parametrize("started_from", ["main", "thread"])
def test_the_fork_server_keeps_the_stops_blocked_and_outlives_one(started_from: str) -> None:
    """A stop sent to the whole process group is the worker's to handle: the fork server must not die of it."""
    command = [sys.executable, "-c", WARM_UP_AND_NAME_THE_SERVER, started_from]
    worker = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout is not None
        line = worker.stdout.readline()
        assert line.strip().isdigit(), f"no fork server found: {line!r}"
        server_pid = int(line)
        assert {signal.SIGINT, signal.SIGTERM} <= _signals(server_pid, "SigBlk")
        os.kill(server_pid, signal.SIGTERM)
        time.sleep(0.2)  # time enough to die of it, were it not blocked
        assert signal.SIGTERM in _signals(server_pid, "ShdPnd")  # held, not acted on
        assert _status(server_pid, "State")[0] in "SR", "still running, not a zombie"
    finally:
        worker.communicate("\n", timeout=30)
    assert worker.returncode == 0


def _status(pid: int, field: str) -> str:
    """One field of /proc/<pid>/status."""
    (line,) = [row for row in Path(f"/proc/{pid}/status").read_text().splitlines() if row.startswith(field + ":")]
    return line.split(":", 1)[1].strip()


def _signals(pid: int, field: str) -> set[int]:
    """The signals in one of the sets /proc shows for a process (SigBlk: blocked, ShdPnd: pending for it)."""
    bits = int(_status(pid, field), 16)
    return {number + 1 for number in range(64) if bits >> number & 1}


@pytest.mark.parametrize(
    ("url", "driver"),
    [("postgresql://crmhub@db.invalid/crmhub", "psycopg"), ("sqlite:///crmhub.db", "sqlite3.dbapi2")],
)
def test_the_fork_server_is_told_to_preload_the_stores_driver(
    settings: object, monkeypatch: pytest.MonkeyPatch, url: str, driver: str
) -> None:
    """The preload list names the configured database's dialect and driver, so a child need not import them."""
    monkeypatch.setenv("CRMHUB_DATABASE_URL", url)
    get_settings.cache_clear()
    modules = _database_modules()
    assert driver in modules
    assert all(importlib.import_module(name) for name in modules)
