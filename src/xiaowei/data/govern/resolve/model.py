"""The probabilistic half of resolution: a splink (Fellegi–Sunter) model over identity records.

Why splink: it is a maintained record-linkage library whose model is plain SQL, so the same
settings run on DuckDB embedded and on Spark at bank scale (DESIGN.md §4). The backend is a
splink ``DatabaseAPI`` passed in by the caller; nothing here names DuckDB except the default.

Design of the comparisons (each level is one rung of evidence, strongest first):

- ``name``: same name key → same trade-name core (news say 海通食品) → Jaro-Winkler of the
  core ≥ 0.92 → else; the two exact levels are term-frequency adjusted, because 宋秀 or
  睿汇供应链管理 shared by several parties says less than a rare name;
- ``uscc`` / ``id_number``: same text → one character apart (a mistyped check character is
  how invalid identifiers arise) → different; null when either side has none;
- ``phone``, ``address`` (exact, then Jaro-Winkler ≥ 0.95), ``region_code`` (county, then
  city).

Every blocking rule also requires the same ``party_kind``: a business owner and the firm
they run are different parties and must never be compared.

Training: u by random sampling (seeded, so reruns score alike), λ (the prior that two
records match) from the exact-identifier rule, and m fixed to priors — see ``M_PRIORS`` for
why EM was measured and not kept.
"""

from __future__ import annotations

import logging
from typing import Any

import pyarrow as pa
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.internals.database_api import DatabaseAPI

__all__ = [
    "M_PRIORS",
    "SIGNATURE_COLUMNS",
    "blocking_rules",
    "comparisons",
    "train_and_predict",
]

# Columns that decide identity; records equal on all of them are one "signature".
SIGNATURE_COLUMNS = (
    "party_kind",
    "name_key",
    "name_core",
    "uscc",
    "uscc_valid",
    "id_number",
    "id_valid",
    "phone",
    "address",
    "region_code",
)

# m probabilities — P(level | the two records are one party) — per comparison, levels in
# order (null level excluded). Fixed, not trained by EM: measured on `tiny` and `small`, EM
# blocked on name key or identifier sees almost only matches (the sources agree on names and
# identifiers far more than real data do), leaves the disagreeing levels unobserved and
# returns m = 1 for agreement, i.e. no evidence against a match. These priors say what a
# bank knows: names are typed the same 85% of the time, phones change, addresses get moved.
M_PRIORS: dict[str, tuple[float, ...]] = {
    "name": (0.85, 0.10, 0.03, 0.02),  # key, core only, Jaro-Winkler, else
    "uscc": (0.97, 0.025, 0.005),  # same, one character apart, different
    "id_number": (0.97, 0.025, 0.005),
    "phone": (0.7, 0.3),
    "address": (0.8, 0.1, 0.1),  # same, Jaro-Winkler >= 0.95, else
    "region_code": (0.95, 0.03, 0.02),  # county, city, else
}


def _fixed(level: Any, m: float) -> Any:
    return level.configure(m_probability=m).configure(fix_m_probability=True)


def _identifier_comparison(column: str) -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=[
            cll.NullLevel(column),
            _fixed(cll.ExactMatchLevel(column), M_PRIORS[column][0]),
            _fixed(cll.LevenshteinLevel(column, 1), M_PRIORS[column][1]),
            _fixed(cll.ElseLevel(), M_PRIORS[column][2]),
        ],
    )


def comparisons() -> list[Any]:
    """The comparisons of the model (see the module docstring for why each level exists)."""
    m = M_PRIORS
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_key"),
            _fixed(
                cll.ExactMatchLevel("name_key").configure(tf_adjustment_column="name_key"),
                m["name"][0],
            ),
            _fixed(
                cll.ExactMatchLevel("name_core").configure(tf_adjustment_column="name_core"),
                m["name"][1],
            ),
            _fixed(cll.JaroWinklerLevel("name_core", 0.92), m["name"][2]),
            _fixed(cll.ElseLevel(), m["name"][3]),
        ],
    )
    region = cl.CustomComparison(
        output_column_name="region_code",
        comparison_levels=[
            cll.NullLevel("region_code"),
            _fixed(cll.ExactMatchLevel("region_code"), m["region_code"][0]),
            _fixed(
                cll.CustomLevel(
                    "substr(region_code_l, 1, 4) = substr(region_code_r, 1, 4)", "same city"
                ),
                m["region_code"][1],
            ),
            _fixed(cll.ElseLevel(), m["region_code"][2]),
        ],
    )
    phone = cl.CustomComparison(
        output_column_name="phone",
        comparison_levels=[
            cll.NullLevel("phone"),
            _fixed(cll.ExactMatchLevel("phone"), m["phone"][0]),
            _fixed(cll.ElseLevel(), m["phone"][1]),
        ],
    )
    address = cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.NullLevel("address"),
            _fixed(cll.ExactMatchLevel("address"), m["address"][0]),
            _fixed(cll.JaroWinklerLevel("address", 0.95), m["address"][1]),
            _fixed(cll.ElseLevel(), m["address"][2]),
        ],
    )
    return [
        name,
        _identifier_comparison("uscc"),
        _identifier_comparison("id_number"),
        phone,
        address,
        region,
    ]


def blocking_rules() -> list[Any]:
    """Pairs worth scoring: same name key, core, phone, address or identifier stem.

    The identifier stem (first 17 characters) pairs a record whose check character was
    mistyped with the records of the true number.
    """
    return [
        block_on("party_kind", "name_key"),
        block_on("party_kind", "name_core"),
        block_on("party_kind", "phone"),
        block_on("party_kind", "address"),
        block_on("party_kind", "substr(uscc, 1, 17)"),
        block_on("party_kind", "substr(id_number, 1, 17)"),
    ]


def _settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="signature_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=blocking_rules(),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def train_and_predict(
    signatures: pa.Table | Any,
    *,
    db_api: DatabaseAPI | None = None,
    threshold: float = 0.5,
    seed: int = 7,
) -> tuple[pa.Table, dict[str, Any]]:
    """Train the model on ``signatures`` and return scored pairs at or above ``threshold``.

    ``signatures`` is whatever the backend can register (an Arrow table for DuckDB, a Spark
    DataFrame for ``SparkAPI``). Returns ``(pairs, model_json)`` where pairs has
    ``signature_id_l, signature_id_r, match_weight, match_probability`` and model_json is
    splink's serialised model, kept so every party link can be explained later.
    """
    api = db_api if db_api is not None else DuckDBAPI()
    linker = Linker(api.register(signatures), _settings(), log_level=logging.ERROR)
    training = linker.training
    training.estimate_probability_two_random_records_match(
        [
            "l.uscc = r.uscc AND l.uscc_valid AND r.uscc_valid",
            "l.id_number = r.id_number AND l.id_valid AND r.id_valid",
        ],
        recall=0.8,
    )
    training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    scored = linker.inference.predict(threshold_match_probability=threshold)
    pairs = scored.as_pyarrow_table().select(
        ["signature_id_l", "signature_id_r", "match_weight", "match_probability"]
    )
    model = linker.misc.save_model_to_json()
    return pairs, model
