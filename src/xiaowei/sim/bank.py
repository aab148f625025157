"""Generates a whole synthetic bank, chunk by chunk, into a dataset folder.

Layout of the folder (docs/simulator.md has every column):
  manifest.json      size, seed, fingerprint, row counts
  bank/*.parquet     the bank's own records: branches, managers, applications, decisions,
                     loans, repayments, guarantors, managers' check-ins and operations
  raw/*.parquet      dirty source data: registry, tax, invoices, electricity, courts, news,
                     credit bureau, core banking, field visits
  truth/*.parquet    ground truth the platform must never read (latent risk, fraud rings,
                     colluding managers, which party each source record is about)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xiaowei import __version__
from xiaowei.sim import activity, arrow, behaviour, book_tables, hashing, lending, staff_tracks
from xiaowei.sim.calendar import SIM_END
from xiaowei.sim.population import NEVER, Parties, build
from xiaowei.sim.sizes import SimSize, get_size
from xiaowei.sim.sources import bureau, core_banking, courts, registry, tax, utilities
from xiaowei.sim.sources.common import Emit
from xiaowei.sim.sources.context import Chunk
from xiaowei.sim.staff import Staff, build_staff, manager_for
from xiaowei.sim.writer import DatasetWriter

GENERATOR_VERSION = 1
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SimResult:
    out: Path
    size: str
    seed: int
    fingerprint: str
    tables: dict[str, int]
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.tables.values())


def generate(size: str | SimSize, seed: int, out: Path, progress: Progress | None = None
             ) -> SimResult:
    """Write a synthetic bank of this size and seed to `out` (created if missing)."""
    sz = get_size(size) if isinstance(size, str) else size
    if seed < 0:
        raise ValueError(f"seed must be ≥ 0, got {seed}")
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    writer = DatasetWriter(out)
    emit = Emit(writer)
    staff = build_staff(seed, sz)
    _write_staff(emit, staff)
    n_chunks = (sz.parties + sz.chunk - 1) // sz.chunk
    for number in range(n_chunks):
        lo, hi = number * sz.chunk, min(sz.parties, (number + 1) * sz.chunk)
        _chunk(seed, number, build(seed, np.arange(lo, hi), sz.parties), staff, emit)
        if progress:
            progress(number + 1, n_chunks)
    manifest = writer.close({"generator": f"xiaowei.sim v{GENERATOR_VERSION}",
                             "xiaowei": __version__, "size": sz.name, "seed": seed,
                             "parties": sz.parties, "as_of": str(SIM_END)})
    return SimResult(out, sz.name, seed, manifest["fingerprint"], manifest["tables"],
                     time.perf_counter() - started)


def _chunk(seed: int, number: int, p: Parties, staff: Staff, emit: Emit) -> None:
    c = Chunk(seed, number, p, activity.level(p, hashing.stream(seed, "activity", number)),
              emit)
    manager_of = manager_for(seed, staff, p["region_code"], p["idx"])
    # Half of the rings work through a colluding manager.
    colluding_ring = p["ring_member"] & (hashing.uniform(seed, "ring-colluder", p["ring_id"])
                                         < 0.5)
    pick = hashing.integers(seed, "ring-manager", p["ring_id"], len(staff.colluders))
    manager_of = np.where(colluding_ring, staff.colluders[pick], manager_of)
    book = lending.simulate(seed, p, staff, manager_of, c.rng("lending"))
    _write_truth(c, manager_of, staff)
    book_tables.write(c, book, staff)
    registry.companies(seed, number, p, c.rng("registry"), emit)
    registry.changes(seed, number, p, c.rng("registry_changes"), emit)
    registry.abnormal(seed, number, p, c.rng("registry_abnormal"), emit)
    registry.shareholders(seed, number, p, c.rng("shareholders"), emit)
    tax.filings(c)
    tax.invoices(c)
    utilities.electricity(c)
    courts.cases(c)
    courts.news(c)
    bureau.reports(c, book)
    core_banking.customers_accounts_flows(c, book)
    visits = behaviour.visits_and_checkins(c, book, staff)
    behaviour.operations(c, book, staff)
    # Behaviour analytics' inputs (issue 9): streams of their own, nothing above moves.
    staff_tracks.address_geocodes(c, book)
    staff_tracks.manager_tracks(c, visits, staff)
    behaviour.audit_log(c, book, visits, staff)


def _write_truth(c: Chunk, manager_of: np.ndarray, staff: Staff) -> None:
    p = c.parties

    def never(months: np.ndarray) -> np.ndarray:
        return np.where(months >= NEVER, -1, months)  # -1 stands for "never" in the files

    c.emit.truth("parties", arrow.table(
        party_idx=p["idx"], party_type=p["party_type"], name=p["name"], uscc=p["uscc"],
        key_person_id=p["id_number"], key_person_name=p["person_name"],
        region_code=p["region_code"], industry_division=p["division"], years=p["years"],
        revenue_wan=p["revenue_wan"], employees=p["employees"], quality=p["quality"],
        unobservable=p["unobservable"], leverage=p["leverage"], latent_logit=p["z"],
        annual_hazard=p["annual_hazard"], signal_month=never(p["signal_m"]),
        default_month=never(p["default_m"]), recovery_month=never(p["recovery_m"]),
        fraud_ring=p["ring_id"], ring_share=p["ring_share"], is_anchor=p["is_anchor"],
        anchor_idx=p["anchor_idx"], manager_id=staff.manager_id[manager_of]))


def _write_staff(emit: Emit, s: Staff) -> None:
    emit.bank("branches", arrow.table(
        branch_id=s.branch_id, name=s.branch_name, region_code=s.branch_region,
        lat=np.round(s.branch_lat, 6), lon=np.round(s.branch_lon, 6)))
    emit.bank("managers", arrow.table(
        manager_id=s.manager_id, name=s.manager_name, phone=s.manager_phone,
        branch_id=s.branch_id[s.manager_branch], risk_tier=s.manager_tier,
        hired_on=s.manager_hired))
    emit.truth("managers", arrow.table(manager_id=s.manager_id, behaviour=s.behaviour))
    # Static facts and exam results (issue 9): new tables with their own hashing keys, so
    # nothing above (nor any chunk's table) changes.
    emit.bank("manager_profiles", arrow.table(**s.profile_columns()))
    emit.bank("manager_exams", arrow.table(**s.exam_columns()))
    emit.truth("manager_skill", arrow.table(**s.skill_columns()))
