"""`rules coverage`: techniques per tactic, and an ATT&CK Navigator layer valid for format 4.5."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from cspm_stream.cli import main
from cspm_stream.detect.catalog import load_rules
from cspm_stream.detect.coverage import coverage, navigator_layer
from cspm_stream.detect.mitre import TACTICS
from cspm_stream.settings import DetectionSettings
from tests.unit.detect.helpers import rules

#: the Navigator layer format 4.5 as its specification states it (required keys, types, enumerations)
LAYER_4_5: dict[str, Any] = {
    "type": "object",
    "required": ["name", "domain", "versions"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "domain": {"enum": ["enterprise-attack", "mobile-attack", "ics-attack"]},
        "versions": {
            "type": "object",
            "required": ["navigator", "layer"],
            "properties": {
                "attack": {"type": "string"},
                "navigator": {"type": "string", "pattern": r"^(4\.(9|\d{2,})|[5-9]|\d{2,})"},
                "layer": {"const": "4.5"},
            },
        },
        "filters": {"type": "object", "properties": {"platforms": {"type": "array", "items": {"type": "string"}}}},
        "sorting": {"enum": [0, 1, 2, 3]},
        "layout": {
            "type": "object",
            "properties": {
                "layout": {"enum": ["side", "flat", "mini"]},
                "showID": {"type": "boolean"},
                "showName": {"type": "boolean"},
                "expandedSubtechniques": {"enum": ["none", "all", "annotated"]},
            },
        },
        "hideDisabled": {"type": "boolean"},
        "techniques": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["techniqueID"],
                "properties": {
                    "techniqueID": {"type": "string", "pattern": r"^T\d{4}(\.\d{3})?$"},
                    "tactic": {"type": "string", "pattern": r"^[a-z-]+$"},
                    "comment": {"type": "string"},
                    "enabled": {"type": "boolean"},
                    "score": {"type": "number"},
                    "metadata": {
                        "type": "array",
                        "items": {
                            "anyOf": [
                                {"type": "object", "required": ["name", "value"]},
                                {"type": "object", "required": ["divider"]},
                            ]
                        },
                    },
                    "showSubtechniques": {"type": "boolean"},
                },
            },
        },
        "gradient": {
            "type": "object",
            "required": ["colors", "minValue", "maxValue"],
            "properties": {"colors": {"type": "array", "minItems": 2, "items": {"type": "string"}}},
        },
        "legendItems": {"type": "array", "items": {"type": "object", "required": ["label", "color"]}},
        "metadata": {"type": "array"},
        "links": {"type": "array", "items": {"type": "object", "required": ["label", "url"]}},
        "showTacticRowBackground": {"type": "boolean"},
        "tacticRowBackground": {"type": "string"},
        "selectTechniquesAcrossTactics": {"type": "boolean"},
        "selectSubtechniquesWithParent": {"type": "boolean"},
        "selectVisibleTechniques": {"type": "boolean"},
    },
}

RULES = """
title: Trail stopped
id: 70000000-0000-4000-8000-000000000001
logsource: {product: aws, service: cloudtrail}
level: high
tags: [attack.defense-impairment, attack.t1685.002]
detection: {sel: {eventName: StopLogging}, condition: sel}
---
title: Keys for others
id: 70000000-0000-4000-8000-000000000002
logsource: {product: aws, service: cloudtrail}
level: medium
tags: [attack.persistence, attack.privilege-escalation, attack.t1098.001]
detection: {sel: {eventName: CreateAccessKey}, condition: sel}
---
title: Trial rule
id: 70000000-0000-4000-8000-000000000003
status: shadow
logsource: {product: aws, service: cloudtrail}
tags: [attack.discovery, attack.t1580]
detection: {sel: {eventName: DescribeInstances}, condition: sel}
---
title: No technique
id: 70000000-0000-4000-8000-000000000004
logsource: {product: aws, service: cloudtrail}
tags: [attack.discovery]
detection: {sel: {eventName: ListUsers}, condition: sel}
"""


def test_coverage_per_tactic_counts_alerting_rules_only() -> None:
    cov = coverage(rules(RULES))
    assert cov.by_tactic["persistence"]["T1098.001"][0].title == "Keys for others"
    assert cov.by_tactic["privilege-escalation"]["T1098.001"][0].title == "Keys for others"
    assert "discovery" not in cov.by_tactic  # the shadow rule does not count; the untagged one has no technique
    assert [i.title for i in cov.shadow] == ["Trial rule"]
    assert [i.title for i in cov.untagged] == ["No technique"]
    assert cov.techniques == {"T1685.002", "T1098.001"}


def test_navigator_layer_is_valid_format_4_5() -> None:
    layer = navigator_layer(coverage(rules(RULES)))
    jsonschema.validate(layer, LAYER_4_5)
    assert layer["domain"] == "enterprise-attack" and layer["versions"]["layer"] == "4.5"
    pairs = {(t["techniqueID"], t.get("tactic")) for t in layer["techniques"]}
    assert pairs == {
        ("T1685.002", "defense-impairment"),
        ("T1098.001", "persistence"),
        ("T1098.001", "privilege-escalation"),
    }
    assert layer["gradient"]["maxValue"] > layer["gradient"]["minValue"]


def test_builtin_catalogue_layer_is_valid() -> None:
    layer = navigator_layer(coverage(load_rules(DetectionSettings())))
    jsonschema.validate(layer, LAYER_4_5)
    assert len(layer["techniques"]) >= 10


def test_cli_prints_tactics_and_writes_the_layer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "r"
    d.mkdir()
    (d / "r.yml").write_text(RULES)
    out_file = tmp_path / "layer.json"
    assert main(["rules", "coverage", "--no-builtin", str(d), "--navigator", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert "TA0003 Persistence: 1 techniques, 1 rules" in out
    assert "T1098.001 Account Manipulation: Additional Cloud Credentials (1 rule)" in out
    assert "2 techniques in 3 tactics covered by 3 alerting rules" in out
    jsonschema.validate(orjson.loads(out_file.read_bytes()), LAYER_4_5)
    assert main(["rules", "coverage", "--no-builtin", str(d), "--navigator", str(tmp_path / "no" / "x.json")]) == 2


def test_every_catalogue_technique_has_its_name_and_a_tactic_of_its_rule() -> None:
    """Names and tactics as Enterprise ATT&CK states them (mitre.TECHNIQUE_TACTICS); no id printed bare."""
    from cspm_stream.detect.mitre import TECHNIQUE_TACTICS, TECHNIQUES, tactics_of

    rs = load_rules(DetectionSettings())
    assert not rs.errors
    seen = 0
    for info in rs.infos():
        for tid in info.techniques:
            seen += 1
            assert TECHNIQUES.get(tid, tid) != tid, f"{info.file}: {tid} has no name in detect/mitre.py"
            assert tid in TECHNIQUE_TACTICS, f"{info.file}: {tid} has no tactics in detect/mitre.py"
            allowed = tactics_of(tid)
            assert allowed is not None and allowed & set(info.tactics), (
                f"{info.file}: {tid} belongs to {sorted(TECHNIQUE_TACTICS[tid])}, the rule is tagged {info.tactics}"
            )
        for a in info.attacks():
            if "tactic" in a and "technique" in a:
                short = next(
                    k for k, v in TACTICS.items() if v[0] == a["tactic"]["uid"] and v[1] == a["tactic"]["name"]
                )
                assert short in (tactics_of(a["technique"]["uid"]) or ()), (info.file, a)
    assert seen > 300
    assert set(TECHNIQUE_TACTICS) >= set(TECHNIQUES)


def test_a_technique_goes_only_under_the_rules_tactics_it_belongs_to(capsys: pytest.CaptureFixture[str]) -> None:
    from cspm_stream.detect.mitre import attacks, pairs

    assert pairs(["exfiltration", "defense-evasion"], ["T1537", "T1562"]) == [
        ("exfiltration", "T1537"),
        ("defense-evasion", "T1562"),
    ]
    assert pairs(["stealth"], ["T1562.008"]) == [("stealth", "T1562.008")]  # v19's split of Defense Evasion
    assert pairs(["impact"], ["T1530"]) == [("impact", "T1530")]  # mis-tagged: kept rather than lost
    assert pairs([], ["T1530"]) == [("", "T1530")]
    assert attacks(["exfiltration", "credential-access"], ["T1537"]) == [
        {
            "tactic": {"uid": "TA0010", "name": "Exfiltration"},
            "technique": {"uid": "T1537", "name": "Transfer Data to Cloud Account"},
        },
        {"tactic": {"uid": "TA0006", "name": "Credential Access"}},  # no technique of the rule belongs to it
    ]
    main(["rules", "coverage"])
    out = capsys.readouterr().out
    for tid, name in (("T1648", "Serverless Execution"), ("T1621", "Multi-Factor Authentication Request Generation")):
        assert f"{tid} {name}" in out
    exfil = out.split("TA0010 Exfiltration:")[1].split("\nTA")[0]
    assert "T1562 " not in exfil  # Impair Defenses is not listed under Exfiltration
