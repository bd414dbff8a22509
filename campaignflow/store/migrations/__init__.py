"""Alembic migrations shipped in the package; run them with :func:`campaignflow.store.schema.upgrade`."""
