"""The `maumeter` command: a thin shell over `Meter`, one module per concept.

Importing the modules registers their commands on :func:`main`.
"""

from maumeter.cli import (
    alerts,
    analytics,
    counting,
    demo,
    outlook,
    plans,
    privacy,
    serving,
    statements,
    tenants,
)
from maumeter.cli.shell import main

__all__ = [
    "alerts",
    "analytics",
    "counting",
    "demo",
    "main",
    "outlook",
    "plans",
    "privacy",
    "serving",
    "statements",
    "tenants",
]
