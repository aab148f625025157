"""Data governance: standardise, resolve and relate the raw sources (DESIGN.md §3)."""
