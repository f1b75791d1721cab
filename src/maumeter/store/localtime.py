"""Local calendar days of many instants at once: the vectorized twin of ``core.months``.

``local_epoch_days`` must agree exactly with ``epoch_day(local_date(instant, tz))`` for every
instant, yet run over millions of events. A zone's UTC offset is a step function of the instant
that changes a few times a year at most, so we ask ``zoneinfo`` (the reference) only for those
steps and then look offsets up with numpy:

1. Transitions are found by sampling ``zoneinfo`` once per UTC day and bisecting, to the
   microsecond, each day whose offset differs at its ends; results are cached per zone and
   per ~388-day block. This is exact as long as a zone never changes its offset twice within
   one day and back again; tzdata's closest offset changes are ~4 days apart, and the tests
   check that bound over the whole database.
2. Instants are grouped in buckets of 2**36 µs (~19 h, a shift instead of a division). A
   table gives each bucket's offset; the rare buckets holding a transition are marked, and
   only the instants falling in them are resolved by binary search over the transitions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from maumeter.core.months import zone

__all__ = ["local_epoch_days", "month_index_of_epoch_days"]

_US_PER_S = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_S
_ONE_US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Instants zoneinfo can place in any zone without leaving datetime's range (offsets < 1 day).
_MIN_S = int((datetime(1, 1, 2, tzinfo=UTC) - _EPOCH).total_seconds())
_MAX_S = int((datetime(9999, 12, 31, tzinfo=UTC) - _EPOCH).total_seconds())  # exclusive
_SCAN_STEP_S = 86_400
_BLOCK_SHIFT = 25  # transitions are cached per block of 2**25 s (~388 days)
_BUCKET_SHIFT = 36  # lookup buckets of 2**36 µs (~19 h)
_CHUNK = 1 << 16  # elements per step of the vectorized loops (512 KiB of int64)
_MIXED = np.iinfo(np.int64).min  # table mark: a transition falls inside this bucket
_MIN_DAY = (date(1, 1, 1) - date(1970, 1, 1)).days
_MAX_DAY = (date(9999, 12, 31) - date(1970, 1, 1)).days


def _offset_us(tz: ZoneInfo, instant_us: int) -> int:
    """The reference: zoneinfo's UTC offset at an instant, in microseconds."""
    offset = (_EPOCH + instant_us * _ONE_US).astimezone(tz).utcoffset()
    assert offset is not None
    return offset // _ONE_US


@lru_cache(maxsize=1 << 16)
def _block_transitions(tz_name: str, block: int) -> tuple[tuple[int, int], ...]:
    """``(instant µs, offset µs from then on)`` for each offset change in a block of seconds
    ``(start, end]``: sampled once a day, each change bisected to the microsecond."""
    tz = zone(tz_name)
    at = datetime.fromtimestamp  # exact for integer seconds, and much faster than arithmetic
    start = max(block << _BLOCK_SHIFT, _MIN_S)
    end = min((block + 1) << _BLOCK_SHIFT, _MAX_S)
    found: list[tuple[int, int]] = []
    a, off_a = start, at(start, tz).utcoffset()
    while a < end:
        b = min(a + _SCAN_STEP_S, end)
        off_b = at(b, tz).utcoffset()
        while off_a != off_b:
            lo, hi = a, b  # the offset is off_a at second lo and differs at second hi
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if at(mid, tz).utcoffset() == off_a:
                    lo = mid
                else:
                    hi = mid
            # Within the last second, to the microsecond (zoneinfo's changes fall on whole
            # seconds, but this keeps the result exact without relying on it).
            old = off_a // _ONE_US  # type: ignore[operator]
            lo_us, hi_us = lo * _US_PER_S, hi * _US_PER_S
            while hi_us - lo_us > 1:
                mid = (lo_us + hi_us) // 2
                if _offset_us(tz, mid) == old:
                    lo_us = mid
                else:
                    hi_us = mid
            found.append((hi_us, _offset_us(tz, hi_us)))
            a, off_a = hi, at(hi, tz).utcoffset()
        a = b
    return tuple(found)


def _transitions(
    tz_name: str, lo_us: int, hi_us: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Transitions covering ``[lo_us, hi_us]``: instants ``T`` (sorted) and offsets ``O`` such
    that ``O[searchsorted(T, t, side="right")]`` is the offset at instant ``t``."""
    first = (lo_us // _US_PER_S) >> _BLOCK_SHIFT
    last = (hi_us // _US_PER_S) >> _BLOCK_SHIFT
    base = _offset_us(zone(tz_name), max(first << _BLOCK_SHIFT, _MIN_S) * _US_PER_S)
    pairs = [p for block in range(first, last + 1) for p in _block_transitions(tz_name, block)]
    instants = np.array([t for t, _ in pairs], dtype=np.int64)
    offsets = np.array([base] + [o for _, o in pairs], dtype=np.int64)
    return instants, offsets


def local_epoch_days(epoch_us: npt.ArrayLike, tz_name: str) -> npt.NDArray[np.int32]:
    """For instants in microseconds since the Unix epoch (UTC), the epoch day (days since
    1970-01-01) of each one's local calendar date in ``tz_name``.

    Exactly ``epoch_day(local_date(instant, zone(tz_name)))`` element-wise, for instants from
    0001-01-02 to 9999-12-30 UTC (others raise ValueError); keeps the input's shape.
    """
    zone(tz_name)  # an unknown zone is the caller's input error: raise it before any work
    t = _integers(epoch_us, "epoch_us").astype(np.int64, copy=False)
    out = np.empty(t.shape, dtype=np.int32)
    flat_t, flat_out = t.reshape(-1), out.reshape(-1)
    if flat_t.size == 0:
        return out
    lo, hi = int(flat_t.min()), int(flat_t.max())
    if lo < _MIN_S * _US_PER_S or hi >= _MAX_S * _US_PER_S:
        raise ValueError("epoch_us out of range: instants must lie in 0001-01-02..9999-12-30 UTC")
    instants, offsets = _transitions(tz_name, lo, hi)

    b0 = lo >> _BUCKET_SHIFT
    n_buckets = (hi >> _BUCKET_SHIFT) - b0 + 1
    table: npt.NDArray[np.int64] | None = None
    if instants.size and n_buckets <= max(4 * flat_t.size, 1 << 16):
        starts = np.arange(b0, b0 + n_buckets, dtype=np.int64) << _BUCKET_SHIFT
        at_start = np.searchsorted(instants, starts, side="right")
        at_end = np.searchsorted(instants, starts + ((1 << _BUCKET_SHIFT) - 1), side="right")
        table = offsets[at_start]
        table[at_start != at_end] = _MIXED

    if not instants.size and not offsets[0]:  # UTC-like: no offset to add
        np.floor_divide(flat_t, _US_PER_DAY, out=flat_out, casting="unsafe")
        return out

    # In chunks that stay in cache, through one reused buffer: fresh multi-megabyte
    # temporaries cost more in page faults than the arithmetic itself.
    buf = np.empty(min(flat_t.size, _CHUNK), dtype=np.int64)
    for s in range(0, flat_t.size, _CHUNK):
        tc = flat_t[s : s + _CHUNK]
        off = buf[: tc.size]
        if not instants.size:  # one offset over the whole span
            off.fill(offsets[0])
        elif table is None:  # few instants over a long span: a table would cost more
            off[:] = offsets[np.searchsorted(instants, tc, side="right")]
        else:
            np.right_shift(tc, _BUCKET_SHIFT, out=off)
            off -= b0
            # In place: take() reads each index before writing its slot; 'clip' (indices are
            # in range by construction) avoids the defensive copy that 'raise' makes.
            table.take(off, out=off, mode="clip")
            mixed = np.flatnonzero(off == _MIXED)
            if mixed.size:
                off[mixed] = offsets[np.searchsorted(instants, tc[mixed], side="right")]
        off += tc
        # Epoch days of years 1..9999 fit int32: floor straight into the result.
        np.floor_divide(off, _US_PER_DAY, out=flat_out[s : s + tc.size], casting="unsafe")
    return out


def month_index_of_epoch_days(days: npt.ArrayLike) -> npt.NDArray[np.int32]:
    """``year * 12 + month - 1`` (``Month.index``) of each epoch day, vectorized; keeps the
    input's shape. Days must lie in years 1..9999 (others raise ValueError).

    numpy's datetime64 'D' to 'M' conversion is exact but slow per element (~30 ns), so it is
    applied once per distinct day of the span to build a table, then looked up.
    """
    d = _integers(days, "days")
    out = np.empty(d.shape, dtype=np.int32)
    flat_d, flat_out = d.reshape(-1), out.reshape(-1)
    if flat_d.size == 0:
        return out
    lo, hi = int(flat_d.min()), int(flat_d.max())
    if lo < _MIN_DAY or hi > _MAX_DAY:
        raise ValueError("epoch days out of range: dates must lie in years 1..9999")
    if hi - lo + 1 > max(4 * flat_d.size, 1 << 16):  # few days over a long span: no table
        flat_out[:] = _month_index(flat_d.astype(np.int64, copy=False))
        return out
    table = _month_index(np.arange(lo, hi + 1, dtype=np.int64))
    buf = np.empty(min(flat_d.size, _CHUNK), dtype=np.intp)
    for s in range(0, flat_d.size, _CHUNK):
        dc = flat_d[s : s + _CHUNK]
        index = buf[: dc.size]
        np.subtract(dc, lo, out=index, casting="unsafe")
        table.take(index, out=flat_out[s : s + dc.size], mode="clip")
    return out


def _integers(values: npt.ArrayLike, name: str) -> npt.NDArray[np.integer]:
    array = np.asarray(values)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers, got dtype {array.dtype}")
    if array.dtype.kind == "u" and array.size and int(array.max()) > np.iinfo(np.int64).max:
        raise ValueError(f"{name} out of range")
    return array


def _month_index(days: npt.NDArray[np.int64]) -> npt.NDArray[np.int32]:
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return (months + 1970 * 12).astype(np.int32)
