"""Decoding JSON from clients strictly: what Python's ``json`` accepts beyond JSON is refused.

``json.loads`` takes ``NaN`` and ``Infinity`` (not JSON: they would poison every later JSON
query over the stored payload) and raises ``RecursionError`` on absurd nesting (a 500 waiting
to happen). Here both are a ``ValueError`` with a message a client can act on.
"""

from __future__ import annotations

import json
from typing import Any


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value (use null or a string)")


def loads(data: str | bytes) -> Any:
    """``json.loads`` that accepts JSON only; every failure is a ``ValueError``."""
    try:
        return json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None
