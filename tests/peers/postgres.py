"""A throwaway PostgreSQL cluster for one test session, tuned for speed (fsync off).

``CREATE DATABASE ... TEMPLATE`` per test is cheap on a cluster that does not fsync
(about 30 ms) and slow on the machine's durable server (0.5 s and more), so the suite runs
its own cluster when it can: ``initdb`` refuses root, so it runs as the ``postgres`` user in
a folder that user owns, listening on a free port of 127.0.0.1 only. When the binaries or
the ``postgres`` user are missing, or ``CRMHUB_TEST_PG_URL`` is set, the caller falls back to
the given server.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class PrivateCluster:
    """initdb + pg_ctl start on a free port; ``stop()`` removes every trace."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="crmhub-pg-"))
        self.data = self.folder / "data"
        self.bin = _bin_dir()

    @staticmethod
    def available() -> bool:
        """True when a private cluster can be started here (root, the binaries, a postgres user)."""
        if os.geteuid() != 0 or _bin_dir() is None or shutil.which("runuser") is None:
            return False
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return False
        return True

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=60)

    def start(self) -> str:
        """Start the cluster and return the URL of its ``postgres`` database."""
        assert self.bin is not None
        shutil.chown(self.folder, "postgres", "postgres")
        self._as_postgres(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder} {FAST}"
        self._as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.folder / "server.log"),
            "-w",
            "start",
        )
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        """Stop the server at once and delete its folder."""
        if self.bin is not None and self.data.exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
