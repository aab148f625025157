"""The parties of the synthetic bank and the people behind them.

Every static attribute and every piece of ground truth is a pure function of (seed, index)
(see `hashing`), so any chunk can look up any party: an invoice's buyer, a guarantor, a
supply-chain anchor. The generative model is documented in docs/simulator.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xiaowei.sim import hashing
from xiaowei.sim.calendar import TRUTH_MONTHS
from xiaowei.sim.geography import geography
from xiaowei.sim.identity import (
    firm_words,
    make_mobile,
    make_resident_id,
    make_uscc,
    person_names,
)
from xiaowei.sim.sizes import RING_BLOCK
from xiaowei.sim.vocab import CITY_SHORT, ROADS, SECTION_WORDS, SECTIONS, SHOP_WORDS

PARTY_TYPES = np.array(["enterprise", "individual_business", "business_owner"])
RING_PROBABILITY = 0.07  # per block of 64 parties → ~0.7% of parties are in a ring
ANCHOR_EVERY = 200  # one party in 200 is a supply-chain anchor (a large core firm)
ANCHOR_OFFSET = 7
SHARE_MODES = np.array(["phone", "address", "legal_rep", "device", "multi"])
SHARE_WEIGHTS = np.array([0.28, 0.22, 0.15, 0.20, 0.15])
# Honest sharing, so that "shares an identifier" is no fraud flag by itself (see
# docs/simulator.md §3): two firms of one family (pair 2k, 2k+1), firms at one market or
# incubator address (a run of positions in a block).
FAMILY_PROBABILITY = 0.05  # per pair of honest parties
FAMILY_SAME_BOSS = 0.30  # of family pairs: one person runs both firms (else the spouse)
FAMILY_SHARES = {"phone": 0.45, "address": 0.40, "device": 0.35}
MARKET_PROBABILITY = 0.30  # per block of 64: a market / incubator hosting several firms
MARKET_FIRST = 40  # market positions start here (rings use 8..17)
MARKET_JOIN = 0.70
VIRTUAL_PLACE = 1 << 40  # index space of places that are no party (market addresses)
# Macro cycle: a slowdown in the second half of 2024 raises everyone's hazard.
MACRO = np.ones(TRUTH_MONTHS)
MACRO[18:26] = 1.35
MACRO_CUM = np.cumsum(MACRO)
HAZARD_INTERCEPT = -4.1
RECOVERY_SHARE = 0.30  # distress that heals: signals move, no default follows
SUDDEN_SHARE = 0.15  # defaults with no prior signal
NEVER = 10_000  # month index standing for "not within any horizon"


@dataclass
class Parties:
    """Columns for a range of party indices (all arrays of equal length)."""

    cols: dict[str, np.ndarray]
    n_parties: int

    def __getitem__(self, key: str) -> np.ndarray:
        return self.cols[key]

    def __len__(self) -> int:
        return len(self.cols["idx"])


def ring_of(seed: int, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(is member, ring id = block number, leader index) for each party index."""
    block = idx // RING_BLOCK
    present = hashing.uniform(seed, "ring", block) < RING_PROBABILITY
    size = 3 + hashing.integers(seed, "ring-size", block, 8)
    pos = idx % RING_BLOCK
    # Position 7 may be an anchor (index % 200 == 7); rings start at 8 to leave anchors alone.
    member = present & (pos >= 8) & (pos < 8 + size)
    leader = block * RING_BLOCK + 8
    return member, block, leader


def family_of(seed: int, idx: np.ndarray, n_parties: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(in a family pair, the pair's first index, is the second firm, one boss runs both).

    Husband and wife (or one boss) often run two firms — a shop and a trading company — and
    borrow for both. Pairs are (2k, 2k+1), so both sit in one chunk; ring members and anchors
    never belong to one. In the spouse variant the second firm's key person is the first's
    spouse (and vice versa), so a spouse guaranteeing one firm is the other firm's controller:
    honest mutual guarantees (互保) arise from the ordinary guarantor choice.
    """
    idx = np.asarray(idx, dtype=np.int64)
    first = idx - idx % 2
    second = first + 1
    pair = first // 2
    honest = ~ring_of(seed, first)[0] & ~ring_of(seed, second)[0]
    honest &= ~is_anchor(first) & ~is_anchor(second) & (second < n_parties)
    present = honest & (hashing.uniform(seed, "family", pair) < FAMILY_PROBABILITY)
    second_is_firm = hashing.choice(seed, "ptype", second, np.array([0.45, 0.40, 0.15])) < 2
    same_boss = present & second_is_firm & (
        hashing.uniform(seed, "family-boss", pair) < FAMILY_SAME_BOSS)
    return present, first, present & (idx == second), same_boss


def market_of(seed: int, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(registered at a market / incubator, the place's index) — honest shared addresses.

    Several unrelated firms of a block register at one address (a wholesale market hall, an
    incubator's 集群注册 address); the place is a virtual index, no party's own address.
    """
    idx = np.asarray(idx, dtype=np.int64)
    block = idx // RING_BLOCK
    pos = idx % RING_BLOCK
    present = hashing.uniform(seed, "market", block) < MARKET_PROBABILITY
    span = 3 + hashing.integers(seed, "market-span", block, 8)
    inside = present & (pos >= MARKET_FIRST) & (pos < MARKET_FIRST + span)
    joins = (pos == MARKET_FIRST) | (hashing.uniform(seed, "market-join", idx) < MARKET_JOIN)
    member = inside & joins & ~is_anchor(idx)
    return member, VIRTUAL_PLACE + block


def is_anchor(idx: np.ndarray) -> np.ndarray:
    return idx % ANCHOR_EVERY == ANCHOR_OFFSET


def anchor_for(seed: int, idx: np.ndarray, n_parties: int) -> np.ndarray:
    """The supply-chain anchor a party deals with (or -1)."""
    n_anchors = max(1, (n_parties - ANCHOR_OFFSET - 1) // ANCHOR_EVERY + 1)
    linked = hashing.uniform(seed, "in-chain", idx) < 0.12
    k = hashing.integers(seed, "anchor", idx, n_anchors)
    anchor = k * ANCHOR_EVERY + ANCHOR_OFFSET
    return np.where(linked & ~is_anchor(idx) & (anchor < n_parties), anchor, -1)


def build(seed: int, idx: np.ndarray, n_parties: int) -> Parties:
    """All static attributes and latent truth of the parties with these indices."""
    idx = np.asarray(idx, dtype=np.int64)
    n = len(idx)
    geo = geography(seed)
    member, ring_id, leader = ring_of(seed, idx)
    anchor = is_anchor(idx)

    ptype = hashing.choice(seed, "ptype", idx, np.array([0.45, 0.40, 0.15]))
    ptype = np.where(member, np.where(hashing.uniform(seed, "ring-type", idx) < 0.6, 0, 1), ptype)
    ptype = np.where(anchor, 0, ptype)
    sec_i = hashing.choice(seed, "section", idx, np.array([s[1] for s in SECTIONS]))
    section = np.array([s[0] for s in SECTIONS])[sec_i]
    sec_shift = np.array([s[2] for s in SECTIONS])[sec_i]
    div_pick = hashing.uniform(seed, "division", idx)
    division = np.array([SECTIONS[s][3][int(u * len(SECTIONS[s][3]))] for s, u in
                         zip(sec_i, div_pick, strict=True)])
    county_i = _county(seed, idx)
    family, first, second, same_boss = family_of(seed, idx, n_parties)
    fam_addr = second & (hashing.uniform(seed, "family-addr", first) < FAMILY_SHARES["address"])
    market, place = market_of(seed, idx)
    # A firm at another's address (family, market) is registered in that address's county.
    county_i = np.where(market, _county(seed, place),
                        np.where(fam_addr, _county(seed, first), county_i))

    # Years in business as of 2024-01; ring shells are young.
    base_years = np.exp(1.55 + 0.75 * hashing.normal(seed, "age", idx))
    years = np.where(member, 0.2 + 1.8 * hashing.uniform(seed, "ring-age", idx),
                     np.clip(base_years, 0.3, 35.0))
    years = np.where(anchor, np.maximum(years, 8.0), years)
    # Revenue (万元/year) by party type, lognormal.
    med = np.array([600.0, 90.0, 60.0])[ptype]
    sig = np.array([1.0, 0.8, 0.7])[ptype]
    revenue = med * np.exp(sig * hashing.normal(seed, "revenue", idx))
    revenue = np.where(anchor, 30_000.0 * np.exp(0.5 * hashing.normal(seed, "a-rev", idx)),
                       revenue)
    revenue = np.clip(revenue, 8.0, 200_000.0)
    employees = np.maximum(1, np.round(revenue / np.array([70.0, 40.0, 45.0])[ptype]
                                       * np.exp(0.4 * hashing.normal(seed, "emp", idx))))
    employees = np.where(ptype == 2, np.minimum(employees, 6), employees).astype(np.int64)

    # Latent quality (management, honesty, market position): seen only through noisy signals.
    quality = hashing.normal(seed, "quality", idx)
    unobservable = 0.85 * hashing.normal(seed, "u", idx)
    leverage = 0.45 * hashing.normal(seed, "leverage", idx) - 0.30 * quality - 1.2
    growth = 0.04 + 0.05 * quality + 0.08 * hashing.normal(seed, "growth", idx)
    young = (years < 2.0).astype(float)
    z = (HAZARD_INTERCEPT + sec_shift + 0.45 * young + 0.20 * (ptype == 1)
         - 0.22 * np.log1p(years) + 0.55 * (leverage + 1.2) - 0.60 * quality + unobservable)
    annual_hazard = 1.0 / (1.0 + np.exp(-z))
    monthly_hazard = 1.0 - (1.0 - annual_hazard) ** (1.0 / 12.0)

    # Distress onset: first month where cumulative hazard exceeds an Exp(1) draw.
    e = -np.log(np.maximum(hashing.uniform(seed, "onset", idx), 1e-300))
    onset = np.searchsorted(MACRO_CUM, e / monthly_hazard, side="left")
    onset = np.where(onset >= TRUTH_MONTHS, NEVER, onset)
    recovers = hashing.uniform(seed, "recovers", idx) < RECOVERY_SHARE
    sudden = hashing.uniform(seed, "sudden", idx) < SUDDEN_SHARE
    lead = 2 + hashing.integers(seed, "lead", idx, 8)
    default_m = np.where(recovers, NEVER, np.where(sudden, onset, onset + lead))
    default_m = np.where(onset >= NEVER, NEVER, default_m)
    signal_m = np.where(sudden & ~recovers, default_m, onset)
    recovery_m = np.where(recovers & (onset < NEVER), onset + 3 + hashing.integers(
        seed, "recovery-len", idx, 4), NEVER)
    severity = 0.35 + 0.40 * hashing.uniform(seed, "severity", idx)

    # People: key person (legal rep / operator / the owner) is person idx; spouse is n + idx.
    key_person = np.where(member & np.isin(_share_mode(seed, ring_id), ["legal_rep", "multi"]),
                          leader, idx)
    key_person = np.where(second, np.where(same_boss, first, n_parties + first), key_person)
    spouse_person = np.where(second & ~same_boss, first, n_parties + key_person)
    has_spouse = (hashing.uniform(seed, "married", key_person) < 0.78) | (family & ~same_boss)
    fam_phone = second & (hashing.uniform(seed, "family-phone", first) < FAMILY_SHARES["phone"])
    fam_device = second & (hashing.uniform(seed, "family-device", first)
                           < FAMILY_SHARES["device"])
    region = geo.counties[county_i]
    uscc = np.where(ptype < 2, make_uscc(seed, idx, region, np.where(ptype == 0, 1, 2)), "")
    share = _share_mode(seed, ring_id)
    own_phone = make_mobile(seed, key_person)
    leader_phone = make_mobile(seed, leader)
    phone_shared = member & np.isin(share, ["phone", "multi"])
    addr_shared = member & np.isin(share, ["address", "multi"])
    address_of = np.where(addr_shared, leader, idx)
    address_of = np.where(fam_addr, first, address_of)
    address_of = np.where(market, place, address_of)
    road = np.array(list(ROADS))
    r_i = hashing.integers(seed, "road", address_of, len(road) - 1)
    roads = np.char.add(np.char.add(road[r_i], road[r_i + 1]), "路")
    number = 1 + hashing.integers(seed, "street-no", address_of, 600)
    building = 1 + hashing.integers(seed, "building", address_of, 20)
    room = 101 + hashing.integers(seed, "room", address_of, 28) * 100 + hashing.integers(
        seed, "room2", address_of, 12)
    addr_county = np.where(addr_shared, geo.counties[_county(seed, leader)], region)
    county_name = geo.names[np.searchsorted(geo.counties, addr_county)]
    address = np.array([f"{c}{r}{no}号{b}幢{rm}室" for c, r, no, b, rm in
                        zip(county_name, roads, number, building, room, strict=True)])
    ci = np.searchsorted(geo.counties, addr_county)
    lat = geo.lat[ci] + 0.04 * hashing.normal(seed, "lat", address_of)
    lon = geo.lon[ci] + 0.04 * hashing.normal(seed, "lon", address_of)
    who = person_identity(seed, key_person)
    id_number, birth, person_name = who["id_number"], who["birth_date"], who["name"]
    name = _party_names(seed, idx, ptype, sec_i, region, person_name)
    capital_steps = np.array([3, 10, 30, 50, 100, 200, 500, 1000, 2000, 5000])  # 万元
    capital = capital_steps[np.clip(np.searchsorted(capital_steps, revenue * 0.3)
                                    + hashing.integers(seed, "capital", idx, 3) - 1, 0, 9)]
    # Tax credit grade (A/B/M/C/D) reflects quality with noise; young firms are 'M'.
    tq = quality + 0.8 * hashing.normal(seed, "tax-grade", idx)
    grade = np.where(tq > 0.9, "A", np.where(tq > -0.3, "B", np.where(tq > -1.6, "C", "D")))
    grade = np.where(years < 1.0, "M", grade)

    cols = {
        "idx": idx, "party_type": PARTY_TYPES[ptype], "ptype": ptype,
        "section": section, "division": division, "region_code": region,
        "years": years, "revenue_wan": revenue, "employees": employees,
        "quality": quality, "unobservable": unobservable, "leverage": leverage,
        "growth": growth, "z": z, "annual_hazard": annual_hazard,
        "onset_m": onset, "signal_m": signal_m, "default_m": default_m,
        "recovery_m": recovery_m, "severity": severity,
        "ring_member": member, "ring_id": np.where(member, ring_id, -1),
        "ring_share": np.where(member, share, ""), "is_anchor": anchor,
        "anchor_idx": anchor_for(seed, idx, n_parties),
        "key_person": key_person, "spouse_person": spouse_person, "has_spouse": has_spouse,
        "name": name, "person_name": person_name, "registered_capital_wan": capital,
        "tax_grade": grade,
        "uscc": uscc, "id_number": id_number, "birth_date": birth,
        "phone": np.where(phone_shared, leader_phone,
                          np.where(fam_phone, make_mobile(seed, first), own_phone)),
        "address": address, "lat": lat, "lon": lon,
        "device_id": _device_ids(seed, np.where(fam_device, first, idx), member, share, leader),
    }
    assert all(len(v) == n for v in cols.values())
    return Parties(cols, n_parties)


def _county(seed: int, idx: np.ndarray) -> np.ndarray:
    """Home county (index into the geography) of a party, or of a person by person index."""
    return hashing.choice(seed, "county", idx, geography(seed).weights)


def person_identity(seed: int, person: np.ndarray) -> dict[str, np.ndarray]:
    """Name, resident ID, birth date and phone of people by person index.

    A key person's index equals their party's index, so their ID carries the party's county;
    spouses and other people (index ≥ the number of parties) get a county of their own.
    """
    person = np.asarray(person, dtype=np.int64)
    region = geography(seed).counties[_county(seed, person)]
    ids, birth = make_resident_id(seed, person, region)
    return {"name": person_names(seed, person), "id_number": ids, "birth_date": birth,
            "phone": make_mobile(seed, person)}


def _share_mode(seed: int, ring_id: np.ndarray) -> np.ndarray:
    return SHARE_MODES[hashing.choice(seed, "ring-share", ring_id, SHARE_WEIGHTS)]


def _device_ids(seed: int, idx: np.ndarray, member: np.ndarray, share: np.ndarray,
                leader: np.ndarray) -> np.ndarray:
    """The phone/tablet an applicant applies from online; rings often reuse one."""
    shared = member & np.isin(share, ["device", "multi"])
    owner = np.where(shared, leader, idx)
    h = hashing.hash_u64(seed, "device", owner)
    return np.char.add("D", np.char.zfill(np.char.mod("%x", h), 16))


def _party_names(seed: int, idx: np.ndarray, ptype: np.ndarray, sec_i: np.ndarray,
                 region: np.ndarray, person_name: np.ndarray) -> np.ndarray:
    """杭州鑫华机械制造有限公司 / 西湖区张伟便利店 / 张伟 (an owner borrows in their own name)."""
    words = firm_words(seed, idx)
    pick = hashing.uniform(seed, "trade-word", idx)
    out = []
    for i in range(len(idx)):
        sec = SECTIONS[sec_i[i]][0]
        city = CITY_SHORT[region[i][:4]]
        if ptype[i] == 0:
            trade = SECTION_WORDS[sec][int(pick[i] * len(SECTION_WORDS[sec]))]
            out.append(f"{city}{words[i]}{trade}有限公司")
        elif ptype[i] == 1:
            shop = SHOP_WORDS[sec][int(pick[i] * len(SHOP_WORDS[sec]))]
            head = words[i] if pick[i] < 0.5 else person_name[i]
            out.append(f"{city}市{head}{shop}")
        else:
            out.append(person_name[i])
    return np.array(out)
