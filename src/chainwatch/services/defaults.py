"""The defaults every adapter shares: the default year, and the perspective and bloc of the
first screen.

* **Default year** (:func:`default_year`): the latest year with both trade flows and
  production figures, else the latest trade year (0 for an empty store). The CLI, the Python
  API, the JSON API's risk table and every dashboard page take it when no year is asked for,
  so a table, a page and a download of the same question show the same year.
* **Bloc** (:func:`choose_bloc`): "outside-bloc share" needs a bloc that is not the
  perspective itself. A group measured against itself has every import outside it by
  construction (the imports of a group are the flows from non-members), so the share is 100 %
  on every row and says nothing. Where the bloc asked for (or the default bloc) equals the
  perspective, the wider published group of like-minded economies, :data:`WIDER_BLOC` (OECD,
  a curated group in the bundle), is used instead, and the choice says why
  (docs/methods.md, "First screen").
"""

from __future__ import annotations

from dataclasses import dataclass

from chainwatch.metrics.service import DEFAULT_BLOC
from chainwatch.services.engines import on_engine
from chainwatch.store import Store
from chainwatch.store.engine import DUCKDB, EngineSpec
from chainwatch.store.relations import Source, open_relations

__all__ = [
    "DEFAULT_BLOC",
    "DEFAULT_PERSPECTIVE",
    "WIDER_BLOC",
    "BlocChoice",
    "choose_bloc",
    "default_year",
]

DEFAULT_PERSPECTIVE = "ALLIED"
"""The perspective of the first screen: the allied core (Canada, EU27, United States, UK)."""
WIDER_BLOC = "OECD"
"""The bloc a group is measured against when the bloc asked for is the group itself."""
FALLBACK_BLOCS = (WIDER_BLOC, DEFAULT_BLOC)
"""Blocs tried in order when the bloc equals the perspective (the OECD measured against
itself falls back to the allied core)."""


def default_year(store: Store, engine: EngineSpec = DUCKDB) -> int:
    """The latest year with both trade flows and production figures on what ``engine`` reads
    (else the latest trade year; 0 for a store without trade flows)."""
    return on_engine(store, engine, _default_year)


def _default_year(source: Source) -> int:
    with open_relations(source) as relations:
        return relations.default_risk_year()


@dataclass(frozen=True)
class BlocChoice:
    """The bloc a computation uses, what was asked for, and why they differ (if they do)."""

    code: str
    requested: str | None
    """The bloc asked for (None: the default was taken)."""
    note: str | None = None
    """Why ``code`` is not what was asked for (None where it is)."""

    @property
    def replaced(self) -> bool:
        return self.note is not None


def choose_bloc(perspective: str, requested: str | None = None) -> BlocChoice:
    """The bloc for ``perspective``: ``requested`` (default :data:`DEFAULT_BLOC`), unless that
    is the perspective itself, then the first of :data:`FALLBACK_BLOCS` that is not.

    >>> choose_bloc("CAN").code, choose_bloc("ALLIED").code, choose_bloc("EU27", "NATO").code
    ('ALLIED', 'OECD', 'NATO')
    """
    wanted = (requested or DEFAULT_BLOC).strip()
    own = perspective.strip()
    if wanted.upper() != own.upper():
        return BlocChoice(wanted, requested)
    code = next(bloc for bloc in FALLBACK_BLOCS if bloc != own.upper())
    note = (
        f"Outside-bloc share is measured against {code}, a wider group of like-minded "
        f"economies: against {own} itself it would be 100 % on every row, because every "
        f"import of a group comes from outside it."
    )
    return BlocChoice(code, requested, note)
