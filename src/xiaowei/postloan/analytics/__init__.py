"""Post-loan performance analytics: vintage curves, roll rates, five-class migration, warning
quality, collection recovery and the regulator's inclusive-SME measures.

Why a package of plain functions over loan states: the CLI, the HTML report and the nightly
monitoring batch all need the same figures; each function reads month-end snapshots or loan
states (``xiaowei.postloan.loan_state``) and returns Arrow tables or frozen dataclasses that
any of them can render, so no figure is computed twice in two ways.
"""
