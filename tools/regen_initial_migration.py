"""Regenerate the initial migration from the models (before the first release only).

Until crmhub ships a release, the schema lives in one generated revision, ``0001_initial``,
so that parallel work does not pile up revisions. Hand-written revisions (search indexes)
follow it and are kept. Run: ``python tools/regen_initial_migration.py``.
"""

from __future__ import annotations

import re
import tempfile

from core.db import Database
from core.migrate import MIGRATIONS, revision

VERSIONS = MIGRATIONS / "versions"
TARGET = VERSIONS / "0001_initial.py"


def main() -> None:
    """Write 0001_initial.py afresh from the models."""
    if TARGET.exists():
        TARGET.unlink()
    hidden = [p for p in VERSIONS.glob("*.py") if p.name != "__init__.py"]
    for p in hidden:
        p.rename(p.with_suffix(".hold"))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            revision(Database(f"sqlite:///{tmp}/gen.db"), "initial schema")
        new = next(p for p in VERSIONS.glob("*_initial_schema.py"))
        text = new.read_text()
        old_id = re.search(r"^revision = '(\w+)'", text, re.M).group(1)  # type: ignore[union-attr]
        text = text.replace(old_id, "0001_initial").replace("astext_type=Text()", "astext_type=sa.Text()")
        text = re.sub(r"^Create Date: .*\n", "", text, flags=re.M)
        TARGET.write_text(text)
        new.unlink()
    finally:
        for p in hidden:
            p.with_suffix(".hold").rename(p)
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
