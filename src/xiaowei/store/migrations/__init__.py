"""Alembic migrations of the transactional store (a package so that wheels ship them)."""
