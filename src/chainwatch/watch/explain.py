"""One plain sentence per alert: what moved, by how much, against what baseline, and why it
matters (the perspective's share, restrictions on record)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from chainwatch.watch.alerts import number
from chainwatch.watch.signals import TRADE_WINDOW

MIN_QUOTED_SHARE = 0.01
"""A perspective's import share below 1 % is not worth a clause."""


@dataclass(frozen=True)
class Explanation:
    sentence: str
    field: str
    value: float | str | None
    baseline: str


@dataclass(frozen=True)
class ExplainContext:
    """What a sentence may quote beyond the signal row, all as known at the end of ``year``."""

    year: int
    bloc: str
    perspective: str | None
    """the perspective whose dependence a supplier alert quotes (None: none)"""
    name: Callable[[str | None], str]
    material_name: Callable[[str | None], str]
    import_share: Callable[[str, str, str, int], float]
    """(perspective, exporter, scope_key, year) -> share of the perspective's imports"""
    events: pd.DataFrame
    """export-restriction events known by the end of ``year``"""


def pct(value: float, signed: bool = False) -> str:
    """A fraction as a percentage: 0.4 -> '40 %' (one decimal below 1 %)."""
    if math.isnan(value):
        return "n/a"
    shown = value * 100
    digits = 0 if abs(shown) >= 1 or shown == 0 else 1
    return f"{shown:+.{digits}f} %" if signed else f"{abs(shown):.{digits}f} %"


def tonnes(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    for size, unit in ((1e6, "Mt"), (1e3, "kt")):
        if abs(value) >= size:
            return f"{value / size:,.1f} {unit}"
    return f"{value:,.0f} t"


def usd(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    for size, unit in ((1e9, "bn"), (1e6, "m")):
        if abs(value) >= size:
            return f"USD {value / size:,.1f} {unit}"
    return f"USD {value:,.0f}"


def _scope_text(record: dict[str, Any], context: ExplainContext) -> str:
    material = context.material_name(record.get("material"))
    codes = ", ".join(code for code in str(record.get("hs6") or "").split(";") if code)
    if not material:
        return f"HS {codes}"
    stage = record.get("stage")
    return f"{material} ({stage}: {codes})" if stage else f"{material} ({codes})"


def _years(year: int) -> str:
    return f"{year - TRADE_WINDOW}-{year - 1}"


def explain(signal: str, record: dict[str, Any], context: ExplainContext) -> Explanation:
    """The sentence, the field quoted as the alert's value and its baseline, for one hit."""
    builder = _BUILDERS[signal]
    return builder(record, context)


def _drop(record: dict[str, Any], context: ExplainContext) -> Explanation:
    year = int(record["year"])
    exporter = context.name(record.get("exporter_iso3"))
    change = number(record["change_vs_median"])
    baseline = (f"median {tonnes(number(record['baseline_quantity_t']))} over {_years(year)} "
                f"(MAD {tonnes(number(record['baseline_mad_t']))}); z of the log change "
                f"{number(record['change_z']):.1f}")  # fmt: skip
    movement = "fell" if change < 0 else "rose"
    if record.get("perspective"):
        who = context.name(record["perspective"])
        head = (f"{_capital(_of(who))} imports of {_scope_text(record, context)} from {exporter} "
                f"{movement} {pct(change)} {'below' if change < 0 else 'above'} their "
                f"{TRADE_WINDOW}-year median in {year}")  # fmt: skip
        share = (f"{exporter} supplied {pct(number(record['baseline_share']))} of "
                 f"{_of(who)} imports ({TRADE_WINDOW}-year median)")  # fmt: skip
    else:
        head = (f"{_capital(_of(exporter))} exports of {_scope_text(record, context)} {movement} "
                f"{pct(change)} {'below' if change < 0 else 'above'} their "
                f"{TRADE_WINDOW}-year median in {year}")  # fmt: skip
        share = (f"it held {pct(number(record['baseline_share']))} of world exports "
                 f"({TRADE_WINDOW}-year median)")  # fmt: skip
    detail = (f" ({tonnes(number(record['quantity_t']))} against "
              f"{tonnes(number(record['baseline_quantity_t']))}; "
              f"{pct(number(record['yoy_change']), signed=True)} on {year - 1})")  # fmt: skip
    parts = [head + detail, share]
    parts += _dependence(record, context)
    parts += _restrictions(record, context)
    return Explanation("; ".join(parts) + ".", "change_vs_median", change, baseline)


def _monthly_drop(record: dict[str, Any], context: ExplainContext) -> Explanation:
    """A reporter's imports from one supplier in a month against the 12 months before."""
    month = str(record["month"])
    exporter = context.name(record.get("exporter_iso3"))
    who = context.name(record.get("perspective"))
    change = number(record["change_vs_median"])
    window = str(record.get("baseline_window") or "the 12 months before")
    baseline = (f"median {tonnes(number(record['baseline_quantity_t']))} a month over {window} "
                f"(MAD {tonnes(number(record['baseline_mad_t']))}); z of the month-on-month log "
                f"change {number(record['change_z']):.1f}")  # fmt: skip
    below = "below" if change < 0 else "above"
    head = (f"{_capital(_of(who))} imports of {_scope_text(record, context)} from {exporter} "
            f"{'fell' if change < 0 else 'rose'} {pct(change)} {below} their 12-month median in "
            f"{month} ({tonnes(number(record['quantity_t']))} against "
            f"{tonnes(number(record['baseline_quantity_t']))}; "
            f"{pct(number(record['previous_change']), signed=True)} on the previous month, "
            f"{pct(number(record['yoy_change']), signed=True)} on the same month a year "
            f"earlier)")  # fmt: skip
    share = (
        f"{exporter} supplied {pct(number(record['baseline_share']))} of {_of(who)} "
        f"imports (12-month median, {usd(number(record['baseline_value_usd']))} a month)"
    )
    return Explanation(f"{head}; {share}.", "change_vs_median", change, baseline)


def _dependence(record: dict[str, Any], context: ExplainContext) -> list[str]:
    """'Canada sourced 60 % of its imports there in 2022' for a supplier alert."""
    perspective = context.perspective
    if record.get("perspective") or not perspective or not record.get("exporter_iso3"):
        return []
    year = int(record["year"]) - 1
    share = context.import_share(perspective, str(record["exporter_iso3"]),
                                 str(record["scope_key"]), year)  # fmt: skip
    if math.isnan(share) or share < MIN_QUOTED_SHARE:
        return []
    return [f"{context.name(perspective)} sourced {pct(share)} of its imports there in {year}"]


def _restrictions(record: dict[str, Any], context: ExplainContext) -> list[str]:
    """Restrictions on record for the supplier and material, known by the end of the year."""
    ids = related_events(record, context)
    if not ids:
        return []
    events = context.events[context.events["event_id"].isin(ids)].sort_values("event_id")
    texts = []
    for _, event in events.iterrows():
        event_id = str(event["event_id"])
        dates = [f"{label} {pd.Timestamp(event[column]).date().isoformat()}"
                 for label, column in (("announced", "announced_date"),
                                       ("effective", "effective_date"), ("lifted", "end_date"))
                 if pd.notna(event[column])]  # fmt: skip
        measure = str(event["measure_type"]).replace("_", " ")
        texts.append(f"{measure} {', '.join(dates)} ({event_id})")
    return texts


def related_events(record: dict[str, Any], context: ExplainContext) -> list[str]:
    """Events of the alert's supplier touching its codes or material, in force in T-1 or T."""
    exporter = record.get("exporter_iso3")
    events = context.events
    if not exporter or events.empty:
        return []
    codes = {code for code in str(record.get("hs6") or "").split(";") if code}
    material = record.get("material")
    start = pd.Timestamp(year=int(record["year"]) - 1, month=1, day=1)
    found = []
    for _, event in events[events["country_iso3"] == exporter].iterrows():
        listed = {c for c in str(event["hs6_codes"] or "").split(";") if c}
        touches = bool(codes & listed) or (
            bool(material) and material in str(event["scope_materials"]).split(";")
        )
        ended = pd.notna(event["end_date"]) and pd.Timestamp(event["end_date"]) < start
        if touches and not ended:
            found.append(str(event["event_id"]))
    return sorted(found)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _of(name: str) -> str:
    """The possessive: "Canada's", "the United States'"."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _shift(label: str, column: str) -> Callable[[dict[str, Any], ExplainContext], Explanation]:
    def build(record: dict[str, Any], context: ExplainContext) -> Explanation:
        year = int(record["year"])
        who = context.name(record["perspective"])
        now, before = number(record[column]), number(record[f"{column}_previous"])
        median = number(record[f"{column}_baseline"])
        if column == "hhi":
            shown = (
                f"{_capital(_of(who))} import-partner concentration (HHI) for "
                f"{_scope_text(record, context)} rose to {now:.2f} in {year} from "
                f"{before:.2f} in {year - 1} ({TRADE_WINDOW}-year median {median:.2f})"
            )
        else:
            shown = (
                f"The share of {_of(who)} imports of {_scope_text(record, context)} from "
                f"outside {context.name(context.bloc)} rose to {pct(now)} in {year} from "
                f"{pct(before)} in {year - 1} ({TRADE_WINDOW}-year median {pct(median)})"
            )
        baseline = f"{label} {before:.3f} in {year - 1}; median {median:.3f} over {_years(year)}"
        sentence = f"{shown}; imports {usd(number(record['imports_value_usd']))}."
        return Explanation(sentence, column, now, baseline)

    return build


def _new_top(record: dict[str, Any], context: ExplainContext) -> Explanation:
    year = int(record["year"])
    who = context.name(record["perspective"])
    top = context.name(record["top_partner_iso3"])
    previous = context.name(record["previous_top_iso3"])
    sentence = (f"{_capital(top)} became {_of(who)} top supplier of {_scope_text(record, context)} "
                f"in {year} with {pct(number(record['top_share']))} of imports, in place of "
                f"{previous} (top in {record['previous_year']}, "
                f"{pct(number(record['previous_top_share']))} in {record['previous_year']}); "
                f"it was top in none of the {TRADE_WINDOW} previous years.")  # fmt: skip
    baseline = f"top supplier {record['previous_top_iso3']} in {record['previous_year']}"
    return Explanation(sentence, "top_share", number(record["top_share"]), baseline)


def _production(record: dict[str, Any], context: ExplainContext) -> Explanation:
    year = int(record["year"])
    change = number(record["share_change"])
    country = context.name(record["exporter_iso3"])
    material = context.material_name(record.get("material"))
    verb = "fell" if change < 0 else "rose"
    sentence = (f"{_capital(_of(country))} share of world {material} {record['stage']} production "
                f"{verb} from {pct(number(record['share_previous']))} in {year - 1} to "
                f"{pct(number(record['share']))} in {year} (output "
                f"{pct(number(record['production_change']), signed=True)}; "
                f"{record['edition']}, {record['product_type']}).")  # fmt: skip
    baseline = f"share {number(record['share_previous']):.3f} in {year - 1} ({record['edition']})"
    return Explanation(sentence, "share_change", change, baseline)


def _price_label(record: dict[str, Any], material: str) -> str:
    """'Coal, Australian (COAL_AUS, steam coal)': the publisher's name, code and material."""
    name = str(record.get("series_label") or record["series_name"])
    code = str(record["series_name"])
    if not material or name.lower() == material:
        return f"{name} ({code})"
    return f"{name} ({code}, {material})"


def _price_spike(record: dict[str, Any], context: ExplainContext) -> Explanation:
    material = context.material_name(record.get("material"))
    sentence = (f"The {_price_label(record, material)} price rose "
                f"{pct(number(record['spike_change']))} in {record['spike_month']}, "
                f"{number(record['spike_z']):.1f} robust standard deviations above its 36 "
                f"previous monthly changes; the {record['year']} average is "
                f"{pct(number(record['annual_change']), signed=True)} on "
                f"{int(record['year']) - 1}.")  # fmt: skip
    baseline = "median and MAD of the 36 monthly log changes before the spike month"
    return Explanation(sentence, "spike_z", number(record["spike_z"]), baseline)


def _price_volatility(record: dict[str, Any], context: ExplainContext) -> Explanation:
    material = context.material_name(record.get("material"))
    ratio = number(record["volatility_ratio"])
    sentence = (
        f"The {_price_label(record, material)} price moved with a volatility of "
        f"{pct(number(record['volatility']))} a year over the 12 months to the end of "
        f"{record['year']}, {ratio:.1f} times its median of "
        f"{pct(number(record['volatility_baseline']))} over the 5 years before."
    )
    baseline = f"median 12-month volatility {number(record['volatility_baseline']):.3f}"
    return Explanation(sentence, "volatility_ratio", ratio, baseline)


def _event(record: dict[str, Any], context: ExplainContext) -> Explanation:
    country = context.name(record["exporter_iso3"])
    measure = str(record["measure_type"]).replace("_", " ")
    codes = ", ".join(c for c in str(record.get("hs6") or "").split(";") if c)
    sentence = (f"{_capital(country)}: {measure} on {record['materials_text']}"
                f"{f' (HS {codes})' if codes else ''} - {record['phases']}; applies to "
                f"{record['target_scope']} ({record['event_id']}).")  # fmt: skip
    return Explanation(sentence, "phase", str(record["phase"]), "previous state on record")


_BUILDERS: dict[str, Callable[[dict[str, Any], ExplainContext], Explanation]] = {
    "supplier_export_drop": _drop,
    "partner_export_drop": _drop,
    "monthly_partner_drop": _monthly_drop,
    "import_concentration": _shift("HHI", "hhi"),
    "outside_bloc_share": _shift("outside-bloc share", "outside_share"),
    "new_dominant_supplier": _new_top,
    "production_share_shift": _production,
    "price_spike": _price_spike,
    "price_volatility": _price_volatility,
    "restriction_event": _event,
}
