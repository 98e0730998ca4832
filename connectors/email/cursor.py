"""Where the import of one folder stands: the cursor the engine stores after every batch.

A folder's UIDs only grow, and UIDVALIDITY says whether they still mean what they meant. So
the cursor is a window of UIDs, valid for one UIDVALIDITY::

    {"uidvalidity": 1700000000, "initial_high": 20000, "initial_low": 12001,
     "last_uid": 20015, "highestmodseq": 40231, "phase": "initial", "done": 8015, "total": 20015}

* **The first import walks down.** When a folder is first read, every message at or below
  ``initial_high`` (UIDNEXT - 1 at that moment) belongs to the first import, which goes newest
  first: each batch takes the highest UIDs below ``initial_low`` and, once applied, lowers
  ``initial_low`` to the lowest of them. A crash anywhere repeats at most the batch in flight
  (its cursor was never stored), and never skips one: nothing below ``initial_low`` is taken
  for read until a batch says so. When no UID is left below ``initial_low`` (on or after
  ``since_date``, if set), the phase becomes ``incremental``.
* **New mail walks up.** Every message above ``last_uid`` is new. New mail goes before the rest
  of the first import, so a mailbox of 100,000 messages being imported still shows today's mail
  at once; ``last_uid`` rises batch by batch the same way.
* **UIDVALIDITY.** A folder whose UIDVALIDITY changed (a restore, a migration) has renumbered
  every message; the cursor raises ``CursorInvalidError`` and the engine reads the folder again
  from scratch. Nothing is logged twice: stored mail is known by its Message-ID.
* **HIGHESTMODSEQ** (CONDSTORE) says whether any flag changed since the last pull, so a message
  already logged that the user has since marked private is found without reading every flag.
* ``done`` and ``total`` feed the progress bar: messages passed (logged, skipped or failed) and
  messages known to be there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from core.integration import CursorInvalidError

INITIAL, INCREMENTAL = "initial", "incremental"


@dataclass
class FolderCursor:
    """The position of one folder's import (see the module docstring)."""

    uidvalidity: int
    initial_high: int
    initial_low: int
    last_uid: int
    highestmodseq: int | None = None
    phase: str = INITIAL
    done: int = 0
    total: int = 0

    @classmethod
    def start(cls, *, uidvalidity: int, uidnext: int, highestmodseq: int | None, total: int) -> FolderCursor:
        """The cursor of a folder read for the first time: everything below UIDNEXT is the first import."""
        high = max(0, uidnext - 1)
        return cls(uidvalidity, high, high + 1, high, highestmodseq, INITIAL if high else INCREMENTAL, 0, total)

    @classmethod
    def load(cls, data: dict[str, Any], folder: str) -> FolderCursor:
        """The cursor from its stored form; CursorInvalidError when it is not one of ours."""
        try:
            cursor = cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
            ints = (cursor.uidvalidity, cursor.initial_high, cursor.initial_low, cursor.last_uid)
            if not all(isinstance(v, int) for v in ints) or cursor.phase not in (INITIAL, INCREMENTAL):
                raise TypeError("bad field types")
        except (KeyError, TypeError) as exc:
            raise CursorInvalidError(f"{folder}: the stored position is not readable ({exc})", step="cursor") from None
        return cursor

    def dump(self) -> dict[str, Any]:
        """The stored form."""
        return asdict(self)

    @property
    def initial_done(self) -> bool:
        """True once the first import has reached the bottom of the folder."""
        return self.phase == INCREMENTAL

    def has_read(self, uid: int) -> bool:
        """True when the message with this UID has been passed already (logged, skipped or failed)."""
        return self.initial_low <= uid <= self.last_uid

    def read_down_to(self, uid: int, count: int) -> None:
        """The first import has passed ``count`` more messages, down to ``uid``."""
        self.initial_low = min(self.initial_low, uid)
        self.done += count

    def read_up_to(self, uid: int, count: int) -> None:
        """``count`` new messages were passed, up to ``uid``."""
        self.last_uid = max(self.last_uid, uid)
        self.done += count
        self.total += count

    def finish_initial(self) -> None:
        """Nothing is left below ``initial_low``: from now on only new mail is read."""
        self.phase = INCREMENTAL
        self.initial_low = 1
        self.total = self.done
