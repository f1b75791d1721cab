"""PostHog's capture API (being written)."""

from fastapi import APIRouter

router = APIRouter(tags=["tracking"])
