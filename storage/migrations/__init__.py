"""Alembic migrations of the storage schema, shipped inside the package (see `storage.engine.alembic_config`)."""
