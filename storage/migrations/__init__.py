"""Alembic migrations of the storage schema, shipped inside the package (see `storage.store.alembic_config`)."""
