"""A lead is never left hanging: a new lead gets its first planned contact at once.

DOMAIN.md: "a new lead gets a responsible and a first task with a deadline". When an
organization is created with the status ``lead`` and has a responsible user, crmhub plans a
first call for that user on the next working morning (``core.work.clock``), linked to the
organization. A lead created by a background import with nobody responsible gets no task: there
is nobody to give it to, and the lead shows in the "no responsible" filter instead.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.actor import Actor
from core.db import utcnow
from core.models import Organization, Task
from core.work.clock import next_working_morning
from core.work.proposals import DEFAULT_NEXT_KIND, REMIND_BEFORE
from core.work.reference import kind_names
from core.work.tasks import create_task

LEAD = "lead"


def plan_first_contact(session: Session, *, actor: Actor, org: Organization) -> Task | None:
    """Plan the first call with a new lead for its responsible user; None when it is no lead or has none."""
    if org.status != LEAD or org.responsible_id is None:
        return None
    due = next_working_morning(utcnow())
    label = kind_names(session, org.responsible_id).get(DEFAULT_NEXT_KIND, "First contact")
    return create_task(
        session,
        actor=actor,
        title=f"{label}: {org.name}",
        kind=DEFAULT_NEXT_KIND,
        due_at=due,
        remind_at=due - REMIND_BEFORE,
        responsible_id=org.responsible_id,
        organization_id=org.id,
    )
