"""Alembic migration environment of the store (see :mod:`altermag.store.migrate`)."""
