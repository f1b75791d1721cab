"""Tests for the deterministic Segment-shaped benchmark generator (``bench.generate``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from bench.generate import (
    COLUMNS,
    DICT_SCHEMA,
    SCHEMA,
    generate_chunks,
    jsonl_bytes,
    main,
    write_dataset,
)

N_EVENTS, N_PERSONS, MONTHS, PROJECTS, SEED = 20_000, 4_000, 6, 3, 7
PROJECT_NAMES = ["web", "mobile", "backend"]
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("gen")
    manifest = write_dataset(
        out, N_EVENTS, N_PERSONS, MONTHS, PROJECTS, SEED, formats=("parquet", "jsonl", "csv")
    )
    return out, manifest


@pytest.fixture(scope="module")
def events(dataset: tuple[Path, dict[str, Any]]) -> pa.Table:
    out, _ = dataset
    tables = [pq.read_table(out / f"events-{p}.parquet") for p in PROJECT_NAMES]
    return pa.concat_tables(
        t.append_column("project", pa.array([p] * t.num_rows))
        for p, t in zip(PROJECT_NAMES, tables, strict=True)
    )


def nest(row: dict[str, Any]) -> dict[str, Any]:
    """Flat dotted row -> nested object without nulls (the expected JSONL object)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None:
            continue
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def has_null(obj: Any) -> bool:
    if isinstance(obj, dict):
        return any(v is None or has_null(v) for v in obj.values())
    return False


def test_exact_count_and_manifest(dataset: tuple[Path, dict[str, Any]], events: pa.Table) -> None:
    out, m = dataset
    assert events.num_rows == N_EVENTS == m["total_events"] == sum(m["counts"].values())
    assert m["projects"] == PROJECT_NAMES
    assert m["months"] == ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
    for p in PROJECT_NAMES:
        assert m["counts"][p] > 0
        assert pq.read_metadata(out / f"events-{p}.parquet").num_rows == m["counts"][p]
        with open(out / f"events-{p}.jsonl", "rb") as fh:
            assert sum(1 for _ in fh) == m["counts"][p]
        assert m["files"][p] == [f"events-{p}.parquet", f"events-{p}.jsonl", f"events-{p}.csv"]
    assert json.loads((out / "manifest.json").read_text()) == m
    assert m["distinct_persons"] == N_PERSONS  # n_events >= n_persons: everyone is active
    user_ids = pc.unique(events["userId"].drop_null())
    anon_ids = pc.unique(events["anonymousId"].drop_null())
    assert len(user_ids) == m["distinct_user_ids"]
    assert len(anon_ids) == m["distinct_anonymous_ids"]
    non_old = [u for u in user_ids.to_pylist() if not u.startswith("old_")]
    assert len(non_old) == m["identified_persons"]
    assert sum(m["type_counts"].values()) == N_EVENTS
    assert all(0 < v <= N_PERSONS for v in m["persons_by_month"].values())


@pytest.mark.parametrize(
    ("n_events", "n_persons", "months", "projects"),
    [(100, 1_000, 1, 1), (5_001, 17, 3, 2), (3_000, 1_000, 13, 5), (1, 1, 1, 1), (0, 5, 2, 3)],
)
def test_exact_count_edge_sizes(n_events: int, n_persons: int, months: int, projects: int) -> None:
    chunks = list(generate_chunks(n_events, n_persons, months, projects, seed=3, chunk_rows=777))
    assert sum(t.num_rows for _, t in chunks) == n_events
    assert {p for p, _ in chunks} == set(
        ["web", "mobile", "backend", "project4", "project5"][:projects]
    )
    assert all(t.schema == SCHEMA for _, t in chunks)


def test_deterministic_bytes(tmp_path: Path, dataset: tuple[Path, dict[str, Any]]) -> None:
    out, m = dataset
    again = write_dataset(
        tmp_path / "a",
        N_EVENTS,
        N_PERSONS,
        MONTHS,
        PROJECTS,
        SEED,
        formats=("parquet", "jsonl", "csv"),
    )
    assert again == m
    for f in sorted(p.name for p in out.iterdir()):
        assert (tmp_path / "a" / f).read_bytes() == (out / f).read_bytes(), f
    other = write_dataset(tmp_path / "b", N_EVENTS, N_PERSONS, MONTHS, PROJECTS, SEED + 1)
    assert other["total_events"] == N_EVENTS
    assert (tmp_path / "b" / "events-web.jsonl").read_bytes() != (
        out / "events-web.jsonl"
    ).read_bytes()


def test_chunking_does_not_change_content() -> None:
    def collect(chunk_rows: int, dictionary: bool = False) -> dict[str, pa.Table]:
        parts: dict[str, list[pa.Table]] = {}
        for project, table in generate_chunks(
            5_000, 800, 4, 2, seed=11, chunk_rows=chunk_rows, dictionary=dictionary
        ):
            assert table.num_rows <= chunk_rows
            parts.setdefault(project, []).append(table)
        return {p: pa.concat_tables(ts) for p, ts in parts.items()}

    big, small, dic = collect(1_000_000), collect(333), collect(1_000, dictionary=True)
    assert big.keys() == small.keys() == dic.keys()
    for p in big:
        assert big[p].equals(small[p])
        assert dic[p].schema == DICT_SCHEMA
        assert dic[p].cast(SCHEMA).equals(big[p])


def test_schema(dataset: tuple[Path, dict[str, Any]]) -> None:
    out, _ = dataset
    assert SCHEMA.names == list(COLUMNS)
    assert all(
        f.type == (pa.bool_() if f.name == "properties.enabled" else pa.string()) for f in SCHEMA
    )
    for p in PROJECT_NAMES:
        assert pq.read_schema(out / f"events-{p}.parquet").remove_metadata() == SCHEMA
    csv = pacsv.read_csv(
        out / "events-web.csv",
        convert_options=pacsv.ConvertOptions(column_types=SCHEMA, strings_can_be_null=True),
    )
    assert csv.equals(pq.read_table(out / "events-web.parquet"))


def test_identified_share_and_mix(dataset: tuple[Path, dict[str, Any]], events: pa.Table) -> None:
    _, m = dataset
    share = m["identified_persons"] / m["distinct_persons"]
    assert 0.55 < share < 0.65
    assert 0.0 < m["second_device_persons"] / m["identified_persons"] < 0.2
    assert 0 < m["alias_persons"] < 0.05 * m["identified_persons"]
    assert 0 < m["bot_persons"] < 0.03 * m["distinct_persons"]
    types = dict(zip(*pc.value_counts(events["type"]).flatten(), strict=True))
    counts = {k.as_py(): v.as_py() for k, v in types.items()}
    frac = {k: v / N_EVENTS for k, v in counts.items()}
    assert 0.45 < frac["track"] < 0.65
    assert 0.2 < frac["page"] < 0.4
    assert 0.03 < frac["screen"] < 0.13
    assert 0.03 < frac["identify"] < 0.2  # ~1 per identified person (+ second devices)
    assert set(counts) == {"track", "page", "screen", "identify", "alias", "group"}


def test_identity_events(events: pa.Table) -> None:
    rows = events.select(["type", "userId", "anonymousId", "previousId", "timestamp"]).to_pylist()
    identifies = [r for r in rows if r["type"] == "identify"]
    assert identifies
    assert all(r["userId"] and r["anonymousId"] for r in identifies)
    aliases = [r for r in rows if r["type"] == "alias"]
    assert aliases
    assert all(r["previousId"].startswith("old_") and r["userId"] for r in aliases)
    assert all(r["previousId"] is None for r in rows if r["type"] != "alias")
    assert all(r["userId"] or r["anonymousId"] for r in rows)
    # Old user ids are used before their alias; anonymous-only events precede the identify.
    first_seen: dict[str, str] = {}
    anon_only_last: dict[str, str] = {}
    for r in rows:
        if r["userId"] and r["userId"].startswith("old_"):
            first_seen[r["userId"]] = min(first_seen.get(r["userId"], "~"), r["timestamp"])
        if r["anonymousId"] and not r["userId"]:
            a = r["anonymousId"]
            anon_only_last[a] = max(anon_only_last.get(a, ""), r["timestamp"])
    for r in aliases:
        assert first_seen[r["previousId"]] <= r["timestamp"]
    for r in identifies:
        assert anon_only_last.get(r["anonymousId"], "") <= r["timestamp"]
    # Some persons use two devices: one userId identified with two anonymousIds.
    anons_per_user: dict[str, set[str]] = {}
    for r in identifies:
        anons_per_user.setdefault(r["userId"], set()).add(r["anonymousId"])
    assert any(len(a) == 2 for a in anons_per_user.values())
    assert all(len(a) <= 2 for a in anons_per_user.values())


def test_timestamps_and_order(dataset: tuple[Path, dict[str, Any]], events: pa.Table) -> None:
    out, _ = dataset
    ts = events["timestamp"].to_pylist()
    assert all(TS_RE.match(t) for t in ts)
    assert min(ts) >= "2024-01-01T00:00:00.000Z"
    assert max(ts) < "2024-07-01T00:00:00.000Z"
    for p in PROJECT_NAMES:
        col = pq.read_table(out / f"events-{p}.parquet", columns=["timestamp"])["timestamp"]
        values = col.to_pylist()
        assert values == sorted(values)


def test_message_ids_unique(events: pa.Table) -> None:
    ids = events["messageId"]
    assert ids.null_count == 0
    assert len(pc.unique(ids)) == N_EVENTS


def test_field_shapes(events: pa.Table) -> None:
    rows = events.to_pylist()
    for r in rows:
        assert r["context.ip"] and r["context.userAgent"] and r["context.library.name"]
        if r["userId"] and not r["userId"].startswith("old_"):
            assert 16 <= len(r["userId"]) <= 36
        if r["anonymousId"]:
            assert re.fullmatch(
                r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                r["anonymousId"],
            )
        if r["type"] == "page":
            assert r["name"] and r["context.page.url"].startswith("https://app.example.com/")
            assert r["properties.url"] == r["context.page.url"]
        if r["type"] == "track":
            assert r["event"]
        if r["event"] == "Decision":
            assert re.fullmatch(r"exp_\d+", r["properties.experiment_id"])
            assert r["properties.variation"]
            assert (r["properties.flag_key"] is None) == (r["properties.enabled"] is None)
        if r["type"] == "identify":
            assert "@" in r["traits.email"] and r["traits.plan"] and r["traits.country"]
    assert any("Googlebot" in r["context.userAgent"] for r in rows)


def test_jsonl_nested(dataset: tuple[Path, dict[str, Any]]) -> None:
    out, _ = dataset
    for p in PROJECT_NAMES:
        rows = pq.read_table(out / f"events-{p}.parquet").to_pylist()
        with open(out / f"events-{p}.jsonl", encoding="utf-8") as fh:
            lines = fh.read().split("\n")
        assert lines[-1] == ""
        objs = [json.loads(line) for line in lines[:-1]]
        assert len(objs) == len(rows)
        for obj, row in zip(objs, rows, strict=True):
            assert obj == nest(row)
            assert not has_null(obj)
    obj = objs[0]
    assert isinstance(obj["context"], dict) and isinstance(obj["context"]["library"], dict)


def test_jsonl_bytes_edge_cases() -> None:
    table = pa.table(
        {
            "a": pa.array(['x"y', None, "\\z\n", "ü€"]),
            "b.c": pa.array([None, None, True, False]),
            "b.d": pa.array([1, None, 3, -4], pa.int64()),
            "b.e.f": pa.array(["k", None, None, None]),
            "g": pa.array([None, None, None, None], pa.string()),
            "h": pa.DictionaryArray.from_arrays(pa.array([0, 1, None, 0]), pa.array(["p", "q"])),
        }
    )
    lines = jsonl_bytes(table).tobytes().decode().split("\n")
    assert lines[-1] == ""
    got = [json.loads(line) for line in lines[:-1]]
    expected = [
        nest(r) for r in table.cast(table.schema.set(5, pa.field("h", pa.string()))).to_pylist()
    ]
    assert got == expected
    assert got[1] == {"h": "q"}
    assert jsonl_bytes(table.slice(0, 0)).size == 0
    many = pa.table({"u": pa.array([f"user-{i}" for i in range(5000)])})  # high cardinality
    assert [json.loads(x) for x in jsonl_bytes(many).tobytes().decode().splitlines()] == [
        {"u": f"user-{i}"} for i in range(5000)
    ]


def test_cli(tmp_path: Path) -> None:
    args = ["--events", "2000", "--persons", "300", "--months", "2", "--projects", "2"]
    assert main([*args, "--out", str(tmp_path), "--seed", "5", "--formats", "jsonl"]) == 0
    m = json.loads((tmp_path / "manifest.json").read_text())
    assert m["total_events"] == 2000
    assert m["months"] == ["2024-05", "2024-06"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "events-mobile.jsonl",
        "events-web.jsonl",
        "manifest.json",
    ]
