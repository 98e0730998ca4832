"""Demo data for the web UI tests: two teams, their users, clients with a history, and an e-mail thread.

Clients are created through the core services (so duplicates, points and the audit log are
real); interactions, tasks, deals, files, comments and stored mail are written as rows, the
way the connectors and other services leave them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.actor import Actor
from core.clients.organizations import create_organization
from core.clients.persons import create_person
from core.db import Database
from core.models import (
    Comment,
    Deal,
    Interaction,
    InteractionKind,
    InteractionResult,
    MailMessageRow,
    Pipeline,
    Role,
    Stage,
    StoredFile,
    Task,
    Team,
    User,
)
from tests.conftest import password_hash

MAIL_HTML = (
    "<html><head><style>p{color:red}</style><script>alert('mail')</script></head><body>"
    "<p style='color:#1f2937;font-size:14px' onclick='steal()'>Добрый день, Анна!</p>"
    "<p>Высылаю коммерческое предложение на поставку оборудования.</p>"
    "<img src='https://tracker.example.net/pixel.gif' onerror='alert(2)' alt='logo'>"
    "<p><a href='https://romashka.example/price'>Прайс-лист</a> · <a href='javascript:alert(3)'>x</a></p>"
    "</body></html>"
)


@dataclass
class Demo:
    """Ids of what was created."""

    teams: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    orgs: dict[str, int] = field(default_factory=dict)
    persons: dict[str, int] = field(default_factory=dict)
    mails: dict[str, int] = field(default_factory=dict)


def _user(s: Session, email: str, name: str, role: Role, teams: list[Team], locale: str | None = None) -> User:
    user = User(email=email, full_name=name, role=role, password_hash=password_hash(), locale=locale)
    user.teams = teams
    s.add(user)
    s.flush()
    return user


def seed(db: Database, *, filler: int = 0) -> Demo:
    """Create the demo data in ``db`` (a migrated database with the defaults); ``filler`` more organizations."""
    demo = Demo()
    now = datetime.now(UTC).replace(microsecond=0)
    with db.session() as s:
        a, b = Team(name="Оптовые продажи"), Team(name="Госзаказ")
        s.add_all([a, b])
        s.flush()
        demo.teams = {"A": a.id, "B": b.id}
        admin = _user(s, "admin@ourcompany.test", "Анна Админова", Role.admin, [a, b])
        staff_a = _user(s, "ivan@ourcompany.test", "Иван Петров", Role.staff, [a])
        staff_b = _user(s, "olga@ourcompany.test", "Ольга Смирнова", Role.staff, [b])
        demo.users = {"admin": admin.id, "a": staff_a.id, "b": staff_b.id}
        actor_a, actor_b = Actor.of(staff_a, source="ui"), Actor.of(staff_b, source="ui")

        stages = {st.name: st for st in s.scalars(sa.select(Stage))}
        pipeline = s.scalars(sa.select(Pipeline)).first()
        assert pipeline is not None
        romashka = create_organization(
            s,
            actor=actor_a,
            name="ООО «Ромашка»",
            brand="Romashka",
            industry="Оптовая торговля",
            phones=["+7 495 123-45-67"],
            emails=["info@romashka.example"],
            email_domains=["romashka.example"],
            tags=["vip", "Москва"],
            potential=4,
            deal_amount=Decimal("1250000.50"),
            stage_id=stages["Proposal sent"].id,
            address="Москва, ул. Ленина, 1",
            website="romashka.example",
            status="active",
        )
        lutik = create_organization(
            s, actor=actor_a, name="АО «Лютик»", phones=["8 812 555-01-02"], status="lead", potential=2
        )
        for n in range(1, filler + 1):
            create_organization(
                s,
                actor=actor_a,
                name=f"Компания {n:02d}",
                status=("active", "lead", "partner", "inactive", "refused")[n % 5],
                potential=n % 5 + 1,
                deal_amount=Decimal(n * 10000),
            )
        beta = create_organization(
            s, actor=actor_b, name="Бета Госзакупки", phones=["+7 495 777-88-99"], emails=["zakaz@beta.example"]
        )
        demo.orgs = {"romashka": romashka.id, "lutik": lutik.id, "beta": beta.id}
        anna = create_person(
            s,
            actor=actor_a,
            first_name="Анна",
            last_name="Кузнецова",
            position="Директор по закупкам",
            phones=["+7 916 000-11-22"],
            emails=["anna@romashka.example"],
            organizations=[{"organization_id": romashka.id, "role": "ЛПР, закупки"}],
        )
        boris = create_person(
            s,
            actor=actor_b,
            first_name="Борис",
            last_name="Тайный",
            phones=["+7 903 111-22-33"],
            organizations=[{"organization_id": beta.id, "role": "Контрактный управляющий"}],
        )
        demo.persons = {"anna": anna.id, "boris": boris.id}

        kinds = {k.code: k for k in s.scalars(sa.select(InteractionKind))}
        results = {r.code: r for r in s.scalars(sa.select(InteractionResult))}
        mail1 = MailMessageRow(
            message_id="m1@romashka.example",
            thread_key="t-offer",
            subject="Коммерческое предложение",
            sent_at=now - timedelta(days=2),
            from_addr="anna@romashka.example",
            participants={
                "from": [{"email": "anna@romashka.example", "name": "Анна Кузнецова"}],
                "to": [{"email": "ivan@ourcompany.test", "name": "Иван Петров"}],
                "cc": [],
            },
            text="Добрый день, Анна! Высылаю коммерческое предложение.",
            html=MAIL_HTML,
        )
        mail2 = MailMessageRow(
            message_id="m2@ourcompany.test",
            thread_key="t-offer",
            in_reply_to="m1@romashka.example",
            subject="Re: Коммерческое предложение",
            sent_at=now - timedelta(days=1),
            from_addr="ivan@ourcompany.test",
            participants={
                "from": [{"email": "ivan@ourcompany.test", "name": "Иван Петров"}],
                "to": [{"email": "anna@romashka.example", "name": "Анна Кузнецова"}],
            },
            text="Спасибо, изучим и вернёмся к вам до пятницы.\n\nИван",
            html=None,
        )
        mail_b = MailMessageRow(
            message_id="mb@beta.example",
            thread_key="t-beta",
            subject="Секретная закупка",
            sent_at=now - timedelta(days=1),
            from_addr="zakaz@beta.example",
            participants={"from": [{"email": "zakaz@beta.example", "name": "Бета"}]},
            text="Секрет",
            html="<p>Секрет</p>",
        )
        s.add_all([mail1, mail2, mail_b])
        s.flush()
        demo.mails = {"offer": mail1.id, "reply": mail2.id, "beta": mail_b.id}
        s.add_all(
            [
                Interaction(
                    kind_id=kinds["call_out"].id,
                    occurred_at=now - timedelta(days=5),
                    subject="Первый звонок",
                    body="Обсудили потребность в оборудовании, договорились о встрече.",
                    result_id=results["meeting_set"].id,
                    organization_id=romashka.id,
                    person_id=anna.id,
                    team_id=a.id,
                    author_id=staff_a.id,
                ),
                Interaction(
                    kind_id=kinds["meeting"].id,
                    occurred_at=now - timedelta(days=3),
                    subject="Встреча в офисе клиента",
                    body="Показали каталог. Нужен расчёт на 40 позиций.",
                    result_id=results["meeting_held"].id,
                    organization_id=romashka.id,
                    team_id=a.id,
                    author_id=staff_a.id,
                ),
                Interaction(
                    kind_id=kinds["email_in"].id,
                    occurred_at=mail1.sent_at,
                    subject=mail1.subject,
                    organization_id=romashka.id,
                    team_id=a.id,
                    mail_id=mail1.id,
                    source="imap",
                ),
                Interaction(
                    kind_id=kinds["email_out"].id,
                    occurred_at=mail2.sent_at,
                    subject=mail2.subject,
                    organization_id=romashka.id,
                    team_id=a.id,
                    mail_id=mail2.id,
                    source="imap",
                ),
                Interaction(
                    kind_id=kinds["email_in"].id,
                    occurred_at=mail_b.sent_at,
                    subject=mail_b.subject,
                    organization_id=beta.id,
                    team_id=b.id,
                    mail_id=mail_b.id,
                    source="imap",
                ),
            ]
        )
        s.add_all(
            [
                Task(
                    title="Позвонить по КП",
                    due_at=now + timedelta(days=1),
                    kind_id=kinds["call_out"].id,
                    responsible_id=staff_a.id,
                    organization_id=romashka.id,
                    team_id=a.id,
                ),
                Task(
                    title="Отправить договор",
                    due_at=now - timedelta(days=1),
                    responsible_id=staff_a.id,
                    organization_id=romashka.id,
                    team_id=a.id,
                ),
            ]
        )
        s.add(
            Deal(
                title="Поставка оборудования",
                organization_id=romashka.id,
                person_id=anna.id,
                pipeline_id=pipeline.id,
                stage_id=stages["Proposal sent"].id,
                amount=Decimal("980000"),
                responsible_id=staff_a.id,
                team_id=a.id,
                expected_close_on=(now + timedelta(days=20)).date(),
            )
        )
        s.add_all(
            [
                StoredFile(
                    organization_id=romashka.id,
                    filename="Договор поставки.pdf",
                    content_type="application/pdf",
                    size=245_000,
                    sha256="0" * 64,
                    uploaded_by_id=staff_a.id,
                ),
                StoredFile(
                    mail_id=mail1.id,
                    filename="КП Ромашка.xlsx",
                    content_type="application/vnd.ms-excel",
                    size=48_200,
                    sha256="1" * 64,
                ),
                Comment(organization_id=romashka.id, author_id=staff_a.id, body="ЛПР — Анна, звонить после 11."),
            ]
        )
    return demo
