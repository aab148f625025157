"""The synthetic SME bank: ground truth for every claim the platform makes (DESIGN.md §5)."""

from xiaowei.sim.bank import SimResult, generate
from xiaowei.sim.sizes import SIZES, get_size

__all__ = ["SIZES", "SimResult", "generate", "get_size"]
