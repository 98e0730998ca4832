"""The demo data as a plan: plain, deterministic data built from a seed and a point in time.

Building the plan is pure (no database), so the same seed and time give the same clients,
people, deals, interactions and tasks, and a test can compare two plans. ``core.demo.load``
then writes the plan through the core services. Records refer to each other by their index
in the plan, users by e-mail, stages by their place in the default pipeline (the n-th open
stage, or the won / lost one), so the plan does not depend on database ids.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from core.demo import names as N
from core.models import Role
from core.normalize import name_key
from core.work.clock import WORK_TZ

DEFAULT_SEED = 20250301
TEAMS = {
    "msk": ("Продажи Москва", "Sales Moscow"),
    "spb": ("Продажи Санкт-Петербург", "Sales St Petersburg"),
    "corp": ("Корпоративные клиенты", "Key accounts: the regions and foreign clients"),
}


@dataclass(frozen=True)
class DemoUser:
    """A demo user with a known password."""

    email: str
    full_name: str
    role: Role
    teams: tuple[str, ...]
    password: str


USERS = (
    DemoUser("anna@example.com", "Анна Смирнова", Role.staff, ("msk",), "anna-demo-2025"),
    DemoUser("boris@example.com", "Борис Кузнецов", Role.staff, ("msk",), "boris-demo-2025"),
    DemoUser("maria@example.com", "Мария Волкова", Role.manager, ("msk",), "maria-demo-2025"),
    DemoUser("dmitry@example.com", "Дмитрий Соколов", Role.staff, ("spb",), "dmitry-demo-2025"),
    DemoUser("elena@example.com", "Елена Попова", Role.manager, ("spb", "corp"), "elena-demo-2025"),
    DemoUser("sergey@example.com", "Сергей Лебедев", Role.staff, ("corp",), "sergey-demo-2025"),
    DemoUser("olga@example.com", "Ольга Новикова", Role.marketer, ("msk", "spb", "corp"), "olga-demo-2025"),
    DemoUser("igor@example.com", "Игорь Морозов", Role.auditor, (), "igor-demo-2025"),
)
ADMIN = DemoUser("admin@example.com", "Administrator", Role.admin, ("msk",), "admin-demo-2025")
RESPONSIBLE = {
    "msk": (("anna@example.com", 45), ("boris@example.com", 40), ("maria@example.com", 15)),
    "spb": (("dmitry@example.com", 70), ("elena@example.com", 30)),
    "corp": (("sergey@example.com", 70), ("elena@example.com", 30)),
}
TEAM_WEIGHTS = (("msk", 45), ("spb", 30), ("corp", 25))


@dataclass
class OrgPlan:
    team: str
    name: str
    brand: str
    industry: str
    address: str
    website: str
    phones: list[str]
    emails: list[str]
    domains: list[str]
    potential: int | None
    tags: list[str]
    status: str
    responsible: str
    first_contact_on: date
    english: bool


@dataclass
class PersonPlan:
    first_name: str
    middle_name: str
    last_name: str
    position: str
    emails: list[str]
    phones: list[str]
    orgs: list[int]


@dataclass
class DealPlan:
    org: int
    person: int | None
    title: str
    amount: Decimal
    created_at: datetime
    moves: list[tuple[str, int, datetime]]
    """(``open``, n) for the n-th open stage, (``won``, 0) or (``lost``, 0), with the time of the move."""
    expected_close_on: date
    responsible: str
    lost_reason: str = ""


@dataclass
class InteractionPlan:
    org: int
    person: int | None
    deal: int | None
    kind: str
    result: str | None
    refusal_reason: str
    subject: str
    occurred_at: datetime
    author: str
    source: str = "manual"
    external_id: str | None = None


@dataclass
class TaskPlan:
    title: str
    kind: str | None
    due_at: datetime
    responsible: str
    org: int | None = None
    person: int | None = None
    deal: int | None = None
    priority: str = "normal"
    team: str | None = None


@dataclass
class DemoPlan:
    """Everything the demo loads, in the order it is loaded."""

    orgs: list[OrgPlan] = field(default_factory=list)
    persons: list[PersonPlan] = field(default_factory=list)
    deals: list[DealPlan] = field(default_factory=list)
    interactions: list[InteractionPlan] = field(default_factory=list)
    tasks: list[TaskPlan] = field(default_factory=list)


class _Builder:
    def __init__(self, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.now = now.astimezone(UTC)
        self.today = self.now.astimezone(WORK_TZ).date()
        self.keys: set[str] = set()
        self.phones: set[str] = set()
        self.emails: set[str] = set()
        self.domains: set[str] = set()
        self.plan = DemoPlan()
        self.org_persons: dict[int, list[int]] = {}

    def pick(self, weighted: tuple[tuple[object, int], ...]) -> object:
        values, weights = zip(*weighted, strict=True)
        return self.rng.choices(values, weights=weights)[0]

    def working_time(self, day: date, start_hour: int = 9, end_hour: int = 19) -> datetime:
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        at = time(self.rng.randrange(start_hour, end_hour), self.rng.choice((0, 15, 30, 45)))
        return datetime.combine(day, at, tzinfo=WORK_TZ).astimezone(UTC)

    def phone(self, area: str, style: int | None = None) -> str:
        while True:
            digits = f"{self.rng.randrange(100, 1000)}{self.rng.randrange(1000, 10000)}"
            if (area + digits) not in self.phones:
                self.phones.add(area + digits)
                break
        a, b, c, d = area, digits[:3], digits[3:5], digits[5:]
        styles = (
            f"+7 ({a}) {b}-{c}-{d}",
            f"8 {a} {b} {c} {d}",
            f"+7{a}{b}{c}{d}",
            f"8({a}){b}-{c}-{d}",
            f"+7 {a} {b}-{c}-{d}",
        )
        return styles[self.rng.randrange(len(styles)) if style is None else style]

    def email(self, local: str, domain: str) -> str:
        candidate, n = f"{local}@{domain}", 1
        while candidate in self.emails:
            n += 1
            candidate = f"{local}{n}@{domain}"
        self.emails.add(candidate)
        return candidate

    def org_name(self, english: bool) -> tuple[str, str, str]:
        while True:
            if english:
                root = self.rng.choice(N.EN_ROOTS)
                core = f"{root} {self.rng.choice(N.EN_SUFFIXES)}"
                name = f"{core} {self.rng.choice(N.EN_FORMS)}"
            else:
                root = self.rng.choice(N.RU_ROOTS)
                core = f"{root}{self.rng.choice(N.RU_SUFFIXES)}"
                form = self.rng.choice(N.RU_FORMS)
                name = f"{form} «{core}»" if form != "ИП" else f"ИП {self.rng.choice(N.RU_LAST)} ({core})"
            if name_key(name) not in self.keys:
                self.keys.add(name_key(name))
                return name, core, root

    def org(self) -> OrgPlan:
        team = str(self.pick(TEAM_WEIGHTS))
        english = self.rng.random() < 0.2
        name, core, _ = self.org_name(english)
        brand = ""
        if self.rng.random() < 0.25 and name_key(core) not in self.keys:
            brand = core
            self.keys.add(name_key(core))
        tld = self.rng.choice((".com", ".de", ".co.uk")) if english else self.rng.choice((".ru", ".ru", ".рф", ".com"))
        base = N.translit(core) or "company"
        domain = base + (tld if tld != ".рф" else ".ru")
        n = 1
        while domain in self.domains:
            n += 1
            domain = f"{base}{n}{tld if tld != '.рф' else '.ru'}"
        self.domains.add(domain)
        foreign = english and team == "corp" and self.rng.random() < 0.6
        if foreign:
            city, pattern, streets = self.rng.choice(N.FOREIGN)
            number = self.rng.randrange(1000)
            while pattern.format(number) in self.phones:
                number = self.rng.randrange(1000)
            self.phones.add(pattern.format(number))
            phones = [pattern.format(number)]
            address = f"{city}, {self.rng.randrange(1, 200)} {self.rng.choice(streets)}"
        else:
            city, areas, streets = self.rng.choice(N.CITIES[team])
            phones = [self.phone(self.rng.choice(areas)) for _ in range(self.rng.choice((1, 1, 1, 2)))]
            address = f"г. {city}, {self.rng.choice(streets)}, д. {self.rng.randrange(1, 120)}"
            if self.rng.random() < 0.5:
                address += f", офис {self.rng.randrange(1, 900)}"
        emails = [self.email(self.rng.choice(("info", "office", "sales", "zakaz")), domain)]
        if self.rng.random() < 0.3:
            emails.append(self.email("buh", domain))
        industry = self.rng.choice(N.EN_INDUSTRIES if english else N.RU_INDUSTRIES)
        potential = None if self.rng.random() < 0.15 else self.rng.randint(1, 5)
        tags = self.rng.sample(N.TAGS, self.rng.choice((0, 0, 1, 1, 2)))
        status = str(self.pick(N.STATUSES))
        responsible = str(self.pick(RESPONSIBLE[team]))
        days = self.rng.randrange(5, 120) if status == "lead" else self.rng.randrange(370, 1500)
        first_contact = self.today - timedelta(days=days)
        website = self.rng.choice((f"https://www.{domain}", domain, ""))
        return OrgPlan(
            team, name, brand, industry, address, website, phones, emails, [domain], potential, tags, status,
            responsible, first_contact, english,
        )  # fmt: skip

    def person(self, org_index: int) -> PersonPlan:
        org = self.plan.orgs[org_index]
        while True:
            if org.english:
                first, middle, last = self.rng.choice(N.EN_FIRST), "", self.rng.choice(N.EN_LAST)
                position = self.rng.choice(N.EN_POSITIONS)
            else:
                female = self.rng.random() < 0.5
                first = self.rng.choice(N.RU_FEMALE if female else N.RU_MALE)
                middle = self.rng.choice(N.RU_MIDDLE_F if female else N.RU_MIDDLE_M)
                last = self.rng.choice(N.RU_LAST) + ("а" if female else "")
                position = self.rng.choice(N.RU_POSITIONS)
            key = f"{org_index}:{name_key(' '.join((first, middle, last)))}"
            if key not in self.keys:
                self.keys.add(key)
                break
        local = N.translit(f"{first[0]}.{last}".replace(".", "-")).replace("-", ".", 1)
        emails = [self.email(local, org.domains[0])] if self.rng.random() < 0.85 else []
        if self.rng.random() < 0.1:
            emails.append(self.email(N.translit(last).replace("-", "") + str(self.rng.randrange(70, 99)), "mail.ru"))
        phones = [self.phone(f"9{self.rng.randrange(10, 99)}")] if self.rng.random() < 0.7 else []
        return PersonPlan(first, middle, last, position, emails, phones, [org_index])

    def deal(self) -> DealPlan:
        candidates = [i for i, o in enumerate(self.plan.orgs) if o.status != "inactive"]
        org = self.rng.choice(candidates)
        people = self.org_persons.get(org, [])
        created = self.now - timedelta(days=self.rng.uniform(20, 330))
        final = self.pick(((0, 8), (1, 12), (2, 15), (3, 15), (4, 15), (5, 10), ("won", 15), ("lost", 10)))
        if final == "won":
            path = [("open", i) for i in range(self.rng.randint(3, 5) + 1) if i == 0 or self.rng.random() < 0.7]
            path.append(("won", 0))
        elif final == "lost":
            path = [("open", i) for i in range(self.rng.randint(0, 4) + 1) if i == 0 or self.rng.random() < 0.7]
            path.append(("lost", 0))
        else:
            k = int(final)  # type: ignore[call-overload]
            path = [("open", i) for i in range(k + 1) if i in (0, k) or self.rng.random() < 0.7]
        end = self.now - timedelta(days=2)
        times = sorted(created + (end - created) * self.rng.random() for _ in path[1:])
        moves = [(kind, n, at) for (kind, n), at in zip(path, [created, *times], strict=True)]
        closed = final in ("won", "lost")
        if closed:
            close_on = moves[-1][2].astimezone(WORK_TZ).date()
        elif self.rng.random() < 0.12:
            close_on = self.today - timedelta(days=self.rng.randrange(1, 30))
        else:
            close_on = self.today + timedelta(days=self.rng.randrange(7, 150))
        return DealPlan(
            org=org,
            person=self.rng.choice(people) if people and self.rng.random() < 0.7 else None,
            title=self.rng.choice(N.PRODUCTS),
            amount=Decimal(self.rng.randint(5, 500) * 10_000),
            created_at=created,
            moves=moves,
            expected_close_on=close_on,
            responsible=self.plan.orgs[org].responsible,
            lost_reason=self.rng.choice(N.REFUSALS) if final == "lost" else "",
        )

    def author(self, org: OrgPlan) -> str:
        if self.rng.random() < 0.85:
            return org.responsible
        return str(self.pick(RESPONSIBLE[org.team]))

    def interaction(self, index: int, org_index: int) -> InteractionPlan:
        org = self.plan.orgs[org_index]
        people = self.org_persons.get(org_index, [])
        kind = str(self.pick(N.KIND_WEIGHTS))
        day = self.today - timedelta(days=self.rng.randrange(0, 365))
        at = min(self.working_time(day), self.now - timedelta(minutes=5))
        deal = None
        result: str | None
        if kind in ("note", "email_in"):
            result = self.rng.choice((None, "continue")) if kind == "email_in" else None
        else:
            result = self.pick(N.RESULT_WEIGHTS)  # type: ignore[assignment]
        open_deals = [
            i
            for i, d in enumerate(self.plan.deals)
            if d.org == org_index and d.created_at < at and (d.moves[-1][0] == "open" or d.moves[-1][2] > at)
        ]
        if open_deals and self.rng.random() < 0.5:
            deal = self.rng.choice(open_deals)
            result = self.rng.choice(("continue", None)) if result is not None else None
        source, external = "manual", None
        if kind in ("email_in", "email_out") and self.rng.random() < 0.5:
            source, external = "imap", f"<demo-{index}@mail.example>"
        elif kind == "chat":
            source, external = "telegram", f"demo-update-{index}"
        return InteractionPlan(
            org=org_index,
            person=self.rng.choice(people) if people and self.rng.random() < 0.6 else None,
            deal=deal,
            kind=kind,
            result=result,
            refusal_reason=self.rng.choice(N.REFUSALS) if result == "refused" else "",
            subject=self.rng.choice(N.SUBJECTS[kind]),
            occurred_at=at,
            author=self.author(org),
            source=source,
            external_id=external,
        )

    def closing_interactions(self) -> None:
        for i, deal in enumerate(self.plan.deals):
            outcome, _, at = deal.moves[-1]
            if outcome == "open":
                continue
            org = self.plan.orgs[deal.org]
            won = outcome == "won"
            self.plan.interactions.append(
                InteractionPlan(
                    org=deal.org,
                    person=deal.person,
                    deal=i,
                    kind="meeting" if won else "call_out",
                    result="contract_signed" if won else "refused",
                    refusal_reason="" if won else deal.lost_reason,
                    subject="Подписание договора" if won else "Клиент отказался",
                    occurred_at=at,
                    author=deal.responsible if self.rng.random() < 0.9 else self.author(org),
                )
            )

    def due(self, bucket: str) -> datetime:
        if bucket == "overdue":
            return self.working_time(self.today - timedelta(days=self.rng.randrange(1, 22)))
        if bucket == "today":
            day = self.today
            at = time(self.rng.randrange(9, 19), self.rng.choice((0, 30)))
            return datetime.combine(day, at, tzinfo=WORK_TZ).astimezone(UTC)
        day = self.today + timedelta(days=self.rng.randrange(1, 31))
        if day.weekday() >= 5:
            day += timedelta(days=7 - day.weekday())
        return self.working_time(day, 9, 18)

    def next_contacts(self) -> None:
        for i, org in enumerate(self.plan.orgs):
            if org.status == "inactive" or self.rng.random() > 0.85:
                continue
            bucket = str(self.pick((("overdue", 12), ("today", 8), ("future", 80))))
            kind = str(self.pick((("call_out", 70), ("meeting", 15), ("email_out", 10), ("demo", 5))))
            open_deals = [j for j, d in enumerate(self.plan.deals) if d.org == i and d.moves[-1][0] == "open"]
            people = self.org_persons.get(i, [])
            self.plan.tasks.append(
                TaskPlan(
                    title=f"{N.TASK_TITLES[kind]}: {org.brand or org.name}",
                    kind=kind,
                    due_at=self.due(bucket),
                    responsible=org.responsible,
                    org=i,
                    person=self.rng.choice(people) if people and self.rng.random() < 0.5 else None,
                    deal=self.rng.choice(open_deals) if open_deals and self.rng.random() < 0.5 else None,
                    priority=str(self.pick((("normal", 70), ("high", 15), ("low", 15)))),
                )
            )

    def top_up(self) -> None:
        """Every user gets at least two tasks today and one overdue, so "My day" is never empty."""
        today_start = datetime.combine(self.today, time(0), tzinfo=WORK_TZ).astimezone(UTC)
        today_end = today_start + timedelta(days=1)
        for user in (ADMIN, *USERS):
            mine = [t for t in self.plan.tasks if t.responsible == user.email]
            today = sum(today_start <= t.due_at < today_end for t in mine)
            overdue = sum(t.due_at < today_start for t in mine)
            needs = ["today"] * max(0, 2 - today) + ["overdue"] * max(0, 1 - overdue)
            orgs = [
                i
                for i, o in enumerate(self.plan.orgs)
                if o.team in user.teams and user.role in (Role.staff, Role.manager)
            ]
            for bucket in needs:
                if orgs:
                    i = self.rng.choice(orgs)
                    org = self.plan.orgs[i]
                    title = f"{N.TASK_TITLES['call_out']}: {org.brand or org.name}"
                    self.plan.tasks.append(TaskPlan(title, "call_out", self.due(bucket), user.email, org=i))
                else:
                    title = self.rng.choice(N.PERSONAL_TASKS)
                    team = user.teams[0] if user.teams else "msk"
                    self.plan.tasks.append(TaskPlan(title, None, self.due(bucket), user.email, team=team))


def build_plan(*, seed: int = DEFAULT_SEED, orgs: int = 300, now: datetime) -> DemoPlan:
    """The demo data for ``orgs`` organizations (persons, deals and interactions scale with it)."""
    b = _Builder(seed, now)
    for _ in range(orgs):
        b.plan.orgs.append(b.org())
    for i in range(len(b.plan.orgs)):
        b.plan.persons.append(b.person(i))
        b.org_persons.setdefault(i, []).append(len(b.plan.persons) - 1)
    weights = [(o.potential or 2) + (3 if o.status in ("active", "partner") else 0) for o in b.plan.orgs]
    while len(b.plan.persons) < round(orgs * 5 / 3):
        i = b.rng.choices(range(len(b.plan.orgs)), weights=weights)[0]
        b.plan.persons.append(b.person(i))
        b.org_persons.setdefault(i, []).append(len(b.plan.persons) - 1)
    for p, person in enumerate(b.plan.persons):
        if b.rng.random() < 0.05:
            home = b.plan.orgs[person.orgs[0]]
            same_team = [i for i, o in enumerate(b.plan.orgs) if o.team == home.team and i != person.orgs[0]]
            other = b.rng.choice(same_team) if same_team else None
            key = f"{other}:{name_key(' '.join((person.first_name, person.middle_name, person.last_name)))}"
            if other is not None and key not in b.keys:
                b.keys.add(key)
                person.orgs.append(other)
                b.org_persons.setdefault(other, []).append(p)
    for _ in range(round(orgs * 0.4)):
        b.plan.deals.append(b.deal())
    b.closing_interactions()
    activity = [
        {"lead": 1.0, "active": 3.0, "partner": 3.0, "inactive": 0.5}[o.status] * ((o.potential or 2) + 1)
        for o in b.plan.orgs
    ]
    target = round(orgs * 20 / 3)
    index = 0
    while len(b.plan.interactions) < target:
        org_index = b.rng.choices(range(len(b.plan.orgs)), weights=activity)[0]
        b.plan.interactions.append(b.interaction(index, org_index))
        index += 1
    b.plan.interactions.sort(key=lambda x: x.occurred_at)
    b.next_contacts()
    b.top_up()
    return b.plan
