"""maumeter: exact, explainable monthly active users.

The public API is `Meter` (open a store, ingest, count, verify) and the values it returns.
"""

from maumeter.core.activity import ActivityRule, preset
from maumeter.core.errors import (
    AlreadyExists,
    InvalidInput,
    MaumeterError,
    NotFound,
    Problem,
    StoreUnavailable,
    Unauthorized,
)
from maumeter.core.events import Event, parse_event
from maumeter.core.months import Month
from maumeter.meter import ActivePerson, IngestResult, Meter, Rejection, Usage, Verification

__all__ = [
    "ActivePerson",
    "ActivityRule",
    "AlreadyExists",
    "Event",
    "IngestResult",
    "InvalidInput",
    "MaumeterError",
    "Meter",
    "Month",
    "NotFound",
    "Problem",
    "Rejection",
    "StoreUnavailable",
    "Unauthorized",
    "Usage",
    "Verification",
    "parse_event",
    "preset",
]
