"""The anatomy on small queries, one construct each; expectations from the KQL semantics and the docs."""

from __future__ import annotations

from kqlhunt.rules.anatomy import analyse

T = "DeviceNetworkEvents | where Timestamp > ago(1d) "


def rows(query: str, key: str = "indicators") -> list[tuple]:
    a = analyse(query).to_dict()
    return [(p["field"], p["kind"], p["values"], p["transforms"], p["through"], p["alternative"]) for p in a[key]]


def test_ipv4_is_private_is_the_three_documented_ranges() -> None:
    assert rows(T + "| where not(ipv4_is_private(RemoteIP))", "exclusions") == [
        ("RemoteIP", "cidr_match", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], [], [], False)]


def test_single_value_not_in_is_eq_and_values_are_sorted() -> None:
    assert rows(T + '| where RemoteIP !in ("9.9.9.9") and RemoteIPType !in ("b", "a")', "exclusions") == [
        ("RemoteIP", "eq", ["9.9.9.9"], ["cased"], [], False),
        ("RemoteIPType", "in", ["a", "b"], ["cased"], [], False)]


def test_negated_disjunction_gives_plain_exclusions_and_or_gives_alternatives() -> None:
    assert rows(T + "| where not(RemotePort == 1 or RemotePort == 2)", "exclusions") == [
        ("RemotePort", "eq", ["1"], [], [], False), ("RemotePort", "eq", ["2"], [], [], False)]
    assert rows(T + "| where RemotePort == 1 or RemotePort > 1000") == [
        ("RemotePort", "eq", ["1"], [], [], True), ("RemotePort", "gt", ["1000"], [], [], True)]


def test_wrappers_case_and_terms() -> None:
    assert rows(T + '| where tolower(InitiatingProcessFileName) == "cmd.exe" '
                '| where InitiatingProcessCommandLine has_cs "Invoke" | where RemoteUrl contains "evil"') == [
        ("InitiatingProcessFileName", "eq", ["cmd.exe"], ["cased"], ["tolower"], False),
        ("InitiatingProcessCommandLine", "has", ["Invoke"], ["cased", "term"], [], False),
        ("RemoteUrl", "contains", ["evil"], [], [], False)]


def test_parameters_are_folded_into_values() -> None:
    q = "let p = 4000; let q = p + 444; " + T + "| where RemotePort == q"
    a = analyse(q).to_dict()
    assert [(p["name"], p["value"]) for p in a["parameters"]] == [("p", "4000"), ("q", "4444")]
    assert a["indicators"][0]["values"] == ["4444"]


def test_event_coverage_follows_the_action_types() -> None:
    a = analyse(T + '| where ActionType !in ("ConnectionFailed", "ConnectionAttempt")')
    # ConnectionSuccess (Sysmon 3, Security 5156, Defender), InboundConnectionAccepted, ListeningConnection-
    # Created and DnsConnectionInspected (one native event + Defender each): 3 + 2 + 2 + 2
    assert len(a.coverage) == 9
    assert len(analyse(T).coverage) == 11  # no filter: ConnectionFailed (Security 5157 + Defender) too


def test_join_columns_are_traced_to_the_join() -> None:
    q = (T + "| summarize n = count() by RemoteIP | join kind=inner (DeviceNetworkEvents "
         "| where Timestamp > ago(1d) | summarize Urls = make_set(RemoteUrl) by RemoteIP) on RemoteIP")
    outputs = {o["name"]: (o["stage"], o["stage_op"], o["origin"]) for o in analyse(q).to_dict()["outputs"]}
    assert outputs["n"] == (3, "summarize", "summarize")
    assert outputs["Urls"] == (4, "join", "summarize")
    assert outputs["RemoteIP1"] == (4, "join", "summarize")  # Kusto renames the right side's key


def test_anti_join_predicates_become_exclusions() -> None:
    q = (T + "| join kind=leftanti (DeviceNetworkEvents | where Timestamp > ago(1d) "
         '| where RemoteUrl endswith ".microsoft.com") on DeviceId')
    a = analyse(q).to_dict()
    assert [(p["field"], p["kind"], p["values"]) for p in a["exclusions"]] == [
        ("RemoteUrl", "endswith", [".microsoft.com"])]
    assert a["indicators"] == []
    assert [s["negated"] for s in a["stages"]] == [False, False, True]
