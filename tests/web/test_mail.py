"""Imported e-mail on the card: sanitised HTML, remote images only on request, threads, attachments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.models import Interaction, MailMessageRow
from hub.web.mailview import addresses, frame_csp, sanitize, timeline
from tests.web.conftest import page_parts
from tests.web.demo import MAIL_HTML

HOSTILE = (
    "<p onclick='steal()' style='color:red;background:url(https://t.example/bg.png);position:fixed'>Hi</p>"
    "<script>alert(1)</script><style>body{display:none}</style>"
    "<img src='https://t.example/pixel.gif' onerror='alert(2)' alt='logo'>"
    "<img src='data:image/png;base64,iVBORw0KGgo=' alt='inline'>"
    "<img src='/logout' alt='local'>"
    "<a href='javascript:alert(3)'>js</a><a href='https://ok.example/' onmouseover='x()'>ok</a>"
    "<form action='https://evil.example'><input name='p'></form><iframe src='https://evil.example'></iframe>"
    "<svg><script>alert(4)</script></svg>"
)


def test_sanitiser_removes_scripts_handlers_and_remote_images():
    cleaned = sanitize(HOSTILE)
    html = cleaned.html.lower()
    for bad in ("<script", "alert(", "onclick", "onerror", "onmouseover", "javascript:", "<style", "<form", "<iframe"):
        assert bad not in html, bad
    assert "t.example" not in html  # neither the pixel nor the CSS background
    assert "/logout" not in html
    assert "position" not in html
    assert 'style="color:red"' in html
    assert "data:image/png;base64" in html
    assert 'href="https://ok.example/"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert cleaned.blocked_images == 1


def test_show_images_allows_only_the_images():
    cleaned = sanitize(HOSTILE, allow_images=True)
    html = cleaned.html.lower()
    assert 'src="https://t.example/pixel.gif"' in html
    for bad in ("<script", "onerror", "onclick", "javascript:", "url(", "/logout"):
        assert bad not in html, bad
    assert cleaned.blocked_images == 0


def test_frame_policy_allows_remote_images_only_when_asked():
    assert "img-src data:;" in frame_csp(False)
    assert "img-src data: https: http:;" in frame_csp(True)
    for policy in (frame_csp(False), frame_csp(True)):
        assert "default-src 'none'" in policy and "script-src" not in policy and "sandbox" in policy


def test_threads_group_messages_and_collect_participants():
    now = datetime.now(UTC)

    def mail(n: int, thread: str, sender: str, days: int) -> tuple[Interaction, MailMessageRow]:
        row = MailMessageRow(
            id=n,
            message_id=f"m{n}",
            thread_key=thread,
            subject=f"S{n}",
            sent_at=now - timedelta(days=days),
            participants={"from": [{"email": sender, "name": sender.split("@")[0]}], "to": ["Boss@Example.test"]},
        )
        return Interaction(id=n, mail_id=n, occurred_at=row.sent_at), row

    pairs = [mail(1, "t", "a@x.test", 3), mail(2, "t", "b@x.test", 1), mail(3, "u", "c@x.test", 2)]
    call = Interaction(id=9, occurred_at=now - timedelta(hours=1))
    entries = timeline([call] + [i for i, _ in pairs], {m.id: m for _, m in pairs}, {})
    assert [e.interaction.id if e.interaction else e.thread.key for e in entries] == [9, "t", "u"]
    thread = entries[1].thread
    assert [i.mail.id for i in thread.items] == [1, 2]
    assert thread.subject == "S1"
    assert [a.email for a in thread.participants] == ["a@x.test", "boss@example.test", "b@x.test"]


def test_addresses_are_read_tolerantly():
    row = MailMessageRow(from_addr="x@y.test", participants={"to": [["Имя", "A@B.test"]], "cc": "c@d.test"})
    got = addresses(row)
    assert [a.email for a in got["from"]] == ["x@y.test"]
    assert [(a.name, a.email) for a in got["to"]] == [("Имя", "a@b.test")]
    assert [a.email for a in got["cc"]] == ["c@d.test"]


def test_card_shows_the_thread_with_attachments_and_a_sandboxed_body(web, demo):
    ivan = web("ivan@ourcompany.test")
    org, offer = demo.orgs["romashka"], demo.mails["offer"]
    page = ivan.get(f"/organizations/{org}?tab=interactions")
    assert page.status_code == 200
    text = page.text
    assert "Коммерческое предложение" in text and "2 messages" in text
    assert "Анна Кузнецова" in text and "КП Ромашка.xlsx" in text
    assert "Show images" in text
    assert f'src="/organizations/{org}/mail/{offer}/body"' in text
    assert 'sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"' in text
    assert "alert(" not in text and "tracker.example.net" not in text
    assert not page_parts(text).handlers

    body = ivan.get(f"/organizations/{org}/mail/{offer}/body")
    assert body.status_code == 200
    assert body.headers["content-security-policy"] == frame_csp(False)
    assert body.headers["x-frame-options"] == "SAMEORIGIN"
    assert "Добрый день, Анна!" in body.text
    for bad in ("<script", "onclick", "onerror", "tracker.example.net", "javascript:"):
        assert bad not in body.text, bad

    shown = ivan.get(f"/organizations/{org}/mail/{offer}/body?images=1")
    assert shown.headers["content-security-policy"] == frame_csp(True)
    assert "https://tracker.example.net/pixel.gif" in shown.text
    for bad in ("<script", "onclick", "onerror", "javascript:"):
        assert bad not in shown.text, bad


def test_show_images_rerenders_only_that_message(web, demo):
    ivan = web("ivan@ourcompany.test")
    org, offer = demo.orgs["romashka"], demo.mails["offer"]
    r = ivan.http.get(
        f"/organizations/{org}/mail/{offer}?images=1", headers={"HX-Request": "true", "HX-Target": f"mail-{offer}"}
    )
    assert r.status_code == 200
    assert r.text.lstrip().startswith(f'<article class="mail" id="mail-{offer}">')
    assert f"/mail/{offer}/body?images=1" in r.text and "Show images" not in r.text
    full = ivan.get(f"/organizations/{org}/mail/{offer}")
    assert full.status_code == 200 and "<nav" in full.text and "Show images" in full.text
    assert MAIL_HTML not in full.text


def test_mail_of_another_client_is_not_reachable_through_this_card(web, demo):
    admin = web("admin@ourcompany.test")
    lutik, beta_mail = demo.orgs["lutik"], demo.mails["beta"]
    assert admin.get(f"/organizations/{lutik}/mail/{beta_mail}").status_code == 404
    assert admin.get(f"/organizations/{lutik}/mail/{beta_mail}/body").status_code == 404
    assert admin.get(f"/organizations/{demo.orgs['beta']}/mail/{beta_mail}/body").status_code == 200
