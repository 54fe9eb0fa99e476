"""Each randomized subject's ISBT 128 chain-of-identity identifier (DS 040): ``subjects.chain_of_identity``.

A nullable column and its unique index; subjects randomized before this revision are given theirs as the
application now issues it at randomization (``trial/randomization.py``: CH + the facility's FIN + the
year of the randomization + the list position, checked by K). The FIN is the one the caller names
(``facility_fin``), else the site's configured ``FACILITY_FIN``. The back-fill runs outside the
application, so the row-change log notes each subject it gives an identifier (docs/security.md).

Revision ID: 0025_chain_of_identity
Revises: 0026_printers
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

from cellchain.core import config as app_config
from cellchain.identifiers.isbt128 import ChainOfIdentity

revision = "0025_chain_of_identity"
down_revision = "0026_printers"
branch_labels = None
depends_on = None


def _fin() -> str:
    fin = op.get_context().config.attributes.get("facility_fin")
    if fin is None:  # plain `alembic` or a caller that named none: the site's configured FIN
        fin = app_config.load(str(app_config.ROOT / "instance"))["FACILITY_FIN"]
    return fin


def _year(value: datetime | str | None) -> int:
    """The year the identifier is issued in: the randomization's, else the record's; this year for neither."""
    if value is None:
        return datetime.now(UTC).year
    return value.year if isinstance(value, datetime) else int(str(value)[:4])


def upgrade() -> None:
    op.add_column("subjects", sa.Column("chain_of_identity", sqlmodel.sql.sqltypes.AutoString(length=16),
                                        nullable=True))
    op.create_index("uq_subjects_chain_of_identity", "subjects", ["chain_of_identity"], unique=True)
    connection = op.get_bind()
    randomized = connection.execute(sa.text(
        "SELECT id, randomization_position, COALESCE(randomized_at, created_at) FROM subjects "
        "WHERE arm IS NOT NULL AND randomization_position IS NOT NULL ORDER BY id")).all()
    if not randomized:
        return
    fin = _fin()
    for row_id, position, randomized_at in randomized:
        coi = ChainOfIdentity.issue(fin, _year(randomized_at), position).text
        connection.execute(sa.text("UPDATE subjects SET chain_of_identity = :coi WHERE id = :id"),
                           {"coi": coi, "id": row_id})


def downgrade() -> None:
    op.drop_index("uq_subjects_chain_of_identity", table_name="subjects")
    # A plain DROP COLUMN (SQLite 3.35+): a batch rebuild would rename onto a table the row-change triggers name.
    op.drop_column("subjects", "chain_of_identity")
