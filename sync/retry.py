"""The retry policy: how long to wait after a failure, and when to stop trying on one's own.

Pure functions of counts and times, so they are tested without a database or a clock.

* Transient failures back off exponentially from ``base`` to ``cap`` with "equal jitter"
  (a random wait between half the step and the full step), so many accounts failing at once
  against one server do not come back in lockstep, yet each waits at least half its step.
  A server's own hint (``Retry-After``, ``BackOffMilliseconds``) wins when given, with up
  to 10% added so the clients it throttled do not return in the same second.
* After ``failing_after`` consecutive failures an account shows as failing (it is still
  retried at the capped pace; a sync that heals by itself heals the status too).
* A stale cursor may be dropped ``cursor_resets`` times in ``cursor_window``; one more and the
  account is failing until the window has passed or an admin resets it by hand, so a server
  that keeps invalidating our position cannot make us download the mailbox all day.
* A job whose worker died is claimed again at most ``max_job_attempts`` times; an outbound
  change is tried at most ``max_push_attempts`` times before it is failed for good.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """Numbers of the retry policy (defaults suit production; tests make them small)."""

    base: float = 30.0
    cap: float = 3600.0
    max_hint: float = 24 * 3600.0
    failing_after: int = 3
    cursor_resets: int = 3
    cursor_window: timedelta = timedelta(hours=24)
    max_job_attempts: int = 5
    max_push_attempts: int = 10

    def delay(
        self, attempt: int, *, retry_after: float | None = None, rand: Callable[[], float] = random.random
    ) -> float:
        """Seconds to wait before retry number ``attempt`` (1 for the first), honouring a server's hint."""
        if retry_after is not None and retry_after > 0:
            return min(self.max_hint, retry_after * (1 + 0.1 * rand()))
        step = min(self.cap, self.base * 2 ** max(0, attempt - 1))
        return step / 2 + rand() * step / 2

    def is_failing(self, consecutive_failures: int) -> bool:
        """True when an account has failed often enough in a row to show as failing."""
        return consecutive_failures >= self.failing_after

    def cursor_reset(self, resets: int, since: datetime | None, now: datetime) -> tuple[bool, int, datetime | None]:
        """Whether a stale cursor may be dropped now, and the reset count and window start after that."""
        if since is None or now - since >= self.cursor_window:
            return True, 1, now
        if resets < self.cursor_resets:
            return True, resets + 1, since
        return False, resets, since
