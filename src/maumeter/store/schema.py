"""The DuckDB schema, as numbered migrations recorded in the ``migrations`` table.

The event log is append-only and keeps the whole record (Segment fields as columns, nested
objects and unknown top-level keys as JSON text). Identities are append-only too: ids with their
dense index, and merges in the order they happened; the union-find forest is replayed from them.
No indexes on the log: a unique index would cost more at ingest than the in-memory dedupe index.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "initial schema",
        """
        CREATE TABLE orgs (
            id INTEGER PRIMARY KEY,
            name VARCHAR NOT NULL UNIQUE,
            timezone VARCHAR NOT NULL,
            cap BIGINT,
            policy VARCHAR NOT NULL,
            created_at TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE projects (
            id INTEGER PRIMARY KEY,
            org_id INTEGER NOT NULL,
            name VARCHAR NOT NULL,
            write_key VARCHAR NOT NULL UNIQUE,
            activity VARCHAR NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            UNIQUE (org_id, name)
        );
        CREATE TABLE events (
            seq BIGINT NOT NULL,
            org_id INTEGER NOT NULL,
            project_id INTEGER NOT NULL,
            type VARCHAR NOT NULL,
            message_id VARCHAR NOT NULL,
            user_id VARCHAR,
            anonymous_id VARCHAR,
            previous_id VARCHAR,
            event VARCHAR,
            name VARCHAR,
            "timestamp" TIMESTAMPTZ,
            sent_at TIMESTAMPTZ,
            received_at TIMESTAMPTZ NOT NULL,
            billing_time TIMESTAMPTZ NOT NULL,
            properties VARCHAR,
            traits VARCHAR,
            context VARCHAR,
            extra VARCHAR,
            actor INTEGER NOT NULL,
            day INTEGER NOT NULL,
            verdict VARCHAR NOT NULL
        );
        CREATE TABLE identities (
            org_id INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            kind UTINYINT NOT NULL,
            value VARCHAR NOT NULL
        );
        CREATE TABLE identity_merges (
            org_id INTEGER NOT NULL,
            seq BIGINT NOT NULL,
            absorbed INTEGER NOT NULL,
            survivor INTEGER NOT NULL
        );
        CREATE TABLE identity_conflicts (
            org_id INTEGER NOT NULL,
            seq BIGINT NOT NULL,
            anonymous_id VARCHAR NOT NULL,
            claimed_by VARCHAR NOT NULL,
            owner VARCHAR NOT NULL
        );
        """,
    ),
    (
        2,
        "keys stored as digests; admission refusals",
        """
        CREATE TABLE keys (
            id INTEGER PRIMARY KEY,
            kind VARCHAR NOT NULL,
            org_id INTEGER,
            project_id INTEGER,
            digest VARCHAR NOT NULL UNIQUE,
            hint VARCHAR NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            revoked_at TIMESTAMPTZ
        );
        INSERT INTO keys
            SELECT row_number() OVER (ORDER BY id), 'write', org_id, id, sha256(write_key),
                   left(write_key, 8) || '…', created_at, NULL
            FROM projects;
        CREATE TABLE projects_v2 (
            id INTEGER PRIMARY KEY,
            org_id INTEGER NOT NULL,
            name VARCHAR NOT NULL,
            activity VARCHAR NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            UNIQUE (org_id, name)
        );
        INSERT INTO projects_v2 SELECT id, org_id, name, activity, created_at FROM projects;
        DROP TABLE projects;
        ALTER TABLE projects_v2 RENAME TO projects;
        CREATE TABLE admission_refusals (
            org_id INTEGER NOT NULL,
            project_id INTEGER NOT NULL,
            month INTEGER NOT NULL,
            kind UTINYINT NOT NULL,
            value VARCHAR NOT NULL,
            refused_at TIMESTAMPTZ NOT NULL
        );
        """,
    ),
    (
        3,
        "billing: plans, alerts and webhooks, statements, restatements, erasures, audit log",
        """
        CREATE TABLE plans (
            org_id INTEGER PRIMARY KEY,
            plan VARCHAR NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE alerts_fired (
            org_id INTEGER NOT NULL,
            month INTEGER NOT NULL,
            key VARCHAR NOT NULL,
            event_id VARCHAR NOT NULL,
            payload VARCHAR NOT NULL,
            fired_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (org_id, month, key)
        );
        CREATE TABLE alert_settings (
            org_id INTEGER PRIMARY KEY,
            thresholds INTEGER[] NOT NULL,
            projected BOOLEAN NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE webhooks (
            id INTEGER PRIMARY KEY,
            org_id INTEGER NOT NULL,
            url VARCHAR NOT NULL,
            secret VARCHAR NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            removed_at TIMESTAMPTZ
        );
        CREATE TABLE deliveries (
            id BIGINT PRIMARY KEY,
            webhook_id INTEGER NOT NULL,
            org_id INTEGER NOT NULL,
            event_id VARCHAR NOT NULL,
            type VARCHAR NOT NULL,
            payload VARCHAR NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            next_attempt TIMESTAMPTZ,
            attempts INTEGER NOT NULL,
            state VARCHAR NOT NULL,
            UNIQUE (webhook_id, event_id)
        );
        CREATE TABLE delivery_attempts (
            delivery_id BIGINT NOT NULL,
            attempt INTEGER NOT NULL,
            attempted_at TIMESTAMPTZ NOT NULL,
            status INTEGER,
            error VARCHAR,
            duration_ms DOUBLE
        );
        CREATE TABLE statements (
            org_id INTEGER NOT NULL,
            month INTEGER NOT NULL,
            closed_at TIMESTAMPTZ NOT NULL,
            mau BIGINT NOT NULL,
            checksum VARCHAR NOT NULL,
            figures VARCHAR NOT NULL,
            PRIMARY KEY (org_id, month)
        );
        CREATE TABLE statement_persons (
            org_id INTEGER NOT NULL,
            month INTEGER NOT NULL,
            person_key VARCHAR NOT NULL,
            identified BOOLEAN,
            ids VARCHAR[] NOT NULL,
            first_time TIMESTAMPTZ,
            project VARCHAR,
            event_type VARCHAR,
            event VARCHAR,
            message_id VARCHAR,
            experiment VARCHAR,
            flag VARCHAR
        );
        CREATE TABLE restatements (
            id INTEGER PRIMARY KEY,
            org_id INTEGER NOT NULL,
            month INTEGER NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            reason VARCHAR NOT NULL,
            previous_mau BIGINT NOT NULL,
            new_mau BIGINT NOT NULL,
            added VARCHAR[] NOT NULL,
            removed VARCHAR[] NOT NULL
        );
        CREATE TABLE erasures (
            org_id INTEGER NOT NULL,
            tombstone VARCHAR NOT NULL,
            erased_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (org_id, tombstone)
        );
        CREATE TABLE audit_log (
            org_id INTEGER NOT NULL,
            seq BIGINT NOT NULL,
            logged_at TIMESTAMPTZ NOT NULL,
            actor VARCHAR NOT NULL,
            action VARCHAR NOT NULL,
            detail VARCHAR NOT NULL,
            prev_hash VARCHAR NOT NULL,
            hash VARCHAR NOT NULL,
            PRIMARY KEY (org_id, seq)
        );
        CREATE TABLE privacy_settings (
            name VARCHAR PRIMARY KEY,
            value VARCHAR NOT NULL
        );
        """,
    ),
    (
        4,
        "the write-ahead journal: the last frame folded into the tables",
        """
        CREATE TABLE journal_state (folded_lsn BIGINT NOT NULL);
        INSERT INTO journal_state VALUES (0);
        """,
    ),
]


def migrate(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> list[int]:
    """Apply the migrations not yet recorded; returns the versions applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM migrations").fetchall()}
    applied = []
    for version, name, sql in MIGRATIONS:
        if version in done:
            continue
        con.execute("BEGIN")
        try:
            con.execute(sql)
            con.execute(
                "INSERT INTO migrations VALUES (?, ?, ?)",
                [version, name, now or datetime.now(UTC)],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied
