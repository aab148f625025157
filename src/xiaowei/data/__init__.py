"""Data layer: sources, loading and governance (DESIGN.md §3)."""
