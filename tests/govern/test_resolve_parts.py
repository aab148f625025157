"""The pieces of entity resolution on hand-made inputs: ids, clustering policy, normalisation."""

from __future__ import annotations

import pyarrow as pa

from xiaowei.data.govern.resolve import assign_stable_ids, cluster_signatures, new_party_id
from xiaowei.data.govern.resolve.normalise import (
    looks_like_person_name,
    name_core,
    name_key,
    read_identifier,
)

VALID_USCC = "91330205232010312X"  # check character is recomputed below


def _valid_uscc() -> str:
    from stdnum.cn import uscc

    body = VALID_USCC[:17]
    return body + uscc.calc_check_digit(body)


def _wrong_check(code: str) -> str:
    last = "1" if code[-1] != "1" else "2"
    return code[:-1] + last


def test_first_run_ids_derive_from_content_not_order() -> None:
    a = assign_stable_ids({}, {1: ["r2", "r1"], 2: ["r3"]})
    b = assign_stable_ids({}, {"x": ["r3"], "y": ["r1", "r2"]})
    assert a[1] == b["y"] == new_party_id("r1")
    assert a[2] == b["x"]


def test_merge_keeps_the_majority_id_and_split_keeps_it_for_the_larger_piece() -> None:
    previous = {"r1": "PA", "r2": "PA", "r3": "PB", "r4": "PC", "r5": "PC", "r6": "PC"}
    merged = assign_stable_ids(previous, {0: ["r1", "r2", "r3"]})
    assert merged == {0: "PA"}
    split = assign_stable_ids(previous, {0: ["r4", "r5"], 1: ["r6"], 2: ["r7"]})
    assert split[0] == "PC"
    assert split[1] not in {"PA", "PB", "PC"}
    assert split[2] == new_party_id("r7")
    assert len(set(split.values())) == 3


def test_retired_id_is_never_reissued() -> None:
    previous = {"r9": new_party_id("r1")}  # an id once minted from r1, now held elsewhere
    out = assign_stable_ids(previous, {0: ["r1"], 1: ["r9", "r8"]})
    assert out[1] == new_party_id("r1")
    assert out[0] != new_party_id("r1")


def _signatures(rows: list[dict[str, object]]) -> pa.Table:
    return pa.table(
        {
            "signature_id": [r["signature_id"] for r in rows],
            "uscc": [r.get("uscc") for r in rows],
            "uscc_valid": [bool(r.get("uscc_valid")) for r in rows],
            "id_number": [r.get("id_number") for r in rows],
            "id_valid": [bool(r.get("id_valid")) for r in rows],
        }
    )


def _pairs(rows: list[tuple[int, int, float]]) -> pa.Table:
    return pa.table(
        {
            "signature_id_l": pa.array([r[0] for r in rows], pa.int64()),
            "signature_id_r": pa.array([r[1] for r in rows], pa.int64()),
            "match_weight": [r[2] for r in rows],
            "match_probability": [0.5 for _ in rows],
        }
    )


def test_same_invalid_identifier_is_not_an_exact_link() -> None:
    bad = _wrong_check(_valid_uscc())
    sigs = _signatures(
        [
            {"signature_id": 0, "uscc": bad, "uscc_valid": False},
            {"signature_id": 1, "uscc": bad, "uscc_valid": False},
            {"signature_id": 2, "uscc": _valid_uscc(), "uscc_valid": True},
            {"signature_id": 3, "uscc": _valid_uscc(), "uscc_valid": True},
        ]
    )
    out = cluster_signatures(sigs, _pairs([]))
    assert out[2].cluster == out[3].cluster and out[2].match_kind == "exact_id"
    assert out[0].cluster != out[1].cluster
    assert out[0].match_kind == out[1].match_kind == "unmatched"


def test_name_only_record_does_not_chain_two_identified_firms() -> None:
    sigs = _signatures(
        [
            {"signature_id": 0, "uscc": "A", "uscc_valid": True},
            {"signature_id": 1, "uscc": "B", "uscc_valid": True},
            {"signature_id": 2},  # a visit naming a name both firms carry
            {"signature_id": 3},  # a visit that clearly fits firm A
        ]
    )
    pairs = _pairs([(0, 2, 5.0), (1, 2, 4.8), (0, 3, 6.0), (1, 3, 1.0), (0, 1, 9.0)])
    out = cluster_signatures(sigs, pairs, tie_margin=1.0)
    assert out[0].cluster != out[1].cluster  # anchored clusters never merge
    assert out[2].cluster not in {out[0].cluster, out[1].cluster}  # a tie: attached to none
    assert out[3].cluster == out[0].cluster and out[3].match_kind == "probabilistic"


def test_normalisation_makes_registry_variants_equal() -> None:
    assert name_key("湖州（盛启）食品有限责任公司 ") == name_key("湖州盛启食品有限公司")
    assert name_core(name_key("台州海通食品有限公司")) == "海通食品"
    assert name_core(name_key("丽水市吴强火锅店")) == "吴强火锅店"
    assert looks_like_person_name("宋秀")
    assert not looks_like_person_name("海业贸易")
    assert not looks_like_person_name("吴强火锅店")


def test_identifier_reading_flags_a_wrong_check_character() -> None:
    good = _valid_uscc()
    assert read_identifier(" " + good.lower() + "-") == read_identifier(good)
    assert read_identifier(good).valid and read_identifier(good).kind == "uscc"
    bad = read_identifier(_wrong_check(good))
    assert bad.kind == "uscc" and not bad.valid
    person = read_identifier("11010519491231002X")
    assert person.kind == "resident_id" and person.valid
    assert not read_identifier("110105194912310021").valid
