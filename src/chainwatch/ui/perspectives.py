"""The perspective selector: partners first, then the other groups, then every country."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from chainwatch.errors import QueryError
from chainwatch.services.defaults import DEFAULT_PERSPECTIVE, BlocChoice, choose_bloc
from chainwatch.ui.formatting import country_names

__all__ = ["DEFAULT_PERSPECTIVE", "BlocSetting", "PerspectiveOption", "bloc_setting",
           "find_perspective", "perspective_options"]  # fmt: skip
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
    "OECD": "The OECD",
    "G7": "The G7",
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


@dataclass(frozen=True)
class BlocSetting:
    """The bloc of a page: the one used, whether it was asked for, why it was replaced."""

    option: PerspectiveOption
    choice: BlocChoice
    default_code: str
    """The bloc the perspective gets when none is asked for."""
    offered: list[PerspectiveOption]
    """The groups the bloc selector lists (the perspective itself left out)."""

    @property
    def code(self) -> str:
        return self.option.code

    @property
    def chosen(self) -> str:
        """The value selected in the bloc selector: empty for "the default"."""
        requested = self.choice.requested
        return "" if requested is None or self.choice.replaced else self.option.code

    @property
    def link_value(self) -> str | None:
        """The bloc for links and forms: only where it is not the perspective's default."""
        return self.option.code if self.option.code != self.default_code else None


def bloc_setting(
    options: list[PerspectiveOption], perspective: PerspectiveOption, requested: str | None
) -> BlocSetting:
    """The bloc for ``perspective`` by the one rule (services.defaults.choose_bloc); an
    unknown bloc is a QueryError naming the groups."""
    wanted = requested.strip() if requested and requested.strip() else None
    if wanted is not None:
        wanted = find_perspective(options, wanted).code
    choice = choose_bloc(perspective.code, wanted)
    offered = [o for o in options if o.is_group and o.code != perspective.code]
    return BlocSetting(find_perspective(options, choice.code), choice,
                       choose_bloc(perspective.code).code, offered)  # fmt: skip
