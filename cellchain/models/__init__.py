"""SQLModel tables, one module per area. Importing this package registers every table on the metadata."""

from sqlmodel import SQLModel

from cellchain.models import audit, users  # noqa: F401

metadata = SQLModel.metadata
