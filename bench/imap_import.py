"""IMAP import benchmark: a Dovecot mailbox of N realistic messages, imported fresh through the real engine.

Run ``python -m bench.imap_import`` (20,000 messages, SQLite), ``--db postgres``, ``--n 5000`` for a
quick run, or ``--sizes 20000,100000`` to see whether memory stays flat as the mailbox grows.

For each size it starts its own Dovecot (``tests.peers.dovecot``), fills one mailbox with
MULTIAPPEND (batches of 500) with generated mail, and then, in the same run:

1. **raw**: the plain imapclient rate of the same mailbox: EXAMINE, ``UID SEARCH ALL``, then
   ``UID FETCH <1000 uids> (BODY.PEEK[])`` (the account's batch size) batch after batch, the bodies dropped,
   with imapclient as it comes and again with imaplib's debug level at 0 ("quiet raw", as crmhub runs it);
2. **import**: crmhub's fresh import of that mailbox, in a child process of its own (so its peak
   RSS is its own): a new database (a SQLite file, or a PostgreSQL database on the local
   server), migrated, with a few hundred seeded clients, an IMAP account of the mailbox's owner,
   and one sync job run by ``sync.worker.Worker`` exactly as ``crmhub worker`` runs it, from
   the first pull to the last commit.

It prints both rates, their ratio (the target: the import at no less than a third of the raw
rate), and the import's peak memory: the child's peak RSS (``VmHWM``)
and how far it rose during the import above what the set-up (migration, seeding) had reached.
A long import reads its mail in a process of its own (``sync.reader_process``); that process's
CPU time and peak RSS are printed beside the import's.

The mail: a salesperson's mailbox, one message in ``--match`` (default 0.2) is with a seeded
client (a person's own address, or someone else at the client's mail domain), 0.3 are
internal, the rest strangers, newsletters and webmail. Bodies of 3-25 lines, a third with
quoted history, a fifth multipart/alternative with HTML, one in twenty with a 4-40 KB
attachment, replies with In-Reply-To and References. ``--profile`` runs the child under cProfile
and prints where the import spends its time.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.header import Header
from pathlib import Path
from typing import Any

import imapclient
import sqlalchemy as sa

from connectors.email.config import ImapConfig

PG_SERVER = os.environ.get("CRMHUB_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
OWNER = "anna@ourcompany.test"
PASSWORD = "bench-Pa55word"
ORGS = 300
KEY = "kOf6tF5V3sS0tHfD9y2cZ8qL1mW4nR7pX0aB3dE6gHI="

WORDS = [
    "offer",
    "price",
    "delivery",
    "contract",
    "invoice",
    "payment",
    "order",
    "meeting",
    "call",
    "schedule",
    "discount",
    "terms",
    "units",
    "model",
    "warehouse",
    "shipment",
    "quality",
    "support",
    "request",
    "proposal",
    "budget",
    "quarter",
    "review",
    "signed",
    "draft",
    "attached",
    "please",
    "thanks",
    "regards",
    "confirm",
    "agree",
    "question",
    "answer",
    "update",
    "week",
    "month",
    "today",
    "tomorrow",
    "team",
    "project",
    "plan",
    "договор",
    "счёт",
    "оплата",
    "поставка",
    "встреча",
    "звонок",
    "предложение",
    "цена",
    "скидка",
    "заказ",
    "склад",
    "качество",
    "спасибо",
]
FIRST = [
    "Ivan",
    "Olga",
    "Petr",
    "Anna",
    "Sergey",
    "Maria",
    "Dmitry",
    "Elena",
    "Alexey",
    "Natalia",
    "John",
    "Mary",
    "Peter",
    "Laura",
    "Michael",
]
LAST = [
    "Petrov",
    "Ivanova",
    "Smirnov",
    "Kuznetsova",
    "Popov",
    "Sokolova",
    "Lebedev",
    "Novikova",
    "Smith",
    "Brown",
    "Miller",
    "Wilson",
]
COLLEAGUES = [f"{n.lower()}@ourcompany.test" for n in ("boris", "vera", "oleg", "irina", "max", "sales", "office")]
STRANGER_DOMAINS = ["gmail.com", "mail.ru", "yandex.ru", "outlook.com"] + [f"vendor{i}.example" for i in range(200)]
NEWSLETTERS = [f"news@{d}" for d in ("shop.example", "bank.example", "airline.example", "events.example")]


# ---------------------------------------------------------------------------------- the mail


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _body(rng: random.Random, quoted: bool) -> str:
    lines = []
    for _ in range(rng.randint(3, 25)):
        lines.append(_sentence(rng, rng.randint(6, 12)))
    if quoted:
        lines += ["", f"On Mon, 2 Mar 2026 at 10:00, {rng.choice(FIRST)} <x@example.com> wrote:"]
        lines += ["> " + _sentence(rng, rng.randint(6, 12)) for _ in range(rng.randint(3, 15))]
    return "\r\n".join(lines)


def _header_text(text: str) -> str:
    return text if text.isascii() else Header(text, "utf-8").encode()  # RFC 2047, as mailers write it


def _person(rng: random.Random, email: str) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)} <{email}>"


def _client_address(rng: random.Random) -> str:
    org = rng.randrange(ORGS)
    if rng.random() < 0.7:
        return f"p{org}-{rng.randrange(2)}@client{org}.test"  # a seeded person
    return f"{rng.choice(FIRST).lower()}{rng.randrange(100)}@client{org}.test"  # someone else there: by domain


def _stranger(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(NEWSLETTERS)
    return f"{rng.choice(FIRST).lower()}.{rng.choice(LAST).lower()}{rng.randrange(1000)}@{rng.choice(STRANGER_DOMAINS)}"


def make_message(
    rng: random.Random, i: int, match: float, when: datetime, attach: float = 0.05, attach_kb: tuple[int, int] = (4, 40)
) -> bytes:
    """One generated message (see the module docstring for the mix)."""
    roll = rng.random()
    other = _client_address(rng) if roll < match else rng.choice(COLLEAGUES) if roll < match + 0.3 else _stranger(rng)
    outgoing = rng.random() < 0.3
    sender, rcpt = (
        (_person(rng, OWNER), _person(rng, other)) if outgoing else (_person(rng, other), _person(rng, OWNER))
    )
    head = [
        f"From: {sender}",
        f"To: {rcpt}",
        "Subject: " + _header_text(("Re: " if i % 3 == 0 else "") + _sentence(rng, rng.randint(2, 7))[:-1]),
        f"Date: {when.strftime('%a, %d %b %Y %H:%M:%S +0000')}",
        f"Message-ID: <bench-{i}-{rng.getrandbits(40):x}@mail.example>",
    ]
    if rng.random() < 0.3:
        head.append(f"Cc: {_person(rng, rng.choice(COLLEAGUES))}")
    if i % 3 == 0 and i > 0:
        parent = f"<bench-{i - 1}-0@mail.example>"
        head += [f"In-Reply-To: {parent}", f"References: <bench-{max(0, i - 5)}-0@mail.example> {parent}"]
    head.append("MIME-Version: 1.0")
    text = _body(rng, quoted=rng.random() < 0.33)
    attach = rng.random() < attach
    html = rng.random() < 0.2
    if not attach and not html:
        head += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
        return ("\r\n".join(head) + "\r\n\r\n" + text + "\r\n").encode()
    parts = ["Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text]
    if html:
        markup = "".join(f"<p>{line}</p>" for line in text.split("\r\n") if line)
        parts.append("Content-Type: text/html; charset=utf-8\r\n\r\n<html><body>" + markup + "</body></html>")
    if attach:
        size = rng.randint(attach_kb[0] * 1000, attach_kb[1] * 1000)
        data = base64.encodebytes(rng.randbytes(size)).decode().replace("\n", "\r\n")
        parts.append(
            'Content-Type: application/pdf; name="doc.pdf"\r\nContent-Disposition: attachment; filename="doc.pdf"'
            "\r\nContent-Transfer-Encoding: base64\r\n\r\n" + data
        )
    kind = "mixed" if attach else "alternative"
    head.append(f'Content-Type: multipart/{kind}; boundary="b-{i}"')
    body = "".join(f"--b-{i}\r\n{p}\r\n" for p in parts) + f"--b-{i}--\r\n"
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


def fill(
    server: Any, n: int, match: float, seed: int, attach: float = 0.05, attach_kb: tuple[int, int] = (4, 40)
) -> int:
    """Append n generated messages to the owner's INBOX (MULTIAPPEND, 500 at a time); returns the bytes."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    total = 0
    for first in range(0, n, 500):
        chunk = [
            make_message(rng, i, match, start + timedelta(minutes=17 * i), attach, attach_kb)
            for i in range(first, min(n, first + 500))
        ]
        total += sum(len(m) for m in chunk)
        server.append(OWNER, "INBOX", chunk)
    return total


# ---------------------------------------------------------------------------------- raw rate


def raw_rate(host: str, port: int, batch: int, *, quiet: bool = False) -> tuple[float, int, float]:
    """(messages/s, messages, seconds) of plain FETCH BODY.PEEK[] over the whole INBOX.

    ``quiet``: with imaplib's debug level back at 0, as crmhub's client runs it
    (``connectors.email.client``); imapclient's default, 5, has imaplib build a debug message
    with the repr of every line and literal it reads.
    """
    client = imapclient.IMAPClient(host, port, ssl=False, timeout=60)
    if quiet:
        client._imap.debug = 0
    client.login(OWNER, PASSWORD)
    started = time.perf_counter()
    client.select_folder("INBOX", readonly=True)
    uids = client.search(["ALL"])
    count = 0
    for first in range(0, len(uids), batch):
        response = client.fetch(uids[first : first + batch], ["BODY.PEEK[]"])
        count += len(response)
        del response
    seconds = time.perf_counter() - started
    client.logout()
    return count / seconds, count, seconds


# ---------------------------------------------------------------------------------- the import (child)


def _database(kind: str, folder: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'bench.db'}", None
    name = f"crmhub_bench_imap_{os.getpid()}"
    admin = sa.create_engine(
        PG_SERVER.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return PG_SERVER.rsplit("/", 1)[0] + "/" + name, name


def _drop(name: str | None) -> None:
    if name is None:
        return
    admin = sa.create_engine(
        PG_SERVER.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _seed(db: Any) -> tuple[int, int]:
    """The owner (staff in team Sales), and ORGS client companies with two persons each; (owner id, team id)."""
    from core.actor import Actor
    from core.bootstrap import ensure_defaults
    from core.clients.organizations import create_organization
    from core.clients.persons import create_person
    from core.models import Role, Team, User

    system = Actor.system(source="cli")
    with db.session() as s:
        ensure_defaults(s)
        team = Team(name="Sales")
        s.add(team)
        s.flush()
        owner = User(email=OWNER, full_name="Anna", role=Role.staff, password_hash="!")
        owner.teams = [team]
        s.add(owner)
        s.flush()
        for org in range(ORGS):
            made = create_organization(
                s, actor=system, name=f"Client {org}", email_domains=[f"client{org}.test"], team_id=team.id
            )
            for p in range(2):
                create_person(
                    s,
                    actor=system,
                    first_name=f"P{org}",
                    last_name=f"Person{p}",
                    emails=[f"p{org}-{p}@client{org}.test"],
                    organizations=[{"organization_id": made.id}],
                    team_id=team.id,
                )
        return owner.id, team.id


def child(args: argparse.Namespace) -> dict[str, Any]:
    """Import the mailbox into a fresh database; returns the figures (run in a process of its own)."""
    folder = Path(tempfile.mkdtemp(prefix="crmhub-bench-imap-"))
    url, pg_name = _database(args.db, folder)
    os.environ.update(
        {
            "CRMHUB_CONFIG": str(folder / "absent.toml"),
            "CRMHUB_DATABASE_URL": url,
            "CRMHUB_DATA_DIR": str(folder / "data"),
            "CRMHUB_ENCRYPTION_KEYS": json.dumps([KEY]),
            "CRMHUB_INTERNAL_DOMAINS": '["ourcompany.test"]',
        }
    )
    from core.actor import Actor
    from core.config import get_settings
    from core.db import Database
    from core.migrate import upgrade
    from core.models import Interaction, MailMessageRow, SyncRun
    from sync import control
    from sync.worker import Worker, WorkerOptions

    get_settings.cache_clear()
    db = Database(url)
    try:
        upgrade(db)
        owner_id, team_id = _seed(db)
        settings = {
            "host": "127.0.0.1",
            "port": args.port,
            "security": "plain",
            "username": OWNER,
            "password": PASSWORD,
            "folders": ["INBOX"],
            "batch_size": args.batch,
        }
        system = Actor.system(source="cli")
        with db.session() as s:
            account = control.add_account(
                s, actor=system, kind="imap", name="Bench", settings=settings, owner_id=owner_id, team_id=team_id
            )
            job_id = control.run_now(s, actor=system, account_id=account.id).id
        worker = Worker(db, WorkerOptions(lease_seconds=120), name="bench-worker")
        _warm_up(worker)
        readings = _ReaderUsage()
        logging.getLogger("crmhub.sync").addHandler(readings)
        logging.getLogger("crmhub.sync").setLevel(logging.INFO)
        before = _peak_rss_kb()
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started = time.perf_counter()
        cpu_started = time.process_time()
        machine_started, server_started = _machine_busy_seconds(), _processes_cpu_seconds("postgres")
        lease = worker.claim_job(job_id)
        assert lease is not None
        outcome = worker.run_job(lease)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        machine_seconds = _machine_busy_seconds() - machine_started
        server = _processes_cpu_seconds("postgres")
        if profiler is not None:
            import pstats

            profiler.disable()
            profiler.dump_stats(Path(tempfile.gettempdir()) / "crmhub-bench-imap.prof")
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(30)
        peak = _peak_rss_kb()
        with db.session() as s:
            run = s.scalars(sa.select(SyncRun).order_by(SyncRun.id.desc())).first()
            logged = s.scalar(sa.select(sa.func.count()).select_from(Interaction))
            stored = s.scalar(sa.select(sa.func.count()).select_from(MailMessageRow))
        return {
            "outcome": outcome,
            "seconds": seconds,
            "cpu_seconds": cpu_seconds,
            "pulled": run.pulled,
            "applied": run.applied,
            "skipped": run.skipped,
            "failed": run.failed,
            "interactions": logged,
            "stored": stored,
            "rss_before_mb": before / 1024,
            "rss_peak_mb": peak / 1024,
            "reader_cpu_seconds": sum(u.cpu_seconds for u in readings.seen),
            "reader_rss_peak_mb": max((u.peak_rss_mb for u in readings.seen), default=0.0),
            "machine_cpu_seconds": machine_seconds,
            "server_cpu_seconds": server - server_started,
        }
    finally:
        db.dispose()
        _drop(pg_name)


# ---------------------------------------------------------------------------------- the driver


def _import(port: int, args: argparse.Namespace) -> dict[str, Any]:
    """One fresh import of the mailbox in a child process; its figures, printed as they come."""
    cmd = [sys.executable, "-m", "bench.imap_import", "--child", "--port", str(port)]
    cmd += ["--db", args.db, "--batch", str(args.batch)] + (["--profile"] if args.profile else [])
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if args.profile:
        print(done.stderr[-30000:])
    if done.returncode != 0:
        raise SystemExit(f"the import failed:\n{done.stderr[-5000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"  import: {figures['pulled']:,} messages in {figures['seconds']:.1f} s "
        f"(CPU {figures['cpu_seconds']:.1f} s{_reader(figures)}) "
        f"= {figures['pulled'] / figures['seconds']:,.0f} msg/s "
        f"({figures['interactions']:,} interactions, {figures['stored']:,} stored, {figures['skipped']:,} skipped, "
        f"{figures['failed']} failed; {figures['outcome']})"
    )
    server = f" (PostgreSQL {figures['server_cpu_seconds']:.1f} s)" if args.db == "postgres" else ""
    print(f"          CPU of the whole machine meanwhile: {figures['machine_cpu_seconds']:.1f} s{server}")
    return figures


def _peak_rss_kb() -> int:
    """This process's peak resident memory in KB: VmHWM, which starts afresh at exec.

    ``ru_maxrss`` does not: Linux carries the peak of the forked copy of the parent over the
    exec, so it would show the bench's own peak (after reading heavy mail raw) as the import's.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _warm_up(worker: Any) -> None:
    """Have the worker ready as a running ``crmhub worker`` is when mail comes: its fork server up and loaded.

    ``Worker.run_forever`` starts the server without waiting; here one throwaway process is
    forked from it, which waits until its imports are done.
    """
    import multiprocessing

    worker.warm_up()
    if "forkserver" in multiprocessing.get_all_start_methods():
        ready = multiprocessing.get_context("forkserver").Process(target=int)
        ready.start()
        ready.join()


class _ReaderUsage(logging.Handler):
    """Collects the usage a reading process reports when its reading ends (``sync.reader_process``)."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.seen: list[Any] = []

    def emit(self, record: logging.LogRecord) -> None:
        usage = getattr(record, "reader_usage", None)
        if usage is not None:
            self.seen.append(usage)


def _machine_busy_seconds() -> float:
    """CPU seconds all of this machine's cores have been busy since boot (``/proc/stat``)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _processes_cpu_seconds(name: str) -> float:
    """CPU seconds used so far by the running processes of this name (a database server's).

    A process that ended meanwhile is not counted: the import's connections stay open in its pool.
    """
    used = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        if comm == name:
            fields = text[text.rindex(")") + 2 :].split()
            used += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def _reader(figures: dict[str, Any]) -> str:
    """The reading process's share, when the import started one."""
    if not figures["reader_cpu_seconds"]:
        return ""
    return f" + {figures['reader_cpu_seconds']:.1f} s reading process, {figures['reader_rss_peak_mb']:.0f} MB"


def measure(size: int, args: argparse.Namespace) -> dict[str, Any]:
    """Fill a fresh Dovecot with ``size`` messages, time the raw FETCH and crmhub's import of it."""
    from tests.peers.dovecot import Dovecot

    server = Dovecot().start()
    try:
        server.add_user(OWNER, PASSWORD)
        started = time.perf_counter()
        kb = tuple(int(k) for k in args.attach_kb.split(","))
        total_bytes = fill(server, size, args.match, args.seed, args.attach, (kb[0], kb[-1]))
        fill_seconds = time.perf_counter() - started
        print(f"  {size:,} messages ({total_bytes / size / 1024:.1f} KB average) appended in {fill_seconds:.0f} s")
        raws: list[float] = []
        quiets: list[float] = []
        runs: list[dict[str, Any]] = []
        for _ in range(max(1, args.repeat)):  # raw and import in turn, so both see the same moments
            raw, count, raw_seconds = raw_rate(server.host, server.port, args.batch)
            print(f"  raw FETCH BODY.PEEK[]: {count:,} messages in {raw_seconds:.1f} s = {raw:,.0f} msg/s")
            quiet, count, quiet_seconds = raw_rate(server.host, server.port, args.batch, quiet=True)
            print(
                f"  the same with imaplib's debug lines off: {count:,} messages in {quiet_seconds:.1f} s "
                f"= {quiet:,.0f} msg/s"
            )
            raws.append(raw)
            quiets.append(quiet)
            runs.append(_import(server.port, args))
    finally:
        server.stop()
    raw, figures = statistics.median(raws), sorted(runs, key=lambda f: f["seconds"])[len(runs) // 2]
    quiet = statistics.median(quiets)
    rate = figures["pulled"] / figures["seconds"]
    if len(runs) > 1:
        rates = [f["pulled"] / f["seconds"] for f in runs]
        print(
            f"  medians of {len(runs)}: raw {raw:,.0f} msg/s ({min(raws):,.0f}-{max(raws):,.0f}), "
            f"import {rate:,.0f} msg/s ({min(rates):,.0f}-{max(rates):,.0f})"
        )
        paired = [r / w for r, w in zip(rates, raws, strict=True)]  # each import against the raw run just before it
        print(
            f"  each import against its own raw run: {', '.join(f'{p:.2f}' for p in paired)} "
            f"(median {statistics.median(paired):.2f}; the machine's speed moves less within a pair than across runs)"
        )
    return {"size": size, "raw": raw, "quiet": quiet, "rate": rate, "kb": total_bytes / size / 1024, **figures}


def main(argv: list[str] | None = None) -> None:
    """Parse the options and run the benchmark (or, with --child, one import)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--n", type=int, default=20_000, help="messages in the mailbox")
    parser.add_argument("--sizes", default="", help="several mailbox sizes, e.g. 20000,100000 (overrides --n)")
    parser.add_argument("--match", type=float, default=0.2, help="share of the mail that is with a seeded client")
    parser.add_argument("--attach", type=float, default=0.05, help="share of the mail with an attachment")
    parser.add_argument("--attach-kb", default="4,40", help="attachment sizes: smallest,largest in KB")
    parser.add_argument(
        "--batch",
        type=int,
        default=ImapConfig.model_fields["batch_size"].default,
        help="messages per batch (the account's batch_size; default: the connector's)",
    )
    parser.add_argument("--seed", type=int, default=20260302)
    parser.add_argument("--repeat", type=int, default=1, help="raw and import this many times; medians reported")
    parser.add_argument("--profile", action="store_true", help="profile the import and print the hot spots")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()] or [args.n]
    print(f"IMAP import benchmark: {args.db}, batches of {args.batch}, {args.match:.0%} of the mail with clients")
    rows = [measure(size, args) for size in sizes]
    print()
    print(
        f"{'messages':>9} {'KB/msg':>7} {'raw msg/s':>10} {'import msg/s':>13} {'ratio':>6} "
        f"{'quiet raw':>10} {'ratio':>6} {'peak RSS':>9} {'rise':>7}"
    )
    for r in rows:
        rise = max(0.0, r["rss_peak_mb"] - r["rss_before_mb"])
        print(
            f"{r['size']:>9,} {r['kb']:>7.1f} {r['raw']:>10,.0f} {r['rate']:>13,.0f} {r['rate'] / r['raw']:>6.2f} "
            f"{r['quiet']:>10,.0f} {r['rate'] / r['quiet']:>6.2f} {r['rss_peak_mb']:>7.0f}MB {rise:>5.0f}MB"
        )
    print("ratio = import / raw (target >= 0.33); raw = plain imapclient, as it comes; quiet raw = the same with")
    print("imaplib's debug lines off, as crmhub's client runs; peak RSS = the import process's VmHWM; rise = above")
    print("set-up")


if __name__ == "__main__":
    main()
