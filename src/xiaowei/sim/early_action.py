"""How much of a default's loss early warning saves: the response model both processes share.

SIMULATOR.md §5: the bank's and the borrower's responses come from a documented model, fixed
before any strategy is tuned and the same for the traditional and the digital process, so a
process can only win by *when* it learns of trouble, never by a kinder formula. The figures are
stated assumptions (docs/simulator.md), not measurements: a warning well before the borrower
stops paying lets the bank freeze unused lines, take or add collateral, reach guarantors first
and agree a restructuring while the firm still trades; a warning on the day of default saves
nothing.

loss = exposure at default × LGD × (1 − saving(lead)), lead = days from the first warning to
the first missed payment of the default (negative or none: no saving).
"""

from __future__ import annotations

LGD = 0.45
"""Loss given default with no early action: the Basel foundation IRB figure for senior
unsecured claims, used for every loan alike (the simulator has no collateral values yet)."""

SAVING_BY_LEAD = ((90, 0.40), (30, 0.20))
"""(at least this many days of lead, share of the loss saved), best first — assumptions."""


def saving(lead_days: float | None) -> float:
    """Share of the loss that early action saves for a warning ``lead_days`` ahead."""
    if lead_days is None:
        return 0.0
    for days, share in SAVING_BY_LEAD:
        if lead_days >= days:
            return share
    return 0.0


def loss(exposure: float, lead_days: float | None) -> float:
    """The loss of one default (yuan) given its exposure and the warning's lead."""
    return exposure * LGD * (1.0 - saving(lead_days))
