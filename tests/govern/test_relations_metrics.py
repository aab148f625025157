"""Relationship metrics on hand-built graphs whose answers are worked out by hand."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from xiaowei.data.govern.relations import (
    EdgeTableError,
    connected_components,
    degrees,
    edge_table,
    guarantee_circles,
    guarantee_cycles,
    identifier_clusters,
    lift_guarantees,
    propagate_risk,
    select,
)


def by_node(table: pa.Table, column: str) -> dict[str, object]:
    return dict(zip(table["node"].to_pylist(), table[column].to_pylist(), strict=True))


def guarantees(pairs: list[tuple[str, str]], amount: float | None = 100.0,
               known_at: str = "2024-01-01") -> pa.Table:
    return edge_table([a for a, _ in pairs], [b for _, b in pairs], "guarantor",
                      directed=True, known_at=[known_at] * len(pairs),
                      weight=[amount] * len(pairs))


def test_components_group_nodes_and_count_members_only() -> None:
    edges = edge_table(["a", "b", "x", "c"], ["phone:1", "phone:1", "y", "d"],
                       ["shares_phone", "shares_phone", "supplies", "legal_rep"],
                       known_at=["2024-01-01"] * 4)
    cc = connected_components(edges)
    assert by_node(cc, "component") == {"a": "a", "b": "a", "phone:1": "a", "c": "c",
                                        "d": "c", "x": "x", "y": "x"}
    assert by_node(cc, "size")["phone:1"] == 3
    counted = connected_components(edges, members=["a", "b", "c", "d", "x", "y"])
    assert by_node(counted, "size")["a"] == 2  # the phone node is not a party
    only_phone = connected_components(edges, kinds=["shares_phone"])
    assert set(only_phone["node"].to_pylist()) == {"a", "b", "phone:1"}


def test_as_of_ignores_edges_not_yet_known_and_unknown_dates() -> None:
    edges = edge_table(["a", "b", "c"], ["b", "c", "d"], "guarantor", directed=True,
                       known_at=["2024-01-01", "2024-06-01", None])
    early = connected_components(edges, as_of=dt.date(2024, 3, 1))
    assert by_node(early, "component") == {"a": "a", "b": "a"}
    late = connected_components(edges, as_of="2024-06-01")
    assert by_node(late, "size") == {"a": 3, "b": 3, "c": 3}
    assert connected_components(edges).num_rows == 4  # no as_of: every edge counts


def test_as_of_drops_edges_that_begin_later() -> None:
    edges = edge_table(["a"], ["b"], "legal_rep", since=["2024-05-01"],
                       known_at=["2024-01-01"])
    assert select(edges, as_of="2024-04-30").num_rows == 0
    assert select(edges, as_of="2024-05-01").num_rows == 1


def test_degrees_per_kind_and_direction_with_stable_columns() -> None:
    edges = edge_table(["a", "a", "b", "a"], ["b", "c", "c", "phone:1"],
                       ["guarantor", "guarantor", "guarantor", "shares_phone"],
                       directed=[True, True, True, False],
                       known_at=["2024-01-01", "2024-01-01", "2025-01-01", "2024-01-01"])
    d = degrees(edges)
    assert by_node(d, "degree") == {"a": 3, "b": 2, "c": 2, "phone:1": 1}
    assert by_node(d, "guarantor_out") == {"a": 2, "b": 1, "c": 0, "phone:1": 0}
    assert by_node(d, "guarantor_in") == {"a": 0, "b": 1, "c": 2, "phone:1": 0}
    assert by_node(d, "shares_phone")["a"] == 1
    assert "shares_phone_out" not in d.column_names
    early = degrees(edges, as_of="2024-06-30", kinds=["guarantor"])
    assert early.column_names == ["node", "degree", "guarantor", "guarantor_out",
                                  "guarantor_in"]
    assert by_node(early, "guarantor_in") == {"a": 0, "b": 1, "c": 1}


def test_three_party_circle_mutual_pair_and_a_chain_that_is_not_a_circle() -> None:
    edges = guarantees([("a", "b"), ("b", "c"), ("c", "a"),      # circle of three
                        ("m", "n"), ("n", "m"),                  # mutual guarantee 互保
                        ("p", "q"), ("q", "r"), ("r", "s"),      # a chain
                        ("c", "x")])                             # leaves the circle
    circles = guarantee_circles(edges, control_kinds=())
    assert by_node(circles, "circle") == {"a": "a", "b": "a", "c": "a", "m": "m", "n": "m"}
    assert by_node(circles, "size") == {"a": 3, "b": 3, "c": 3, "m": 2, "n": 2}
    assert by_node(circles, "guarantees") == {"a": 3, "b": 3, "c": 3, "m": 2, "n": 2}
    assert by_node(circles, "exposure")["a"] == 300.0  # c → x lies outside the circle
    cycles = guarantee_cycles(edges, control_kinds=())
    assert sorted(cycles["nodes"].to_pylist()) == [["a", "b", "c"], ["m", "n"]]
    assert cycles["length"].to_pylist() == [3, 2]


def test_circle_exposure_is_null_without_amounts() -> None:
    circles = guarantee_circles(guarantees([("a", "b"), ("b", "a")], amount=None),
                                control_kinds=())
    assert circles["exposure"].null_count == 2


def test_guarantees_by_controllers_are_lifted_to_their_firms() -> None:
    edges = pa.concat_tables([
        edge_table(["person:1", "person:2"], ["org:A", "org:B"], "legal_rep", directed=True,
                   known_at=["2024-01-01", "2024-03-01"]),
        guarantees([("person:1", "org:B"), ("person:2", "org:A"), ("person:1", "org:A"),
                    ("person:9", "org:A")], known_at="2024-02-01"),
    ])
    lifted = lift_guarantees(edges)
    pairs = sorted(zip(lifted["src"].to_pylist(), lifted["dst"].to_pylist(), strict=True))
    # person:1 guaranteeing his own org:A is a self-loop and gone; person:9 controls nothing.
    assert pairs == [("org:A", "org:B"), ("org:B", "org:A"), ("person:9", "org:A")]
    known = dict(zip(zip(lifted["src"].to_pylist(), lifted["dst"].to_pylist(), strict=True),
                     lifted["known_at"].to_pylist(), strict=True))
    assert known[("org:B", "org:A")] == dt.date(2024, 3, 1)  # control known later
    circles = guarantee_circles(edges)
    assert by_node(circles, "size") == {"org:A": 2, "org:B": 2}
    assert guarantee_circles(edges, as_of="2024-02-15").num_rows == 0
    assert guarantee_circles(edges, control_kinds=()).num_rows == 0


def test_cycles_are_bounded_and_capped() -> None:
    ring = [(f"n{i}", f"n{(i + 1) % 5}") for i in range(5)]
    assert guarantee_cycles(guarantees(ring), max_length=4, control_kinds=()).num_rows == 0
    assert guarantee_cycles(guarantees(ring), max_length=5, control_kinds=()).num_rows == 1
    dense = [(f"n{i}", f"n{j}") for i in range(6) for j in range(6) if i != j]
    with pytest.raises(ValueError, match="max_cycles=10"):
        guarantee_cycles(guarantees(dense), max_cycles=10, control_kinds=())
    with pytest.raises(ValueError, match="max_length must be at least 2, got 1"):
        guarantee_cycles(guarantees(ring), max_length=1)


FACTORS = {"guarantor": 0.8, "legal_rep": 0.5}


def propagation_graph() -> tuple[pa.Table, pa.Table]:
    edges = edge_table(["A", "B", "A", "E", "A"], ["B", "C", "D", "B", "phone:1"],
                       ["guarantor", "legal_rep", "legal_rep", "guarantor", "shares_phone"],
                       directed=True, known_at=["2024-01-01"] * 5)
    scores = pa.table({"node": ["C", "D", "E", "Z"], "score": [1.0, 0.6, 1.0, 1.0]})
    return edges, scores


def test_two_hop_propagation_max_by_hand() -> None:
    edges, scores = propagation_graph()
    r = propagate_risk(edges, scores, FACTORS, decay=(0.5, 0.5), mode="max")
    expect = {"A": 0.16, "B": 0.4, "C": 0.1, "D": 0.0, "E": 0.1}  # D's own 0.6 never returns
    assert by_node(r, "propagated") == pytest.approx(expect)
    assert by_node(r, "hop_1") == pytest.approx({"A": 0.15, "B": 0.4, "C": 0, "D": 0, "E": 0})
    assert by_node(r, "score")["C"] == 1.0
    assert "phone:1" not in by_node(r, "score")  # kinds without a factor are ignored


def test_two_hop_propagation_sum_by_hand() -> None:
    edges, scores = propagation_graph()
    r = propagate_risk(edges, scores, FACTORS, decay=(0.5, 0.5), mode="sum")
    assert by_node(r, "hop_1") == pytest.approx({"A": 0.15, "B": 0.65, "C": 0, "D": 0, "E": 0})
    assert by_node(r, "hop_2") == pytest.approx({"A": 0.26, "B": 0.06, "C": 0.1, "D": 0,
                                                 "E": 0.1})
    assert by_node(r, "propagated") == pytest.approx({"A": 0.41, "B": 0.71, "C": 0.1, "D": 0,
                                                      "E": 0.1})


def test_propagation_respects_as_of_and_rejects_bad_parameters() -> None:
    edges, scores = propagation_graph()
    late = edge_table(["C"], ["F"], "guarantor", known_at=["2025-01-01"])
    r = propagate_risk(pa.concat_tables([edges, late]), scores, FACTORS, as_of="2024-12-31")
    assert "F" not in r["node"].to_pylist()
    with pytest.raises(ValueError, match="mode must be 'max' or 'sum', got 'mean'"):
        propagate_risk(edges, scores, FACTORS, mode="mean")
    with pytest.raises(ValueError, match="decay"):
        propagate_risk(edges, scores, FACTORS, decay=())
    with pytest.raises(ValueError, match="kind_factors must be ≥ 0"):
        propagate_risk(edges, scores, {"guarantor": -1.0})
    with pytest.raises(ValueError, match="scores has no column 'score'"):
        propagate_risk(edges, scores.rename_columns(["node", "risk"]), FACTORS)


def test_identifier_clusters_count_parties_and_what_they_share() -> None:
    edges = edge_table(
        ["a", "b", "b", "c", "d", "e", "person:1", "person:1"],
        ["phone:1", "phone:1", "address:1", "address:1", "device:1", "phone:2", "org:f",
         "org:g"],
        ["shares_phone", "shares_phone", "shares_address", "shares_address", "shares_device",
         "shares_phone", "legal_rep", "legal_rep"], known_at=["2024-01-01"] * 8)
    ic = identifier_clusters(edges)
    assert by_node(ic, "cluster") == {"a": "a", "b": "a", "c": "a", "d": "d", "e": "e"}
    assert by_node(ic, "size") == {"a": 3, "b": 3, "c": 3, "d": 1, "e": 1}
    assert by_node(ic, "identifiers")["a"] == 2
    assert by_node(ic, "shared_shares_phone") == {"a": 1, "b": 1, "c": 1, "d": 0, "e": 0}
    assert by_node(ic, "shared_shares_address")["c"] == 1
    with_rep = identifier_clusters(edges, kinds={"legal_rep": "dst"})
    assert by_node(with_rep, "size") == {"org:f": 2, "org:g": 2}
    with pytest.raises(ValueError, match="party end must be 'src' or 'dst'"):
        identifier_clusters(edges, kinds={"legal_rep": "left"})


def test_edge_tables_are_checked() -> None:
    with pytest.raises(EdgeTableError, match="no column 'known_at'"):
        select(pa.table({"src": ["a"], "dst": ["b"], "kind": ["x"], "directed": [True],
                         "since": pa.array([None], pa.date32()), "weight": [1.0]}))
    bad = edge_table(["a"], ["b"], "x").set_column(5, "known_at", pa.array(["soon"]))
    with pytest.raises(EdgeTableError, match="column 'known_at' cannot be read"):
        connected_components(bad)
    assert connected_components(edge_table([], [], "x")).num_rows == 0
