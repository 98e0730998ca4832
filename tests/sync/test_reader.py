"""sync.reader: one batch read ahead while the engine commits, never a change in what the engine sees."""

from __future__ import annotations

import threading

import pytest

from core.integration import Batch, CursorInvalidError
from sync.reader import Reader


class Remote:
    """Batches by cursor position; records which thread read what, and can hold a read back."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.reads: list[tuple[int, str]] = []
        self.fail_at = fail_at
        self.release = threading.Event()
        self.release.set()
        self.started = threading.Event()

    def read(self, cursor: dict | None) -> Batch:
        at = (cursor or {}).get("at", 0)
        self.reads.append((at, threading.current_thread().name))
        self.started.set()
        self.release.wait(10)
        if at == self.fail_at:
            raise CursorInvalidError("the server forgot the position")
        return Batch(changes=[f"item {at}"], cursor={"at": at + 1}, more=at < 3)


def test_the_next_batch_is_read_in_the_background_and_handed_over_once():
    remote = Remote()
    with Reader(remote.read, ahead=True) as reader:
        first = reader.next(None)
        reader.read_ahead(first.cursor)
        second = reader.next(first.cursor)
    assert (first.changes, second.changes) == (["item 0"], ["item 1"])
    assert [at for at, _ in remote.reads] == [0, 1]  # each batch read once
    assert remote.reads[0][1] == threading.current_thread().name
    assert remote.reads[1][1].startswith("crmhub-read")


def test_an_error_of_the_read_ahead_is_raised_where_that_batch_is_asked_for():
    remote = Remote(fail_at=1)
    with Reader(remote.read, ahead=True) as reader:
        first = reader.next(None)
        reader.read_ahead(first.cursor)  # fails in the background
        with pytest.raises(CursorInvalidError):
            reader.next(first.cursor)
        assert reader.next(None).changes == ["item 0"]  # after a reset: read afresh


def test_a_read_ahead_for_another_cursor_is_dropped_and_the_batch_read_afresh():
    remote = Remote()
    with Reader(remote.read, ahead=True) as reader:
        reader.read_ahead({"at": 2})
        assert reader.next(None).changes == ["item 0"]
    assert sorted(at for at, _ in remote.reads) == [0, 2]


def test_closing_waits_for_a_read_still_running():
    remote = Remote()
    remote.release.clear()
    reader = Reader(remote.read, ahead=True)
    reader.read_ahead(None)
    assert remote.started.wait(10)
    closer = threading.Thread(target=reader.close)
    closer.start()
    closer.join(0.2)
    assert closer.is_alive()  # the connector is still in use: close must not return yet
    remote.release.set()
    closer.join(10)
    assert not closer.is_alive()


def test_without_ahead_everything_is_read_in_the_callers_thread():
    remote = Remote()
    with Reader(remote.read, ahead=False) as reader:
        reader.read_ahead(None)
        assert remote.reads == []
        reader.next(None)
    assert remote.reads == [(0, threading.current_thread().name)]
