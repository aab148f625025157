"""Strategy packs at load: every mistake refused with file:line, content hash, diff in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from xiaowei.engine.strategy.diff import diff
from xiaowei.engine.strategy.pack import PackError, load_pack, load_pack_text
from xiaowei.entities.datafiles import DataFileError

DATA = Path(__file__).parent / "data"
EXAMPLE = (DATA / "example_pack.yaml").read_text("utf-8")

MINIMAL = """\
pack: {name: mini, version: "1"}
inputs:
  x: number
  kind: string?
outcomes: {order: [reject, review, approve], default: approve, fail_safe: review}
reasons:
  R1: {zh: 太大, en: too big}
segments:
  - {id: all, when: "true", flow: main}
flows:
  main:
    - id: rules
      kind: rules
      rules:
        - {id: A012, when: "x > 3", action: reject, reason: R1, weight: 5}
"""


def load(text: str):
    return load_pack_text(text, "pack.yaml", base_dir=DATA)


def refusal(text: str) -> str:
    with pytest.raises(PackError) as info:
        load(text)
    return str(info.value)


def test_example_pack_loads_with_every_node_kind():
    pack = load_pack(DATA / "example_pack.yaml")
    kinds = {n.kind for nodes in pack.flows.values() for n in nodes}
    assert kinds == {"rules", "table", "model", "formula", "switch", "split", "source", "list"}
    assert len(pack.lists["blacklist"]) == 2
    assert pack.variables["limit"] == "decimal"
    assert len(pack.hash) == 64


def test_unknown_variable_is_refused_with_file_line_and_column():
    text = MINIMAL.replace('when: "x > 3"', 'when: "y > 3"')
    message = refusal(text)
    assert "pack.yaml:15:" in message
    assert "flows.main.0.rules.0.when" in message
    assert "unknown name 'y'" in message


def test_wrong_type_is_refused():
    message = refusal(MINIMAL.replace('when: "x > 3"', 'when: "x > \'a\'"'))
    assert "pack.yaml:15:" in message


def test_unknown_node_kind_lists_the_known_kinds():
    message = refusal(MINIMAL.replace("kind: rules", "kind: rulez"))
    assert "pack.yaml:13: flows.main.0.kind: unknown node kind 'rulez'" in message
    assert "'table'" in message


def test_duplicate_rule_ids_missing_subflow_undeclared_model_and_list_all_reported_at_once():
    text = MINIMAL + """\
        - {id: A012, when: "x > 4", action: review, reason: R1}
    - {id: sw, kind: switch, cases: [{when: "x > 1", flow: nowhere}]}
    - {id: m, kind: model, model: ghost, into: s}
    - {id: l, kind: list, list: ghost_list, value: kind, action: reject, reason: R1}
    - {id: f, kind: formula, writes: {z: number}, set: {z: "x + 1"}, extra: 1}
"""
    message = refusal(text)
    assert "pack.yaml:16: flows.main.0.rules.1.id: duplicate rule id 'A012'" in message
    assert "pack.yaml:17: flows.main.1: node 'sw' routes to flow 'nowhere'" in message
    assert "pack.yaml:18: flows.main.2.model: model 'ghost' is not declared" in message
    assert "pack.yaml:19: flows.main.3.list: list 'ghost_list' is not declared" in message
    assert "pack.yaml:20: flows.main.4.extra: unknown key 'extra'" in message
    assert len(message.splitlines()) == 5


def test_bad_outcomes_reasons_segments_and_split_shares_are_refused():
    text = (MINIMAL.replace("fail_safe: review", "fail_safe: approve")
            .replace("reason: R1", "reason: R9")
            .replace("flow: main}", "flow: missing}")
            + '    - {id: ab, kind: split, arms: [{name: a, percent: 60, flow: main}]}\n')
    message = refusal(text)
    assert "outcomes.fail_safe: fail_safe must be more severe than default" in message
    assert "reason code 'R9' is not declared" in message
    assert "segments.0.flow: flow 'missing' is not defined" in message
    assert "arm percents sum to 60, not 100" in message


def test_flows_that_call_each_other_are_refused():
    text = MINIMAL + """\
    - {id: ab, kind: split, arms: [{name: a, percent: 100, flow: other}]}
  other:
    - {id: back, kind: switch, cases: [], default: main}
"""
    assert "flows call each other in a cycle: main → other → main" in refusal(text)


def test_variable_written_with_two_types_is_refused():
    text = MINIMAL + """\
    - {id: f1, kind: formula, writes: {z: number}, set: {z: "x + 1"}}
    - {id: f2, kind: formula, writes: {z: string}, set: {z: "'a'"}}
"""
    assert "'z' is written as string here but number elsewhere" in refusal(text)


def test_formula_type_mismatch_and_input_overwrite_are_refused():
    text = MINIMAL + """\
    - {id: f1, kind: formula, writes: {z: number}, set: {z: "'text'"}}
    - {id: f2, kind: formula, writes: {x: number}, set: {x: "1"}}
"""
    message = refusal(text)
    assert "'z' is declared number but this is string" in message
    assert "'x' is an input; a node may not overwrite it" in message


def test_yaml_syntax_and_duplicate_keys_are_refused_with_line():
    expected = r"pack.yaml:4: inputs.x: duplicate key 'x' \(first on line 3\)"
    with pytest.raises(DataFileError, match=expected):
        load(MINIMAL.replace("  kind: string?", "  x: string"))


def test_hash_ignores_comments_key_order_whitespace_and_descriptions():
    base = load(MINIMAL)
    reordered = (
        "# a comment\n"
        'outcomes: {fail_safe: review, default: approve, order: [reject, review, approve]}\n'
        + MINIMAL.replace('pack: {name: mini, version: "1"}',
                          'pack: {version: "1", name: mini, description: changed words}')
        .replace("outcomes: {order: [reject, review, approve], default: approve, "
                 "fail_safe: review}\n", "")
        .replace('"x > 3"', '"x>3"')
    )
    assert load(reordered).hash == base.hash


def test_hash_changes_with_a_threshold():
    assert load(MINIMAL.replace("x > 3", "x > 2")).hash != load(MINIMAL).hash


def test_diff_in_words():
    old = load(MINIMAL)
    new = load(MINIMAL.replace("x > 3", "x > 2").replace("weight: 5", "weight: 7")
               .replace("  - {id: all,", "  - {id: big, when: \"x > 100\", flow: main}\n"
                        "  - {id: all,")
               + '    - {id: lim, kind: formula, writes: {z: number}, set: {z: "x * 2"}}\n')
    changes = diff(old, new)
    assert "rule A012: when `x > 3` → `x > 2`" in changes
    assert "rule A012: weight `5` → `7`" in changes
    assert "segment added: big" in changes
    assert "flow main: node added: lim (formula)" in changes
    assert diff(old, old) == []
    changed = load(MINIMAL + '    - {id: lim, kind: formula, writes: {z: number}, '
                             'set: {z: "x * 3"}}\n')
    again = diff(load(MINIMAL + '    - {id: lim, kind: formula, writes: {z: number}, '
                                'set: {z: "x * 2"}}\n'), changed)
    assert again[0] == "node lim: formula changed"
    assert "  node lim: set.z `x * 2` → `x * 3`" in again


def test_list_file_changes_the_hash_and_the_diff(tmp_path):
    (tmp_path / "blacklist.txt").write_text("1\n2\n", "utf-8")
    text = EXAMPLE.replace("{kind: black, file: blacklist.txt}",
                           "{kind: black, file: blacklist.txt}")
    old = load_pack_text(text, "p.yaml", base_dir=tmp_path)
    (tmp_path / "blacklist.txt").write_text("1\n3\n4\n", "utf-8")
    new = load_pack_text(text, "p.yaml", base_dir=tmp_path)
    assert old.hash != new.hash
    assert diff(old, new) == ["list blacklist: 2 values added, 1 removed"]


def test_a_list_file_outside_the_packs_folder_is_refused(tmp_path: Path) -> None:
    """A pack names list files beside it; ``../`` cannot make it read anything else."""
    secret = tmp_path / "secret.txt"
    secret.write_text("13800000000\n", "utf-8")
    folder = tmp_path / "pack"
    folder.mkdir()
    text = (DATA / "example_pack.yaml").read_text("utf-8")
    for listed in (DATA).glob("*.txt"):
        (folder / listed.name).write_text(listed.read_text("utf-8"), "utf-8")
    (folder / "pack.yaml").write_text(text.replace("blacklist.txt", "../secret.txt"), "utf-8")
    with pytest.raises(PackError, match="outside the pack's folder"):
        load_pack(folder / "pack.yaml")
