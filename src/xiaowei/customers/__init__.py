"""Customer operations (客户运营): one relationship per customer, maintenance grades, life
cycle, value mining, retention and portfolio balancing — the customer domain of the
platform's loop (tags → strategy → tasks → outcomes). See docs/customers.md.

Modules import what they need; nothing is imported here, so a light caller (the CLI's help,
a page) does not load the batch's dependencies.
"""
