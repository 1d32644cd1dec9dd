"""Alembic migrations of the demo server's store.

Run by `store.prepare_store` on start, or by `playground authserver db upgrade`.
"""
