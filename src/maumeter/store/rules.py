"""A project's new activity rule applied to its stored events: the ``verdict`` column redone.

The verdict column is derived state (``maumeter verify`` recounts with the current rules), so
a new rule rewrites it for all of the project's events, in one UPDATE with the rule's SQL twin.
Closed months stay as their statements froze them; the recount that differs becomes a
restatement (:mod:`maumeter.billing.statements`).
"""

from __future__ import annotations

import duckdb

from maumeter.core.activity import ActivityRule
from maumeter.store.rule_sql import verdict_sql


def reverdict(
    con: duckdb.DuckDBPyConnection, org_id: int, project_id: int, rule: ActivityRule
) -> int:
    """Recompute the verdict of every event of a project; returns how many changed."""
    sql = verdict_sql(rule)
    row = con.execute(
        f"UPDATE events SET verdict = ({sql}) WHERE org_id = ? AND project_id = ? "
        f"AND verdict IS DISTINCT FROM ({sql})",
        [org_id, project_id],
    ).fetchone()
    return int(row[0]) if row else 0


def store_rule(con: duckdb.DuckDBPyConnection, project_id: int, rule_json: str) -> None:
    con.execute("UPDATE projects SET activity = ? WHERE id = ?", [rule_json, project_id])
