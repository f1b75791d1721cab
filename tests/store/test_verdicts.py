"""The ingest path's verdicts (Python over a batch's columns, regexes once per distinct value)
equal the one-expression SQL twin and the Python evaluator, event for event."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.store.test_rule_sql import _relation, events, rules

from maumeter.core.activity import DEFAULT_RULE, ActivityRule
from maumeter.store import verdicts as verdicts_module
from maumeter.store.rule_sql import verdict_sql
from maumeter.store.verdicts import Verdicts


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def _verdicts(con: duckdb.DuckDBPyConnection, evaluator: Verdicts) -> list[str]:
    batch = con.sql(
        "SELECT type::VARCHAR AS type, event::VARCHAR AS event, name::VARCHAR AS name, "
        "properties::VARCHAR AS properties, "
        "context::VARCHAR AS context FROM ev ORDER BY i"
    ).to_arrow_table()
    return evaluator.of(batch).to_pylist()


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_batch_verdicts_equal_both_twins(con: duckdb.DuckDBPyConnection, data: Any) -> None:
    rule: ActivityRule = data.draw(rules())
    evaluator = Verdicts(rule)
    for _ in range(2):  # the second batch answers repeated URLs and agents from memory
        rows = data.draw(st.lists(events(rule), min_size=1, max_size=8))
        _relation(con, rows, data.draw(st.booleans()))
        expected = [rule.evaluate(e).value for e in rows]
        assert _verdicts(con, evaluator) == expected
        assert [
            v for (v,) in con.execute(f"SELECT {verdict_sql(rule)} FROM ev ORDER BY i").fetchall()
        ] == expected


def test_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the bound the remembered agents start afresh, and answers stay right."""
    monkeypatch.setattr(verdicts_module, "REMEMBERED", 3)
    evaluator = Verdicts(DEFAULT_RULE)
    agents = [f"Mozilla/5.0 agent {i}" for i in range(6)] + ["Googlebot/2.1", None]
    found = pa.table(
        {
            "type": ["track"] * len(agents),
            "event": ["Clicked"] * len(agents),
            "name": pa.nulls(len(agents), pa.string()),
            "properties": pa.nulls(len(agents), pa.string()),
            "context": [None if a is None else json.dumps({"userAgent": a}) for a in agents],
        }
    )
    for round_ in range(3):
        assert evaluator.of(found).to_pylist() == ["qualifies"] * 6 + ["bot", "qualifies"], round_
        assert len(evaluator._agents) <= 3 + len(agents)
