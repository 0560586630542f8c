"""IPv4 reference functions: the docs' examples, frozen engine results and independent formulations."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kqlhunt.engines.runtime.ipv4 import (
    ip_type,
    ipv4_compare,
    ipv4_is_in_any_range,
    ipv4_is_in_range,
    ipv4_is_match,
    ipv4_is_private,
    ipv4_netmask_suffix,
    parse_cidr,
    parse_ipv4,
    parse_ipv4_mask,
)

CONFORMANCE = Path(__file__).resolve().parents[3].parent / "shared" / "conformance" / "kusto-docs-dev.json"


# -- documented examples -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("192.168.1.1", 3232235777), ("192.168.1.1/24", 3232235776), ("255.255.255.255/31", 4294967294)],
)
def test_parse_ipv4_docs(text, value):
    assert parse_ipv4(text) == value


def test_parse_ipv4_mask_docs_and_frozen_result():
    assert parse_ipv4_mask("127.0.0.1", 24) == 2130706432  # frozen: parse-ipv4-mask-function-00
    assert parse_ipv4_mask("10.1.2.3/8", 24) == parse_ipv4("10.0.0.0")  # the smaller prefix wins
    assert parse_ipv4_mask("127.0.0.1", 33) is None
    assert parse_ipv4_mask("127.0.0.1", None) is None


@pytest.mark.parametrize(
    ("text", "private"),
    [("10.1.2.3", True), ("192.168.1.1/24", True), ("10.1.2.3/24", True), ("202.1.2.3", False),
     ("127.0.0.1", False), ("172.15.255.255", False), ("172.16.0.0", True), ("172.31.255.255", True),
     ("172.32.0.0", False), ("10.1.2.3/4", False)],
)  # fmt: skip
def test_ipv4_is_private_docs(text, private):
    assert ipv4_is_private(text) is private


def test_ipv4_is_private_is_null_for_ipv6_and_junk():
    # ENGINE_NOTES: not(ipv4_is_private(ipv6)) is null, so IPv6 rows leave a `where`.
    assert ipv4_is_private("2001:db8::1") is None
    assert ipv4_is_private("fd00::1") is None
    assert ipv4_is_private("") is None


@pytest.mark.parametrize(
    ("address", "cidr", "expected"),
    [("192.168.1.1", "192.168.1.1", True), ("192.168.1.1", "192.168.1.255/24", True),
     ("192.168.2.1", "192.168.1.255/24", False), ("10.0.0.1", "junk", None), ("junk", "10.0.0.0/8", None)],
)  # fmt: skip
def test_ipv4_is_in_range_docs(address, cidr, expected):
    assert ipv4_is_in_range(address, cidr) is expected


@pytest.mark.parametrize(
    ("left", "right", "prefix"),
    [("192.168.1.0", "192.168.1.0", 32), ("192.168.1.1/24", "192.168.1.255", 32),
     ("192.168.1.1", "192.168.1.255/24", 32), ("192.168.1.1/30", "192.168.1.255/24", 32),
     ("192.168.1.1", "192.168.1.0", 31), ("192.168.1.1/24", "192.168.1.255", 31),
     ("192.168.1.1", "192.168.1.255", 24)],
)  # fmt: skip
def test_ipv4_is_match_and_compare_docs(left, right, prefix):
    assert ipv4_is_match(left, right, prefix) is True
    assert ipv4_compare(left, right, prefix) == 0


def test_ipv4_compare_orders_and_nulls():
    assert ipv4_compare("10.0.0.2", "10.0.0.10") == -1
    assert ipv4_compare("10.0.1.0", "10.0.0.255") == 1
    assert ipv4_compare("10.0.0.1", "nope") is None
    assert ipv4_is_match("10.0.0.1", "10.0.0.1", 40) is None


def test_ipv4_netmask_suffix_docs():
    assert [ipv4_netmask_suffix(t) for t in ("10.1.2.3", "192.168.1.1/24", "127.0.0.1/16", "x")] == [
        32,
        24,
        16,
        None,
    ]


def test_ipv4_is_in_any_range_frozen_results():
    assert ipv4_is_in_any_range("192.168.1.6", ["192.168.1.1/24", "10.0.0.1/8", "127.1.0.1/16"]) is True
    assert ipv4_is_in_any_range("127.0.0.1", ["127.0.0.1", "192.168.1.1"]) is True
    local = ["192.168.1.1/16", "127.0.0.1/8", "10.0.0.1/8"]
    got = [ipv4_is_in_any_range(ip, local) for ip in ("10.1.2.3", "192.168.1.5", "123.1.11.21", "1.1.1.1")]
    assert got == [True, True, False, False]


def test_frozen_ipv4_cases_agree_where_the_shared_file_exists():
    if not CONFORMANCE.exists():
        pytest.skip("shared/conformance is not available")
    cases = {c["id"]: c for c in json.loads(CONFORMANCE.read_text())["cases"]}
    rows = cases["ipv4-is-private-function-01"]["expected"]["rows"]
    assert [ipv4_is_private(ip) for ip, _ in rows] == [flag for _, flag in rows]
    rows = cases["ipv4-is-in-any-range-function-02"]["expected"]["rows"]
    local = ["192.168.1.1/16", "127.0.0.1/8", "10.0.0.1/8"]
    assert [ipv4_is_in_any_range(ip, local) for ip, _ in rows] == [flag for _, flag in rows]


def test_parse_cidr_for_lookup_tables():
    assert parse_cidr("10.0.0.0/8") == (167772160, 184549375)
    assert parse_cidr("46.36.200.51") == parse_cidr("46.36.200.51/32") == (774162483, 774162483)
    assert parse_cidr("192.168.1.1/24") == (parse_ipv4("192.168.1.0"), parse_ipv4("192.168.1.255"))
    assert parse_cidr("0.0.0.0/0") == (0, 2**32 - 1)
    # The ipv4_lookup docs example: two of three addresses fall in a table network.
    table = ["111.68.128.0/17", "5.8.0.0/19", "223.255.254.0/24", "46.36.200.51/32", "2.20.183.0/24"]
    ranges = [parse_cidr(network) for network in table]
    hits = {ip: [t for t, (lo, hi) in zip(table, ranges, strict=True) if lo <= parse_ipv4(ip) <= hi]
            for ip in ("2.20.183.12", "5.8.1.2", "192.165.12.17")}  # fmt: skip
    assert hits == {"2.20.183.12": ["2.20.183.0/24"], "5.8.1.2": ["5.8.0.0/19"], "192.165.12.17": []}


# -- the accepted text form ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["256.1.1.1", "1.2.3", "1.2.3.4.5", " 1.2.3.4", "1.2.3.4 ", "1.2. 3.4", "1.2.3.4/33", "1.2.3.4/",
     "1.2.3.4/-1",
     "+1.2.3.4", "1.2.3.-4", "0x1.2.3.4", "1.2.3.4/1/2", "::1", "::ffff:1.2.3.4", "", "1.2.3.0004",
     "\uff11.2.3.4", "1.2.3.4/024"],
)  # fmt: skip
def test_rejected_forms(text):
    assert parse_ipv4(text) is None


def test_leading_zeros_are_decimal_and_non_strings_are_null():
    assert parse_ipv4("010.001.000.009") == parse_ipv4("10.1.0.9")
    assert parse_ipv4("1.2.3.4/08") == parse_ipv4("1.0.0.0")
    assert parse_ipv4(None) is None
    assert parse_ipv4(16909060) is None  # type: ignore[arg-type]


def _independent_parse(text: str) -> int | None:
    """A second, regex-free formulation of the accepted form."""
    address, slash, prefix = text.partition("/")
    if slash and not (prefix.isascii() and prefix.isdigit() and len(prefix) <= 2 and int(prefix) <= 32):
        return None
    parts = address.split(".")
    if len(parts) != 4 or not all(p.isascii() and p.isdigit() and 1 <= len(p) <= 3 for p in parts):
        return None
    octets = [int(p) for p in parts]
    if max(octets) > 255:
        return None
    value = int.from_bytes(bytes(octets), "big")
    bits = int(prefix) if slash else 32
    return value >> (32 - bits) << (32 - bits) if bits else 0


@settings(max_examples=500, deadline=None)
@given(st.lists(st.integers(0, 255), min_size=4, max_size=4), st.none() | st.integers(0, 32))
def test_parse_ipv4_on_well_formed_addresses(octets, prefix):
    text = ".".join(map(str, octets)) + ("" if prefix is None else f"/{prefix}")
    expected = int(ipaddress.ip_network(text, strict=False).network_address)
    assert parse_ipv4(text) == expected == _independent_parse(text)


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet="0123456789./ -x:a", max_size=20) | st.from_regex(r"\d{1,4}(\.\d{1,4}){2,4}(/\d{1,3})?")
)
def test_parse_ipv4_agrees_with_an_independent_formulation(text):
    assert parse_ipv4(text) == _independent_parse(text)


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_ipv4_is_private_agrees_with_the_rfc1918_networks(value):
    address = ipaddress.IPv4Address(value)
    rfc1918 = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
    assert ipv4_is_private(str(address)) is any(address in network for network in rfc1918)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(0, 32))
def test_match_and_compare_are_consistent(a, b, prefix):
    left, right = str(ipaddress.IPv4Address(a)), str(ipaddress.IPv4Address(b))
    assert ipv4_compare(left, right, prefix) == -ipv4_compare(right, left, prefix)
    assert ipv4_is_match(left, right, prefix) is (ipv4_compare(left, right, prefix) == 0)
    network = ipaddress.ip_network(f"{right}/{prefix}", strict=False)
    assert ipv4_is_in_range(left, f"{right}/{prefix}") is (ipaddress.IPv4Address(a) in network)
    assert ipv4_is_match(left, right, prefix) is (ipaddress.IPv4Address(a) in network)


# -- ip_type: Defender's RemoteIPType vocabulary -----------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [("8.8.8.8", "Public"), ("20.53.203.50", "Public"), ("10.1.2.3", "Private"), ("172.20.1.1", "Private"),
     ("192.168.0.10", "Private"), ("127.0.0.1", "Loopback"), ("127.255.0.1", "Loopback"),
     ("169.254.10.1", "LinkLocal"), ("224.0.0.251", "Multicast"), ("239.255.255.250", "Multicast"),
     ("255.255.255.255", "Broadcast"), ("0.0.0.0", "Reserved"), ("100.64.0.1", "Reserved"),
     ("192.0.2.1", "Reserved"), ("240.0.0.1", "Reserved"),
     ("::1", "Loopback"), ("::", "Reserved"), ("::ffff:127.0.0.1", "FourToSixMapping"),
     ("::ffff:8.8.8.8", "FourToSixMapping"), ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
     ("fe80::1c2d:3e4f:5a6b:7c8d%12", "LinkLocal"), ("fd12:3456:789a::1", "Private"),
     ("ff02::fb", "Multicast"), ("2001:db8::1", "Reserved"), ("2a03:2880:f12c:83:face:b00c::25de", "Public"),
     ("2606:4700:4700::1111", "Public"), ("", ""), ("not an ip", ""), ("10.0.0.0/8", ""), ("1.2.3", "")],
)  # fmt: skip
def test_ip_type(address, kind):
    assert ip_type(address) == kind


def test_ip_type_differs_from_python_is_private():
    # ipaddress calls these "private"; Defender does not call them Private.
    for address in ("127.0.0.1", "169.254.1.1", "192.0.2.1", "::1"):
        assert ipaddress.ip_address(address).is_private and ip_type(address) != "Private"
