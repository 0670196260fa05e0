"""Voortgang: a progress tracker for government programmes."""

# Before any model module defines a table, whichever is imported first: the constraint
# naming convention on the metadata.
from app import dbtypes  # noqa: F401
