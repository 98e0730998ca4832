"""Writing the demo plan through the core services, in one transaction.

Everything goes through the same services the API uses (as the system actor), so the demo
data passes the duplicate checks, carries teams and audit entries, and moves stages the way
real work does. Interactions are logged in the order they happened, so each organization
ends at the stage its latest results reached. The load is all or nothing: it runs in the
caller's transaction, and refuses to run on a database that already has organizations
(``if_empty`` turns that refusal into doing nothing).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.bootstrap import ensure_defaults
from core.clients.organizations import create_organization
from core.clients.persons import create_person
from core.db import utcnow
from core.demo.plan import ADMIN, DEFAULT_SEED, TEAMS, USERS, DemoPlan, build_plan
from core.errors import Conflict
from core.models import DealStatus, InteractionKind, InteractionResult, Organization, Pipeline, Team, User
from core.sales.deals import create_deal, move_deal
from core.users.service import create_team, create_user
from core.work.interactions import log_interaction
from core.work.tasks import create_task

Progress = Callable[[str, int, int], None]


@dataclass
class DemoUserLogin:
    """A demo user and the password to log in with (None when the user existed before)."""

    email: str
    full_name: str
    role: str
    teams: list[str]
    password: str | None


@dataclass
class DemoResult:
    """What the demo loaded (all zero when it was skipped)."""

    skipped: bool = False
    organizations: int = 0
    persons: int = 0
    deals: int = 0
    interactions: int = 0
    tasks: int = 0
    seconds: float = 0.0
    users: list[DemoUserLogin] = field(default_factory=list)


def _teams(session: Session, actor: Actor) -> dict[str, int]:
    ids = {}
    for key, (name, description) in TEAMS.items():
        team = session.scalars(select(Team).where(Team.name == name)).first()
        ids[key] = (team or create_team(session, actor=actor, name=name, description=description)).id
    return ids


def _users(session: Session, actor: Actor, teams: dict[str, int]) -> tuple[dict[str, int], list[DemoUserLogin]]:
    ids, logins = {}, []
    for demo in (ADMIN, *USERS):
        user = session.scalars(select(User).where(User.email == demo.email)).first()
        password: str | None = None
        if user is None:
            password = demo.password
            user = create_user(
                session,
                actor=actor,
                email=demo.email,
                full_name=demo.full_name,
                password=password,
                role=demo.role,
                team_ids=[teams[t] for t in demo.teams],
                locale="ru",
            )
        ids[demo.email] = user.id
        logins.append(DemoUserLogin(demo.email, user.full_name, user.role, [t.name for t in user.teams], password))
    return ids, logins


def _stage_ids(session: Session) -> dict[tuple[str, int], int]:
    pipeline = session.scalars(select(Pipeline).where(Pipeline.is_default.is_(True))).one()
    stages = sorted(pipeline.stages, key=lambda s: s.position)
    out = {("open", i): s.id for i, s in enumerate(s for s in stages if s.outcome == DealStatus.open)}
    out[("won", 0)] = next(s.id for s in stages if s.outcome == DealStatus.won)
    out[("lost", 0)] = next(s.id for s in stages if s.outcome == DealStatus.lost)
    return out


def _step(progress: Progress | None, name: str, total: int) -> Callable[[int], None]:
    def tick(done: int) -> None:
        if progress is not None and (done == total or done % 25 == 0):
            progress(name, done, total)

    if progress is not None:
        progress(name, 0, total)
    return tick


def load_demo(
    session: Session,
    *,
    orgs: int = 300,
    seed: int = DEFAULT_SEED,
    if_empty: bool = False,
    progress: Progress | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> DemoResult:
    """Load the demo client base for ``orgs`` organizations; skipped (``if_empty``) or refused when data exists."""
    started = time.monotonic()
    actor = actor or Actor.system(source="cli")
    existing = session.scalar(select(func.count()).select_from(Organization)) or 0
    if existing:
        if if_empty:
            return DemoResult(skipped=True)
        raise Conflict(f"The database already has {existing} organization(s); load the demo into an empty one")
    plan = build_plan(seed=seed, orgs=orgs, now=now or utcnow())
    ensure_defaults(session)
    teams = _teams(session, actor)
    users, logins = _users(session, actor, teams)
    result = DemoResult(users=logins)
    # The session holds loaded rows only weakly; keeping them here saves reloading each
    # organization, person and deal (with its contact points and tags) every time it is linked.
    keep: list[object] = [*session.scalars(select(User)), *session.scalars(select(Team))]
    keep += [*session.scalars(select(InteractionKind)), *session.scalars(select(InteractionResult))]
    org_ids, person_ids = _load_clients(session, actor, plan, teams, users, progress, keep)
    deal_ids = _load_deals(session, actor, plan, org_ids, person_ids, users, progress, keep)
    _load_work(session, actor, plan, org_ids, person_ids, deal_ids, teams, users, progress)
    result.organizations, result.persons = len(plan.orgs), len(plan.persons)
    result.deals, result.interactions, result.tasks = len(plan.deals), len(plan.interactions), len(plan.tasks)
    result.seconds = round(time.monotonic() - started, 1)
    return result


def _load_clients(
    session: Session,
    actor: Actor,
    plan: DemoPlan,
    teams: dict[str, int],
    users: dict[str, int],
    progress: Progress | None,
    keep: list[object],
) -> tuple[list[int], list[int]]:
    tick = _step(progress, "organizations", len(plan.orgs))
    org_ids: list[int] = []
    for n, o in enumerate(plan.orgs, 1):
        org = create_organization(
            session,
            actor=actor,
            name=o.name,
            brand=o.brand,
            team_id=teams[o.team],
            emails=o.emails,
            phones=o.phones,
            email_domains=o.domains,
            tags=o.tags,
            first_contact_on=o.first_contact_on,
            industry=o.industry,
            address=o.address,
            website=o.website,
            potential=o.potential,
            status=o.status,
            responsible_id=users[o.responsible],
            first_task=False,  # the demo plan brings each lead's own tasks and history
        )
        org_ids.append(org.id)
        keep.append(org)
        tick(n)
    tick = _step(progress, "persons", len(plan.persons))
    person_ids: list[int] = []
    for n, p in enumerate(plan.persons, 1):
        home = plan.orgs[p.orgs[0]]
        person = create_person(
            session,
            actor=actor,
            first_name=p.first_name,
            middle_name=p.middle_name,
            last_name=p.last_name,
            position=p.position,
            emails=p.emails,
            phones=p.phones,
            organizations=[{"organization_id": org_ids[i], "role": p.position} for i in p.orgs],
            responsible_id=users[home.responsible],
        )
        person_ids.append(person.id)
        keep.append(person)
        tick(n)
    return org_ids, person_ids


def _load_deals(
    session: Session,
    actor: Actor,
    plan: DemoPlan,
    org_ids: list[int],
    person_ids: list[int],
    users: dict[str, int],
    progress: Progress | None,
    keep: list[object],
) -> list[int]:
    stages = _stage_ids(session)
    tick = _step(progress, "deals", len(plan.deals))
    deal_ids: list[int] = []
    for n, d in enumerate(plan.deals, 1):
        first_kind, first_n, created = d.moves[0]
        deal = create_deal(
            session,
            actor=actor,
            title=d.title,
            organization_id=org_ids[d.org],
            person_id=person_ids[d.person] if d.person is not None else None,
            stage_id=stages[(first_kind, first_n)],
            amount=d.amount,
            expected_close_on=d.expected_close_on,
            responsible_id=users[d.responsible],
            created_at=created,
        )
        for kind, index, at in d.moves[1:]:
            move_deal(
                session, actor=actor, deal_id=deal.id, stage_id=stages[(kind, index)], reason=d.lost_reason, at=at
            )
        deal_ids.append(deal.id)
        keep.append(deal)
        tick(n)
    return deal_ids


def _load_work(
    session: Session,
    actor: Actor,
    plan: DemoPlan,
    org_ids: list[int],
    person_ids: list[int],
    deal_ids: list[int],
    teams: dict[str, int],
    users: dict[str, int],
    progress: Progress | None,
) -> None:
    kinds = {k.code: k.id for k in session.scalars(select(InteractionKind))}
    results = {r.code: r.id for r in session.scalars(select(InteractionResult))}
    tick = _step(progress, "interactions", len(plan.interactions))
    for n, i in enumerate(plan.interactions, 1):
        log_interaction(
            session,
            actor=actor,
            kind=kinds[i.kind],
            organization_id=org_ids[i.org],
            person_id=person_ids[i.person] if i.person is not None else None,
            deal_id=deal_ids[i.deal] if i.deal is not None else None,
            occurred_at=i.occurred_at,
            subject=i.subject,
            result=results[i.result] if i.result else None,
            refusal_reason=i.refusal_reason,
            source=i.source,
            external_id=i.external_id,
            author_id=users[i.author],
        )
        tick(n)
    tick = _step(progress, "tasks", len(plan.tasks))
    for n, t in enumerate(plan.tasks, 1):
        create_task(
            session,
            actor=actor,
            title=t.title,
            kind=kinds[t.kind] if t.kind else None,
            due_at=t.due_at,
            remind_at=t.due_at - timedelta(minutes=15),
            priority=t.priority,
            responsible_id=users[t.responsible],
            organization_id=org_ids[t.org] if t.org is not None else None,
            person_id=person_ids[t.person] if t.person is not None else None,
            deal_id=deal_ids[t.deal] if t.deal is not None else None,
            team_id=teams[t.team] if t.team else None,
        )
        tick(n)
