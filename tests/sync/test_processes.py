"""Real worker processes: one killed mid-run (SIGKILL) and resumed by another; two side by side on PostgreSQL;
one stopped with its reading process by a signal to their process group.

Each worker is ``python -m hub.cli.main worker`` in its own process, pointed at the test's
database through the environment, with a short lease so a takeover happens within seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.loopback.client import LoopbackServer
from core.models import ContactPoint, Job, JobState, Person, RemoteLink, SyncCursor, SyncRun
from sync import control
from tests.conftest import BACKEND
from tests.sync.conftest import PASSWORD, SYSTEM, add_account, contacts

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen, Path]]]:
    """Starts ``crmhub worker`` processes (named, logging to a file); kills any left at the end."""
    started: list[subprocess.Popen] = []

    def start(name: str, *, lease: float = 1.5) -> tuple[subprocess.Popen, Path]:
        log = tmp_path / f"{name}.log"
        env = {**os.environ, "CRMHUB_LOG_LEVEL": "DEBUG", "PYTHONUNBUFFERED": "1"}
        cmd = [sys.executable, "-m", "hub.cli.main", "worker", "--name", name, "--lease-seconds", str(lease)]
        cmd += ["--poll-seconds", "0.05"]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        started.append(proc)
        return proc, log

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def wait_for(check, timeout: float, what: str) -> None:
    """Poll ``check`` until it is true, or fail naming what did not happen."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
    """Send a signal to a worker process and wait for it to end."""
    if proc.poll() is None:
        proc.send_signal(sig)
    return proc.wait(timeout=20)


def big_import(db, tmp_path: Path, total: int) -> tuple[LoopbackServer, int, int]:
    """A loopback server of ``total`` contacts answering slowly, an account on it (batches of 10) and its queued run."""
    server = LoopbackServer.create(tmp_path / "big", password=PASSWORD, contacts=contacts(total))
    account_id = add_account(db, server, name="Big import", batch_size=10)
    server.set_control(delay=0.1)
    with db.session() as s:
        job_id = control.run_now(s, actor=SYSTEM, account_id=account_id).id
    return server, account_id, job_id


def test_worker_killed_mid_run_loses_and_doubles_nothing(db, tmp_path, spawn):
    total = 120
    server, account_id, job_id = big_import(db, tmp_path, total)

    def cursor_seq() -> int:
        with db.session() as s:
            c = s.scalars(select(SyncCursor.cursor).where(SyncCursor.account_id == account_id)).first()
            return c["seq"] if c else 0

    first, first_log = spawn("first")
    try:
        wait_for(lambda: cursor_seq() >= 30, 30, "the first worker to commit a few batches")
        # Slow the server down so the first worker is surely mid-run (inside a pull) while the
        # second one starts up and waits for work; then kill the first.
        server.set_control(delay=1.0)
        second, second_log = spawn("second")
        wait_for(lambda: "worker second started" in second_log.read_text(), 30, "the second worker to start")
    finally:
        assert stop(first, signal.SIGKILL) == -signal.SIGKILL
    at_kill = cursor_seq()
    assert at_kill < total, "the kill must land mid-run"
    with db.session() as s:
        job = s.get(Job, job_id)
        assert (job.state, job.lease_owner) == (JobState.running, "first"), "the dead worker still holds the lease"
    server.set_control(delay=0.01)
    try:

        def finished() -> bool:
            with db.session() as s:
                return s.get(Job, job_id).state == JobState.done

        wait_for(finished, 60, "the second worker to take the job over and finish it")
    finally:
        assert stop(second) == 0
    with db.session() as s:
        persons = s.scalar(select(func.count()).select_from(Person))
        links = s.execute(select(RemoteLink.remote_id)).scalars().all()
        emails = s.scalars(select(ContactPoint.value).where(ContactPoint.kind == "email")).all()
        cursor = s.scalars(select(SyncCursor.cursor).where(SyncCursor.account_id == account_id)).one()
        runs = s.scalars(select(SyncRun).where(SyncRun.job_id == job_id).order_by(SyncRun.id)).all()
        job = s.get(Job, job_id)
    assert persons == total
    assert sorted(links) == sorted(f"c{i}" for i in range(1, total + 1))
    assert len(emails) == len(set(emails)) == total
    assert cursor == {"generation": 1, "seq": total}
    assert [r.status for r in runs] == ["interrupted", "ok"]
    assert runs[0].pulled + runs[1].pulled == total, "every change was applied by exactly one committed batch"
    assert runs[0].pulled == at_kill
    assert job.attempts == 2 and job.lease_owner is None
    logs = first_log.read_text() + second_log.read_text()
    assert "job #" in logs and PASSWORD not in logs


@pytest.mark.skipif(BACKEND != "postgres", reason="several workers side by side is the PostgreSQL set-up")
def test_two_workers_never_run_one_account_at_once(db, tmp_path, spawn):
    servers, ids = [], []
    for n in range(4):
        server = LoopbackServer.create(tmp_path / f"s{n}", password=PASSWORD, contacts=contacts(16, start=1000 * n))
        server.set_control(delay=0.05)
        servers.append(server)
        ids.append(add_account(db, server, name=f"Account {n}", batch_size=8))
    workers = [spawn(name, lease=2.0) for name in ("w1", "w2")]

    def enough() -> bool:
        calls = [server.calls() for server in servers]
        pids = {c["pid"] for per in calls for c in per}
        return len(pids) == 2 and all(len(per) >= 5 for per in calls)

    try:
        deadline = time.monotonic() + 45
        while not enough():
            assert time.monotonic() < deadline, "the workers did too little in 45 s"
            with db.session() as s:
                for account_id in ids:
                    control.run_now(s, actor=SYSTEM, account_id=account_id)
            time.sleep(0.05)
    finally:
        codes = [stop(proc) for proc, _ in workers]
    assert codes == [0, 0], "both workers stop cleanly on SIGTERM"

    busy = []
    for account_id, server in zip(ids, servers, strict=True):
        calls = sorted(server.calls(), key=lambda c: c["start"])
        for before, after in zip(calls, calls[1:], strict=False):
            assert after["start"] >= before["end"], f"account {account_id}: two pulls at once"
        busy += [(c["start"], c["end"], c["pid"], account_id) for c in calls]
        with db.session() as s:
            runs = s.scalars(select(SyncRun).where(SyncRun.account_id == account_id).order_by(SyncRun.started_at)).all()
        for before, after in zip(runs, runs[1:], strict=False):
            assert before.finished_at is not None and after.started_at >= before.finished_at
    assert len({pid for *_, pid, _ in busy}) == 2, "both workers did work"
    by_pid = defaultdict(list)
    for start, end, pid, account_id in busy:
        by_pid[pid].append((start, end, account_id))
    (a, b) = by_pid.values()
    assert any(s1 < e2 and s2 < e1 for s1, e1, _ in a for s2, e2, _ in b), "the two workers ran in parallel"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 64


def test_a_stop_sent_to_the_whole_group_ends_the_worker_and_its_reading_process_cleanly(db, tmp_path):
    """``crmhub worker`` reads a long import in a child; SIGTERM to the process group (a service manager's stop)
    lets the worker finish its batch and put the job back, and the child ends with it."""
    total = 200
    server, _account_id, job_id = big_import(db, tmp_path, total)
    log = tmp_path / "worker.log"
    env = {**os.environ, "CRMHUB_LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1", "CRMHUB_SYNC_READER_PROCESS_ITEMS": "50"}
    cmd = [sys.executable, "-m", "hub.cli.main", "worker", "--name", "grouped", "--poll-seconds", "0.05"]
    worker = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )
    try:

        def children() -> set[int]:
            return {call["pid"] for call in server.calls()} - {worker.pid}

        wait_for(lambda: children(), 60, "the worker's reading process to pull")
        (child,) = children()
        os.killpg(worker.pid, signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    wait_for(lambda: not Path(f"/proc/{child}").exists(), 15, "the reading process to end with its worker")
    with db.session() as s:
        job = s.get(Job, job_id)
        runs = s.scalars(select(SyncRun).where(SyncRun.job_id == job_id)).all()
        linked = s.scalar(select(func.count()).select_from(RemoteLink))
    assert job.state == JobState.queued, "stopped after a batch and put back in the queue"
    assert [r.status for r in runs] == ["interrupted"]
    assert 0 < linked == runs[0].pulled < total
    assert "is read by process" in log.read_text()
