"""Decoding JSON from clients strictly: what Python's ``json`` accepts beyond JSON is refused.

``json.loads`` takes ``NaN`` and ``Infinity`` (not JSON: they would poison every later JSON
query over the stored payload), turns ``1e400`` into an infinity, lets lone UTF-16 surrogates
through (``"\\ud800"`` escaped, or raw surrogate bytes: not Unicode, so nothing can store or
encode them later) and raises ``RecursionError`` on absurd nesting (a 500 waiting to happen).
Here each is a ``ValueError`` with a message a client can act on.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# Cheap screen: only bodies with a surrogate escape or raw surrogate bytes are walked.
_MAYBE_SURROGATE = re.compile(rb"\\[uU][dD][89a-fA-F]|\xed[\xa0-\xbf]")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value (use null or a string)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is out of range for a number (use a string)")
    return value


def _printable(text: str) -> str:
    """Text safe to put in an error message (a surrogate there would break the answer)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _check_text(value: Any, path: str = "") -> None:
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(
                    f"{where or 'a string'} holds a lone UTF-16 surrogate, which is not Unicode"
                ) from None
        elif isinstance(item, dict):
            for key, child in item.items():
                name = f"{where}.{_printable(key)}".lstrip(".")
                stack.append((key, f"a key in {where or 'the body'}"))
                stack.append((child, name))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))


def loads(data: str | bytes) -> Any:
    """``json.loads`` that accepts JSON only; every failure is a ``ValueError``."""
    try:
        value = json.loads(data, parse_constant=_refuse_constant, parse_float=_finite)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if _MAYBE_SURROGATE.search(raw):
        _check_text(value)
    return value
