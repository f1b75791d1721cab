"""Helpers for the browser tests: Debian's chromium driven by Playwright (sync API).

Playwright's own browser download is never used: the tests launch the system's ``chromium``
(``apt-get install chromium``; ``.ci/run`` does it on CI) and skip, saying so, where there is none.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Request, Response

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
VIEWPORT = {"width": 1280, "height": 900}
DRAWN = "path, rect, circle, polyline, polygon, line"  # what a chart with data draws


def chromium_path() -> str | None:
    for candidate in (shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def launch(playwright: Playwright) -> Browser:
    executable = chromium_path()
    if executable is None:
        pytest.skip("no chromium: `apt-get install chromium` (.ci/run does it on CI)")
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    return playwright.chromium.launch(executable_path=executable, headless=True, args=args)


@dataclass
class Watch:
    """Everything that went wrong on a page: console errors, uncaught exceptions, failed
    requests, responses with a status of 400 or more, and dialogs (none is ever expected:
    a dialog is dismissed and recorded, so an ``alert()`` from an injection fails the test)."""

    page: Page
    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", self._response)
        self.page.on("dialog", self._dialog)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.problems.append(f"console error at {where}: {message.text}")

    def _failed(self, request: Request) -> None:
        if request.failure == "net::ERR_ABORTED":
            return  # cancelled by the browser: leaving the page (a poll, the favicon), a download
        self.problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.problems.append(
                f"HTTP {response.status}: {response.request.method} {response.url}"
            )

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def take(self) -> list[str]:
        """The problems so far (and forget them)."""
        found, self.problems = self.problems, []
        return found


def sign_in(page: Page, url: str, key: str) -> None:
    page.goto(f"{url}/signin")
    page.fill("input[name=key]", key)
    with page.expect_navigation():
        page.click("form[action='/signin'] button[type=submit]")


def sign_out(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()


def charts(page: Page, selector: str = ".chart svg") -> list[dict[str, Any]]:
    """Each chart of the page: its label, classes, ``data-points`` and drawn elements."""
    return page.eval_on_selector_all(  # type: ignore[no-any-return]
        selector,
        """(els, drawn) => els.map(e => ({
            label: e.getAttribute('aria-label') || '',
            classes: e.getAttribute('class') || '',
            points: Number(e.getAttribute('data-points')),
            drawn: e.querySelectorAll(drawn).length,
            text: e.textContent,
        }))""",
        DRAWN,
    )


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    return target
