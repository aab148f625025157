"""The bank's default tag catalogue (data) over the governed tables (DESIGN.md §2, §7)."""
