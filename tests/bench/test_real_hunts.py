"""Unit tests for bench/real_hunts.py: finding queries in Markdown, query files and Sentinel YAML, and
classifying failures. Nothing here runs kqlhunt."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import real_hunts as rh  # noqa: E402

FENCE = "```"


def md(*parts: str) -> rh.RepoFile:
    return rh.RepoFile("me/hunts", "hunt.md", "\n".join(parts))


def test_markdown_blocks_kql_kusto_and_untagged_but_not_other_languages():
    text = "\n".join([
        "# Hunt", f"{FENCE}KQL", "DeviceNetworkEvents | take 1", FENCE,
        f"{FENCE}kusto", "DeviceProcessEvents | take 2", FENCE,
        FENCE, "DeviceNetworkEvents", "| count", FENCE,
        f"{FENCE}powershell", "Get-Item DeviceNetworkEvents", FENCE,
        f"{FENCE}kql", "print 1", FENCE,  # reads no Defender table: not a hunt
        "  " + FENCE, "  DeviceFileEvents", "  | take 3", "  " + FENCE,  # indented (inside a list)
    ])
    queries = rh.extract(md(text))
    assert [(q.source, q.text, q.line) for q in queries] == [
        ("md:kql", "DeviceNetworkEvents | take 1", 3),
        ("md:kusto", "DeviceProcessEvents | take 2", 6),
        ("md:", "DeviceNetworkEvents\n| count", 9),
        ("md:", "DeviceFileEvents\n| take 3", 19),
    ]
    assert queries[0].id == "me/hunts:hunt.md#1"
    assert queries[0].tables == ["DeviceNetworkEvents"]


def test_split_keeps_one_query_across_blank_lines_comments_and_brackets():
    text = "\n".join([
        "let window = 7d;", "",
        "let hosts = DeviceInfo", "| distinct DeviceId;", "",
        "DeviceNetworkEvents", "", "// only outbound", "| where RemotePort == 443", "| join kind=inner (", "",
        "    DeviceProcessEvents", ") on DeviceId", "| project", "    // the columns", "    DeviceName",
    ])
    assert rh.split_queries(text) == [(0, text)]


def test_split_separates_complete_queries_and_keeps_their_heading_comments():
    text = "\n".join([
        "//Microsoft Sentinel query", "DeviceNetworkEvents", "| where TimeGenerated > ago(7d)", "| sort by A desc", "",
        "//Advanced Hunting query", "", "//Data connector required", "DeviceNetworkEvents",
        "| where Timestamp > ago(7d)",
    ])
    assert rh.split_queries(text) == [
        (0, "//Microsoft Sentinel query\nDeviceNetworkEvents\n| where TimeGenerated > ago(7d)\n| sort by A desc"),
        (7, "//Data connector required\nDeviceNetworkEvents\n| where Timestamp > ago(7d)"),
    ]


def test_split_ignores_blank_lines_inside_a_multiline_string():
    text = 'DeviceNetworkEvents\n| where RemoteUrl has ```a\n\nDeviceInfo\n```\n| count'
    assert rh.split_queries(text) == [(0, text)]


def test_tables_read_ignores_comments_strings_and_members():
    text = ('// DeviceFileEvents in a comment\nDeviceNetworkEvents\n| where RemoteUrl == "DeviceInfo"\n'
            "| extend x = T.DeviceEvents, y = 'EmailEvents'\n| join (IdentityInfo) on DeviceId")
    assert rh.tables_read(text) == ["DeviceNetworkEvents", "IdentityInfo"]


def test_query_files_and_sentinel_yaml():
    kql = rh.RepoFile("r", "a/b.kql", "DeviceNetworkEvents\r\n| take 1\r\n\r\nDeviceEvents | take 2\r\n")
    assert [(q.source, q.text, q.line) for q in rh.extract(kql)] == [
        ("kql", "DeviceNetworkEvents\n| take 1", 1), ("kql", "DeviceEvents | take 2", 4)]
    yaml_text = "id: 1\nname: Beacon\nquery: |\n  DeviceNetworkEvents\n  | where RemotePort == 4444\nkind: Scheduled\n"
    (q,) = rh.extract(rh.RepoFile("r", "rules/beacon.yaml", yaml_text))
    assert (q.source, q.text, q.line) == ("yaml", "DeviceNetworkEvents\n| where RemotePort == 4444", 4)
    (q,) = rh.extract(rh.RepoFile("r", "h.yml", 'id: 2\nquery: "DeviceEvents | take 1"\n'))
    assert (q.text, q.line) == ("DeviceEvents | take 1", 2)
    assert rh.extract(rh.RepoFile("r", "x.yaml", "- just\n- a list\n")) == []
    assert rh.extract(rh.RepoFile("r", "x.yaml", "query: [unclosed\n")) == []


def test_dedupe_keeps_the_first_and_lists_the_rest():
    a = rh.Query("r:a.md#1", "r", "a.md", 1, "md:", "DeviceNetworkEvents | take 1", [rh.TARGET])
    b = rh.Query("r:b.md#1", "r", "b.md", 1, "md:", "DeviceNetworkEvents\n|   take 1", [rh.TARGET])
    (only,) = rh.dedupe([a, b])
    assert only.id == "r:a.md#1" and only.duplicates == ["r:b.md#1"]


def test_read_repo_from_a_work_tree(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "h.md").write_text(f"{FENCE}\nDeviceNetworkEvents\n{FENCE}\n")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    label, commit, files, missing = rh.read_repo(tmp_path)
    assert (label, commit, missing) == (tmp_path.name, None, [])
    assert [f.path for f in files] == ["d/h.md"]


def test_construct_and_error_keys():
    assert rh.construct_of("the `parse` operator is not supported by kqlhunt yet") == "the `parse` operator"
    assert rh.construct_of("the function `foo` is not supported by kqlhunt yet (bar)") == "the `foo()` function"
    assert rh.construct_of("the `foo()` function is not supported by kqlhunt yet") == "the `foo()` function"
    assert rh.error_key("KH100", "expected `)`, found `MyColumn`") == "expected `)`, found `…`"
    assert rh.error_key("KH100", "expected `;` or `|`, found `by`") == "expected `;` or `|`, found `by`"
    assert rh.missing_table("KH203", "unknown table `SigninLogs`") == "SigninLogs"
    assert rh.missing_table("KH211", "unknown column `SigninLogs`") is None


def test_oracle_verdicts():
    def answer(*diags):
        return {"syntax_ok": not any(d[2] == "syntax" for d in diags),
                "diagnostics": [{"code": c, "snippet": s, "phase": p, "severity": "Error", "message": c}
                                for c, s, p in diags]}

    assert rh.oracle_verdict(answer(), [])["verdict"] == "valid"
    assert rh.oracle_verdict(answer(("KS176", "", "syntax")), [])["verdict"] == "syntax"
    assert rh.oracle_verdict(answer(("KS204", "SigninLogs", "semantic")), ["SigninLogs"])["verdict"] == "valid"
    assert rh.oracle_verdict(answer(("KS211", "FileProfile", "semantic"), ("KS142", "SHA1", "semantic")),
                             [])["verdict"] == "valid"
    assert rh.oracle_verdict(answer(("KS142", "Foo", "semantic")), [])["verdict"] == "semantic"
    assert rh.oracle_verdict(None, [])["verdict"] == "n/a"


def test_summary_counts_needs_table_apart_from_bind_failures():
    def query(i, tables):
        return rh.Query(f"r:q{i}", "r", "q.kql", 1, "kql", f"q{i}", tables)

    ok = {"status": "ok"}
    qs = [query(1, [rh.TARGET]), query(2, [rh.TARGET]), query(3, [rh.TARGET, "SigninLogs"])]
    outcomes = {
        "r:q1": {"needs_tables": [], "oracle": {"verdict": "valid"},
                 "stages": {"parse": ok, "bind": ok, "run_empty": ok, "run_gen": ok}},
        "r:q2": {"needs_tables": [], "oracle": {"verdict": "valid"},
                 "stages": {"parse": ok, "bind": {"status": "error", "code": "KH300",
                                                  "message": "the `parse` operator is not supported by kqlhunt yet"}}},
        "r:q3": {"needs_tables": ["SigninLogs"], "oracle": {"verdict": "valid"},
                 "stages": {"parse": ok, "bind": {"status": "error", "code": "KH203", "needs_table": "SigninLogs",
                                                  "message": "unknown table `SigninLogs`"}}},
    }
    s = rh.summarise(qs, outcomes)
    assert (s["queries"], s["needs_table"], s["eligible"]) == (3, 1, 2)
    assert s["ok"] == {"parse": 3, "bind": 1, "run_empty": 1, "run_gen": 1}
    assert s["rates"]["bind"] == 0.5
    assert s["refused_constructs"] == {"the `parse` operator": {"queries": 1, "valid_kql": 1, "example": "r:q2 @?:?  "}}
    assert s["needs_tables"] == {"SigninLogs": 1}
