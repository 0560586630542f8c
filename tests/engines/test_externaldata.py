"""externaldata: URIs mapped to local files, each format read by position or name, fetching off by default.

Expected rows are written by hand from the files the tests create (Kusto maps delimited formats by
position and JSON by property name; empty fields of non-string columns are null)."""

from __future__ import annotations

from pathlib import Path

import pytest

import kqlhunt
import kqlhunt.api
from kqlhunt.engines.external import ExternalResolver

URL = "https://raw.example.org/intel/list.csv"


def rows(table) -> list[tuple]:
    return [tuple(r.values()) for r in table.to_pylist()]


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    p = tmp_path / "list.csv"
    p.write_text('ip,tag,score\n1.2.3.4,bad,90\n5.6.7.8,"worse, really",\n9.9.9.9\n', encoding="utf-8")
    return p


def test_csv_by_position_with_header_skipped(csv_file: Path) -> None:
    q = (f'externaldata(ip:string, tag:string, score:long) ["{URL}"] '
         'with (format="csv", ignoreFirstRecord=true)')
    got = kqlhunt.query(q, externaldata={URL: csv_file})
    assert rows(got) == [("1.2.3.4", "bad", 90), ("5.6.7.8", "worse, really", None), ("9.9.9.9", "", None)]
    assert [f.metadata[b"kql_type"] for f in got.schema] == [b"string", b"string", b"long"]


def test_header_is_a_record_unless_ignored(csv_file: Path) -> None:
    q = f'externaldata(ip:string) ["{URL}"] | count'
    assert rows(kqlhunt.query(q, externaldata={URL: csv_file})) == [(4,)]


def test_let_bound_list_feeds_an_in_filter(csv_file: Path) -> None:
    q = (f'let Bad = externaldata(ip:string, tag:string) [h@"{URL}"] with (format="csv", ignoreFirstRecord=true)'
         ' | where tag != "bad" | project ip;\n'
         'datatable(RemoteIP:string)["1.2.3.4", "5.6.7.8", "10.0.0.1"] | where RemoteIP in (Bad)')
    assert rows(kqlhunt.query(q, externaldata={URL: csv_file})) == [("5.6.7.8",)]


def test_txt_format_one_line_per_record(tmp_path: Path) -> None:
    p = tmp_path / "domains.txt"
    p.write_text("evil.example\r\nbad.example\n", encoding="utf-8")
    q = 'externaldata(Domain:string) [@"https://x.example/d.txt"] with (format="txt")'
    assert rows(kqlhunt.query(q, externaldata={"https://x.example/d.txt": p})) == [("evil.example",), ("bad.example",)]


def test_json_lines_by_property_name(tmp_path: Path) -> None:
    p = tmp_path / "iocs.json"
    p.write_text('{"sha": "aa", "n": 3, "meta": {"k": 1}}\n{"n": "7", "sha": "bb"}\n', encoding="utf-8")
    q = 'externaldata(sha:string, n:long, meta:dynamic) [@"iocs.json"] with (format="multijson")'
    got = rows(kqlhunt.query(q, externaldata={"iocs.json": p}))
    assert got == [("aa", 3, '{"k":1}'), ("bb", 7, None)]


def test_local_path_without_mapping(csv_file: Path) -> None:
    q = f'externaldata(ip:string) [@"{csv_file}"] with (ignoreFirstRecord=true) | count'
    assert rows(kqlhunt.query(q)) == [(3,)]


def test_unmapped_url_is_not_fetched_by_default() -> None:
    with pytest.raises(kqlhunt.KqlError) as info:
        kqlhunt.query('externaldata(a:string) ["https://unreachable.invalid/a.csv"]')
    assert info.value.code == "KH420"
    assert "1:1" in info.value.render()


def test_missing_local_file_is_a_located_error(tmp_path: Path) -> None:
    with pytest.raises(kqlhunt.KqlError) as info:
        kqlhunt.query(f'print x=1 | join (externaldata(x:long) [@"{tmp_path / "nope.csv"}"]) on x')
    assert info.value.code == "KH421"


def test_unknown_format_and_option_are_refused(csv_file: Path) -> None:
    for q in (f'externaldata(a:string) [@"{csv_file}"] with (format="avro")',
              f'externaldata(a:string) [@"{csv_file}"] with (compressed=true)'):
        with pytest.raises(kqlhunt.KqlError) as info:
            kqlhunt.query(q)
        assert info.value.code.startswith("KH3")


def test_storage_secret_suffix_is_ignored_for_mapping(csv_file: Path) -> None:
    resolver = ExternalResolver({URL: str(csv_file)})
    got, _ = kqlhunt.api.run(f'externaldata(ip:string) [h@"{URL};SecretKey"] | count', resolver=resolver)
    assert rows(got) == [(4,)]


def test_text_is_read_as_kusto_reads_datetimes_and_timespans(tmp_path: Path) -> None:
    p = tmp_path / "times.tsv"
    p.write_text("2020-01-02 03:04:05\t01:00:00\nThu, 02 Jan 2020 03:04:05 GMT\t1.02:03:04\nnot a date\tbad\n",
                 encoding="utf-8")
    q = f'externaldata(t:datetime, d:timespan) [@"{p}"] with (format="tsv") | project tostring(t), tostring(d)'
    assert rows(kqlhunt.query(q)) == [("2020-01-02T03:04:05.0000000Z", "01:00:00"),
                                      ("2020-01-02T03:04:05.0000000Z", "1.02:03:04"), ("", "")]
