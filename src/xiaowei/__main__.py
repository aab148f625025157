"""`python -m xiaowei` is the `xiaowei` command."""

from xiaowei.cli.main import app

app()
