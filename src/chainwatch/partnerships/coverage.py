"""Links from partnerships to exposures: theme -> materials, and a coverage view. Pure.

A partnership concerns a perspective when one of its parties is, or contains, a member of the
perspective (the EU27 party concerns the EU27 and the allied bloc; Canada concerns Canada).
It covers a material when the text names the material ("named") or when one of its themes
concerns it (``partnership_themes.csv``: "theme").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from chainwatch.partnerships.model import Partnership

COVERAGE_COLUMNS = (
    "rank", "material", "riskiest_stage", "eu_supply_risk", "import_reliance",
    "outside_bloc_share", "criteria", "coverage", "partnership_ids", "partnership_names",
    "via_themes",
)  # fmt: skip


def calc_partnership_materials(
    record: Partnership, theme_materials: Mapping[str, Sequence[str]]
) -> dict[str, tuple[str, ...]]:
    """Material -> how the partnership reaches it: ("named",) and/or the theme ids."""
    links: dict[str, list[str]] = {material: ["named"] for material in record.materials}
    for theme in record.themes:
        for material in theme_materials.get(theme, ()):
            links.setdefault(material, []).append(theme)
    return {material: tuple(via) for material, via in links.items()}


def concerns(record: Partnership, perspective_members: set[str],
             party_members: Mapping[str, set[str]]) -> bool:  # fmt: skip
    """Whether a party of the record is, or contains, a member of the perspective."""
    return any(party_members.get(party, {party}) & perspective_members for party in record.parties)


def calc_coverage(
    exposures: pd.DataFrame,
    records: Sequence[Partnership],
    perspective_members: set[str],
    party_members: Mapping[str, set[str]],
    theme_materials: Mapping[str, Sequence[str]],
) -> pd.DataFrame:
    """For each exposed material (a risk-table row), the partnerships that cover it.

    ``coverage`` is "named" when a partnership's text names the material, "theme" when only a
    theme reaches it, "none" when no partnership of the perspective does.
    """
    relevant = [r for r in records if concerns(r, perspective_members, party_members)]
    links = {r.id: calc_partnership_materials(r, theme_materials) for r in relevant}
    rows = []
    for exposure in exposures.itertuples(index=False):
        material = str(exposure.material)
        covering = [r for r in relevant if material in links[r.id]]
        named = [r for r in covering if "named" in links[r.id][material]]
        themes = sorted({t for r in covering for t in links[r.id][material] if t != "named"})
        rows.append({
            "rank": exposure.rank, "material": material,
            "riskiest_stage": exposure.riskiest_stage, "eu_supply_risk": exposure.eu_supply_risk,
            "import_reliance": exposure.import_reliance,
            "outside_bloc_share": exposure.outside_bloc_share, "criteria": exposure.criteria,
            "coverage": "named" if named else "theme" if covering else "none",
            "partnership_ids": "; ".join(r.id for r in covering),
            "partnership_names": "; ".join(r.name for r in covering),
            "via_themes": "; ".join(themes),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=list(COVERAGE_COLUMNS))
