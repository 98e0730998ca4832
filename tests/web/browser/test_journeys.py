"""What a salesperson does in a real browser: find a client by phone, open the card, add clients, log a call
with the next contact, work through My day and the calendar, merge duplicates, move deals on the board."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.mail.corpus import mail
from tests.peers.dovecot_fixtures import dovecot  # noqa: F401
from tests.web.browser.conftest import PHONE, login, shot

pytestmark = pytest.mark.browser


def test_find_a_client_by_a_phone_typed_another_way_and_open_the_card(new_page, server):
    page = new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, "ivan@ourcompany.test")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "global-q"
    page.keyboard.type("8 (495) 123 45 67")
    hit = page.locator("#search-hits a.hit").first
    hit.wait_for()
    assert "ООО «Ромашка»" in hit.inner_text()
    shot(page, "desktop-en-search-dropdown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/organizations/{server.demo.orgs['romashka']}")
    expect(page.locator(".summary").get_by_text("Позвонить по КП")).to_be_visible()

    page.get_by_role("link", name=re.compile("^Interactions")).click()
    page.wait_for_url("**?tab=interactions")
    page.locator(".thread-msg summary").first.click()
    frame = page.frame_locator(f"#mail-{server.demo.mails['offer']} iframe")
    frame.get_by_text("Добрый день, Анна!").wait_for()
    assert page.locator(f"#mail-{server.demo.mails['offer']} iframe").get_attribute("src").endswith("/body")
    page.locator(f"#mail-{server.demo.mails['offer']}").get_by_role("link", name="Show images").click()
    shown = page.locator(f"#mail-{server.demo.mails['offer']} iframe")
    expect(shown).to_have_attribute("src", re.compile(r"/body\?images=1$"))
    expect(page.locator(f"#mail-{server.demo.mails['offer']}").get_by_role("link", name="Show images")).to_have_count(0)
    assert dialogs == []  # nothing in the mail ran


def test_create_an_organization_then_be_stopped_by_its_duplicate(new_page, server):
    page = new_page(user="ivan@ourcompany.test")
    page.goto("/organizations")
    page.get_by_role("link", name="New organization").first.click()
    page.wait_for_url("**/organizations/new")
    page.wait_for_load_state("load")
    page.fill("#f-name", "ООО «Браузерная»")
    phones = page.locator("fieldset", has=page.locator("legend", has_text="Phones"))
    phones.locator("input").first.fill("+7 (343) 200-10-20")
    phones.get_by_role("button", name="Add a phone").click()
    expect(phones.locator("input")).to_have_count(2)
    phones.locator("input").nth(1).fill("8 343 200 10 21")
    page.locator("#f-deal_amount").fill("250000")
    page.locator("#f-deal_amount").press("Enter")
    page.wait_for_url(re.compile(r"/organizations/\d+$"))
    created_url = page.url
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(".summary").get_by_text("+7 343 200-10-21")).to_be_visible()

    page.goto("/organizations/new")
    page.fill("#f-name", "Совсем другое имя")
    page.locator("input[name=phones]").first.fill("83432001020")
    page.get_by_role("button", name="Create organization").click()
    warning = page.locator(".duplicate")
    warning.wait_for()
    shot(page, "desktop-en-duplicate-warning")
    assert "ООО «Браузерная»" in warning.inner_text()
    warning.locator("a.dup-link").click()
    page.wait_for_url(created_url)


def test_staff_cannot_reach_another_teams_client_by_list_search_or_address(new_page, server):
    page = new_page(user="ivan@ourcompany.test")
    page.goto("/organizations")
    page.fill("#list-q", "Бета")
    page.locator("#results").get_by_text("Nothing found").wait_for()
    page.fill("#global-q", "zakaz@beta.example")
    page.locator("#search-hits .hits-empty").wait_for()
    page.goto(f"/organizations/{server.demo.orgs['beta']}")
    assert page.locator("h1").inner_text() == "Page not found"
    assert "Госзакупки" not in page.content()
    page.goto(f"/persons/{server.demo.persons['boris']}")
    assert page.locator("h1").inner_text() == "Page not found"


def test_instant_search_sorting_and_the_address_stay_together(new_page, server):
    page = new_page(user="admin@ourcompany.test")
    page.goto("/organizations")
    rows = page.locator("#results a.row-link")
    page.fill("#list-q", "Компания 1")
    page.wait_for_url(re.compile(r"/organizations\?q=%D0%9A[^&]*$"))  # empty filter fields are not in the address
    expect(rows).to_have_count(10)
    page.get_by_role("link", name="Amount").click()
    page.wait_for_url(re.compile(r"sort=deal_amount"))
    page.get_by_role("link", name="Amount").click()
    page.wait_for_url(re.compile(r"sort=-deal_amount"))
    expect(rows.first).to_have_text("Компания 19")
    page.fill("#list-q", "Компания 2")
    expect(rows.first).to_have_text("Компания 29")  # typing keeps the sort
    page.wait_for_url(re.compile(r"q=%D0%9A[^&]*2&sort=-deal_amount$"))
    page.reload()
    assert page.locator("#list-q").input_value() == "Компания 2"
    expect(rows.first).to_have_text("Компания 29")


def test_phone_menu_and_delete_asks_first(new_page, server):
    page = new_page(viewport=PHONE, user="ivan@ourcompany.test")
    page.goto("/organizations")
    assert not page.locator("#sidebar").is_visible()
    page.click("[data-toggle-nav]")
    page.locator("#sidebar").get_by_role("link", name="Contact persons").click()
    page.wait_for_url("**/persons")
    page.goto("/organizations/new")
    page.fill("#f-name", "На удаление")
    page.locator("#f-name").press("Enter")
    page.wait_for_url(re.compile(r"/organizations/\d+$"))
    card_url = page.url
    delete = page.get_by_role("button", name="Delete")
    page.once("dialog", lambda d: d.dismiss())
    delete.click()
    page.wait_for_timeout(300)
    expect(delete).to_be_visible()
    assert page.url == card_url
    page.once("dialog", lambda d: d.accept())
    delete.click()
    page.wait_for_url("**/organizations")
    assert "На удаление" in page.locator(".flash-success").inner_text()


def _sales_mailbox(dovecot) -> tuple[str, str]:  # noqa: ANN001
    """A fresh Dovecot user holding a thread with Anna of Romashka, its last message HTML with a script."""
    user, password = f"sales{secrets.token_hex(4)}@example.test", secrets.token_urlsafe(12)
    dovecot.add_user(user, password)
    html = (
        "<html><body><p>Договор подписан с нашей стороны.</p><script>alert('mail')</script>"
        "<img src='https://tracker.example.net/open.gif' alt='pixel'></body></html>"
    )
    thread = [
        mail(
            sender="Анна Кузнецова <anna@romashka.example>",
            to="admin@ourcompany.test",
            subject="Договор поставки",
            body="Анна, добрый день! Пришлите, пожалуйста, договор.",
            msgid="contract-1@romashka.example",
            date="Mon, 2 Mar 2026 10:00:00 +0300",
        ),
        mail(
            sender="Анна Кузнецова <anna@romashka.example>",
            to="admin@ourcompany.test",
            subject="Re: Договор поставки",
            body=html,
            msgid="contract-2@romashka.example",
            date="Mon, 2 Mar 2026 12:00:00 +0300",
            extra="In-Reply-To: <contract-1@romashka.example>\nReferences: <contract-1@romashka.example>",
            content_type="text/html; charset=utf-8",
        ),
    ]
    dovecot.append(user, "INBOX", thread)
    return user, password


def test_admin_connects_a_mailbox_fixes_the_password_runs_it_and_reads_the_thread(new_page, server, dovecot):
    user, password = _sales_mailbox(dovecot)
    page = new_page(user="admin@ourcompany.test")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    page.goto("/sync")
    page.get_by_role("link", name="Add an IMAP account").first.click()
    page.wait_for_url("**/sync/imap/new")
    page.wait_for_load_state("load")
    page.fill("#f-name", "Sales mailbox")
    page.fill("#f-host", dovecot.host)
    page.select_option("#f-security", "plain")
    page.fill("#f-port", str(dovecot.port))
    page.fill("#f-username", user)
    page.fill("#f-password", "a-wrong-password")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#test-result")).to_contain_text("The server refused the login")
    expect(page.locator("#f-password")).to_have_value("a-wrong-password")  # only the result box changed
    shot(page, "desktop-en-sync-test-failed")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/sync/accounts/\d+$"))
    account_id = int(page.url.rsplit("/", 1)[1])
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator(".check-result")).to_contain_text("The server refused the login")
    expect(page.locator(".page-head .pill")).to_have_text("Failing")

    page.get_by_role("link", name="Edit settings").click()
    page.wait_for_url(f"**/sync/accounts/{account_id}/edit")
    assert page.locator("#f-password").input_value() == ""
    page.fill("#f-password", password)
    page.press("#f-password", "Enter")
    page.wait_for_url(f"**/sync/accounts/{account_id}")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator(".check-result")).to_contain_text("Connection works.")
    page.get_by_role("button", name="Run now").click()
    expect(page.locator("#progress")).to_contain_text("Queued.")
    # the browser tests' server runs without a worker: run the queued job as `crmhub sync run` does
    subprocess.run(
        [sys.executable, "-m", "hub.cli.main", "sync", "run", str(account_id)],
        env=server.env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    expect(page.locator(".page-head .pill")).to_have_text("OK", timeout=30_000)  # the poll reloads the page
    expect(page.locator("table").first).to_contain_text("OK")
    shot(page, "desktop-en-sync-account")
    assert password not in page.content()

    page.goto(f"/organizations/{server.demo.orgs['romashka']}?tab=interactions")
    thread = page.locator("li.tl-thread", has_text="Договор поставки")
    expect(thread.locator(".thread-msg")).to_have_count(2)  # two messages, one conversation
    expect(thread.locator(".tl-meta")).to_contain_text("2 messages")
    frame = thread.locator(".thread-msg").last.frame_locator("iframe")  # the newest is open
    frame.get_by_text("Договор подписан с нашей стороны.").wait_for()
    assert frame.locator("script").count() == 0
    assert frame.locator("img[src^='http']").count() == 0
    shot(page, "desktop-en-sync-imported-thread")
    assert dialogs == []  # nothing in the mail ran


def test_log_a_call_plan_the_next_contact_and_find_it_in_my_day_and_the_calendar(new_page, server):
    page = new_page(timezone="Europe/Moscow")  # the zone the day plan counts days in, whatever the machine's
    login(page, "ivan@ourcompany.test")
    assert page.url.endswith("/my-day")  # the home page after login
    page.fill("#global-q", "8 (495) 123 45 67")
    page.locator("#search-hits a.hit").first.click()
    page.wait_for_url(f"**/organizations/{server.demo.orgs['romashka']}")
    page.get_by_role("link", name="Log a contact").click()
    page.wait_for_url("**/log")
    page.wait_for_load_state("load")
    page.select_option("#f-result", "meeting_set")
    page.fill("#f-subject", "Договорились о демонстрации")
    page.fill("#f-summary", "Анна ждёт показ линейки, нужен прайс.")
    page.get_by_text("In 3 days").click()
    in3 = page.locator('input[name=next_when][value="3days"]').get_attribute("data-date")
    expect(page.locator("#f-next_date")).to_have_value(in3)  # the quick choice shows its day
    today = datetime.now(ZoneInfo("Europe/Moscow")).date().isoformat()
    page.fill("#f-next_date", today)
    assert page.locator('input[name=next_when][value="date"]').is_checked()  # typing a date picks it
    page.fill("#f-next_time", "23:59")
    page.fill("#f-next_title", "Показ линейки Ромашке")
    shot(page, "desktop-en-log-form-filled")
    page.locator("#f-next_title").press("Enter")
    page.wait_for_url(f"**/organizations/{server.demo.orgs['romashka']}")
    expect(page.locator(".flash-success")).to_contain_text("Next contact:")
    expect(page.locator(".summary").get_by_text("Показ линейки Ромашке")).to_be_visible()
    expect(page.locator(".summary").get_by_text("Договорились о демонстрации")).to_be_visible()

    page.locator("#sidebar").get_by_role("link", name="My day").click()
    page.wait_for_url("**/my-day")
    row = page.locator(".task-row", has_text="Показ линейки Ромашке")
    expect(row).to_be_visible()
    expect(row).to_contain_text("11:59 PM")
    page.get_by_role("link", name="Calendar").first.click()
    page.wait_for_url("**/calendar*")
    event = page.locator(".cal-day.today .cal-event", has_text="Показ линейки Ромашке")
    expect(event).to_be_visible()
    page.get_by_role("link", name="Month").click()
    page.wait_for_url("**view=month**")
    page.locator(".cal-event", has_text="Показ линейки Ромашке").click()
    page.wait_for_url(f"**/organizations/{server.demo.orgs['romashka']}")


def test_my_day_actions_swap_their_row_without_a_reload(new_page, server):
    page = new_page(user="ivan@ourcompany.test")
    page.goto("/my-day")
    row = page.locator(".task-row", has_text="Отправить договор")
    expect(row).to_have_class(re.compile("overdue"))
    page.evaluate("window.__marker = 1")
    row.get_by_role("button", name="Postpone").click()
    expect(row.locator(".task-changed")).to_contain_text("Postponed to")
    assert page.evaluate("window.__marker") == 1  # the page was not reloaded


def test_merge_two_persons_and_see_every_interaction_on_the_survivor(new_page, server):
    page = new_page(user="ivan@ourcompany.test")
    page.goto("/persons/new")
    page.fill("#f-first_name", "Анна")
    page.fill("#f-last_name", "Кузнецова (дубль)")
    page.locator("#f-last_name").press("Enter")
    page.wait_for_url(re.compile(r"/persons/\d+$"))
    twin_url = page.url
    page.get_by_role("link", name="Log a contact").click()
    page.wait_for_load_state("load")
    page.fill("#f-subject", "Звонок на старый номер")
    page.fill("#f-summary", "Просила перезвонить на основной.")
    page.locator("#f-subject").press("Enter")
    page.wait_for_url(twin_url)

    anna = server.demo.persons["anna"]
    page.goto(f"/persons/{anna}")
    page.get_by_role("link", name="Merge with…").click()
    page.fill("#merge-q", "дубль")
    page.locator("#merge-q").press("Enter")
    page.locator(".pick-list a", has_text="Кузнецова (дубль)").click()
    page.wait_for_url(re.compile(r"/merge\?other=\d+$"))
    survivor_side = page.locator('input[name="field.last_name"][value="survivor"]')
    expect(survivor_side).to_be_checked()
    shot(page, "desktop-en-merge-compare")
    page.get_by_role("button", name="Merge the cards").click()
    page.wait_for_url(f"**/persons/{anna}?tab=interactions")
    timeline = page.locator(".timeline")
    expect(timeline.get_by_text("Звонок на старый номер")).to_be_visible()
    expect(timeline.get_by_text("Первый звонок")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Анна Кузнецова")
    page.goto(twin_url)
    page.wait_for_url(f"**/persons/{anna}")  # the merged card's address leads to the survivor


def test_drag_a_deal_to_the_next_stage_and_see_the_forecast_change(new_page, server):
    page = new_page(user="ivan@ourcompany.test")
    page.goto("/pipeline")
    page.wait_for_load_state("load")
    total = page.locator("#forecast-total")
    before = total.inner_text()
    card = page.locator(".deal-card", has_text="Поставка оборудования")
    proposal = page.locator(".board-col", has=page.locator("h2", has_text="Proposal sent"))
    negotiation = page.locator(".board-col", has=page.locator("h2", has_text="Negotiation"))
    expect(proposal.locator(".deal-card", has_text="Поставка оборудования")).to_be_visible()
    negotiation.scroll_into_view_if_needed()  # the board scrolls sideways: bring both columns into view
    card.drag_to(negotiation.locator(".board-cards"), source_position={"x": 4, "y": 4})  # by its edge
    expect(page.locator(".board-note")).to_contain_text("moved to Negotiation")
    expect(negotiation.locator(".deal-card", has_text="Поставка оборудования")).to_be_visible()
    expect(total).not_to_have_text(before)
    assert "784,000" in negotiation.locator("[data-stage-weighted]").inner_text()
    shot(page, "desktop-en-pipeline-after-drag")
    # The keyboard way: the stage select on the card, then Move.
    moved = negotiation.locator(".deal-card", has_text="Поставка оборудования")
    moved.locator("select").select_option(label="Proposal sent")
    moved.get_by_role("button", name="Move").click()
    expect(proposal.locator(".deal-card", has_text="Поставка оборудования")).to_be_visible()
    expect(total).to_have_text(before)


def test_staff_cannot_reach_another_teams_client_by_the_calendar(new_page, server):
    olga = new_page(user="olga@ourcompany.test")
    beta = server.demo.orgs["beta"]
    olga.goto(f"/organizations/{beta}/log")
    olga.fill("#f-summary", "Обсудили тендер")
    olga.get_by_text("Tomorrow").click()
    olga.fill("#f-next_title", "Секретный звонок Бете")
    olga.locator("#f-next_title").press("Enter")
    olga.wait_for_url(f"**/organizations/{beta}")
    olga.goto("/calendar?view=month")
    expect(olga.locator(".cal-event", has_text="Секретный звонок Бете").first).to_be_visible()

    page = new_page(user="ivan@ourcompany.test")
    for path in (
        "/calendar?view=week",
        "/calendar?view=month",
        f"/calendar?view=month&who=team:{server.demo.teams['B']}",
    ):
        page.goto(path)
        assert "Секретный звонок" not in page.content() and f"/organizations/{beta}" not in page.content(), path
    page.goto(f"/calendar?who=user:{server.demo.users['b']}")
    assert "Секретный звонок" not in page.content()
    page.goto(f"/organizations/{beta}/log")
    assert page.locator("h1").inner_text() == "Page not found"
