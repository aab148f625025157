"""Named sizes of the synthetic bank."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SimSize:
    """How big a bank to simulate; the chunk bounds memory at any size."""

    name: str
    parties: int
    chunk: int

    @property
    def managers(self) -> int:
        # ~20% of parties borrow at any time; a manager carries ~120 customers today.
        return max(4, round(self.parties * 0.20 / 120))

    @property
    def branches(self) -> int:
        return max(2, self.managers // 8)


SIZES: dict[str, SimSize] = {
    "tiny": SimSize("tiny", 512, 512),
    "small": SimSize("small", 20_032, 5_056),
    "bank": SimSize("bank", 1_000_000, 25_024),
}
RING_BLOCK = 64  # parties per block that may hold one fraud ring; chunks are multiples of it


def get_size(name: str) -> SimSize:
    try:
        return SIZES[name]
    except KeyError:
        raise ValueError(f"size {name!r} is not one of {', '.join(SIZES)}") from None
