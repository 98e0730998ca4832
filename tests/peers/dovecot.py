"""A throwaway Dovecot IMAP server for tests, on a free port of 127.0.0.1 (recipe: shared/PEERS.md).

Everything lives in one temp folder: the config, ``base_dir``, ``state_dir``, the log, the
passwd-file and the maildirs. Nothing in /etc is read or touched, and the system Dovecot (if any)
is left alone.

* **Running as root.** Mail processes may not run as uid 0, so mail belongs to ``nobody:nogroup``
  and the temp folder is made traversable (0755). Login and anvil run without chroot.
* **Users live.** The passdb is a passwd-file per user (``passwd/%u``). One shared file would do
  (Dovecot re-reads it when it changes) but Dovecot checks it at most once per second, so a user
  added right after another login is not seen yet; a file of its own is read at its first login.
* **Fast failures.** ``auth_failure_delay = 0``: a wrong password still costs up to 0.5 s (the
  auth process flushes failures on a 500 ms timer), not the default 2 s. The auth penalty is off
  (its anvil socket has mode 0): otherwise, after one failed login from 127.0.0.1, the next
  login of *any* user from 127.0.0.1 waits 2-4 s.
* **SPECIAL-USE.** Dovecot 2.3 has no CREATE-SPECIAL-USE and takes special-use flags only from
  its config, so ``create_folder(..., special_use=...)`` adds a ``mailbox`` section and runs
  ``doveadm reload`` (about 10 ms). The flag then applies to that folder name for every user.
* **Byte-exact fixtures.** ``append`` uses MULTIAPPEND, which sends literals as they are
  (imaplib's APPEND rewrites bare CR and LF). Dovecot itself still returns bare LF as CRLF and
  NUL as 0x80.
* **Stopping.** SIGTERM to the master leaves the children that serve open connections running, so
  ``stop`` also ends every process of this instance - the master's children and anything whose
  title carries this instance's unique ``instance_name`` - each by its own pid.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import imapclient

SPECIAL_USE = {"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Dovecot:
    """One private Dovecot instance; use ``start()``/``stop()`` or a ``with`` block."""

    host = "127.0.0.1"

    def __init__(self, *, capability: str | None = None) -> None:
        """``capability`` replaces what the server announces after login (e.g. a list without IDLE)."""
        self.capability = capability
        self.instance_name = f"crmhub-test-{uuid.uuid4().hex[:10]}"
        self.dir = Path(tempfile.mkdtemp(prefix="crmhub-dovecot-"))
        self.port = 0
        self.passwords: dict[str, str] = {}
        self.special_use: dict[str, str] = {}
        self._process: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ life cycle

    @property
    def config_path(self) -> Path:
        """The dovecot.conf of this instance (pass it to ``doveadm -c``)."""
        return self.dir / "dovecot.conf"

    def start(self, timeout: float = 10.0) -> Dovecot:
        """Write the config and start ``dovecot -F``; return once the port answers."""
        os.chmod(self.dir, 0o755)
        for sub in ("run", "state", "mail", "passwd"):
            (self.dir / sub).mkdir(exist_ok=True)
        shutil.chown(self.dir / "mail", "nobody", "nogroup")
        os.chmod(self.dir / "passwd", 0o755)
        for _attempt in range(3):
            self.port = free_port()
            self._write_config()
            log = open(self.dir / "stdout.log", "ab")  # noqa: SIM115 - owned by the child
            self._process = subprocess.Popen(
                ["dovecot", "-F", "-c", str(self.config_path)], stdout=log, stderr=subprocess.STDOUT
            )
            log.close()
            if self._wait_ready(timeout):
                return self
            self.stop(remove=False)
        raise RuntimeError(f"dovecot did not start; see {self.dir}/dovecot.log and stdout.log")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                    sock.settimeout(1.0)
                    greeted = sock.recv(64).startswith(b"* OK")
                if greeted:  # ours, not a neighbour's that won the race for this port?
                    return self._process.poll() is None and "Address already in use" not in self.log()
            except OSError:
                time.sleep(0.02)
        return False

    def log(self) -> str:
        """Dovecot's own log of this instance (handy when a test fails)."""
        try:
            return (self.dir / "dovecot.log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, remove: bool = True) -> None:
        """Stop the master and every child of this instance, each by its own pid; remove the folder."""
        master = self._process
        self._process = None
        pids = self._instance_pids(master.pid if master else None)
        # Master first, then at once its children: a master left to wait for its children takes ~1 s
        # to exit, and one whose children die first starts new ones and hangs.
        if master is not None and master.poll() is None:
            master.terminate()
        for pid in pids:
            self._signal(pid, signal.SIGTERM)
        if master is not None:
            try:
                master.wait(5)
            except subprocess.TimeoutExpired:
                master.kill()
                master.wait(5)
        pids |= self._instance_pids(None)
        for pid in pids:
            self._signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + 3
        while pids and time.monotonic() < deadline:
            pids = {pid for pid in pids if self._alive(pid)}
            time.sleep(0.02)
        for pid in pids:
            self._signal(pid, signal.SIGKILL)
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _instance_pids(self, master_pid: int | None) -> set[int]:
        """Pids whose parent is our master or whose title names our instance."""
        found: set[int] = set()
        marker = f"{self.instance_name}/".encode()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if marker in cmdline or (master_pid is not None and ppid == master_pid):
                found.add(pid)
        return found

    def _signal(self, pid: int, sig: int) -> None:
        """Signal a pid only while it still belongs to this instance (pids get reused)."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return
        if self.instance_name.encode() in cmdline or str(self.config_path).encode() in cmdline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    @staticmethod
    def _alive(pid: int) -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state != "Z"

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _write_config(self) -> None:
        d = self.dir
        mailboxes = "".join(
            f"  mailbox {_quote(name)} {{\n    special_use = {flag}\n  }}\n"
            for name, flag in sorted(self.special_use.items())
        )
        config = f"""\
instance_name = {self.instance_name}
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
auth_mechanisms = plain login
mail_location = maildir:{d}/mail/%u
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 1
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = {d}/passwd/%u
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={d}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
{mailboxes}}}
{self._protocol_block()}service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(config)
        tmp.replace(self.config_path)

    def _protocol_block(self) -> str:
        if self.capability is None:
            return ""
        return f"protocol imap {{\n  imap_capability = {self.capability}\n}}\n"

    # ------------------------------------------------------------------ users and mail

    def add_user(self, email: str, password: str) -> None:
        """Add a user; its passwd-file is read at its first login, so no reload is needed."""
        for value in (email, password):
            if any(c in value for c in ":/\n\r\x00") or value.startswith("."):
                raise ValueError("user names and passwords may not contain ':', '/' or line breaks here")
        if email in self.passwords:
            raise ValueError(f"user {email} exists (Dovecot would keep the old password for up to 1 s)")
        self.passwords[email] = password
        path = self.dir / "passwd" / email
        tmp = path.with_name(f".{email}.tmp")
        tmp.write_text(f"{email}:{{PLAIN}}{password}::::::\n")
        os.chmod(tmp, 0o644)
        tmp.replace(path)

    @contextlib.contextmanager
    def imap(self, user: str) -> Iterator[imapclient.IMAPClient]:
        """A logged-in imapclient connection as ``user`` (for test set-up and checks)."""
        client = imapclient.IMAPClient(self.host, self.port, ssl=False, timeout=10)
        try:
            client.login(user, self.passwords[user])
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def append(self, user: str, folder: str, messages: Sequence[bytes], flags: Sequence[str] = ()) -> list[int]:
        """Store messages byte-exact with MULTIAPPEND; return their UIDs (from APPENDUID)."""
        if not messages:
            return []
        items = [{"msg": raw, "flags": list(flags)} if flags else raw for raw in messages]
        with self.imap(user) as client:
            response = client.multiappend(folder, items)
        text = response.decode() if isinstance(response, bytes) else str(response)
        # "[APPENDUID <uidvalidity> <uid-set>] Append completed."
        uid_set = text.split("APPENDUID", 1)[1].split("]", 1)[0].split()[1]
        uids: list[int] = []
        for chunk in uid_set.split(","):
            low, _, high = chunk.partition(":")
            uids.extend(range(int(low), int(high or low) + 1))
        return uids

    def create_folder(self, user: str, name: str, special_use: str | None = None) -> None:
        """Create a folder for ``user``; with ``special_use`` (e.g. ``\\Sent``) LIST shows that flag."""
        if special_use is not None:
            if special_use not in SPECIAL_USE:
                raise ValueError(f"unknown special-use flag {special_use!r}")
            if self.special_use.get(name) != special_use:
                self.special_use[name] = special_use
                self._write_config()
                self.doveadm("reload")
        deadline = time.monotonic() + 5
        while True:
            with self.imap(user) as client:
                if not client.folder_exists(name):
                    client.create_folder(name)
                listed = {n: [f.decode() for f in fl] for fl, _, n in client.list_folders()}
            if special_use is None or special_use in listed.get(name, []):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"folder {name!r} did not get {special_use} after reload")
            time.sleep(0.02)  # the reloaded config reaches new sessions a moment later

    def doveadm(self, *args: str) -> str:
        """Run ``doveadm -c <our config> ...`` and return its output."""
        result = subprocess.run(
            ["doveadm", "-c", str(self.config_path), *args], capture_output=True, text=True, timeout=30
        )
        if result.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    def set_uidvalidity(self, user: str, folder: str, value: int) -> None:
        """Change a folder's UIDVALIDITY, as a server restore or migration would."""
        self.doveadm("mailbox", "update", "-u", user, "--uid-validity", str(value), folder)

    def uidvalidity(self, user: str, folder: str) -> int:
        """The folder's UIDVALIDITY as doveadm reports it."""
        out = self.doveadm("mailbox", "status", "-u", user, "uidvalidity", folder)
        return int(out.split("uidvalidity=", 1)[1].split()[0])

    def flags(self, user: str, folder: str) -> dict[int, tuple[str, ...]]:
        """UID -> flags of every message in a folder, read without changing anything."""
        with self.imap(user) as client:
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            response = client.get_flags(uids) if uids else {}
        return {uid: tuple(f.decode() for f in fl) for uid, fl in response.items()}
