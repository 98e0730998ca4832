"""First-run set-up: the config file with generated keys, the schema, defaults and the first admin."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import select

from core.actor import Actor
from core.bootstrap import ensure_defaults
from core.config import Settings, config_path, get_settings
from core.db import Database
from core.migrate import upgrade
from core.models import Role, Team, User
from core.users.service import create_team, create_user


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(path: Path, *, data_dir: Path, database_url: str = "") -> bool:
    """Write a config file with fresh secret and encryption keys unless one exists; True when written."""
    if path.exists():
        return False
    lines = [
        "# crmhub configuration, written by `crmhub init`. Keep it private: it holds the keys.",
        "# Environment variables CRMHUB_<NAME> override every setting here.",
        f"data_dir = {_toml_str(str(data_dir))}",
        f"database_url = {_toml_str(database_url)}",
        f"secret_key = {_toml_str(secrets.token_urlsafe(48))}",
        "# Fernet keys for secrets at rest: the first encrypts, all decrypt (see `crmhub keys rotate`).",
        f"encryption_keys = [{_toml_str(Fernet.generate_key().decode())}]",
        'base_url = "http://127.0.0.1:8000"',
        'default_region = "RU"',
        "internal_domains = []",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return True


def generate_password() -> str:
    """A readable random password for the first admin."""
    alphabet = string.ascii_letters + string.digits
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(3))


@dataclass
class InitResult:
    """What ``init`` did, for printing."""

    config_written: bool
    config_file: Path
    database_url: str
    admin_email: str | None
    admin_password: str | None


def initialise(*, admin_email: str, admin_password: str | None, data_dir: Path) -> InitResult:
    """Create config, schema, defaults, a first team and the first admin (each only if missing)."""
    path = config_path()
    written = write_config(path, data_dir=data_dir.resolve())
    get_settings.cache_clear()
    settings: Settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.files_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.effective_database_url)
    upgrade(db)
    password = None
    with db.session(write=True) as session:
        ensure_defaults(session)
        system = Actor.system(source="cli")
        team = session.scalars(select(Team).order_by(Team.id)).first() or create_team(
            session, actor=system, name="Sales"
        )
        has_admin = session.scalar(select(User.id).where(User.role == Role.admin).limit(1))
        if not has_admin:
            password = admin_password or generate_password()
            create_user(
                session,
                actor=system,
                email=admin_email,
                full_name="Administrator",
                password=password,
                role=Role.admin,
                team_ids=[team.id],
            )
    db.dispose()
    url = settings.effective_database_url
    shown_url = url.split("@")[-1] if "@" in url else url
    return InitResult(written, path, shown_url, admin_email if password else None, password)
