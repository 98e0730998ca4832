"""Russian and English: the browser's language decides, the switch overrides, catalogs are complete."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from babel.messages.pofile import read_po
from sqlalchemy import select

from core.models import User
from hub.web.i18n import I18n, negotiate, parse_accept_language

ROOT = Path(__file__).resolve().parents[2]


def test_accept_language_picks_the_language(web, demo):
    ru = web(headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"})
    page = ru.get("/login")
    assert '<html lang="ru">' in page.text and "Вход" in page.text and "Пароль" in page.text
    en = web(headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert "Password" in en.get("/login").text


def test_russian_labels_on_the_client_pages(web, demo):
    client = web("ivan@ourcompany.test", headers={"Accept-Language": "ru"})
    page = client.get("/organizations")
    for label in ("Организации", "Контактные лица", "Новая организация", "Ответственный", "Стадия", "Потенциал"):
        assert label in page.text, label
    card = client.get(f"/organizations/{demo.orgs['romashka']}").text
    for label in ("Сводка по клиенту", "Взаимодействия", "Задачи", "Сделки", "Коммерческое предложение", "просрочена"):
        assert label in card, label
    assert "1\u00a0250\u00a0000,50\u00a0₽" in card
    assert "Проиграна" not in card and "Page not found" not in card


def test_the_switch_overrides_the_browser_and_is_saved_for_the_user(web, db, demo):
    anonymous = web(headers={"Accept-Language": "en"})
    anonymous.get("/login")
    r = anonymous.post("/lang", {"locale": "ru", "next": "/login"})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert "crmhub_lang=ru" in r.headers["set-cookie"]
    assert "Пароль" in anonymous.get("/login").text

    ivan = web("ivan@ourcompany.test", headers={"Accept-Language": "en"})
    assert "Organizations" in ivan.get("/organizations").text
    ivan.post("/lang", {"locale": "ru", "next": "/organizations"})
    assert "Организации" in ivan.get("/organizations").text
    with db.session() as s:
        assert s.scalars(select(User.locale).where(User.email == "ivan@ourcompany.test")).one() == "ru"
    again = web("ivan@ourcompany.test", headers={"Accept-Language": "en"})
    assert "Организации" in again.get("/organizations").text  # the saved choice wins on another device
    ivan.post("/lang", {"locale": "xx"})
    assert "Организации" in ivan.get("/organizations").text


def test_negotiation_order():
    assert parse_accept_language("en;q=0.3, ru-RU;q=0.9, *;q=0.1") == ["ru", "en", "*"]
    assert negotiate(None, None, "fr, ru;q=0.5") == "ru"
    assert negotiate(None, "en", "ru") == "en"
    assert negotiate("ru", "en", "en") == "ru"
    assert negotiate("de", "xx", "") == "en"


def test_dates_numbers_and_money_follow_the_language():
    moment = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)
    ru, en = I18n("ru"), I18n("en")
    assert ru.date(moment, "long") == "5 марта 2026\u202fг." and en.date(moment, "long") == "March 5, 2026"
    assert ru.money(Decimal("1500.5")) == "1\u00a0500,50\u00a0₽" and en.money(Decimal("1500")) == "RUB\u00a01,500"
    assert ru.number(1234567) == "1\u00a0234\u00a0567" and en.number(1234567) == "1,234,567"
    assert ru.ngettext("%(num)s message", "%(num)s messages", 3) == "3 письма"
    assert ru.ngettext("%(num)s message", "%(num)s messages", 11) == "11 писем"


def test_every_string_of_the_ui_has_a_russian_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    with (ROOT / "hub/web/locale/ru/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="ru")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple | list) else m.string)
    }
    assert sorted(wanted - translated) == []
    with (ROOT / "hub/web/locale/en/LC_MESSAGES/messages.po").open("rb") as fh:
        english = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh, locale="en") if m.id}
    assert sorted(wanted - english) == []
