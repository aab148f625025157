"""Personal data: encryption round trips, tampering is detected, keys stay private."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from xiaowei.security.pii import ENV_KEY, PiiError, blind_index, current_key, decrypt, encrypt


def _other_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.mark.parametrize("plain", ["张三丰", "33010619900101123X", "13812345678", "", "a:b:c"])
def test_round_trip(plain: str) -> None:
    assert decrypt(encrypt(plain)) == plain


def test_ciphertext_format_hides_the_value_and_never_repeats() -> None:
    first, second = encrypt("13812345678"), encrypt("13812345678")
    version, key_id, payload = first.split(":")
    assert (version, key_id) == ("v1", current_key().key_id)
    assert len(key_id) == 8
    assert "13812345678" not in first and "5678" not in base64.b64decode(payload).hex()
    assert first != second


def _flip(token: str, position: int) -> str:
    head, payload = token.rsplit(":", 1)
    raw = bytearray(base64.b64decode(payload))
    raw[position] ^= 0x01
    return f"{head}:{base64.b64encode(bytes(raw)).decode()}"


@pytest.mark.parametrize("position", [0, 12, -1])  # nonce, ciphertext, tag
def test_tampered_ciphertext_is_refused(position: int) -> None:
    with pytest.raises(PiiError, match="tampered"):
        decrypt(_flip(encrypt("张三丰"), position))


@pytest.mark.parametrize(
    "token",
    ["", "plain text", "v2:abcd1234:AAAA", "v1:abcd1234", "v1:{kid}:not base64!", "v1:{kid}:AAAA"],
)
def test_malformed_ciphertext_is_refused(token: str) -> None:
    with pytest.raises(PiiError):
        decrypt(token.format(kid=current_key().key_id))


def test_ciphertext_of_another_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    token = encrypt("张三丰")
    monkeypatch.setenv(ENV_KEY, _other_key())
    with pytest.raises(PiiError, match="key"):
        decrypt(token)


def test_swapped_key_id_is_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    token = encrypt("张三丰")
    monkeypatch.setenv(ENV_KEY, _other_key())
    _, _, payload = token.split(":")
    with pytest.raises(PiiError, match="tampered"):
        decrypt(f"v1:{current_key().key_id}:{payload}")


def test_key_file_is_created_private_under_home_and_reused(xiaowei_home: Path) -> None:
    token = encrypt("张三丰")
    key_file = xiaowei_home / "keys" / "pii.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert len(base64.b64decode(key_file.read_text())) == 32
    assert decrypt(token) == "张三丰"


def test_key_from_environment_wins_and_writes_no_file(
    xiaowei_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_KEY, _other_key())
    assert decrypt(encrypt("张三丰")) == "张三丰"
    assert not (xiaowei_home / "keys").exists()


@pytest.mark.parametrize(
    "bad",
    ["not base64!!", base64.b64encode(b"short").decode(), base64.b64encode(bytes(33)).decode()],
)
def test_bad_key_in_environment_is_refused(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv(ENV_KEY, bad)
    with pytest.raises(PiiError, match=ENV_KEY):
        encrypt("x")


def test_blind_index_is_stable_hex_and_differs_per_value() -> None:
    first = blind_index("33010619900101123X")
    assert first == blind_index("33010619900101123X")
    assert len(first) == 64 and int(first, 16) >= 0
    assert first != blind_index("330106199001011234")


def test_blind_index_ignores_case_width_and_edge_spaces() -> None:
    assert blind_index(" 33010619900101123x") == blind_index("３３010619900101123X")


def test_blind_index_depends_on_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    before = blind_index("33010619900101123X")
    monkeypatch.setenv(ENV_KEY, _other_key())
    assert blind_index("33010619900101123X") != before


def test_non_text_is_refused() -> None:
    with pytest.raises(TypeError, match="str"):
        encrypt(123)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="str"):
        blind_index(None)  # type: ignore[arg-type]


def test_processes_starting_together_agree_on_one_key(xiaowei_home: Path) -> None:
    code = "from xiaowei.security.pii import current_key; print(current_key().key_id)"
    env = {**os.environ, "XIAOWEI_HOME": str(xiaowei_home)}
    workers = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(6)
    ]
    key_ids = {worker.communicate(timeout=60)[0].strip() for worker in workers}
    assert len(key_ids) == 1 and key_ids != {""}
    assert sorted(p.name for p in (xiaowei_home / "keys").iterdir()) == ["pii.key"]
