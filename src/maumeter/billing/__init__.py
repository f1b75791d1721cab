"""Billing on top of the counts: plans and live usage, alerts and their webhooks, frozen
statements with their counted-person lists, restatements, explanations, erasure, the audit log.

Each module is one concept with a small class the :class:`~maumeter.meter.Meter` exposes; their
SQL lives in the matching ``maumeter.store`` module, their rules in ``maumeter.core``."""
