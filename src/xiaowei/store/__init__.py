"""The stores: transactional (SQLAlchemy: SQLite embedded, PostgreSQL at scale) and analytic
(DuckDB).

Import from the modules — ``store.tables``, ``store.database``, ``store.migrate``,
``store.analytic`` — so that code needing one store does not load the other's driver.
"""
