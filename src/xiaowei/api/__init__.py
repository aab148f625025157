"""The HTTP interface (FastAPI): thin routers over the domains; see :func:`create_app`."""

from xiaowei.api.app import create_app

__all__ = ["create_app"]
