"""The next contact proposed after an interaction ("a lead is never left hanging").

When a logged result does not end the work and no next contact was given, crmhub proposes
one at once, which the user accepts (``POST /tasks`` with the proposal) or changes. Kept
simple on purpose: the next contact is a call (a meeting when a meeting or show was just
set), due at 10:00 local time (``core.work.clock``) a number of working days after today
that depends on what just happened: the next working day after a call, a chat or a note;
two working days after a mail (time to answer) or a meeting (time to think); a reminder 15
minutes before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.models import InteractionKind, InteractionResult
from core.work.clock import next_working_morning

WAIT_DAYS = {"email_out": 2, "email_in": 1, "meeting": 2, "demo": 2}
"""Working days to wait after an interaction of this kind (1 for any other)."""
NEXT_KIND = {"meeting_set": "meeting", "meeting_confirmed": "meeting", "show_set": "demo"}
"""The kind of the next contact after these results (a call after any other)."""
DEFAULT_NEXT_KIND = "call_out"
REMIND_BEFORE = timedelta(minutes=15)


@dataclass(frozen=True)
class NextContactProposal:
    """A planned contact crmhub suggests; nothing is saved until the user accepts it."""

    due_at: datetime
    kind: str
    title: str
    responsible_id: int | None
    remind_at: datetime
    organization_id: int | None
    person_id: int | None
    deal_id: int | None


def propose_next_contact(
    *,
    kind: InteractionKind,
    result: InteractionResult | None,
    now: datetime,
    client_name: str,
    responsible_id: int | None,
    organization_id: int | None = None,
    person_id: int | None = None,
    deal_id: int | None = None,
    kind_names: dict[str, str] | None = None,
) -> NextContactProposal:
    """The default next contact after an interaction of ``kind`` with ``result``, counted from ``now``."""
    next_kind = NEXT_KIND.get(result.code if result else "", DEFAULT_NEXT_KIND)
    due = next_working_morning(now, working_days=WAIT_DAYS.get(kind.code, 1))
    label = (kind_names or {}).get(next_kind, next_kind.replace("_", " ").capitalize())
    return NextContactProposal(
        due_at=due,
        kind=next_kind,
        title=f"{label}: {client_name}" if client_name else label,
        responsible_id=responsible_id,
        remind_at=due - REMIND_BEFORE,
        organization_id=organization_id,
        person_id=person_id,
        deal_id=deal_id,
    )
