"""The picture of a customer's relationships: the party in the middle, one spoke per kind of
relation the governed graph measures (guarantee circle, related-party group, shared phone,
address, device), each with how many other parties stand there.

Why counts and not every neighbour: the governed relations (``gov.relation_metric``, reached
through the relationship tags) are kept as figures per party; a spoke that is red says "look
here" — shared identifiers are the classic fraud-ring trace — without putting other
customers' identities on this customer's page. Inline SVG, every text escaped.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from xiaowei.web.i18n import pick

SPOKES = (  # tag, zh, en, how many *other* parties the value means
    ("guarantee_circle_size", "担保圈", "guarantee circle", lambda v: v),
    ("related_group_size", "关联企业群", "related group", lambda v: max(v - 1, 0)),
    ("shared_phone_parties", "共用电话", "shared phone", lambda v: v),
    ("shared_address_parties", "共用地址", "shared address", lambda v: v),
    ("shared_device_parties", "共用设备", "shared device", lambda v: v),
)
RISKY = {"guarantee_circle_size", "shared_phone_parties", "shared_device_parties"}


def relationship_svg(name: str, tags: dict[str, Any], lang: str, width: int = 420,
                     height: int = 300) -> str:
    """The star picture for a party whose latest tags are ``tags`` (name → value)."""
    cx, cy, r = width / 2, height / 2, min(width, height) / 2 - 46
    parts = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'role="img" class="graph"><title>{escape(pick(lang, "关系图谱", "relations"))}'
             "</title>"]
    for i, (tag, zh, en, others) in enumerate(SPOKES):
        angle = -math.pi / 2 + 2 * math.pi * i / len(SPOKES)
        x, y = round(cx + r * math.cos(angle), 1), round(cy + r * math.sin(angle), 1)
        value = tags.get(tag)
        count = None if value is None else int(others(float(value)))
        if count is None:
            stroke, fill, dash, text = "#bdbdbd", "#fafafa", ' stroke-dasharray="4 3"', "?"
        elif count == 0:
            stroke, fill, dash, text = "#9e9e9e", "#f5f5f5", "", "0"
        else:
            alarm = tag in RISKY
            stroke = "#c62828" if alarm else "#1565c0"
            fill = "#ffebee" if alarm else "#e3f2fd"
            dash, text = "", str(count)
        parts.append(f'<line x1="{cx}" y1="{cy}" x2="{x}" y2="{y}" stroke="{stroke}" '
                     f'stroke-width="{1.5 if not count else 2.5}"{dash}/>')
        parts.append(f'<circle cx="{x}" cy="{y}" r="17" fill="{fill}" stroke="{stroke}"'
                     f'{dash}/><text x="{x}" y="{y + 4}" text-anchor="middle" font-size="12" '
                     f'font-weight="600" fill="#263238">{text}</text>')
        ly = y + 32 if y >= cy else y - 24
        parts.append(f'<text x="{x}" y="{ly}" text-anchor="middle" font-size="11" '
                     f'fill="#455a64">{escape(pick(lang, zh, en))}</text>')
    label = name if len(name) <= 6 else name[:5] + "…"
    parts.append(f'<circle cx="{cx}" cy="{cy}" r="34" fill="#0d47a1"/><text x="{cx}" '
                 f'y="{cy + 4}" text-anchor="middle" font-size="11" fill="#fff">'
                 f"{escape(label)}</text></svg>")
    return "".join(parts)
