"""The vectorized local calendar days agree exactly with the scalar reference in core.months."""

from __future__ import annotations

import zlib
import zoneinfo
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maumeter.core.errors import InvalidInput
from maumeter.core.months import Month, epoch_day, local_date, zone
from maumeter.store import localtime
from maumeter.store.localtime import local_epoch_days, month_index_of_epoch_days

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US_PER_S = 1_000_000
US_PER_DAY = 86_400 * US_PER_S
ZONES = [
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "Europe/Berlin",
    "Europe/Dublin",  # negative DST
    "Australia/Lord_Howe",  # 30-minute DST
    "Asia/Kathmandu",  # +5:45
    "Pacific/Apia",  # skipped 2011-12-30
    "America/St_Johns",  # -3:30, set back across midnight 1987-2010
    "America/Toronto",
    "America/Santiago",
    "Africa/Casablanca",
    "Africa/Monrovia",  # -0:44:30
    "Asia/Gaza",
    "Pacific/Kiritimati",  # +14
]


def to_us(instant: datetime) -> int:
    return (instant - EPOCH) // timedelta(microseconds=1)


LO = to_us(datetime(1900, 1, 1, tzinfo=UTC))
HI = to_us(datetime(2100, 12, 31, tzinfo=UTC))


def reference(epoch_us: np.ndarray, name: str) -> np.ndarray:
    tz = zone(name)
    return np.array(
        [epoch_day(local_date(EPOCH + timedelta(microseconds=int(t)), tz)) for t in epoch_us],
        dtype=np.int64,
    )


def transitions(name: str) -> np.ndarray:
    return localtime._transitions(name, LO, HI)[0]


@st.composite
def near_transitions(draw: st.DrawFn) -> tuple[str, np.ndarray]:
    """Instants within two days of a zone's offset changes, most within a few microseconds."""
    name = draw(st.sampled_from([z for z in ZONES if z != "UTC"]))
    found = transitions(name)
    picks = draw(st.lists(st.integers(0, len(found) - 1), min_size=1, max_size=20))
    near = st.one_of(
        st.integers(-2, 2),
        st.integers(-2 * US_PER_S, 2 * US_PER_S),
        st.integers(-2 * US_PER_DAY, 2 * US_PER_DAY),
    )
    deltas = draw(st.lists(near, min_size=len(picks), max_size=len(picks)))
    return name, found[picks] + np.array(deltas, dtype=np.int64)


@settings(max_examples=100, deadline=None)
@given(
    name=st.sampled_from(ZONES),
    instants=st.lists(st.integers(LO, HI), min_size=1, max_size=50),
)
def test_matches_the_scalar_reference(name: str, instants: list[int]) -> None:
    epoch_us = np.array(instants, dtype=np.int64)
    got = local_epoch_days(epoch_us, name)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, reference(epoch_us, name))


@settings(max_examples=100, deadline=None)
@given(near_transitions())
def test_matches_the_scalar_reference_around_transitions(case: tuple[str, np.ndarray]) -> None:
    name, epoch_us = case
    np.testing.assert_array_equal(local_epoch_days(epoch_us, name), reference(epoch_us, name))


@pytest.mark.parametrize("name", ZONES)
@pytest.mark.parametrize("century", [1900, 2000])
def test_dense_instants_over_a_century(name: str, century: int) -> None:
    """Dense enough for the bucket table (a century is ~46k buckets), with buckets holding
    transitions, and the instants just around each transition."""
    lo = to_us(datetime(century, 1, 1, tzinfo=UTC))
    hi = to_us(datetime(century + 100, 1, 1, tzinfo=UTC))
    rng = np.random.default_rng(zlib.crc32(name.encode()) + century)
    found = transitions(name)
    found = found[(found > lo + 1) & (found < hi - 1)]
    epoch_us = np.concatenate([rng.integers(lo, hi, 5_000), found - 1, found, found + 1])
    np.testing.assert_array_equal(local_epoch_days(epoch_us, name), reference(epoch_us, name))


def test_many_instants_in_one_month_across_chunks() -> None:
    name = "Europe/Paris"
    start, end = Month(2024, 3).start(zone(name)), Month(2024, 3).end(zone(name))
    rng = np.random.default_rng(7)
    epoch_us = rng.integers(to_us(start) - US_PER_DAY, to_us(end) + US_PER_DAY, 150_000)
    np.testing.assert_array_equal(local_epoch_days(epoch_us, name), reference(epoch_us, name))


@pytest.mark.parametrize(
    ("name", "instant", "day"),
    [
        ("Europe/Paris", datetime(2024, 3, 31, 21, 59, 59, 999999, tzinfo=UTC), "2024-03-31"),
        ("Europe/Paris", datetime(2024, 3, 31, 22, tzinfo=UTC), "2024-04-01"),
        ("Asia/Kathmandu", datetime(2024, 3, 31, 18, 14, 59, 999999, tzinfo=UTC), "2024-03-31"),
        ("Asia/Kathmandu", datetime(2024, 3, 31, 18, 15, tzinfo=UTC), "2024-04-01"),
        ("Pacific/Apia", datetime(2011, 12, 30, 9, 59, 59, 999999, tzinfo=UTC), "2011-12-29"),
        ("Pacific/Apia", datetime(2011, 12, 30, 10, tzinfo=UTC), "2011-12-31"),
        ("America/St_Johns", datetime(2009, 11, 1, 2, 30, 59, tzinfo=UTC), "2009-11-01"),
        ("America/St_Johns", datetime(2009, 11, 1, 2, 31, tzinfo=UTC), "2009-10-31"),
        ("UTC", datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "1969-12-31"),
    ],
)
def test_examples(name: str, instant: datetime, day: str) -> None:
    (got,) = local_epoch_days(np.array([to_us(instant)]), name)
    assert got == epoch_day(datetime.fromisoformat(day).date())


def test_shape_dtype_and_empty_input() -> None:
    epoch_us = np.array([[0, US_PER_DAY], [-1, 3 * US_PER_DAY]], dtype=np.int64)
    got = local_epoch_days(epoch_us, "UTC")
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, [[0, 1], [-1, 3]])
    np.testing.assert_array_equal(local_epoch_days(epoch_us.astype(np.uint64) * 0, "UTC"), 0)
    assert local_epoch_days(np.array([], dtype=np.int64), "Europe/Paris").shape == (0,)
    assert local_epoch_days([to_us(datetime(2024, 3, 1, tzinfo=UTC))], "Asia/Tokyo")[0] == 19783


def test_refusals() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        local_epoch_days(np.array([0]), "Mars/Olympus")
    assert excinfo.value.problems[0].field == "timezone"
    with pytest.raises(TypeError):
        local_epoch_days(np.array([0.5]), "UTC")
    with pytest.raises(ValueError, match="out of range"):
        local_epoch_days(np.array([np.iinfo(np.int64).max]), "UTC")
    with pytest.raises(ValueError, match="out of range"):
        local_epoch_days(np.array([2**63], dtype=np.uint64), "UTC")


# --- months of epoch days --------------------------------------------------------------------

MIN_DAY, MAX_DAY = localtime._MIN_DAY, localtime._MAX_DAY


@given(st.lists(st.integers(MIN_DAY, MAX_DAY), min_size=1, max_size=50))
def test_month_index_of_epoch_days(days: list[int]) -> None:
    got = month_index_of_epoch_days(np.array(days, dtype=np.int32))
    assert got.dtype == np.int32
    expected = [Month.of_date(EPOCH.date() + timedelta(days=d)).index for d in days]
    np.testing.assert_array_equal(got, expected)


def test_month_index_of_dense_days() -> None:
    days = np.arange(-30_000, 50_000, dtype=np.int32)[::-1]
    got = month_index_of_epoch_days(days.reshape(400, 200)).ravel()
    expected = [Month.of_date(EPOCH.date() + timedelta(days=int(d))).index for d in days]
    np.testing.assert_array_equal(got, expected)
    assert month_index_of_epoch_days(np.array([], dtype=np.int32)).shape == (0,)
    with pytest.raises(ValueError, match="out of range"):
        month_index_of_epoch_days(np.array([MAX_DAY + 1]))


@settings(max_examples=100, deadline=None)
@given(name=st.sampled_from(ZONES), instants=st.lists(st.integers(LO, HI), max_size=30))
def test_month_index_of_local_days_matches_month_of(name: str, instants: list[int]) -> None:
    days = local_epoch_days(np.array(instants, dtype=np.int64), name)
    tz = zone(name)
    expected = [Month.of(EPOCH + timedelta(microseconds=t), tz).index for t in instants]
    np.testing.assert_array_equal(month_index_of_epoch_days(days), expected)


# --- the transition finder's one assumption --------------------------------------------------
# Offsets are sampled once a day, so two changes within a day that cancel out would go unseen.
# The stdlib's pure-Python zoneinfo exposes its parsed data (privately); use it to check the
# whole database, and to check the transitions found against the ones on file.

pz = pytest.importorskip("zoneinfo._zoneinfo")
needs_internals = pytest.mark.skipif(
    not all(hasattr(pz, a) for a in ("ZoneInfo", "_TZStr", "_ttinfo")),
    reason="the pure-Python zoneinfo internals changed",
)


def offset_changes(name: str, years: int = 400) -> list[tuple[int, int]]:
    """``(UTC second, new offset in seconds)`` for every offset change on file, then for
    ``years`` years of the zone's closing rule (the Gregorian calendar repeats every 400)."""
    z = pz.ZoneInfo.no_cache(name)
    changes: list[tuple[int, int]] = []
    before = z._tti_before
    current = int(before.utcoff.total_seconds()) if before is not None else None
    for t, tti in zip(z._trans_utc, z._ttinfos, strict=True):
        offset = int(tti.utcoff.total_seconds())
        if offset != current:
            changes.append((t, offset))
        current = offset
    last = z._trans_utc[-1] if z._trans_utc else -(2**62)
    rule = z._tz_after
    if isinstance(rule, pz._TZStr):
        std, dst = int(rule.std.utcoff.total_seconds()), int(rule.dst.utcoff.total_seconds())
        first_year = max(1800, datetime.fromtimestamp(max(last, -(2**35)), UTC).year)
        ruled = []
        for year in range(first_year, first_year + years):
            start, end = rule.transitions(year)
            ruled += [(start - std, dst), (end - dst, std)]
        for t, offset in sorted(ruled):
            if t > last and offset != current:
                changes.append((t, offset))
                current = offset
    elif current is not None and int(rule.utcoff.total_seconds()) != current:
        changes.append((last + 1, int(rule.utcoff.total_seconds())))
    return changes


@needs_internals
def test_no_zone_changes_its_offset_twice_within_a_day() -> None:
    closest = min(
        (b[0] - a[0], name)
        for name in sorted(zoneinfo.available_timezones())
        if not name.startswith(("right/", "posix/")) and name not in ("localtime", "posixrules")
        for a, b in pairwise(offset_changes(name))
    )
    assert closest[0] > localtime._SCAN_STEP_S, closest


@needs_internals
@pytest.mark.parametrize("name", ZONES)
def test_transitions_found_are_the_ones_on_file(name: str) -> None:
    found, offsets = localtime._transitions(name, LO, HI)
    on_file = [
        (t * US_PER_S, o * US_PER_S) for t, o in offset_changes(name) if LO < t * US_PER_S <= HI
    ]
    inside = (found > LO) & (found <= HI)
    assert list(zip(found[inside].tolist(), offsets[1:][inside].tolist(), strict=True)) == on_file
