"""Dashboard pages (Jinja2 templates) and their locally served assets."""

from __future__ import annotations

from pathlib import Path

from chainwatch.ui.pages import router

STATIC_DIRECTORY = Path(__file__).parent / "static"
TEMPLATE_DIRECTORY = Path(__file__).parent / "templates"

__all__ = ["STATIC_DIRECTORY", "TEMPLATE_DIRECTORY", "router"]
