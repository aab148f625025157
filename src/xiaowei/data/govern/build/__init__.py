"""Raw sources → the governed tables that tags read (docs/governed.md)."""

from xiaowei.data.govern.build.pipeline import GovernReport, govern, governed_as_of

__all__ = ["GovernReport", "govern", "governed_as_of"]
