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


class Yonder:
    """Another reader of the same remote (``sync.reader.Elsewhere``), up once ``up`` is set."""

    def __init__(self, remote: Remote) -> None:
        self.remote = remote
        self.up = False
        self.asked: list[dict | None] = []
        self.closed = False

    def started(self) -> bool | None:
        return self.up

    def request(self, cursor: dict | None) -> None:
        self.asked.append(cursor)

    def receive(self) -> Batch:
        return self.remote.read(self.asked[-1])

    def close(self) -> None:
        self.closed = True


def _drain(reader: Reader, left_of) -> list[str]:
    seen, cursor = [], None
    while True:
        batch = reader.next(cursor)
        seen += batch.changes
        if not batch.more:
            return seen
        reader.read_ahead(batch.cursor, left=left_of(batch))
        cursor = batch.cursor


def test_a_long_stream_moves_to_the_other_reader_once_it_is_up():
    remote = Remote()
    yonder = Yonder(remote)
    started = []

    def elsewhere() -> Yonder:
        started.append(True)
        return yonder

    with Reader(remote.read, ahead=True, elsewhere=elsewhere, elsewhere_from=2) as reader:
        first = reader.next(None)
        reader.read_ahead(first.cursor, left=3)  # long enough: the other reader starts, not up yet
        second = reader.next(first.cursor)  # so this one was read here, in the thread
        yonder.up = True
        reader.read_ahead(second.cursor, left=2)
        assert reader.remote
        rest = reader.next(second.cursor)
        reader.read_ahead(rest.cursor, left=0)
        last = reader.next(rest.cursor)
    assert [b.changes[0] for b in (first, second, rest, last)] == ["item 0", "item 1", "item 2", "item 3"]
    assert started == [True] and yonder.asked == [{"at": 2}, {"at": 3}] and yonder.closed
    assert [at for at, _ in remote.reads] == [0, 1, 2, 3], "each batch read once"


def test_a_short_stream_or_an_unknown_length_stays_in_the_thread():
    for left_of in (lambda b: 1, lambda b: None):
        remote = Remote()
        with Reader(remote.read, ahead=True, elsewhere=lambda: pytest.fail("started"), elsewhere_from=2) as reader:
            assert _drain(reader, left_of) == ["item 0", "item 1", "item 2", "item 3"]
            assert not reader.remote


def test_after_a_reset_the_other_reader_reads_the_batch_asked_for():
    remote = Remote()
    yonder = Yonder(remote)
    yonder.up = True
    with Reader(remote.read, ahead=True, elsewhere=lambda: yonder, elsewhere_from=1) as reader:
        first = reader.next(None)
        reader.read_ahead(first.cursor, left=3)
        assert reader.next(None).changes == ["item 0"]  # a reset: the read-ahead for {"at": 1} is dropped
    assert yonder.asked == [{"at": 1}, None]


def test_when_the_other_reader_cannot_start_the_stream_is_read_here():
    remote = Remote()
    yonder = Yonder(remote)
    yonder.up = None  # it could not start
    with Reader(remote.read, ahead=True, elsewhere=lambda: yonder, elsewhere_from=1) as reader:
        assert _drain(reader, lambda b: 3) == ["item 0", "item 1", "item 2", "item 3"]
        assert not reader.remote
    assert yonder.closed and yonder.asked == []


def test_when_the_other_reader_cannot_even_be_started_the_stream_is_read_here():
    remote = Remote()

    def elsewhere() -> Yonder:
        raise OSError("Resource temporarily unavailable")

    with Reader(remote.read, ahead=True, elsewhere=elsewhere, elsewhere_from=1) as reader:
        assert _drain(reader, lambda b: 3) == ["item 0", "item 1", "item 2", "item 3"]
        assert not reader.remote
