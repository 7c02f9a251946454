"""Alert rules as data: the signal catalogue, :class:`RuleSpec` and the default rule set.

A rule names a signal, a severity, conditions on the signal's fields (all must hold), an
optional escalation to ``critical`` and scope filters (materials, exporters, perspectives).
Rules are validated when built; the default set lives in ``reference/watch_rules.csv``.

Condition syntax (CSV): ``field<=value``, ``field>=value`` or ``field=a|b`` (categorical), several
joined by ``;``. Lists (materials, exporters, perspectives) are ``;``-separated; empty = all.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

from chainwatch.errors import InputError

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")
INF = math.inf


@dataclass(frozen=True)
class FieldSpec:
    """A field a rule can test: its range (numeric) or allowed values (categorical)."""

    description: str
    low: float = -INF
    high: float = INF
    values: tuple[str, ...] = ()

    @property
    def categorical(self) -> bool:
        return bool(self.values)


@dataclass(frozen=True)
class SignalSpec:
    """A signal the monitor computes: what one row is about and the fields it carries."""

    name: str
    scope: Literal["supplier", "partner", "perspective", "producer", "price", "event"]
    description: str
    fields: Mapping[str, FieldSpec]
    table: str
    """the canonical table its sources come from"""


_Z = FieldSpec("robust z-score (negative: below the baseline)", -1e6, 1e6)
_CHANGE = FieldSpec("relative change (-1 = fell to zero)", -1.0, 1e9)
_SHARE = FieldSpec("fraction (0-1)", 0.0, 1.0)
_SHARE_CHANGE = FieldSpec("change of a fraction, in fraction points (-1 to 1)", -1.0, 1.0)
_USD = FieldSpec("US dollars", 0.0)
_TONNES = FieldSpec("tonnes", 0.0)

_BREAK_FIELDS = {
    "change_z": FieldSpec("robust z of the year-on-year log change against the 5 previous ones",
                          -1e6, 1e6),
    "robust_z": _Z,
    "change_vs_median": _CHANGE,
    "yoy_change": _CHANGE,
    "value_change_vs_median": _CHANGE,
    "quantity_t": _TONNES,
    "baseline_quantity_t": _TONNES,
    "baseline_share": _SHARE,
    "share_change_vs_median": _CHANGE,
    "share_previous": _SHARE,
    "baseline_value_usd": _USD,
    "value_usd": _USD,
}  # fmt: skip


_MONTHLY_FIELDS = {
    **_BREAK_FIELDS,
    "change_z": FieldSpec("robust z of the month-on-month log change against the 12 previous "
                          "ones", -1e6, 1e6),
    "yoy_change": FieldSpec("change against the same month a year earlier (-1 = fell to zero)",
                            -1.0, 1e9),
    "previous_change": FieldSpec("change against the previous month (-1 = fell to zero)",
                                 -1.0, 1e9),
}  # fmt: skip


def _shift_fields(column: str) -> dict[str, FieldSpec]:
    return {
        column: _SHARE, f"{column}_previous": _SHARE, f"{column}_baseline": _SHARE,
        f"{column}_change": _SHARE_CHANGE, "change_vs_median": _SHARE_CHANGE,
        "imports_value_usd": _USD, "baseline_value_usd": _USD,
    }  # fmt: skip


SIGNALS: dict[str, SignalSpec] = {
    spec.name: spec
    for spec in (
        SignalSpec("supplier_export_drop", "supplier",
                   "a supplier's exports (all destinations, tonnes) against its own history",
                   _BREAK_FIELDS, "trade_flow"),
        SignalSpec("partner_export_drop", "partner",
                   "a perspective's imports from one supplier (tonnes) against their history",
                   _BREAK_FIELDS, "trade_flow"),
        SignalSpec("monthly_partner_drop", "partner",
                   "a reporter's imports from one supplier in month M (tonnes) against the 12 "
                   "months before (watch/monthly.py; `watch run --month` only)",
                   _MONTHLY_FIELDS, "trade_flow_monthly"),
        SignalSpec("import_concentration", "perspective",
                   "a perspective's import-partner HHI against T-1 and its 5-year median",
                   _shift_fields("hhi"), "trade_flow"),
        SignalSpec("new_dominant_supplier", "perspective",
                   "the top supplier of year T was top in none of the 5 previous years",
                   {"top_share": _SHARE, "previous_top_share": _SHARE,
                    "imports_value_usd": _USD}, "trade_flow"),
        SignalSpec("outside_bloc_share", "perspective",
                   "share of a perspective's imports from outside the bloc, against its history",
                   _shift_fields("outside_share"), "trade_flow"),
        SignalSpec("production_share_shift", "producer",
                   "a country's share of world production, T against T-1 (same USGS edition)",
                   {"share": _SHARE, "share_previous": _SHARE, "share_change": _SHARE_CHANGE,
                    "production_change": _CHANGE}, "production"),
        SignalSpec("price_spike", "price",
                   "largest month-on-month price rise of year T against the 36 months before",
                   {"spike_z": _Z, "spike_change": _CHANGE, "annual_change": _CHANGE},
                   "price"),
        SignalSpec("price_volatility", "price",
                   "12-month volatility of monthly log price changes against its 5-year median",
                   {"volatility": FieldSpec("annualised standard deviation", 0.0),
                    "volatility_baseline": FieldSpec("annualised standard deviation", 0.0),
                    "volatility_ratio": FieldSpec("ratio", 0.0)}, "price"),
        SignalSpec("restriction_event", "event",
                   "an export restriction announced, taking effect or lifted in year T",
                   {"phase": FieldSpec("phase reached in T", values=("announced", "effective",
                                                                      "lifted"))},
                   "export_restriction_event"),
    )
}  # fmt: skip
"""The signal catalogue: every rule names one of these."""

MONTHLY_SIGNALS = frozenset({"monthly_partner_drop"})
"""Signals evaluated month by month (``watch run --month``), never by the annual monitor."""

OPERATORS = ("<=", ">=", "=")
_CONDITION = re.compile(r"^\s*([a-z_0-9]+)\s*(<=|>=|=)\s*(\S.*?)\s*$")
_ISO3 = re.compile(r"^[A-Z]{3}$")
_RULE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class Condition:
    """``field op value``: a numeric bound (<=, >=) or a set of categories (=)."""

    field: str
    operator: str
    value: float | tuple[str, ...]

    def __str__(self) -> str:
        if isinstance(self.value, tuple):
            return f"{self.field}={'|'.join(self.value)}"
        return f"{self.field}{self.operator}{self.value:g}"

    @classmethod
    def parse(cls, text: str) -> Condition:
        match = _CONDITION.match(text)
        if not match:
            raise ValueError(f"cannot read condition {text!r} (expected field<=value, "
                             "field>=value or field=a|b)")  # fmt: skip
        name, operator, raw = match.groups()
        if operator == "=":
            return cls(name, operator, tuple(v.strip() for v in raw.split("|") if v.strip()))
        try:
            number = float(raw)
        except ValueError as error:
            raise ValueError(f"condition {text!r}: {raw!r} is not a number") from error
        return cls(name, operator, number)


@dataclass(frozen=True)
class RuleSpec:
    """One alert rule, validated when built (``ValueError`` naming what is wrong)."""

    rule_id: str
    signal: str
    severity: Severity
    conditions: tuple[Condition, ...]
    critical_when: tuple[Condition, ...] = ()
    """extra conditions that raise this rule's alerts to critical"""
    materials: tuple[str, ...] = ()
    exporters: tuple[str, ...] = ()
    perspectives: tuple[str, ...] = ()
    description: str = ""
    signal_spec: SignalSpec = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _RULE_ID.match(self.rule_id):
            raise ValueError(f"rule id {self.rule_id!r}: use lower-case letters, digits, - and _")
        if self.signal not in SIGNALS:
            raise ValueError(f"rule {self.rule_id}: unknown signal {self.signal!r}; known: "
                             f"{', '.join(SIGNALS)}")  # fmt: skip
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.rule_id}: severity {self.severity!r} is not one of "
                             f"{', '.join(SEVERITIES)}")  # fmt: skip
        if not self.conditions:
            raise ValueError(f"rule {self.rule_id}: at least one condition is needed")
        spec = SIGNALS[self.signal]
        object.__setattr__(self, "signal_spec", spec)
        for condition in (*self.conditions, *self.critical_when):
            _check_condition(self.rule_id, spec, condition)
        if self.critical_when and self.severity == "critical":
            raise ValueError(f"rule {self.rule_id}: already critical, critical_when is moot")
        for code in self.exporters:
            if not _ISO3.match(code):
                raise ValueError(f"rule {self.rule_id}: exporter {code!r} is not an ISO3 code")
        for material in self.materials:
            if not material or material != material.strip().lower():
                raise ValueError(f"rule {self.rule_id}: material {material!r}: use the lower-"
                                 "case identifier (e.g. 'rare earths')")  # fmt: skip
        for perspective in self.perspectives:
            if not re.match(r"^[A-Za-z0-9_]+$", perspective):
                raise ValueError(f"rule {self.rule_id}: perspective {perspective!r} is not a "
                                 "country or group code")  # fmt: skip
        if self.perspectives and spec.scope != "partner" and spec.scope != "perspective":
            raise ValueError(f"rule {self.rule_id}: signal {self.signal} is not about a "
                             "perspective; leave perspectives empty")  # fmt: skip

    @property
    def primary(self) -> Condition:
        """The condition an alert's explanation quotes as its threshold."""
        return self.conditions[0]

    def threshold_text(self) -> str:
        return "; ".join(str(c) for c in self.conditions)


def _check_condition(rule_id: str, spec: SignalSpec, condition: Condition) -> None:
    known = spec.fields.get(condition.field)
    if known is None:
        raise ValueError(f"rule {rule_id}: signal {spec.name} has no field {condition.field!r}; "
                         f"fields: {', '.join(spec.fields)}")  # fmt: skip
    if condition.operator not in OPERATORS:
        raise ValueError(f"rule {rule_id}: operator {condition.operator!r} is not one of "
                         f"{', '.join(OPERATORS)}")  # fmt: skip
    if known.categorical:
        if condition.operator != "=" or not isinstance(condition.value, tuple):
            raise ValueError(f"rule {rule_id}: {condition.field} is categorical: use "
                             f"{condition.field}=value")  # fmt: skip
        unknown = set(condition.value) - set(known.values)
        if unknown or not condition.value:
            raise ValueError(
                f"rule {rule_id}: {condition.field} takes "
                f"{', '.join(known.values)}, not {', '.join(sorted(unknown))}"
            )
        return
    if isinstance(condition.value, tuple):
        raise ValueError(f"rule {rule_id}: {condition.field} is numeric: use <= or >=")
    value = condition.value
    if not math.isfinite(value):
        raise ValueError(f"rule {rule_id}: threshold of {condition.field} must be finite")
    if not known.low <= value <= known.high:
        raise ValueError(
            f"rule {rule_id}: threshold {value:g} of {condition.field} is outside "
            f"its range [{known.low:g}, {known.high:g}] ({known.description})"
        )
    if condition.operator == "<=" and value <= known.low:
        raise ValueError(f"rule {rule_id}: {condition} can never hold")
    if condition.operator == ">=" and value > known.high:
        raise ValueError(f"rule {rule_id}: {condition} can never hold")


def _conditions(text: str) -> tuple[Condition, ...]:
    return tuple(Condition.parse(part) for part in text.split(";") if part.strip())


def _listed(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(";") if part.strip())


def rule_from_record(record: Mapping[str, str]) -> RuleSpec:
    """A rule from one CSV record (the columns of ``watch_rules.csv``)."""
    return RuleSpec(
        rule_id=record["rule_id"].strip(),
        signal=record["signal"].strip(),
        severity=record["severity"].strip(),  # type: ignore[arg-type]  # validated in RuleSpec
        conditions=_conditions(record["conditions"]),
        critical_when=_conditions(record.get("critical_when") or ""),
        materials=_listed(record.get("materials") or ""),
        exporters=tuple(code.upper() for code in _listed(record.get("exporters") or "")),
        perspectives=tuple(c.upper() for c in _listed(record.get("perspectives") or "")),
        description=(record.get("description") or "").strip(),
    )


RULE_COLUMNS = ("rule_id", "signal", "severity", "conditions", "critical_when", "materials",
                "exporters", "perspectives", "description")  # fmt: skip


def load_rules(path: Path | str | None = None) -> tuple[RuleSpec, ...]:
    """Rules from a CSV file (default: the bundled ``reference/watch_rules.csv``).

    A bad record raises :class:`~chainwatch.errors.InputError` naming the file, line and column.
    """
    if path is None:
        resource = resources.files("chainwatch.reference").joinpath("watch_rules.csv")
        text, where = resource.read_text(encoding="utf-8"), "reference/watch_rules.csv"
    else:
        text, where = Path(path).read_text(encoding="utf-8"), str(path)
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    reader = csv.DictReader(lines)
    missing = [c for c in RULE_COLUMNS[:4] if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(where, f"missing columns: {', '.join(missing)}", row=1)
    rules: list[RuleSpec] = []
    for number, record in enumerate(reader, start=2):
        try:
            rule = rule_from_record(record)
        except ValueError as error:
            raise InputError(where, str(error), row=_line(text, number)) from error
        if any(existing.rule_id == rule.rule_id for existing in rules):
            raise InputError(where, f"duplicate rule id {rule.rule_id!r}", row=_line(text, number),
                             column="rule_id")  # fmt: skip
        rules.append(rule)
    return tuple(rules)


def _line(text: str, record_number: int) -> int:
    """The line number in the file of the record-th non-comment line (header = 1)."""
    seen = 0
    for index, line in enumerate(text.splitlines(), start=1):
        if line.startswith("#"):
            continue
        seen += 1
        if seen == record_number:
            return index
    return record_number


def select_rules(rules: Sequence[RuleSpec], signals: Sequence[str]) -> tuple[RuleSpec, ...]:
    """The rules of the given signals."""
    return tuple(rule for rule in rules if rule.signal in signals)
