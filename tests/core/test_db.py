"""The store under concurrent use: a write session that reads first never fails for a concurrent writer."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from core.db import Database
from core.models import Team


def test_read_then_write_transactions_wait_their_turn(db: Database):
    started = threading.Event()
    errors: list[BaseException] = []

    def other_writer() -> None:
        started.wait(5)
        try:
            with db.session(write=True) as s:
                s.add(Team(name="written meanwhile"))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    thread = threading.Thread(target=other_writer)
    thread.start()
    with db.session(write=True) as s:
        before = s.scalar(select(func.count()).select_from(Team))
        started.set()
        thread.join(0.3)  # the other writer runs now, or waits for this transaction
        s.add(Team(name="written after reading"))
    thread.join(10)
    assert errors == []
    with db.session() as s:
        names = set(s.scalars(select(Team.name)))
        assert {"written meanwhile", "written after reading"} <= names
        assert s.scalar(select(func.count()).select_from(Team)) == before + 2
