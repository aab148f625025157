"""Origination (贷前贷中): decisions taken on an application before money leaves the bank.

Sub-packages: ``credit_limit`` (授信额度) — an explainable limit from verified revenue, debt
service and rating; ``antifraud`` (反欺诈) — rules, graph features and a fraud model that score an
application from what the bank can observe at the time it is made.
"""
