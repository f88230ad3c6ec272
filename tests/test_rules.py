"""Rules as data: loading, overrides from files and mappings, clauses present."""

from __future__ import annotations

import pytest

from gcgeo import RulesError, rules


def test_every_threshold_cites_a_clause_and_a_status():
    for name in rules.available():
        def walk(node, where):
            if isinstance(node, dict):
                if "value" in node and ("clause" in node or "status" in node):
                    assert node.get("clause"), where
                    assert node.get("status") in {"verified", "secondary", "unverified", "local"}, where
                for k, v in node.items():
                    walk(v, f"{where}.{k}")
        walk(rules.load(name), name)


def test_overrides_from_file_mapping_and_complete_set(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('[living_circle.tiers.10min]\nvalue = 450\n[green.ndvi]\nthreshold = 0.25\n',
                 encoding="utf-8")
    r = rules.load("living_circle", f)
    assert rules.value(r, "tiers.10min") == 450
    assert rules.value(r, "tiers.5min") == 300  # the rest kept
    assert rules.value(rules.load("green", f), "ndvi.threshold") == 0.25
    assert rules.value(rules.load("living_circle", {"tiers": {"15min": 800}}), "tiers.15min") == 800
    whole = {"living_circle": {"tiers": {"15min": 800}}}
    assert rules.value(rules.load("living_circle", whole), "tiers.15min") == 800
    edited = rules.load("living_circle")
    edited["categories"] = {"park": edited["categories"]["park"]}
    assert list(rules.load("living_circle", edited)["categories"]) == ["park"]


def test_bad_rules_are_named(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[living_circle\n", encoding="utf-8")
    with pytest.raises(RulesError, match="bad.toml"):
        rules.load("living_circle", bad)
    with pytest.raises(RulesError, match="available"):
        rules.load("traffic")
    with pytest.raises(RulesError, match="status"):
        rules.load("living_circle", {"tiers": {"10min": {"status": "guessed"}}})
    with pytest.raises(RulesError, match="mapping"):
        rules.load("living_circle", 42)
