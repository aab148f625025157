"""What the post-loan pack reads for one loan, assembled the same way everywhere it runs.

Why one function: the nightly batch, the replay that compares processes and a test all hand the
pack a loan's state and its borrower's warning levels; if each built the inputs itself, a
renamed variable would silently become "missing" in one of them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from xiaowei.engine.strategy import Pack, load_pack

PACK_FILE = Path(__file__).parent / "packs" / "default" / "pack.yaml"


@functools.cache
def default_pack() -> Pack:
    """The packaged post-loan pack (parsed once per process; packs are immutable)."""
    return load_pack(PACK_FILE)


def pack_inputs(loan_id: str, party_id: str, dpd: int, balance: float | Decimal,
                months_on_book: int,
                worst: int, counts: Mapping[int, int], *, product: str | None = None,
                restructured: bool | None = None, bpd: float | None = None
                ) -> dict[str, Any]:
    """The pack's inputs: ``counts`` maps a level (1 yellow, 2 orange, 3 red) to how many of
    the borrower's signals hold at it; ``bpd`` the behaviour score's PD when one is approved."""
    return {"loan.loan_id": loan_id, "loan.party_id": party_id, "loan.product": product,
            "loan.dpd": dpd,
            "loan.balance": balance if isinstance(balance, Decimal) else Decimal(
                str(round(balance, 2))), "loan.months_on_book": months_on_book,
            "loan.restructured": restructured, "warn.worst": worst,
            "warn.yellow": counts.get(1, 0), "warn.orange": counts.get(2, 0),
            "warn.red": counts.get(3, 0), "score.bpd": bpd}
