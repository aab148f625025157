"""Where the bank thinks a customer is, and where its managers' phones say they went.

Two tables of the bank's own systems that the behaviour analytics compare with check-ins:

* `bank/address_geocodes` — the bank's GIS geocode of each application's business address.
  A geocoder is right to tens of metres for most addresses, worse where it can only
  interpolate along a road, sometimes confidently wrong (a namesake road, an old building
  number), and for a few addresses it finds only the town. It geocodes an address *string*,
  so every application at one address gets the same point.
* `bank/manager_tracks` — the mobile app's path points in the hour before each check-in: a
  manager who went drove from the branch to the site; one who checked in from the office has
  no path or a path that stays there; honest managers sometimes close the app.

Rates are fixed in `TRACK_RATES` / `GEOCODE_CLASSES` and documented in docs/simulator.md
("Managers' behaviour for the behaviour analytics") before any signal was tuned
(SIMULATOR.md §5). Each table draws from streams of its own (`c.rng("manager_tracks")`,
hashes named "geocode-*"), so no other table moves.
"""

from __future__ import annotations

import zlib

import numpy as np

from xiaowei.sim import arrow, hashing
from xiaowei.sim.behaviour import Visits, application_numbers
from xiaowei.sim.geography import geography, metres_between
from xiaowei.sim.lending import Book
from xiaowei.sim.sources.common import record_keys
from xiaowei.sim.sources.context import Chunk
from xiaowei.sim.staff import Staff

METRES_PER_DEGREE = 111_320.0

# Geocode quality classes: (share, precision_m the geocoder reports, error scale in metres).
# "mismatch" reports street precision but lands 0.5–3 km away (a namesake road); "town" is
# the town centre only. Error is Rayleigh with the given scale, except for those two.
GEOCODE_CLASSES: dict[str, tuple[float, float, float]] = {
    "rooftop": (0.55, 20.0, 15.0),
    "interpolated": (0.28, 100.0, 60.0),
    "street": (0.12, 300.0, 150.0),
    "mismatch": (0.02, 100.0, 0.0),
    "town": (0.03, 2000.0, 0.0),
}

# Path points per check-in, by whether the manager was really at the site.
TRACK_RATES = {
    "went_full_path": 0.88,  # a path from the branch ending at the site
    "went_no_points": 0.08,  # app closed or no signal: nothing recorded
    "went_truncated": 0.04,  # the recording stops part of the way
    "absent_no_points": 0.50,  # checked in without going (office, faked): no path
    # the rest of the absent: points around the branch (the phone stayed at the office)
}
POINTS = (3, 7)  # a handful of points per recorded path (low inclusive, high exclusive)
SPEED_KMH = (25.0, 45.0)  # urban and county roads
MAX_TRACK_SECONDS = 3600  # the app keeps the last hour before a check-in


def address_geocodes(c: Chunk, book: Book) -> None:
    """One geocode per application: the party's true location plus the geocoder's error."""
    if not book.app:
        return
    p = c.parties
    pos = book.app["pos"]
    addresses = p["address"][pos]
    uniq, inverse = np.unique(addresses, return_inverse=True)
    key = np.array([zlib.crc32(a.encode("utf-8")) for a in uniq], dtype=np.uint64)[inverse]
    names = list(GEOCODE_CLASSES)
    shares = np.array([GEOCODE_CLASSES[k][0] for k in names])
    cls = np.array(names)[hashing.choice(c.seed, "geocode-class", key, shares)]
    which = [cls == k for k in names]
    precision = np.select(which, [GEOCODE_CLASSES[k][1] for k in names])
    scale = np.select(which, [GEOCODE_CLASSES[k][2] for k in names])
    # Rayleigh error: the distance of a 2-D normal with this per-axis scale.
    u = np.maximum(hashing.uniform(c.seed, "geocode-error", key), 1e-12)
    error_m = scale * np.sqrt(-2.0 * np.log(u))
    error_m = np.where(cls == "mismatch",
                       500.0 + 2500.0 * hashing.uniform(c.seed, "geocode-mismatch", key), error_m)
    angle = 2.0 * np.pi * hashing.uniform(c.seed, "geocode-angle", key)
    lat0, lon0 = p["lat"][pos], p["lon"][pos]
    lat = lat0 + error_m * np.sin(angle) / METRES_PER_DEGREE
    lon = lon0 + error_m * np.cos(angle) / (METRES_PER_DEGREE * np.cos(np.radians(lat0)))
    town_lat, town_lon = _town_centre(c.seed, addresses)
    town = cls == "town"
    lat, lon = np.where(town, town_lat, lat), np.where(town, town_lon, lon)
    c.emit.bank("address_geocodes", arrow.table(
        application_no=application_numbers(c.number, book.app["app_no"]),
        lat=np.round(lat, 6), lon=np.round(lon, 6), precision_m=precision))


def _town_centre(seed: int, addresses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The county seat's coordinates for each address (its county name is the prefix)."""
    geo = geography(seed)
    lat = np.full(len(addresses), np.nan)
    lon = np.full(len(addresses), np.nan)
    for i, name in enumerate(geo.names):
        hit = np.char.startswith(addresses.astype(str), str(name))
        lat[hit], lon[hit] = geo.lat[i], geo.lon[i]
    return lat, lon


def manager_tracks(c: Chunk, visits: Visits | None, staff: Staff) -> None:
    """The app's path points in the hour before each check-in (see `TRACK_RATES`)."""
    if visits is None or len(visits.pos) == 0:
        return
    rng = c.rng("manager_tracks")
    p, v = c.parties, visits
    n = len(v.pos)
    branch = staff.manager_branch[v.manager]
    b_lat, b_lon = staff.branch_lat[branch], staff.branch_lon[branch]
    s_lat, s_lon = p["lat"][v.pos], p["lon"][v.pos]
    r = rng.random(n)
    full = v.went & (r < TRACK_RATES["went_full_path"])
    truncated = v.went & (r >= 1.0 - TRACK_RATES["went_truncated"])
    office = ~v.went & (r >= TRACK_RATES["absent_no_points"])
    recorded = full | truncated | office
    k = rng.integers(*POINTS, n)
    speed = rng.uniform(*SPEED_KMH, n) / 3.6  # m/s
    arrive_lag = rng.integers(60, 900, n)  # parked and walked in before checking in
    reach = np.where(truncated, rng.uniform(0.2, 0.7, n), 1.0)
    d = metres_between(b_lat, b_lon, s_lat, s_lon)
    travel = np.minimum(d / speed, MAX_TRACK_SECONDS)
    idx = np.flatnonzero(recorded)
    pi = np.repeat(idx, k[idx])
    step = np.concatenate([np.arange(x) for x in k[idx]]) if len(idx) else np.zeros(0, int)
    frac = (step + 1) / k[pi]  # share of the recorded time elapsed at each point
    # Time: the recorded stretch ends on arrival; the path covers the last `travel` seconds.
    ends_at = v.sec[pi] - arrive_lag[pi]
    at = ends_at - (1.0 - frac) * travel[pi]
    # Place: along the straight road branch → site, from where the last hour began.
    start_share = 1.0 - travel[pi] * speed[pi] / np.maximum(d[pi], 1.0)
    along = np.clip(start_share + (1.0 - start_share) * frac, 0.0, 1.0) * reach[pi]
    lat = b_lat[pi] + along * (s_lat[pi] - b_lat[pi])
    lon = b_lon[pi] + along * (s_lon[pi] - b_lon[pi])
    stay = office[pi]  # the phone never left the office
    wander = rng.normal(0.0, 0.0008, (2, len(pi)))
    lat = np.where(stay, b_lat[pi] + wander[0], lat + rng.normal(0.0, 0.0002, len(pi)))
    lon = np.where(stay, b_lon[pi] + wander[1], lon + rng.normal(0.0, 0.0002, len(pi)))
    at = np.where(stay, v.sec[pi] - rng.integers(0, MAX_TRACK_SECONDS, len(pi)), at)
    order = np.lexsort((at, pi))
    pi, at, lat, lon = pi[order], at[order], lat[order], lon[order]
    mgr = v.manager[pi]
    c.emit.bank("manager_tracks", arrow.table(
        track_id=record_keys("TRK", c.number, len(pi)), manager_id=staff.manager_id[mgr],
        recorded_at=arrow.timestamps(v.day[pi], np.round(at).astype(np.int64)),
        lat=np.round(lat, 6), lon=np.round(lon, 6),
        accuracy_m=np.round(rng.uniform(5, 40, len(pi)), 1),
        device_id=np.char.add("MD", staff.manager_id[mgr])))
