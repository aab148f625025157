"""What a supervisor reads about the team and one manager (pages and CLI), who may read it, and
the record that they did.

Why read the staff batch's stored day (``staff.manager_day``, ``staff.signal``,
``staff.alert``) rather than recompute: the dashboard, ``xiaowei staff`` and the detection
figures must show the same rating and the same alert for the same day.

Why privacy lives here and not only in the pages (issue 9 point 7): staff data is about
employees, so only holders of ``staff:read:branch`` see their branch's managers (auditors and
administrators ``staff:read:all``); a manager outside the scope is *not found*, never
"forbidden" — that the manager exists, or is alerted, is itself information — and no one ever
sees their own staff file through these views. Every view is written to the hash-chained audit
log with who looked at which managers (:func:`record_view`).

Why pictures as inline SVG drawn here: bank intranets are offline, so the check-in map is an
equirectangular projection of the points' own bounding box with a scale bar in metres — no map
tiles, no script — and the radar is six axes 0–100 with the branch median as a second polygon.
Every text that reaches the SVG is escaped.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import duckdb
from sqlalchemy import Engine

from xiaowei.security import audit
from xiaowei.security.principal import PermissionDenied, Principal
from xiaowei.staff.behaviour_signals import event_views, table_exists
from xiaowei.staff.geo import metres_between
from xiaowei.staff.run import MANAGER_DAY_COLUMNS
from xiaowei.staff.staff_pack import Dimension
from xiaowei.store.database import transaction

DAY_COLUMNS = MANAGER_DAY_COLUMNS
DIMENSIONS = tuple(d.value for d in Dimension)
PEER_FIGURES = ("customers", "utilisation", "new_customers", "outstanding_yuan",
                "conversion_rate", "renewal_rate", "par30", "par90", "fpd_rate")
"""Business-source and workload figures shown against the branch median (manager included)."""
LEVEL_RANK = {"none": 0, "yellow": 1, "orange": 2, "red": 3}
HISTORY_DAYS = 90
MAX_POINTS = 2000


class ManagerNotFound(LookupError):
    """No stored day for the manager — or the manager lies outside the reader's scope."""


# -- privacy ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class StaffScope:
    """Whose staff data a person may read: one branch's managers, or all (``branch_id`` None
    with ``everything``); never their own (``self_id``, a customer-manager id)."""

    viewer: str
    everything: bool
    branch_id: str | None
    self_id: str | None = None

    def allows(self, branch_id: str | None, manager_id: str) -> bool:
        if self.self_id is not None and manager_id == self.self_id:
            return False
        if self.everything:
            return True
        return self.branch_id is not None and branch_id == self.branch_id


def staff_scope(principal: Principal) -> StaffScope:
    """The principal's staff scope; :class:`PermissionDenied` without any ``staff:read``."""
    scope = principal.scope("staff")
    if scope not in ("branch", "all"):
        raise PermissionDenied(f"{principal.name} ({principal.role}) lacks permission "
                               "'staff:read:branch'")
    return StaffScope(principal.name, scope == "all",
                      None if scope == "all" else principal.branch_id, principal.manager_id)


def record_view(engine: Engine, principal: Principal, what: str, manager_ids: Iterable[str],
                **detail: Any) -> None:
    """One audit entry for one view: who (``principal``) looked at which managers' staff data
    (``what``: ``team``, ``manager``, ``task``, ``refused``…). No figures go into the entry:
    it says what was looked at, not what it showed."""
    managers = sorted(set(manager_ids))
    subject = ("manager", managers[0]) if len(managers) == 1 else \
        ("branch", detail.get("branch_id") or "*")
    with transaction(engine) as session:
        audit.record(session, principal.name, f"staff.view.{what}"[:64], subject,
                     {"managers": managers, "role": principal.role, **detail})


# -- reading the stored day ------------------------------------------------------------------

def has_staff_day(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the staff batch has stored anything (``staff.manager_day``)."""
    return table_exists(con, "staff", "manager_day")


def latest_day(con: duckdb.DuckDBPyConnection, manager_id: str | None = None) -> dt.date | None:
    """The staff batch's latest day (for one manager, the latest day that has them)."""
    if not has_staff_day(con):
        return None
    sql = "SELECT max(as_of) FROM staff.manager_day"
    found = con.execute(sql + (" WHERE manager_id = ?" if manager_id else ""),
                        [manager_id] if manager_id else []).fetchone()
    return found[0] if found else None


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def manager_names(con: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> dict[str, str]:
    """manager → name from the bank's staff list (names of staff may show; customers' not)."""
    if not ids or not table_exists(con, "raw", "bank_managers"):
        return {}
    return dict(con.execute("SELECT manager_id, any_value(name) FROM raw.bank_managers "
                            "WHERE manager_id IN (SELECT unnest($ids)) GROUP BY 1",
                            {"ids": list(ids)}).fetchall())


def _median(values: Iterable[Any]) -> float | None:
    found = [float(v) for v in values if v is not None]
    return statistics.median(found) if found else None


def _day_rows(con: duckdb.DuckDBPyConnection, as_of: dt.date, branch_id: str | None
              ) -> list[dict[str, Any]]:
    where = "as_of = $d" + (" AND branch_id = $b" if branch_id is not None else "")
    return _dicts(con.execute(f"SELECT {', '.join(DAY_COLUMNS)} FROM staff.manager_day "
                              f"WHERE {where} ORDER BY manager_id",
                              {"d": as_of, **({"b": branch_id} if branch_id else {})}))


def team(con: duckdb.DuckDBPyConnection, as_of: dt.date | None, branch_id: str | None
         ) -> dict[str, Any]:
    """The branch's managers (all branches with ``branch_id`` None) on ``as_of`` (None: the
    latest day): their day rows with names, the worst alerts first, then the branch median
    of the six dimensions (the team radar), and counts by rating and alert level."""
    day = as_of or latest_day(con)
    rows = _day_rows(con, day, branch_id) if day is not None else []
    names = manager_names(con, [r["manager_id"] for r in rows])
    for r in rows:
        r["name"] = names.get(r["manager_id"]) or r["manager_id"]
        target = r.get("target_customers")
        r["target_share"] = (r["customers"] / target) if target and r.get("customers") \
            is not None else None
    rows.sort(key=lambda r: (-LEVEL_RANK.get(r["alert_level"] or "none", 0), r["manager_id"]))
    return {"as_of": day, "branch_id": branch_id, "managers": rows,
            "median": {d: _median(r[f"dim_{d}"] for r in rows) for d in DIMENSIONS},
            "ratings": dict(Counter(r["rating"] for r in rows)),
            "alerts": dict(Counter(r["alert_level"] or "none" for r in rows))}


def _json_list(text: Any) -> list[Any]:
    if text in (None, ""):
        return []
    value = json.loads(text) if isinstance(text, str) else text
    return list(value) if isinstance(value, list | tuple) else [value]


def manager_view(con: duckdb.DuckDBPyConnection, manager_id: str, as_of: dt.date | None
                 ) -> dict[str, Any]:
    """One manager on ``as_of`` (None: their latest day): the day row, the six dimensions and
    the branch median of each, the figures against the branch median, the day's signals with
    values, thresholds and evidence, the alerts and ratings of the last 90 days.
    :class:`ManagerNotFound` when the batch has no row for them that day."""
    day = as_of or latest_day(con, manager_id)
    rows = _day_rows(con, day, None) if day is not None else []
    mine = next((r for r in rows if r["manager_id"] == manager_id), None)
    if mine is None:
        raise ManagerNotFound(f"no staff day for manager {manager_id!r}"
                              + (f" on {day}" if day else ""))
    branch = [r for r in rows if r["branch_id"] == mine["branch_id"]]
    mine["name"] = manager_names(con, [manager_id]).get(manager_id) or manager_id
    signals = _dicts(con.execute(
        "SELECT signal, category, level, value, threshold, n_events, evidence, name_zh, "
        "name_en FROM staff.signal WHERE as_of = ? AND manager_id = ? ORDER BY CASE level "
        "WHEN 'red' THEN 0 WHEN 'orange' THEN 1 ELSE 2 END, signal", [day, manager_id])) \
        if table_exists(con, "staff", "signal") else []
    for s in signals:
        s["evidence"] = _json_list(s["evidence"])
    alerts = _dicts(con.execute(
        "SELECT as_of, level, categories, signals, new FROM staff.alert WHERE manager_id = ? "
        "AND as_of <= ? AND as_of > ? ORDER BY as_of DESC",
        [manager_id, day, day - dt.timedelta(days=HISTORY_DAYS)])) \
        if table_exists(con, "staff", "alert") else []
    for a in alerts:
        a["signals"] = _json_list(a["signals"])
        a["categories"] = [c for c in (a["categories"] or "").split(",") if c]
    history = _dicts(con.execute(
        "SELECT as_of, rating, score, alert_level FROM staff.manager_day WHERE manager_id = ? "
        "AND as_of <= ? AND as_of > ? ORDER BY as_of DESC LIMIT 30",
        [manager_id, day, day - dt.timedelta(days=HISTORY_DAYS)]))
    return {"as_of": day, "manager": mine, "peers": len(branch),
            "dims": {d: mine[f"dim_{d}"] for d in DIMENSIONS},
            "median": {d: _median(r[f"dim_{d}"] for r in branch) for d in DIMENSIONS},
            "figures": [{"figure": f, "value": mine.get(f),
                         "median": _median(r.get(f) for r in branch)} for f in PEER_FIGURES],
            "signals": signals, "alerts": alerts, "history": history}


def scoped_manager(con: duckdb.DuckDBPyConnection, scope: StaffScope, manager_id: str,
                   as_of: dt.date | None = None) -> dict[str, Any]:
    """:func:`manager_view` within ``scope``: outside it, :class:`ManagerNotFound` exactly as
    for a manager who does not exist."""
    found = manager_view(con, manager_id, as_of)
    if not scope.allows(found["manager"]["branch_id"], manager_id):
        raise ManagerNotFound(f"no staff day for manager {manager_id!r}")
    return found


# -- the check-in map ------------------------------------------------------------------------

def _has_relation(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
                       "AND table_schema IN ('main', 'temp')", [name]).fetchone()
    return bool(rows and rows[0])


def checkin_points(con: duckdb.DuckDBPyConnection, manager_id: str, as_of: dt.date,
                   days: int = 30, radius_m: float = 500) -> list[dict[str, Any]]:
    """The manager's check-ins of the ``days`` up to ``as_of`` with the geocoded business
    address they name, the distance, and ``far``: beyond the geofence — ``radius_m`` plus the
    phone's accuracy and the geocode's precision, the behaviour signal's own rule."""
    if days < 1 or radius_m <= 0:
        raise ValueError(f"days must be ≥ 1 and radius_m > 0, got {days}, {radius_m}")
    if not _has_relation(con, "staff_checkin"):
        event_views(con)  # the bank's loaded check-ins as the TEMP view the signals read
    geo = ("(SELECT DISTINCT ON (application_no) application_no, lat, lon, precision_m FROM "
           "raw.bank_address_geocodes ORDER BY application_no, precision_m)"
           if table_exists(con, "raw", "bank_address_geocodes") else
           "(SELECT NULL::VARCHAR application_no, NULL::DOUBLE lat, NULL::DOUBLE lon, "
           "NULL::DOUBLE precision_m WHERE false)")
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    rows = con.execute(
        "SELECT c.event_id, c.occurred_at, c.lat, c.lon, c.accuracy_m, c.mock_location, "
        "c.purpose, c.application_no, g.lat, g.lon, g.precision_m "
        f"FROM staff_checkin c LEFT JOIN {geo} g ON g.application_no = c.application_no "
        "WHERE c.manager_id = ? AND c.occurred_at >= ? AND c.occurred_at < ? "
        "AND c.lat IS NOT NULL AND c.lon IS NOT NULL ORDER BY c.occurred_at, c.event_id "
        f"LIMIT {MAX_POINTS}",
        [manager_id, end - dt.timedelta(days=days), end]).fetchall()
    points = []
    for (event, at, lat, lon, accuracy, mock, purpose, app, glat, glon, precision) in rows:
        metres = None if glat is None else metres_between(lat, lon, glat, glon)
        allowed = radius_m + float(accuracy or 0) + float(precision or 0)
        points.append({"event_id": event, "at": at, "lat": lat, "lon": lon,
                       "accuracy_m": accuracy, "mock": bool(mock), "purpose": purpose,
                       "application_no": app, "address": None if glat is None else
                       (glat, glon), "metres": metres,
                       "far": metres is not None and metres > allowed})
    return points


def _nice_metres(span: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10ⁿ m) of about a quarter of ``span``."""
    target = max(span / 4, 1.0)
    magnitude = 10 ** math.floor(math.log10(target))
    return max(m * magnitude for m in (1, 2, 5) if m * magnitude <= target)


def _text(lang: str, zh: str, en: str) -> str:
    return escape(zh if lang == "zh_CN" else en)


def _text_width(text: str) -> float:
    """About how wide ``text`` is at font size 11 (CJK characters are square)."""
    return sum(11.0 if ord(ch) > 0x2E80 else 6.2 for ch in text)


def _legend(lang: str, x: float, y: float) -> str:
    """Check-in, beyond the geofence, business address — each with its mark, side by side."""
    items = (("circle", "#0072b2", ("打卡", "check-in")),
             ("circle", "#c62828", ("超出围栏", "beyond the geofence")),
             ("hollow", "#0072b2", ("模拟定位", "mock location")),
             ("square", "#616161", ("客户经营地址", "business address")))
    out = ['<g class="legend">']
    for shape, colour, (zh, en) in items:
        if shape == "square":
            out.append(f'<rect x="{x - 4}" y="{y - 8}" width="8" height="8" fill="{colour}"/>')
        else:
            fill = "#ffffff" if shape == "hollow" else colour
            out.append(f'<circle cx="{x}" cy="{y - 4}" r="4" fill="{fill}" '
                       f'stroke="{colour}" stroke-width="1.5"/>')
        out.append(f'<text x="{x + 8}" y="{y}" fill="#212121">{_text(lang, zh, en)}</text>')
        x += 8 + _text_width(zh if lang == "zh_CN" else en) + 18
    return "".join(out) + "</g>"


def draw_checkin_map(points: Sequence[Mapping[str, Any]], radius_m: float = 500, *,
                     lang: str = "zh_CN", width: int = 640) -> str:
    """The inline SVG of :func:`checkin_points`: check-ins as circles (red beyond the
    geofence, hollow when the phone reported a mock location), business addresses as squares,
    a line from each check-in to its address (red and solid when far, grey dashed when
    near), a scale bar in metres and north up. The projection is equirectangular around the
    points' own middle latitude — over a town's few kilometres it is true to well within GPS
    error — and the picture takes the bounding box's shape (height 220–440 px)."""
    left, right, top, foot = 20, width - 20, 34, 64
    if not points:
        return (f'<svg class="checkin-map" viewBox="0 0 {width} 120" width="{width}" '
                'height="120" role="img" font-family="sans-serif" font-size="11">'
                f'<text x="{width / 2}" y="60" text-anchor="middle" fill="#616161">'
                f'{_text(lang, "期间内无打卡记录", "no check-ins in the period")}</text></svg>')
    coords = [(p["lat"], p["lon"]) for p in points] + \
        [p["address"] for p in points if p["address"]]
    lat0 = (min(c[0] for c in coords) + max(c[0] for c in coords)) / 2
    per_lat = metres_between(0, 0, 1, 0)
    per_lon = per_lat * math.cos(math.radians(lat0))
    lon_min, lat_max = min(c[1] for c in coords), max(c[0] for c in coords)
    span_x = max(max((c[1] - lon_min) * per_lon for c in coords), 200.0)
    span_y = max(max((lat_max - c[0]) * per_lat for c in coords), 200.0)
    plot_h = min(max((right - left) * span_y / span_x, 220.0), 440.0)
    height = round(top + plot_h + foot)
    scale = min((right - left) / span_x, plot_h / span_y)  # pixels per metre
    off_x = left + ((right - left) - span_x * scale) / 2
    off_y = top + (plot_h - span_y * scale) / 2

    def at(lat: float, lon: float) -> tuple[float, float]:
        return (round(off_x + (lon - lon_min) * per_lon * scale, 1),
                round(off_y + (lat_max - lat) * per_lat * scale, 1))

    out = [f'<svg class="checkin-map" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" font-family="sans-serif" font-size="11">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fbfcfd"/>',
           f'<text x="{left}" y="18" fill="#212121">'
           f'{_text(lang, "打卡与客户经营地址", "check-ins and business addresses")} · '
           f'{_text(lang, "地理围栏", "geofence")} {radius_m:g} m</text>',
           f'<text x="{right}" y="18" text-anchor="end" fill="#212121" '
           'font-weight="bold">N ↑</text>']
    seen: set[tuple[float, float]] = set()
    for p in points:  # lines and addresses under the check-ins
        if not p["address"]:
            continue
        (x1, y1), (x2, y2) = at(p["lat"], p["lon"]), at(*p["address"])
        style = 'stroke="#c62828" stroke-width="2"' if p["far"] else \
            'stroke="#9e9e9e" stroke-width="1" stroke-dasharray="4 3"'
        out.append(f'<line class="link{" far" if p["far"] else ""}" x1="{x1}" y1="{y1}" '
                   f'x2="{x2}" y2="{y2}" {style}/>')
        if (x2, y2) not in seen:
            seen.add((x2, y2))
            app = escape(str(p["application_no"]))
            out.append(f'<rect class="address" data-application="{app}" x="{x2 - 4}" '
                       f'y="{y2 - 4}" width="8" height="8" fill="#616161"><title>{app}</title>'
                       "</rect>")
    for p in points:
        x, y = at(p["lat"], p["lon"])
        colour = "#c62828" if p["far"] else "#0072b2"
        fill = "#ffffff" if p["mock"] else colour
        distance = "—" if p["metres"] is None else f"{p['metres']:,.0f} m"
        title = " · ".join(str(v) for v in (p["event_id"], f"{p['at']:%Y-%m-%d %H:%M}",
                                            distance, p["purpose"] or "",
                                            "mock" if p["mock"] else "") if v)
        out.append(f'<circle class="checkin{" far" if p["far"] else ""}'
                   f'{" mock" if p["mock"] else ""}" data-event="{escape(str(p["event_id"]))}" '
                   f'cx="{x}" cy="{y}" r="4.5" fill="{fill}" stroke="{colour}" '
                   f'stroke-width="1.5"><title>{escape(title)}</title></circle>')
    bar = _nice_metres((right - left) / scale)
    pixels = round(bar * scale, 1)
    label = f"{bar / 1000:g} km" if bar >= 1000 else f"{bar:g} m"
    y0 = height - 44
    out += [f'<g class="scale"><line x1="{left}" y1="{y0}" x2="{left + pixels}" y2="{y0}" '
            f'stroke="#212121" stroke-width="2"/><line x1="{left}" y1="{y0 - 4}" x2="{left}" '
            f'y2="{y0 + 4}" stroke="#212121"/><line x1="{left + pixels}" y1="{y0 - 4}" '
            f'x2="{left + pixels}" y2="{y0 + 4}" stroke="#212121"/><text x="{left}" '
            f'y="{y0 + 4}" dx="{pixels + 8}" fill="#212121">{label}</text></g>',
            _legend(lang, left + 4, height - 10), "</svg>"]
    return "".join(out)


def checkin_map_svg(con: duckdb.DuckDBPyConnection, manager_id: str, as_of: dt.date,
                    days: int = 30, radius_m: float = 500, *, lang: str = "zh_CN") -> str:
    """The manager's check-in map of the ``days`` up to ``as_of`` as inline SVG."""
    return draw_checkin_map(checkin_points(con, manager_id, as_of, days, radius_m), radius_m,
                            lang=lang)


# -- the radar -------------------------------------------------------------------------------

def radar_svg(dims: Mapping[str, float | None], labels: Mapping[str, str],
              peer: Mapping[str, float | None] | None = None, *, radius: int = 100,
              names: tuple[str, str] = ("本人 manager", "支行中位数 branch median")) -> str:
    """Six (any number ≥ 3) axes 0–100 in the order of ``labels``; ``dims`` as a filled
    polygon, ``peer`` (the branch median) as a dashed one. A missing score draws at 0 and
    its label says "—"; the labels get room beside the chart (English names are long)."""
    axes = list(labels)
    if len(axes) < 3:
        raise ValueError(f"a radar needs at least 3 axes, got {axes}")
    longest = max(_text_width(f"{labels[a]} 100") for a in axes)
    r = float(radius)
    width, height = round(2 * (r + 0.18 * r + longest + 12)), round(2 * r + 84)
    cx, cy = width / 2, r + 34

    def point(i: int, value: float | None) -> tuple[float, float]:
        v = min(max(float(value or 0), 0.0), 100.0) / 100 * r
        angle = -math.pi / 2 + 2 * math.pi * i / len(axes)
        return round(cx + v * math.cos(angle), 1), round(cy + v * math.sin(angle), 1)

    def polygon(values: Mapping[str, float | None]) -> str:
        return " ".join(f"{x},{y}" for x, y in (point(i, values.get(a))
                                                   for i, a in enumerate(axes)))

    out = [f'<svg class="radar" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" font-family="sans-serif" font-size="11">']
    for ring in (20, 40, 60, 80, 100):
        out.append(f'<polygon points="{polygon(dict.fromkeys(axes, ring))}" fill="none" '
                   f'stroke="#e0e0e0"/>')
    for i, a in enumerate(axes):
        x, y = point(i, 100)
        lx, ly = point(i, 118)
        anchor = "middle" if abs(lx - cx) < 4 else ("start" if lx > cx else "end")
        lx += {"start": 4, "end": -4}.get(anchor, 0)
        ly += 4 if anchor != "middle" else (-2 if ly < cy else 10)
        value = dims.get(a)
        shown = "—" if value is None else f"{float(value):.0f}"
        out += [f'<line x1="{cx}" y1="{cy}" x2="{x}" y2="{y}" stroke="#bdbdbd"/>',
                f'<text class="axis" x="{lx}" y="{ly}" text-anchor="{anchor}" '
                f'fill="#212121">{escape(str(labels[a]))} {shown}</text>']
    if peer is not None:
        out.append(f'<polygon class="peer" points="{polygon(peer)}" fill="none" '
                   f'stroke="#616161" stroke-width="1.5" stroke-dasharray="5 3"/>')
    out.append(f'<polygon class="self" points="{polygon(dims)}" fill="#0072b2" '
               f'fill-opacity="0.25" stroke="#0072b2" stroke-width="2"/>')
    y = height - 8
    out.append(f'<rect x="8" y="{y - 9}" width="10" height="10" fill="#0072b2" '
               f'fill-opacity="0.5"/><text x="22" y="{y}">{escape(names[0])}</text>')
    if peer is not None:
        x = 22 + _text_width(names[0]) + 20
        out.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 16}" y2="{y - 4}" '
                   f'stroke="#616161" stroke-dasharray="5 3"/><text x="{x + 20}" '
                   f'y="{y}">{escape(names[1])}</text>')
    out.append("</svg>")
    return "".join(out)


def dimension_labels(lang: str = "zh_CN") -> dict[str, str]:
    """The six dimensions' names in the person's language, in the radar's order."""
    return {d.value: d.zh if lang == "zh_CN" else d.en for d in Dimension}


__all__ = ["DAY_COLUMNS", "DIMENSIONS", "PEER_FIGURES", "ManagerNotFound", "StaffScope",
           "checkin_map_svg", "checkin_points", "dimension_labels", "draw_checkin_map",
           "has_staff_day", "latest_day", "manager_names", "manager_view", "radar_svg",
           "record_view", "scoped_manager", "staff_scope", "team"]
