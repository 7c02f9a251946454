"""Docs that must stay true: the schema reference and the methods page."""

from __future__ import annotations

from pathlib import Path

from chainwatch import schema
from chainwatch.metrics.methods import METHODS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_schema_reference_is_generated_from_tables_csv() -> None:
    assert (DOCS / "schema.md").read_text(encoding="utf-8") == schema.render_markdown(), (
        "docs/schema.md is stale: run `chainwatch schema --markdown > docs/schema.md`"
    )


def test_every_method_is_documented() -> None:
    methods_page = (DOCS / "methods.md").read_text(encoding="utf-8")
    missing = sorted({m.method_id for m in METHODS.values() if m.method_id not in methods_page})
    assert not missing, f"methods without a section in docs/methods.md: {missing}"


def test_every_adr_has_status_and_decision() -> None:
    for adr in sorted((DOCS / "adr").glob("*.md")):
        text = adr.read_text(encoding="utf-8")
        assert "Status:" in text and "## Decision" in text, adr.name


def test_partnership_taxonomy_and_head_words_are_documented() -> None:
    from chainwatch.partnerships.gazetteer import load_gazetteer
    from chainwatch.partnerships.model import ACTION_KINDS

    page = (DOCS / "partnerships.md").read_text(encoding="utf-8")
    gazetteer = load_gazetteer()
    missing = [t.id for t in gazetteer.taxonomy if t.id not in page]
    missing += [head for _, head, _ in gazetteer.instruments if head not in page]
    missing += [kind for kind in ACTION_KINDS if kind not in page]
    assert not missing, f"missing from docs/partnerships.md: {missing}"
