"""The perspective selector: partners first, then the other groups, then every country."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from chainwatch.errors import QueryError
from chainwatch.ui.formatting import country_names

DEFAULT_PERSPECTIVE = "ALLIED"
PARTNERS = {
    "CAN": "Canada",
    "EU27": "European Union (EU27)",
    "USA": "United States",
    "GBR": "United Kingdom",
    "ALLIED": "Allied bloc (Canada, EU27, US, UK)",
}
SUBJECTS = {
    "ALLIED": "The allied bloc",
    "EU27": "The EU (27)",
    "FIVE_EYES": "The Five Eyes",
    "US_FTA": "The US free-trade partners",
}
"""How a perspective opens a sentence where its plain name would read oddly."""


@dataclass(frozen=True)
class PerspectiveOption:
    code: str
    label: str
    subject: str
    """The name as the subject of a sentence ("Canada imported ...")."""
    kind: str
    """Where the selector lists it: partner, group or country."""
    is_group: bool

    @property
    def phrase(self) -> str:
        """The name inside a sentence ("the allied bloc", "Canada")."""
        return "t" + self.subject[1:] if self.subject.startswith("The ") else self.subject


def perspective_options(groups: pd.DataFrame, countries: pd.DataFrame) -> list[PerspectiveOption]:
    """Every perspective the pages offer, in selector order."""
    names = country_names(countries)
    group_names = {
        str(code): str(name) for code, name in zip(groups["group_id"], groups["name"], strict=True)
    }
    options = [
        PerspectiveOption(code, label, SUBJECTS.get(code, names.get(code, label)), "partner",
                          code in group_names)
        for code, label in PARTNERS.items()
    ]  # fmt: skip
    for code, name in group_names.items():
        if code not in PARTNERS:
            subject = SUBJECTS.get(code, code)
            options.append(PerspectiveOption(code, f"{code} — {name}", subject, "group", True))
    for row in countries[countries["kind"] == "country"].itertuples():
        code = str(row.iso3)
        if code not in PARTNERS:
            options.append(PerspectiveOption(code, names[code], names[code], "country", False))
    return options


def find_perspective(options: list[PerspectiveOption], code: str) -> PerspectiveOption:
    """The option for a code (case-insensitive), or a QueryError naming the choices."""
    wanted = code.strip().upper()
    for option in options:
        if option.code.upper() == wanted:
            return option
    groups = ", ".join(o.code for o in options if o.is_group)
    raise QueryError(f"unknown perspective {code!r}: use an ISO3 country code or {groups}")
