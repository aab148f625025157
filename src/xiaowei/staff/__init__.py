"""Customer-manager management (员工风险管控与日常管理): behaviour, business sources, abilities.

The same loop as the other domains (DESIGN.md §2): managers' behaviour events and portfolio
records → staff signals and tags → a staff strategy (a pack) → alerts and tasks for their
supervisors → outcomes. Signal thresholds, ratings and alert levels are data; this package is
the thin domain layer that reads the bank's records and hands them to the engine.
"""
