"""Schemas for interactions, their kinds and results, tasks and the day plan."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from core.db import utcnow
from core.models import Direction, Interaction, Priority, Task, TaskStatus
from core.work.agenda import DayPlan
from core.work.proposals import NextContactProposal
from hub.schemas.common import Input, Output

CodeOrId = str | int


class KindCreate(Input):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1, max_length=100)
    name_ru: str = Field(default="", max_length=100)
    direction: Direction = Direction.none
    color: str = Field(default="#64748b", max_length=20)


class KindUpdate(Input):
    code: str | None = Field(default=None, min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    name_ru: str | None = Field(default=None, max_length=100)
    direction: Direction | None = None
    color: str | None = Field(default=None, max_length=20)
    is_active: bool | None = None


class KindRead(Output):
    id: int
    code: str
    name: str
    name_ru: str
    direction: Direction
    color: str
    is_active: bool


class ResultCreate(Input):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1, max_length=100)
    name_ru: str = Field(default="", max_length=100)
    stage_id: int | None = None
    is_refusal: bool = False
    ends_work: bool = False


class ResultUpdate(Input):
    code: str | None = Field(default=None, min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    name_ru: str | None = Field(default=None, max_length=100)
    stage_id: int | None = None
    is_refusal: bool | None = None
    ends_work: bool | None = None
    is_active: bool | None = None


class ResultRead(Output):
    id: int
    code: str
    name: str
    name_ru: str
    stage_id: int | None
    is_refusal: bool
    ends_work: bool
    is_active: bool


class NextContactIn(Input):
    """The next planned contact, given with the interaction that leads to it."""

    due_at: AwareDatetime
    kind: CodeOrId | None = Field(default=None, description="Kind code or id (a call by default)")
    title: str | None = Field(default=None, max_length=500)
    responsible_id: int | None = Field(default=None, description="Defaults to the author")
    remind_at: AwareDatetime | None = None
    description: str | None = Field(default=None, max_length=20000)
    priority: Priority | None = None


class InteractionCreate(Input):
    """A call, meeting, mail or note to log; ``next_contact`` plans what comes next."""

    kind: CodeOrId = Field(description="Kind code (call_out, meeting...) or id")
    organization_id: int | None = None
    person_id: int | None = None
    deal_id: int | None = None
    occurred_at: AwareDatetime | None = Field(default=None, description="Defaults to now")
    direction: Direction | None = None
    subject: str = Field(default="", max_length=998)
    body: str = Field(default="", max_length=1_000_000)
    result: CodeOrId | None = Field(default=None, description="Result code or id")
    refusal_reason: str = Field(default="", max_length=500)
    stage_id: int | None = Field(default=None, description="The sales stage reached, when not the result's")
    task_id: int | None = Field(default=None, description="The planned contact this interaction carried out")
    next_contact: NextContactIn | None = None


class InteractionUpdate(Input):
    """Corrections to an interaction; only the fields sent are changed."""

    kind: CodeOrId | None = None
    direction: Direction | None = None
    occurred_at: AwareDatetime | None = None
    subject: str | None = Field(default=None, max_length=998)
    body: str | None = Field(default=None, max_length=1_000_000)
    result: CodeOrId | None = None
    refusal_reason: str | None = Field(default=None, max_length=500)


class InteractionRead(Output):
    """An interaction as the API shows it."""

    id: int
    kind_id: int
    kind: str
    kind_name: str
    direction: Direction
    occurred_at: datetime
    subject: str
    body: str
    result_id: int | None
    result: str | None
    result_name: str | None
    refusal_reason: str
    stage_id: int | None
    organization_id: int | None
    person_id: int | None
    deal_id: int | None
    team_id: int
    author_id: int | None
    source: str
    external_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: Interaction) -> InteractionRead:
        """Build from the model."""
        plain = (
            "id",
            "kind_id",
            "direction",
            "occurred_at",
            "subject",
            "body",
            "result_id",
            "refusal_reason",
            "stage_id",
            "organization_id",
            "person_id",
            "deal_id",
            "team_id",
            "author_id",
            "source",
            "external_id",
            "created_at",
        )
        return cls(
            **{f: getattr(row, f) for f in plain},
            kind=row.kind.code,
            kind_name=row.kind.name,
            result=row.result.code if row.result else None,
            result_name=row.result.name if row.result else None,
        )


class TaskCreate(Input):
    """A new task or planned contact (for yourself unless ``responsible_id`` is given)."""

    title: str = Field(min_length=1, max_length=500)
    due_at: AwareDatetime
    kind: CodeOrId | None = None
    description: str = Field(default="", max_length=20000)
    remind_at: AwareDatetime | None = None
    duration_minutes: int = Field(default=30, ge=0, le=10080)
    priority: Priority = Priority.normal
    percent_done: int = Field(default=0, ge=0, le=100)
    responsible_id: int | None = None
    controller_id: int | None = None
    organization_id: int | None = None
    person_id: int | None = None
    deal_id: int | None = None
    team_id: int | None = Field(default=None, description="Only for tasks without a client")


class TaskUpdate(Input):
    """Changes to a task; only the fields sent are changed."""

    title: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=20000)
    kind: CodeOrId | None = None
    due_at: AwareDatetime | None = None
    remind_at: AwareDatetime | None = None
    duration_minutes: int | None = Field(default=None, ge=0, le=10080)
    priority: Priority | None = None
    percent_done: int | None = Field(default=None, ge=0, le=100)
    responsible_id: int | None = None
    controller_id: int | None = None
    status: TaskStatus | None = None


class PostponeIn(Input):
    """A new due time, or a quick choice."""

    to: AwareDatetime | None = None
    by: Literal["15m", "1h", "3h", "tomorrow", "next_working_day", "next_week"] | None = None


class ReassignIn(Input):
    responsible_id: int


class TaskRead(Output):
    """A task as the API shows it; ``overdue`` is true for an open task past its due time."""

    id: int
    title: str
    description: str
    kind_id: int | None
    kind: str | None
    due_at: datetime
    duration_minutes: int
    remind_at: datetime | None
    status: TaskStatus
    priority: Priority
    percent_done: int
    completed_at: datetime | None
    responsible_id: int
    controller_id: int | None
    author_id: int | None
    organization_id: int | None
    person_id: int | None
    deal_id: int | None
    team_id: int
    from_interaction_id: int | None
    fulfilled_by_id: int | None
    overdue: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, task: Task) -> TaskRead:
        """Build from the model."""
        plain = (
            "id",
            "title",
            "description",
            "kind_id",
            "due_at",
            "duration_minutes",
            "remind_at",
            "status",
            "priority",
            "percent_done",
            "completed_at",
            "responsible_id",
            "controller_id",
            "author_id",
            "organization_id",
            "person_id",
            "deal_id",
            "team_id",
            "from_interaction_id",
            "fulfilled_by_id",
            "created_at",
            "updated_at",
        )
        return cls(
            **{f: getattr(task, f) for f in plain},
            kind=task.kind.code if task.kind else None,
            overdue=task.status == TaskStatus.open and task.due_at < utcnow(),
        )


class ProposalRead(Output):
    """The next contact crmhub proposes; POST it to /tasks to accept it."""

    title: str
    due_at: datetime
    remind_at: datetime
    kind: str
    responsible_id: int | None
    organization_id: int | None
    person_id: int | None
    deal_id: int | None

    @classmethod
    def of(cls, proposal: NextContactProposal) -> ProposalRead:
        """Build from the core proposal."""
        return cls.model_validate(proposal)


class InteractionLogged(Output):
    """What logging produced: the interaction, the next task, or the proposal of one."""

    interaction: InteractionRead
    next_task: TaskRead | None
    next_contact_expected: bool
    next_contact_proposal: ProposalRead | None


class DayPlanRead(Output):
    """Open tasks due on a day, and those overdue from earlier days."""

    day: date
    overdue: list[TaskRead]
    today: list[TaskRead]

    @classmethod
    def of(cls, plan: DayPlan) -> DayPlanRead:
        """Build from the core day plan."""
        return cls(
            day=plan.day,
            overdue=[TaskRead.of(t) for t in plan.overdue],
            today=[TaskRead.of(t) for t in plan.today],
        )
