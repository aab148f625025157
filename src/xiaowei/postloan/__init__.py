"""Post-loan management (贷后): the loan's accounting, daily monitoring, warnings, five-level
classification, ECL staging, collection and the analytics that measure them.

A domain package (DESIGN.md §3): its own calculations plus its packs (definitions as data); it
reads tags and runs strategies through the engine, which knows no lending words.
"""
