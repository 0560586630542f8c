"""The built-in rules: the seed queries byte for byte, their metadata as the seed documents give it, and that
they load from the installed package (importlib.resources) without ../shared."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
import yaml

import kqlhunt
from kqlhunt.rules import builtin_rules, load_rules

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
BUILTIN_IDS = ["seed000_defender", "seed000_sentinel", "seed003", "seed004"]


def _seed_file(prefix: str) -> Path:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not available")
    found = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not found:
        pytest.skip(f"no seed {prefix} in {SEEDS}")
    return found[0]


def _read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as f:  # no newline translation: compare the exact text
        return f.read()


def _fenced(text: str, heading: str) -> str:
    """The body of the first fenced block after a `## heading` line."""
    at = text.index(f"\n{heading}\n") + len(heading) + 2
    fence_open = text.index("```", at)
    body_start = text.index("\n", fence_open) + 1
    return text[body_start:text.index("```", body_start)]


def _expected_queries() -> dict[str, str]:
    s000 = _read(_seed_file("000"))
    s003 = _read(_seed_file("003"))
    s004 = _read(_seed_file("004"))
    kql_fence = s003.index("```kql\n") + len("```kql\n")
    return {
        "seed000_defender": _fenced(s000, "## Defender XDR"),
        "seed000_sentinel": _fenced(s000, "## Sentinel"),
        "seed003": s003[kql_fence:],  # the block is never closed: it runs to the end of the file
        "seed004": s004[s004.index("// Author: Cyb3rMonk"):s004.index("Stages and Predicates")],
    }


@pytest.fixture(scope="module")
def rules() -> dict:
    return {r.id: r for r in builtin_rules()}


def test_builtin_ids(rules) -> None:
    assert sorted(rules) == BUILTIN_IDS
    assert [r.id for r in load_rules(None)] == sorted(BUILTIN_IDS)


@pytest.mark.parametrize("rule_id", BUILTIN_IDS)
def test_query_is_the_seed_text_byte_for_byte(rules, rule_id: str) -> None:
    expected = _expected_queries()[rule_id]
    got = rules[rule_id].query
    assert got.encode("utf-8") == expected.encode("utf-8")


def test_seed_texts_keep_their_quirks(rules) -> None:
    # Independent of ../shared: details a reformatting would lose.
    assert "// Define Exclusion list of URLs  \n" in rules["seed003"].query  # trailing spaces
    assert "| where ActionType == 'ConnectionSuccess' \n" in rules["seed003"].query
    assert "\n\n// Main query\n" in rules["seed003"].query  # blank lines
    assert rules["seed004"].query.startswith("// Author: Cyb3rMonk(")
    assert rules["seed004"].query.endswith("| order by Jitter asc, TimeDeltaInSeconds_avg asc\n")
    assert "Stages and Predicates" not in rules["seed004"].query
    assert "| where Timestamp > ago(30d)" in rules["seed000_defender"].query
    assert "| where TimeGenerated > ago(30d)" in rules["seed000_sentinel"].query
    assert "```" not in "".join(r.query for r in rules.values())


def test_rule_files_use_literal_blocks() -> None:
    folder = resources.files("kqlhunt.rules").joinpath("builtin")
    names = sorted(e.name for e in folder.iterdir() if e.name.endswith(".yaml"))
    assert names == [f"{i}.yaml" for i in BUILTIN_IDS]
    for name in names:
        text = folder.joinpath(name).read_text("utf-8")
        assert re.search(r"^query: \|\n", text, re.MULTILINE), name
        data = yaml.safe_load(text)
        assert data["id"] == name.removesuffix(".yaml")


def test_mitre_mapping_as_the_seeds_give_it(rules) -> None:
    # 000: the seed's technique table says "Multiple" -> none listed. 004: "No specific technique".
    assert rules["seed000_defender"].techniques == ()
    assert rules["seed000_sentinel"].techniques == ()
    assert rules["seed004"].techniques == ()
    assert [t.id for t in rules["seed003"].techniques] == ["T1105", "T1218", "T1071", "T1568.002"]
    assert all(t.name for t in rules["seed003"].techniques)
    assert "Command and Control" in rules["seed004"].tactics
    assert {"Command and Control", "Defense Evasion"} <= set(rules["seed003"].tactics)


def test_sources_name_the_authors(rules) -> None:
    for rid in ("seed000_defender", "seed000_sentinel"):
        assert "Alex Teixeira" in rules[rid].source.author
        assert rules[rid].source.url.startswith("https://ateixei.medium.com/")
    assert "Cyb3rMonk" in rules["seed004"].source.author
    links = [rules["seed004"].source.url, *rules["seed004"].source.references]
    assert sum("mergene.medium.com" in u for u in links) == 2  # Part 1 and Part 2
    assert rules["seed003"].source.note  # the page names no author: the note says where it comes from


def test_metadata_is_complete(rules) -> None:
    for rule in rules.values():
        assert rule.title and rule.description and rule.tactics, rule.id
        assert rule.tables == ("DeviceNetworkEvents",)
        assert rule.origin == f"builtin:{rule.id}.yaml"
    assert rules["seed000_sentinel"].schema == "sentinel"
    assert rules["seed000_defender"].schema == "defender"


@pytest.mark.parametrize("rule_id", BUILTIN_IDS)
def test_declared_tables_match_the_query(rules, rule_id: str) -> None:
    rule = rules[rule_id]
    compiled = kqlhunt.compile(rule.query, schema=rule.schema)
    assert tuple(compiled.tables) == rule.tables
    assert set(rule.display) <= {name for name, _ in compiled.columns}
