"""Statement checksums (and the shell recipe that reproduces them), tombstones, restatements."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maumeter.core.months import Month
from maumeter.core.statement import (
    EMPTY_CHECKSUM,
    Cause,
    Restatement,
    checksum,
    is_tombstone,
    tombstone,
)

MARCH = Month(2024, 3)
KEYS = [
    "user-42",
    "anon-7f3a",
    "Zoë",
    "émile",
    "user-1",
    "ünïcødé-🙂",
    "a,b",
    'quote"d',
    "tab\there",
]


def test_checksum_is_sha256_of_sorted_lines() -> None:
    assert checksum(["b", "a"]) == hashlib.sha256(b"a\nb\n").hexdigest()
    assert checksum([]) == EMPTY_CHECKSUM == hashlib.sha256(b"").hexdigest()
    assert checksum(iter(["x"])) == hashlib.sha256(b"x\n").hexdigest()


def test_checksum_sorts_by_utf8_bytes() -> None:
    # code point order == UTF-8 byte order: 'Z' < 'a' < 'é' < '🙂'
    assert checksum(["🙂", "é", "a", "Z"]) == hashlib.sha256("Z\na\né\n🙂\n".encode()).hexdigest()


@pytest.mark.parametrize("bad", [["a\nb"], ["a", "a"], ["\ud800"], [1]])
def test_checksum_refuses_what_the_recipe_cannot_reproduce(bad: list[object]) -> None:
    with pytest.raises(ValueError):
        checksum(bad)  # type: ignore[arg-type]


@pytest.mark.skipif(not shutil.which("sha256sum") or not shutil.which("sort"), reason="coreutils")
def test_the_documented_shell_recipe_gives_the_same_checksum() -> None:
    env = {"LC_ALL": "C", "PATH": "/usr/bin:/bin"}
    recipe = "printf '%s\\n' \"$@\" | LC_ALL=C sort | sha256sum"
    out = subprocess.run(
        ["sh", "-c", recipe, "sh", *KEYS], capture_output=True, check=True, env=env
    ).stdout
    assert out.split()[0].decode() == checksum(KEYS)
    # and from a file of keys, in any order, empty included
    for keys in (KEYS, list(reversed(KEYS)), []):
        text = "".join(k + "\n" for k in keys).encode()
        out = subprocess.run(
            ["sh", "-c", "LC_ALL=C sort | sha256sum"],
            input=text,
            capture_output=True,
            check=True,
            env=env,
        ).stdout
        assert out.split()[0].decode() == checksum(keys)


@given(
    st.lists(
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n")), unique=True
    ),
    st.randoms(),
)
def test_checksum_is_order_independent(keys: list[str], rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(keys)
    rnd.shuffle(shuffled)
    assert checksum(keys) == checksum(shuffled)


@given(
    st.lists(
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=8),
        unique=True,
        min_size=1,
    ),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=8),
)
def test_checksum_changes_with_the_set(keys: list[str], other: str) -> None:
    if other in keys:
        assert checksum([k for k in keys if k != other]) != checksum(keys)
    else:
        assert checksum([*keys, other]) != checksum(keys)


# --- tombstones ------------------------------------------------------------------------------


def test_tombstone_is_a_keyed_hash() -> None:
    t = tombstone(b"secret", "acme", "user-42")
    assert t.startswith("erased:") and len(t) == 7 + 64 and is_tombstone(t)
    assert t == tombstone("secret", "acme", "user-42")  # stable: replays are recognised
    assert t != tombstone(b"other", "acme", "user-42")
    assert t != tombstone(b"secret", "acme2", "user-42")
    assert tombstone(b"s", "ab", "c") != tombstone(b"s", "a", "bc")  # no ambiguity at the seam
    assert "user-42" not in t
    assert not is_tombstone("user-42") and not is_tombstone("erased:short")
    assert not is_tombstone("erased:" + "g" * 64)
    with pytest.raises(ValueError):
        tombstone(b"", "acme", "u")


def test_tombstones_keep_the_list_reconciled() -> None:
    keys = ["u1", "u2", "u3"]
    erased = [tombstone(b"k", "acme", "u2") if k == "u2" else k for k in keys]
    assert len(erased) == len(set(erased)) == 3
    assert checksum(erased) != checksum(keys)  # the list changed, so its checksum is recomputed


# --- restatements ----------------------------------------------------------------------------


def test_diff() -> None:
    r = Restatement.diff(MARCH, ["a", "b", "c"], ["b", "c", "d", "e"], Cause.LATE_EVENTS)
    assert (r.added, r.removed, r.previous_mau, r.new_mau) == (("d", "e"), ("a",), 3, 4)
    assert r.reason == "late-events" and r.changed
    assert r.to_dict() == {
        "month": "2024-03",
        "added": ["d", "e"],
        "removed": ["a"],
        "previous_mau": 3,
        "new_mau": 4,
        "reason": "late-events",
    }
    assert not Restatement.diff(MARCH, ["a"], ["a"], "rule-change").changed


def test_restatement_must_reconcile() -> None:
    with pytest.raises(ValueError):
        Restatement(MARCH, ("a",), (), 3, 3, "late-events")
    with pytest.raises(ValueError):
        Restatement(MARCH, ("a",), ("a",), 3, 3, "late-events")
    with pytest.raises(ValueError):
        Restatement(MARCH, ("a", "a"), (), 3, 5, "late-events")
    with pytest.raises(ValueError):
        Restatement(MARCH, (), (), 3, 3, " ")
    with pytest.raises(TypeError):
        Restatement("2024-03", (), (), 3, 3, "x")  # type: ignore[arg-type]


def test_apply_and_redact() -> None:
    r = Restatement.diff(MARCH, ["a", "b"], ["b", "c"], "identity-merge: a is c")
    assert r.apply(["a", "b"]) == {"b", "c"}
    with pytest.raises(ValueError):
        r.apply(["b", "x"])
    t = tombstone(b"k", "acme", "a")
    redacted = r.redact({"a": t})
    assert redacted.removed == (t,) and redacted.added == ("c",)
    assert (redacted.previous_mau, redacted.new_mau) == (2, 2)


key_sets = st.sets(st.text(min_size=1, max_size=4), max_size=30)


@given(key_sets, key_sets)
def test_diff_properties(old: set[str], new: set[str]) -> None:
    r = Restatement.diff(MARCH, old, new, "late-events")
    assert r.apply(old) == new
    assert r.new_mau == len(new) and r.previous_mau == len(old)
    assert r.changed == (old != new)
    assert not set(r.added) & set(r.removed)
