"""What the browser tests share: where Chromium is, how it starts, and a tab on the dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
NO_CHROMIUM = f"{CHROMIUM} is missing: run tests/browser/install_browser.sh"


@dataclass
class Visit:
    """A browser tab on the dashboard, with what went wrong in it."""

    page: Any
    base_url: str
    external_requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(self, path: str) -> Any:
        response = self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("load")
        return response

    def wait_for_charts(self) -> None:
        """Until every chart on the page has drawn (or found nothing to draw)."""
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('[data-chart]')]"
            ".every(el => ['true', 'empty', 'error'].includes(el.dataset.rendered))"
        )
        failed = self.page.eval_on_selector_all(
            "[data-rendered='error']", "els => els.map(el => el.id + ': ' + el.dataset.error)"
        )
        assert not failed, failed

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path
