"""Rules as data: the default set loads, and every kind of bad rule is refused when built."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainwatch.errors import InputError
from chainwatch.watch.rules import SIGNALS, Condition, RuleSpec, load_rules, rule_from_record


def _rule(**changes: object) -> RuleSpec:
    fields: dict[str, object] = {
        "rule_id": "drop", "signal": "supplier_export_drop", "severity": "warning",
        "conditions": (Condition("change_z", "<=", -3.0),),
    }  # fmt: skip
    fields.update(changes)
    return RuleSpec(**fields)  # type: ignore[arg-type]


def test_default_rules_load_and_cover_every_signal() -> None:
    rules = load_rules()
    assert len({rule.rule_id for rule in rules}) == len(rules)
    assert {rule.signal for rule in rules} == set(SIGNALS)
    assert all(rule.description for rule in rules)
    drop = next(rule for rule in rules if rule.rule_id == "supplier-export-drop")
    assert str(drop.primary) == "change_z<=-3"
    assert drop.critical_when


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"signal": "rumour"}, "unknown signal 'rumour'"),
        ({"severity": "panic"}, "severity 'panic'"),
        ({"rule_id": "Bad Id"}, "rule id"),
        ({"conditions": ()}, "at least one condition"),
        ({"conditions": (Condition("colour", "<=", 1.0),)}, "has no field 'colour'"),
        ({"conditions": (Condition("baseline_share", ">=", 1.5),)}, "outside its range"),
        ({"conditions": (Condition("change_vs_median", "<=", -1.0),)}, "can never hold"),
        ({"conditions": (Condition("change_z", "<=", float("nan")),)}, "must be finite"),
        ({"conditions": (Condition("change_z", "<", -3.0),)}, "operator"),
        ({"exporters": ("China",)}, "not an ISO3 code"),
        ({"materials": ("Rare Earths",)}, "lower-case identifier"),
        ({"perspectives": ("CAN",)}, "leave perspectives empty"),
        ({"severity": "critical", "critical_when": (Condition("change_z", "<=", -5.0),)},
         "already critical"),
    ],
)  # fmt: skip
def test_bad_rules_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _rule(**changes)


def test_categorical_fields_take_listed_values_only() -> None:
    event = {"rule_id": "ev", "signal": "restriction_event", "severity": "info"}
    assert RuleSpec(**event, conditions=(Condition.parse("phase=announced|lifted"),))
    with pytest.raises(ValueError, match="takes announced"):
        RuleSpec(**event, conditions=(Condition.parse("phase=rumoured"),))
    with pytest.raises(ValueError, match="categorical"):
        RuleSpec(**event, conditions=(Condition("phase", "<=", 1.0),))


def test_condition_syntax() -> None:
    assert Condition.parse(" change_z <= -3 ") == Condition("change_z", "<=", -3.0)
    assert Condition.parse("phase=announced|effective").value == ("announced", "effective")
    with pytest.raises(ValueError, match="cannot read condition"):
        Condition.parse("change_z is low")
    with pytest.raises(ValueError, match="not a number"):
        Condition.parse("change_z<=low")


def test_record_lists_and_partner_perspectives() -> None:
    rule = rule_from_record({
        "rule_id": "can-cobalt", "signal": "partner_export_drop", "severity": "critical",
        "conditions": "change_z<=-4;baseline_share>=0.3", "materials": "cobalt; nickel",
        "exporters": "cod", "perspectives": "can;eu27",
    })  # fmt: skip
    assert rule.materials == ("cobalt", "nickel")
    assert rule.exporters == ("COD",) and rule.perspectives == ("CAN", "EU27")
    assert len(rule.conditions) == 2


def test_a_bad_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "rules.csv"
    path.write_text(
        "# my rules\n"
        "rule_id,signal,severity,conditions\n"
        "ok,price_spike,info,spike_z>=5\n"
        "bad,price_spike,info,spike_z>=five\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"rules.csv, row 4: condition 'spike_z>=five'"):
        load_rules(path)
    path.write_text("rule_id,signal,severity,conditions\nx,price_spike,info,spike_z>=5\n"
                    "x,price_spike,info,spike_z>=6\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(InputError, match="duplicate rule id 'x'"):
        load_rules(path)
    path.write_text("rule_id,signal\nx,price_spike\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing columns: severity, conditions"):
        load_rules(path)
