"""SQLModel tables, one module per area. Importing this package registers every table on the metadata."""

from sqlmodel import SQLModel

from cellchain.models import (  # noqa: F401
    audit,
    bags,
    collections,
    custody,
    infusions,
    lots,
    qc,
    trial,
    users,
)

metadata = SQLModel.metadata
