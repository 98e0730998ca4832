"""The reference data every new crmhub starts with: interaction kinds, results and a sales pipeline.

Admins edit these later; ``ensure_defaults`` only adds what is missing, so it is safe to run
on every ``crmhub init`` and upgrade.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import DealStatus, Direction, InteractionKind, InteractionResult, Pipeline, Stage

KINDS = [
    ("call_out", "Outgoing call", "Исходящий звонок", Direction.outgoing, "#2563eb"),
    ("call_in", "Incoming call", "Входящий звонок", Direction.incoming, "#0891b2"),
    ("meeting", "Meeting", "Встреча", Direction.none, "#16a34a"),
    ("email_out", "Outgoing e-mail", "Исходящее письмо", Direction.outgoing, "#7c3aed"),
    ("email_in", "Incoming e-mail", "Входящее письмо", Direction.incoming, "#9333ea"),
    ("demo", "Show / demo", "Показ / демонстрация", Direction.none, "#ea580c"),
    ("note", "Note", "Заметка", Direction.none, "#64748b"),
    ("chat", "Chat message", "Сообщение в чате", Direction.none, "#0d9488"),
]

STAGES = [
    ("Monitoring", "Мониторинг", 5, DealStatus.open),
    ("First contact", "Первый контакт", 10, DealStatus.open),
    ("Needs identified", "Выявление потребностей", 25, DealStatus.open),
    ("Meeting / show", "Встреча / показ", 40, DealStatus.open),
    ("Proposal sent", "Коммерческое предложение", 60, DealStatus.open),
    ("Negotiation", "Переговоры", 80, DealStatus.open),
    ("Contract signed", "Договор подписан", 100, DealStatus.won),
    ("Lost", "Отказ", 0, DealStatus.lost),
]

# code, English, Russian, stage name it moves to (or None), refusal, ends work
RESULTS = [
    ("meeting_set", "Meeting set", "Назначена встреча", "Meeting / show", False, False),
    ("meeting_confirmed", "Meeting confirmed", "Встреча подтверждена", "Meeting / show", False, False),
    ("meeting_held", "Meeting held", "Встреча проведена", "Meeting / show", False, False),
    ("show_set", "Show set", "Назначен показ", "Meeting / show", False, False),
    ("show_held", "Show held", "Показ проведён", "Meeting / show", False, False),
    ("proposal_sent", "Proposal sent", "Отправлено КП", "Proposal sent", False, False),
    ("contract_signed", "Contract signed", "Подписан договор", "Contract signed", False, True),
    ("continue", "Continue at this stage", "Продолжаем на этой стадии", None, False, False),
    ("refused", "Refused", "Отказ", "Lost", True, True),
]


def ensure_defaults(session: Session) -> None:
    """Add the default kinds, pipeline, stages and results that are missing."""
    have = set(session.scalars(select(InteractionKind.code)))
    for code, name, name_ru, direction, color in KINDS:
        if code not in have:
            session.add(InteractionKind(code=code, name=name, name_ru=name_ru, direction=direction, color=color))
    pipeline = session.scalars(select(Pipeline).where(Pipeline.is_default.is_(True))).first()
    if pipeline is None:
        pipeline = Pipeline(name="Sales", is_default=True)
        pipeline.stages = [
            Stage(name=n, name_ru=r, position=i, probability=p, outcome=o) for i, (n, r, p, o) in enumerate(STAGES)
        ]
        session.add(pipeline)
        session.flush()
    stages = {s.name: s.id for s in pipeline.stages}
    have = set(session.scalars(select(InteractionResult.code)))
    for code, name, name_ru, stage, refusal, ends in RESULTS:
        if code not in have:
            session.add(
                InteractionResult(
                    code=code,
                    name=name,
                    name_ru=name_ru,
                    stage_id=stages.get(stage or ""),
                    is_refusal=refusal,
                    ends_work=ends,
                )
            )
    session.flush()
