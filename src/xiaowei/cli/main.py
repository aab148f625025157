"""The `xiaowei` command."""

from __future__ import annotations

import typer

from xiaowei.cli import (
    apply_cmd,
    audit_cmd,
    backtest_cmd,
    customers_cmd,
    customers_offers,
    db_cmd,
    decide_cmd,
    demo_cmd,
    govern_cmd,
    load_cmd,
    model_cmd,
    postloan_cmd,
    quality_cmd,
    report_book,  # noqa: F401 — registers `report recovery` and `report regulatory`
    report_cmd,
    review_cmd,
    serve_cmd,
    sim_cmd,
    staff_cmd,
    staff_events_cmd,
    strategy_cmd,
    tags_cmd,
    users_cmd,
)

app = typer.Typer(
    name="xiaowei",
    help="小微 — 银行小微企业数字信贷平台 · a platform for a bank's SME digital credit business",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.command("sim")(sim_cmd.sim)
app.command("load")(load_cmd.load)
app.command("demo")(demo_cmd.demo)
app.command("govern")(govern_cmd.govern_command)
app.command("decide")(decide_cmd.decide)
app.command("apply")(apply_cmd.apply)
app.command("nodes")(apply_cmd.nodes)
app.command("backtest")(backtest_cmd.backtest)
app.add_typer(db_cmd.app, name="db")
app.add_typer(tags_cmd.app, name="tags")
app.add_typer(quality_cmd.app, name="quality")
app.add_typer(model_cmd.registry_app, name="model")  # fit/score/report + registry
app.add_typer(strategy_cmd.app, name="strategy")
app.add_typer(review_cmd.app, name="review")
app.add_typer(review_cmd.dd_app, name="dd")
app.add_typer(users_cmd.app, name="users")
app.add_typer(users_cmd.token_app, name="token")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(audit_cmd.keys_app, name="keys")
app.add_typer(postloan_cmd.app, name="postloan")
app.add_typer(report_cmd.app, name="report")
customers_cmd.app.command("offers")(customers_offers.offers)
customers_cmd.app.command("renewals")(customers_offers.renewals)
customers_cmd.app.command("train")(customers_offers.train)
app.add_typer(customers_cmd.app, name="customers")
staff_cmd.register(staff_events_cmd.staff_app)
app.add_typer(staff_events_cmd.staff_app, name="staff")
app.command("serve")(serve_cmd.serve)
app.add_typer(serve_cmd.api_app, name="api")


if __name__ == "__main__":
    app()
