"""Parser: tokens → syntax tree, by precedence climbing (a small Pratt parser).

Grammar (lowest binding first)::

    expression := disjunction
    disjunction:= conjunction ("or" conjunction)*
    conjunction:= negation ("and" negation)*
    negation   := "not" negation | comparison
    comparison := sum [ ("=="|"="|"!="|"<>"|"<"|"<="|">"|">=") sum
                      | ["not"] "in" container
                      | "is" ["not"] "null" ]            -- comparisons do not chain
    container  := range | sum
    range      := ("["|"(") sum ".." sum ("]"|")")       -- "[" / "]" include the end
    sum        := product (("+"|"-") product)*
    product    := signed (("*"|"/") signed)*
    signed     := "-" signed | primary
    primary    := NUMBER | STRING | "true" | "false" | "null"
                | NAME "(" [expression ("," expression)*] ")"
                | NAME                                   -- dotted: tag.sales_12m
                | "(" expression ")" | "[" [expression ("," expression)*] "]"

Why hand-written: the grammar is twenty lines, a parser library would be a dependency to load
in every process, and a hand-written parser gives the error messages we want ("comparisons do
not chain; write a < b and b < c").
"""

from __future__ import annotations

from decimal import Decimal

from xiaowei.engine.strategy.expr.errors import ExprError, position
from xiaowei.engine.strategy.expr.nodes import (
    COMPARISONS,
    Binary,
    Call,
    In,
    IsNull,
    ListOf,
    Literal,
    Name,
    Node,
    Range,
    Unary,
)
from xiaowei.engine.strategy.expr.tokens import Token, tokenize


class Parser:
    """One use: ``Parser(text).expression()`` or the pieces used by unary-test cells."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0

    # -- token helpers -------------------------------------------------------------------
    @property
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def next(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def accept(self, kind: str) -> Token | None:
        if self.tokens[self.pos].kind == kind:
            return self.next()
        return None

    def error(self, message: str, tok: Token | None = None) -> ExprError:
        tok = tok or self.peek
        line, col = position(self.text, tok.offset)
        return ExprError(message, line, col, self.text)

    def expect(self, kind: str, what: str) -> Token:
        tok = self.peek
        if tok.kind != kind:
            raise self.error(f"expected {what}, found {self.describe(tok)}")
        return self.next()

    @staticmethod
    def describe(tok: Token) -> str:
        if tok.kind == "end":
            return "the end of the expression"
        if tok.kind in ("number", "string", "name"):
            return f"{tok.kind} {tok.text!r}"
        return repr(tok.text)

    def finish(self, node: Node) -> Node:
        if self.peek.kind != "end":
            tok = self.peek
            hint = ""
            if tok.kind in COMPARISONS or tok.kind in ("in", "is"):
                hint = "; comparisons do not chain, join them with 'and'"
            raise self.error(f"unexpected {self.describe(tok)}{hint}")
        return node

    # -- grammar ---------------------------------------------------------------------------
    def expression(self) -> Node:
        left = self.conjunction()
        while self.accept("or"):
            left = Binary("or", left, self.conjunction(), offset=left.offset)
        return left

    def conjunction(self) -> Node:
        left = self.negation()
        while self.accept("and"):
            left = Binary("and", left, self.negation(), offset=left.offset)
        return left

    def negation(self) -> Node:
        if tok := self.accept("not"):
            return Unary("not", self.negation(), offset=tok.offset)
        return self.comparison()

    def comparison(self) -> Node:
        left = self.sum()
        tok = self.peek
        if tok.kind in COMPARISONS:
            self.next()
            right = self.sum()
            return Binary(tok.kind, left, right, offset=left.offset, op_offset=tok.offset)
        if tok.kind == "not" and self.tokens[self.pos + 1].kind == "in":
            self.pos += 2
            return In(left, self.container(), negated=True, offset=left.offset)
        if tok.kind == "in":
            self.next()
            return In(left, self.container(), offset=left.offset)
        if tok.kind == "is":
            self.next()
            negated = self.accept("not") is not None
            self.expect("null", "'null' after 'is'" + (" not" if negated else ""))
            return IsNull(left, negated=negated, offset=left.offset)
        return left

    def container(self) -> Node:
        """After ``in``: a range, a list literal, or any list-valued expression."""
        tok = self.peek
        if tok.kind in ("[", "("):
            start = self.pos
            self.next()
            if tok.kind == "[" and self.peek.kind == "]":
                self.next()
                return ListOf([], offset=tok.offset)
            first = self.expression()
            if self.accept(".."):
                return self.range_rest(tok, first)
            self.pos = start
        return self.sum()

    def range_rest(self, opener: Token, low: Node) -> Range:
        high = self.sum()
        close = self.peek
        if close.kind not in ("]", ")"):
            found = self.describe(close)
            raise self.error(f"expected ']' or ')' to close the range, found {found}")
        self.next()
        return Range(low, high, opener.kind == "[", close.kind == "]", offset=opener.offset)

    def sum(self) -> Node:
        left = self.product()
        while self.peek.kind in ("+", "-"):
            op = self.next().kind
            left = Binary(op, left, self.product(), offset=left.offset)
        return left

    def product(self) -> Node:
        left = self.signed()
        while self.peek.kind in ("*", "/"):
            op = self.next().kind
            left = Binary(op, left, self.signed(), offset=left.offset)
        return left

    def signed(self) -> Node:
        if tok := self.accept("-"):
            return Unary("-", self.signed(), offset=tok.offset)
        return self.primary()

    def primary(self) -> Node:
        tok = self.next()
        kind = tok.kind
        if kind == "number":
            value: int | Decimal = Decimal(tok.text) if any(c in tok.text for c in ".eE") \
                else int(tok.text)
            return Literal(value, tok.text, offset=tok.offset)
        if kind == "string":
            return Literal(tok.text, offset=tok.offset)
        if kind in ("true", "false"):
            return Literal(kind == "true", offset=tok.offset)
        if kind == "null":
            return Literal(None, offset=tok.offset)
        if kind == "name":
            if self.accept("("):
                return Call(tok.text, self.items(")"), offset=tok.offset)
            return Name(tok.text, offset=tok.offset)
        if kind == "(":
            inner = self.expression()
            self.expect(")", "')'")
            return inner
        if kind == "[":
            return ListOf(self.items("]"), offset=tok.offset)
        self.pos -= 1
        raise self.error(f"expected a value, found {self.describe(tok)}")

    def items(self, close: str) -> list[Node]:
        out: list[Node] = []
        if self.accept(close):
            return out
        while True:
            out.append(self.expression())
            if self.accept(close):
                return out
            if self.peek.kind == "..":
                raise self.error("a range needs 'in': write x in [lo..hi]")
            self.expect(",", f"',' or '{close}'")


def parse(text: str) -> Node:
    """Parse one expression; raise :class:`ExprError` with line and column on bad syntax."""
    parser = Parser(text)
    if parser.peek.kind == "end":
        raise parser.error("the expression is empty")
    return parser.finish(parser.expression())
