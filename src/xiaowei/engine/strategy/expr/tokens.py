"""Tokenizer: expression text → tokens with offsets, one compiled regular expression.

Why a tokenizer and not ``ast.parse``: Python's grammar is far larger than a rule needs and
would accept attribute access, calls on anything and lambdas. Our tokens are a closed set, so
anything else is refused at the character where it starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xiaowei.engine.strategy.expr.errors import ExprError, position

KEYWORDS = frozenset({"and", "or", "not", "in", "is", "null", "true", "false"})

_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r\n]+)
  | (?P<comment>\#[^\n]*)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<string>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<name>[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*
              (?:\.[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*)*)
  | (?P<op>\.\.|<=|>=|==|!=|<>|[-+*/<>=(),\[\]])
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "'": "'", '"': '"'}


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind`` is number, string, name, a keyword, an operator, or ``end``."""

    kind: str
    text: str
    offset: int


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), body)


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text`` followed by an ``end`` token; refuses unknown characters."""
    out: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            line, col = position(text, pos)
            ch = text[pos]
            hint = " (strings need closing quotes)" if ch in "'\"" else ""
            raise ExprError(f"unexpected character {ch!r}{hint}", line, col, text)
        kind = m.lastgroup or ""
        value = m.group()
        if kind == "name" and value in KEYWORDS:
            out.append(Token(value, value, pos))
        elif kind == "string":
            out.append(Token("string", _unescape(value[1:-1]), pos))
        elif kind == "op":
            out.append(Token({"<>": "!=", "=": "=="}.get(value, value), value, pos))
        elif kind in ("number", "name"):
            out.append(Token(kind, value, pos))
        pos = m.end()
    out.append(Token("end", "", len(text)))
    return out
