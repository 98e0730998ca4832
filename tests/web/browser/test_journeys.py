"""What a salesperson does in a real browser: log in, find a client by phone, open the card, add clients."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

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
