"""Organization and person pages: lists with search, filters, sorting and pages; forms; duplicates; the card."""

from __future__ import annotations

import html
import re
from decimal import Decimal

from sqlalchemy import func, select

from core.actor import Actor
from core.clients.organizations import create_organization
from core.models import AuditEntry, ContactPoint, Organization, Person, User
from tests.web.conftest import WebClient


def org_id_from(location: str) -> int:
    match = re.fullmatch(r"/organizations/(\d+)", location)
    assert match, location
    return int(match.group(1))


def test_create_an_organization_with_several_phones_and_emails(web, db, demo):
    ivan = web("ivan@ourcompany.test")
    r = ivan.post(
        "/organizations/new",
        {
            "name": "ООО «Василёк»",
            "phones": ["8 (495) 111-22-33", "", "+7 916 222-33-44"],
            "emails": ["Sales@Vasilek.example", "boss@vasilek.example"],
            "email_domains": ["vasilek.example"],
            "team_id": str(demo.teams["A"]),
            "potential": "3",
            "deal_amount": "1 500 000,50",
            "tags": "опт, новый",
            "status": "lead",
        },
    )
    assert r.status_code == 303, r.text
    org_id = org_id_from(r.headers["location"])
    card = ivan.get(r.headers["location"])
    assert "Organization “ООО «Василёк»” created." in card.text
    with db.session() as s:
        org = s.get(Organization, org_id)
        assert sorted(p.value for p in org.points if p.kind == "phone") == ["+74951112233", "+79162223344"]
        assert sorted(p.value for p in org.points if p.kind == "email") == [
            "boss@vasilek.example",
            "sales@vasilek.example",
        ]
        assert org.deal_amount == Decimal("1500000.50") and org.potential == 3 and org.status == "lead"
        assert sorted(t.name for t in org.tags) == ["новый", "опт"]
        assert org.responsible_id == demo.users["a"]
        assert s.scalar(select(AuditEntry.source).where(AuditEntry.entity_id == org_id)) == "ui"


def test_errors_are_shown_under_the_fields_and_nothing_typed_is_lost(web, demo):
    ivan = web("ivan@ourcompany.test")
    r = ivan.post("/organizations/new", {"name": "Гвоздика", "phones": ["+7 495 000-00-01", "12"]})
    assert r.status_code == 422
    assert 'value="Гвоздика"' in r.text and 'value="+7 495 000-00-01"' in r.text
    assert "“12” cannot be a phone number: check the digits and the country code." in r.text
    r = ivan.post("/organizations/new", {"name": "Гвоздика", "emails": ["ok@x.example", "not-an-email"]})
    assert r.status_code == 422
    row = r.text[r.text.index('value="not-an-email"') - 400 : r.text.index('value="not-an-email"') + 600]
    assert "is not a valid e-mail address" in row and 'aria-invalid="true"' in row
    r = ivan.post("/organizations/new", {"name": "", "potential": "9", "deal_amount": "много"})
    assert r.status_code == 422
    assert r.text.count('class="field-error"') >= 3
    assert "The form was not saved." in r.text


def test_a_duplicate_is_refused_with_a_link_to_the_existing_record(web, demo):
    ivan = web("ivan@ourcompany.test")
    romashka = demo.orgs["romashka"]
    r = ivan.post("/organizations/new", {"name": "Совсем другая", "phones": ["84951234567"]})
    assert r.status_code == 422
    assert "This client is already in crmhub" in r.text
    assert f'href="/organizations/{romashka}"' in r.text and "ООО «Ромашка»" in r.text
    r = ivan.post("/organizations/new", {"name": "ромашка"})
    assert f'href="/organizations/{romashka}"' in r.text
    hidden = ivan.post("/organizations/new", {"name": "Новая", "phones": ["+7 495 777 88 99"]})
    assert hidden.status_code == 422
    assert "Госзаказ" in hidden.text and f'href="/organizations/{demo.orgs["beta"]}"' not in hidden.text
    assert "Бета Госзакупки" not in hidden.text


def test_edit_and_delete_an_organization(web, db, demo):
    ivan = web("ivan@ourcompany.test")
    lutik = demo.orgs["lutik"]
    form = ivan.get(f"/organizations/{lutik}/edit")
    assert 'value="АО «Лютик»"' in form.text and 'value="8 812 555-01-02"' in form.text
    r = ivan.post(
        f"/organizations/{lutik}/edit",
        {"name": "АО «Лютик-2»", "phones": ["8 812 555-01-02"], "team_id": str(demo.teams["A"]), "status": "partner"},
    )
    assert r.status_code == 303
    history = ivan.get(f"/organizations/{lutik}?tab=history").text
    assert "АО «Лютик-2»" in history and "АО «Лютик»" in history and "changed" in history
    assert ivan.post(f"/organizations/{lutik}/delete").status_code == 303
    assert ivan.get(f"/organizations/{lutik}").status_code == 404
    with db.session() as s:
        assert s.get(Organization, lutik) is None


def test_create_a_person_in_an_organization(web, db, demo):
    ivan = web("ivan@ourcompany.test")
    romashka = demo.orgs["romashka"]
    form = ivan.get(f"/persons/new?org={romashka}")
    assert f"ООО «Ромашка» · #{romashka}" in form.text
    options = ivan.get("/organizations/options?org=ромаш").text
    assert f'value="ООО «Ромашка» · #{romashka}"' in options
    r = ivan.post(
        "/persons/new",
        {
            "last_name": "Сидоров",
            "first_name": "Пётр",
            "org": [f"ООО «Ромашка» · #{romashka}", "", "АО «Лютик»"],
            "org_role": ["Инженер", "", "Консультант"],
            "phones": ["+7 916 555-44-33"],
        },
    )
    assert r.status_code == 303, r.text
    person_id = int(r.headers["location"].rsplit("/", 1)[1])
    with db.session() as s:
        person = s.get(Person, person_id)
        assert {(e.organization_id, e.role) for e in person.employments} == {
            (romashka, "Инженер"),
            (demo.orgs["lutik"], "Консультант"),
        }
        assert person.team_id == demo.teams["A"]
    tab = ivan.get(f"/organizations/{romashka}?tab=persons").text
    assert "Пётр Сидоров" in tab and "Инженер" in tab
    dup = ivan.post("/persons/new", {"first_name": "Двойник", "phones": ["8 916 555 44 33"]})
    assert dup.status_code == 422 and f'href="/persons/{person_id}"' in dup.text
    unknown = ivan.post("/persons/new", {"last_name": "Никто", "org": ["Несуществующая"], "org_role": [""]})
    assert unknown.status_code == 422 and "No such organization among those you can see." in unknown.text


def test_list_search_filters_sorting_and_pages(web, db, demo):
    with db.session() as s:
        actor = Actor.of(s.get(User, demo.users["a"]))
        for n in range(1, 31):
            create_organization(
                s, actor=actor, name=f"Фирма {n:02d}", potential=n % 5 + 1, deal_amount=Decimal(n), status="lead"
            )
    ivan = web("ivan@ourcompany.test")
    first = ivan.get("/organizations").text
    assert "1–25 of 32" in first and "Фирма 22" in first and "Фирма 30" not in first
    second = ivan.get("/organizations?page=2").text
    assert "26–32 of 32" in second and "Фирма 30" in second
    by_amount = ivan.get("/organizations?sort=-deal_amount").text
    assert by_amount.index("ООО «Ромашка»") < by_amount.index("Фирма 30") < by_amount.index("Фирма 29")
    assert 'href="/organizations?sort=deal_amount"' in by_amount  # a second click reverses
    filtered = ivan.get("/organizations?potential=5&status=lead").text
    assert "Фирма 04" in filtered and "Фирма 05" not in filtered and "ООО «Ромашка»" not in filtered
    assert ivan.get("/organizations?status=active").text.count('class="row-link"') == 1
    assert "ООО «Ромашка»" in ivan.get("/organizations?tag=vip").text
    assert "ООО «Ромашка»" in ivan.get("/organizations?q=+7 (495) 123-45-67").text
    stale = ivan.get("/organizations?days=30").text
    assert "Фирма 01" in stale
    nothing = ivan.get("/organizations?q=несуществующее")
    assert "Nothing found" in nothing.text and "Clear search and filters" in nothing.text
    junk = ivan.get("/organizations?page=abc&per=7&sort=evil&potential=99&team=x")
    assert junk.status_code == 200


def test_instant_search_returns_only_the_table(web, demo):
    ivan = web("ivan@ourcompany.test")
    r = ivan.http.get("/organizations?q=ромаш", headers={"HX-Request": "true", "HX-Target": "results"})
    assert r.status_code == 200
    assert "<html" not in r.text and "ООО «Ромашка»" in r.text and "АО «Лютик»" not in r.text
    assert "HX-Request" in r.headers["vary"]
    persons = ivan.http.get("/persons?q=Кузнецова", headers={"HX-Request": "true", "HX-Target": "results"})
    assert "<html" not in persons.text and "Анна Кузнецова" in persons.text
    tab = ivan.http.get(
        f"/organizations/{demo.orgs['romashka']}?tab=deals", headers={"HX-Request": "true", "HX-Target": "card-tabs"}
    )
    assert "<html" not in tab.text and "Поставка оборудования" in tab.text and 'class="tab active"' in tab.text


def test_card_summary_shows_what_to_read_before_a_call(web, demo):
    ivan = web("ivan@ourcompany.test")
    card = ivan.get(f"/organizations/{demo.orgs['romashka']}").text
    summary = card[card.index('class="summary panel"') : card.index('id="card-tabs"')]
    for text in ("Proposal sent", "60%", "RUB\u00a01,250,000.50", "Иван Петров", "Позвонить по КП", "overdue"):
        assert text in summary, text
    assert summary.count("<li") >= 3 + 2
    person = ivan.get(f"/persons/{demo.persons['anna']}").text
    assert "Директор по закупкам" in person and "ООО «Ромашка»" in person
    orgs_tab = ivan.get(f"/persons/{demo.persons['anna']}?tab=organizations").text
    assert "ЛПР, закупки" in orgs_tab and "main place of work" in orgs_tab


def test_files_link_to_the_download_and_empty_tabs_say_what_to_do(web, db, demo):
    ivan = web("ivan@ourcompany.test")
    files = ivan.get(f"/organizations/{demo.orgs['romashka']}?tab=files").text
    assert "Договор поставки.pdf" in files and "/api/v1/files/" in files
    lead = ivan.get(f"/organizations/{demo.orgs['lutik']}?tab=tasks").text
    assert "АО «Лютик»" in lead and "No tasks" not in lead  # a new lead came with its first call planned
    with db.session() as s:
        quiet = create_organization(s, actor=Actor.of(s.get(User, demo.users["a"])), name="Тихая гавань").id
    empty = ivan.get(f"/organizations/{quiet}?tab=tasks").text
    assert "No tasks" in empty and "date of the next one" in empty
    with db.session() as s:
        assert s.scalar(select(ContactPoint.value).where(ContactPoint.organization_id == demo.orgs["lutik"]))


def test_export_buttons_download_what_the_list_shows(web, demo):
    ivan = web("ivan@ourcompany.test")
    page = ivan.get("/organizations?q=ромашка&potential=4").text
    url = html.unescape(re.search(r'href="(/api/v1/export/organizations\.csv[^"]*)"', page).group(1))
    assert "q=" in url and "potential=4" in url
    csv = ivan.http.get(url)
    assert csv.status_code == 200
    assert "Ромашка" in csv.text and "Лютик" not in csv.text and "Бета" not in csv.text
    persons = ivan.get("/persons").text
    assert "/api/v1/export/persons.csv" in persons and "/api/v1/export/persons.vcf" in persons


def test_a_save_is_committed_before_the_browser_is_redirected(app, db, demo):
    """The browser follows the redirect at once: the card it asks for must already see the save."""
    seen: list[int] = []

    async def probe(scope, receive, send):  # noqa: ANN001, ANN202
        async def watching_send(message):  # noqa: ANN001, ANN202
            if message["type"] == "http.response.start" and scope["path"] == "/organizations/new":
                with db.session() as s:
                    seen.append(s.scalar(select(func.count()).where(Organization.name == "Фиксация")))
            await send(message)

        await app(scope, receive, watching_send)

    client = WebClient(probe).enter(db, "ivan@ourcompany.test")
    assert client.post("/organizations/new", {"name": "Фиксация"}).status_code == 303
    assert seen == [1]
