"""Rewrite 0001_schema.py from the models, for use only before the first deployment.

While no database in the field runs cellchain, the initial schema is one migration generated from
the models. Once a site runs it, this script is retired and every change is a new revision
(`alembic revision --autogenerate -m ...`). Run: `.venv/bin/python migrations/regenerate_initial.py`.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main() -> None:
    target = HERE / "versions" / "0001_schema.py"
    with tempfile.TemporaryDirectory() as tmp:
        versions = Path(tmp) / "versions"
        versions.mkdir()
        config = Config(str(HERE.parent / "alembic.ini"))
        config.set_main_option("script_location", str(HERE))
        config.set_main_option("version_locations", str(versions))
        config.attributes["database_url"] = f"sqlite:///{tmp}/empty.sqlite"
        command.revision(config, message="schema", autogenerate=True, rev_id="0001")
        (generated,) = versions.glob("0001_*.py")
        shutil.copy(generated, target)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
