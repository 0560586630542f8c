"""Plan lowering and pruning: the relational steps a query becomes."""

from __future__ import annotations

from kqlhunt.api import compile as compile_kql
from kqlhunt.plan import nodes as P
from kqlhunt.plan.prune import children


def steps(kql: str) -> list[P.PNode]:
    root = compile_kql(kql, now="2026-01-01").plan.root
    out, stack, seen = [], [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        stack.extend(children(node))
    return out


def scan_columns(kql: str) -> list[str]:
    scans = [n for n in steps(kql) if isinstance(n, P.PScan)]
    assert len(scans) == 1
    return [c.name for c in scans[0].columns]


def test_scan_reads_only_the_columns_the_query_uses() -> None:
    cols = scan_columns("DeviceNetworkEvents | where RemotePort == 4444 | summarize count() by DeviceName")
    assert sorted(cols) == ["DeviceName", "RemotePort"]


def test_pruning_sees_through_joins_and_materialize() -> None:
    kql = """let L = materialize(DeviceNetworkEvents | where ActionType == 'x' | project DeviceId, RemoteIP, RemotePort);
    L | join kind=inner (L | summarize n = count() by DeviceId) on DeviceId | project RemoteIP"""
    cols = scan_columns(kql)
    assert sorted(cols) == ["ActionType", "DeviceId", "RemoteIP"]


def test_count_keeps_one_column() -> None:
    assert len(scan_columns("DeviceNetworkEvents | count")) == 1


def test_top_is_a_sort_with_an_ordinal_and_a_limit() -> None:
    nodes = steps("DeviceNetworkEvents | top 3 by RemotePort")
    limits = [n for n in nodes if isinstance(n, P.PLimit)]
    assert len(limits) == 1 and limits[0].count == 3
    assert [s[1] for s in limits[0].order] == [True]  # by the hidden ordinal, ascending


def test_search_letters_skip_numeric_and_time_columns() -> None:
    nodes = steps('search in (DeviceNetworkEvents) "tcp" | take 1')
    search = next(n for n in nodes if isinstance(n, P.PFilter) and n.label == "search")
    text = repr(search.predicate)
    assert "'RemotePort'" not in text and "'Timestamp'" not in text and "'Protocol'" in text


def test_search_term_with_digits_keeps_numeric_columns() -> None:
    nodes = steps('search in (DeviceNetworkEvents) "443" | take 1')
    search = next(n for n in nodes if isinstance(n, P.PFilter) and n.label == "search")
    assert "'RemotePort'" in repr(search.predicate)


def test_mv_apply_runs_per_outer_row() -> None:
    kql = """DeviceNetworkEvents | summarize L = make_list(RemotePort) by DeviceId
    | mv-apply L to typeof(long) on (summarize total = sum(L))"""
    nodes = steps(kql)
    aggs = [n for n in nodes if isinstance(n, P.PAggregate) and any(k == "__rowid" for k, _ in n.keys)]
    assert aggs, "the subquery's summarize groups by the outer row id"


def test_sql_has_one_cte_per_step_named_after_the_operator() -> None:
    sql = compile_kql("DeviceNetworkEvents | where RemotePort == 1 | extend x = 1 | summarize count() by x").sql
    for label in ("_where", "_extend", "_summarize"):
        assert label in sql
