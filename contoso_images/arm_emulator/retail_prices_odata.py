"""The OData ``$filter`` subset the Retail Prices API understands, as clients use it.

Supported (docs/emulator-fidelity.md, "Retail Prices API", for the source of each):
``field eq 'value'``, ``ne``, ``and``, ``or``, parentheses, ``contains(field, 'text')`` on its
own or compared with ``eq``/``ne`` ``true``/``false``, boolean and number literals
(``isPrimaryMeterRegion eq true``). ``not`` is refused with a 400, as the real API refuses
``not(contains(...))``; so is anything else this parser does not know (``gt``, ``startswith``,
an unknown field), since a silently ignored clause would return prices the client did not
ask for.

Field names are case-insensitive (the doc lists ``Location`` and ``productid``); ``priceType``
filters the items' ``type``. Values are compared case-sensitively from api-version
2023-01-01-preview on (and without an api-version, which the doc says now behaves the same),
case-insensitively for older api-versions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: Filter name (lower case) -> item key. ``priceType`` is the documented name of ``type``.
FIELDS: dict[str, str] = {
    name.lower(): name
    for name in (
        "armRegionName",
        "location",
        "meterId",
        "meterName",
        "productId",
        "skuId",
        "productName",
        "skuName",
        "serviceName",
        "serviceId",
        "serviceFamily",
        "armSkuName",
        "currencyCode",
        "unitOfMeasure",
        "isPrimaryMeterRegion",
        "effectiveStartDate",
        "tierMinimumUnits",
        "reservationTerm",
        "type",
    )
}
FIELDS["pricetype"] = "type"

Predicate = Callable[[Mapping[str, Any]], bool]


class FilterError(ValueError):
    """The filter cannot be understood: the API answers 400."""


@dataclass(frozen=True)
class _Token:
    kind: str  # name | string | number | bool | ( | ) | ,
    text: str
    value: Any = None


_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[(),]))"
)


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise FilterError(f"Invalid character at position {pos} of the filter.")
        pos = m.end()
        if m["string"] is not None:
            out.append(_Token("string", m["string"], m["string"][1:-1].replace("''", "'")))
        elif m["number"] is not None:
            out.append(_Token("number", m["number"], float(m["number"])))
        elif m["name"] is not None:
            word = m["name"]
            if word.lower() in ("true", "false"):
                out.append(_Token("bool", word, word.lower() == "true"))
            else:
                out.append(_Token("name", word))
        else:
            out.append(_Token(m["punct"], m["punct"]))
    return out


class _Parser:
    """Recursive descent: ``or`` binds looser than ``and``, as in OData."""

    def __init__(self, tokens: list[_Token], case_sensitive: bool) -> None:
        self.tokens = tokens
        self.pos = 0
        self.case_sensitive = case_sensitive

    def _peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self, kind: str | None = None, word: str | None = None) -> _Token:
        tok = self._peek()
        if tok is None:
            raise FilterError("The filter ends too early.")
        if kind and tok.kind != kind:
            raise FilterError(f"Unexpected '{tok.text}' in the filter.")
        if word and tok.text.lower() != word:
            raise FilterError(f"Expected '{word}', found '{tok.text}' in the filter.")
        self.pos += 1
        return tok

    def _is_word(self, word: str) -> bool:
        tok = self._peek()
        return tok is not None and tok.kind == "name" and tok.text.lower() == word

    def parse(self) -> Predicate:
        pred = self._or()
        if self._peek() is not None:
            raise FilterError(f"Unexpected '{self._peek().text}' in the filter.")  # type: ignore[union-attr]
        return pred

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._is_word("or"):
            self._take()
            parts.append(self._and())
        if len(parts) == 1:
            return parts[0]
        return lambda item: any(p(item) for p in parts)

    def _and(self) -> Predicate:
        parts = [self._term()]
        while self._is_word("and"):
            self._take()
            parts.append(self._term())
        if len(parts) == 1:
            return parts[0]
        return lambda item: all(p(item) for p in parts)

    def _term(self) -> Predicate:
        tok = self._peek()
        if tok is None:
            raise FilterError("The filter ends too early.")
        if tok.kind == "(":
            self._take("(")
            inner = self._or()
            self._take(")")
            return self._maybe_compared(inner)
        if tok.kind == "name" and tok.text.lower() == "not":
            raise FilterError("The 'not' operator is not supported.")
        if tok.kind == "name" and tok.text.lower() == "contains":
            return self._maybe_compared(self._contains())
        if tok.kind == "name" and self.pos + 1 < len(self.tokens):
            nxt = self.tokens[self.pos + 1]
            if nxt.kind == "(":
                raise FilterError(f"The function '{tok.text}' is not supported.")
        return self._comparison()

    def _field(self) -> str:
        tok = self._take("name")
        key = FIELDS.get(tok.text.lower())
        if key is None:
            raise FilterError(f"Could not find a property named '{tok.text}'.")
        return key

    def _literal(self) -> _Token:
        tok = self._take()
        if tok.kind not in ("string", "number", "bool"):
            raise FilterError(f"Expected a value, found '{tok.text}' in the filter.")
        return tok

    def _same(self, actual: Any, literal: _Token) -> bool:
        if literal.kind == "string":
            if not isinstance(actual, str):
                return False
            if self.case_sensitive:
                return bool(actual == literal.value)
            return actual.lower() == str(literal.value).lower()
        if literal.kind == "bool":
            return isinstance(actual, bool) and actual is literal.value
        return (
            isinstance(actual, int | float)
            and not isinstance(actual, bool)
            and (float(actual) == literal.value)
        )

    def _operator(self) -> str:
        tok = self._take("name")
        op = tok.text.lower()
        if op not in ("eq", "ne"):
            raise FilterError(f"The operator '{tok.text}' is not supported.")
        return op

    def _comparison(self) -> Predicate:
        key = self._field()
        op = self._operator()
        literal = self._literal()
        if op == "eq":
            return lambda item: self._same(item.get(key), literal)
        return lambda item: not self._same(item.get(key), literal)

    def _contains(self) -> Predicate:
        self._take("name", "contains")
        self._take("(")
        key = self._field()
        self._take(",")
        literal = self._take("string")
        self._take(")")
        needle = str(literal.value)

        def contains(item: Mapping[str, Any]) -> bool:
            value = item.get(key)
            if not isinstance(value, str):
                return False
            if self.case_sensitive:
                return needle in value
            return needle.lower() in value.lower()

        return contains

    def _maybe_compared(self, pred: Predicate) -> Predicate:
        """``contains(...) eq true`` / ``ne true`` (clients use it because ``not`` fails)."""
        if not (self._is_word("eq") or self._is_word("ne")):
            return pred
        op = self._operator()
        literal = self._literal()
        if literal.kind != "bool":
            raise FilterError("A boolean expression can only be compared with true or false.")
        want = literal.value if op == "eq" else not literal.value
        return lambda item: pred(item) is want


def parse(text: str, *, case_sensitive: bool = True) -> Predicate:
    """A predicate over items; an empty filter matches everything. Raises FilterError."""
    if not text.strip():
        return lambda item: True
    return _Parser(_tokens(text), case_sensitive).parse()
