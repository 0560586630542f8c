"""IPv4 parsing and matching with Kusto's rules, in pure Python: test oracles for the SQL versions.

Text forms accepted by every function here (Kusto's "IP-prefix notation"):

- exactly four dot-separated decimal octets, each 1–3 ASCII digits with value 0–255, optionally followed
  by ``/prefix`` with a decimal prefix 0–32 (1–2 digits);
- leading zeros are read as decimal (``010.0.0.1`` is 10.0.0.1, never octal);
- nothing else: no surrounding or inner whitespace, no sign, no hex/octal/short forms (``1.2.3``), no
  IPv6. Anything else parses to ``None`` and the functions return ``None`` (Kusto's null).

The documented examples fix the arithmetic: the value of ``a.b.c.d/p`` is the address with the low
``32 - p`` bits cleared (``parse_ipv4('192.168.1.1/24') == 3232235776``), comparisons use the smallest
prefix among the arguments, and ``ipv4_is_private`` holds for 10/8, 172.16/12 and 192.168/16 only
(``127.0.0.1`` is not private). The whitespace and leading-zero rules are not documented; they are the
strict choice and are stated here so the SQL version can match them.

:func:`ip_type` is not a Kusto function: it classifies an address the way Defender for Endpoint fills
``RemoteIPType`` / ``LocalIPType`` (documented vocabulary: Public, Private, Reserved, Loopback, Teredo,
FourToSixMapping, Broadcast; LinkLocal and Multicast also occur in real data and hunts). Python's
``ipaddress.is_private`` is *not* this definition (it calls loopback, link-local, documentation and
reserved blocks "private"); the table used here is :data:`IP_TYPE_RULES`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

__all__ = [
    "IP_TYPE_RULES",
    "ip_type",
    "ipv4_compare",
    "ipv4_is_in_any_range",
    "ipv4_is_in_range",
    "ipv4_is_match",
    "ipv4_is_private",
    "ipv4_netmask_suffix",
    "parse_cidr",
    "parse_ipv4",
    "parse_ipv4_mask",
    "parse_ipv4_prefix",
]

_IPV4 = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:/(\d{1,2}))?", re.ASCII)
_FULL = 0xFFFFFFFF

_PRIVATE_BLOCKS = ((0x0A000000, 8), (0xAC100000, 12), (0xC0A80000, 16))


def _mask(prefix: int) -> int:
    return (_FULL << (32 - prefix)) & _FULL


def parse_ipv4_prefix(text: str | None) -> tuple[int, int] | None:
    """``'a.b.c.d[/p]'`` -> (unmasked address as int, prefix 0–32; 32 when absent), or None if invalid."""
    if not isinstance(text, str):
        return None
    match = _IPV4.fullmatch(text)
    if match is None:
        return None
    octets = [int(part) for part in match.groups()[:4]]
    if any(octet > 255 for octet in octets):
        return None
    prefix = 32 if match.group(5) is None else int(match.group(5))
    if prefix > 32:
        return None
    address = (octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]
    return address, prefix


def parse_ipv4(text: str | None) -> int | None:
    """Kusto ``parse_ipv4()``: the address as a long with the prefix applied (``/24`` clears 8 bits)."""
    parsed = parse_ipv4_prefix(text)
    if parsed is None:
        return None
    address, prefix = parsed
    return address & _mask(prefix)


def _valid_prefix(prefix: int | None) -> bool:
    return isinstance(prefix, int) and not isinstance(prefix, bool) and 0 <= prefix <= 32


def parse_ipv4_mask(text: str | None, prefix: int | None) -> int | None:
    """Kusto ``parse_ipv4_mask(ip, prefix)``: like ``parse_ipv4`` with at most *prefix* leading bits kept."""
    parsed = parse_ipv4_prefix(text)
    if parsed is None or not _valid_prefix(prefix):
        return None
    address, own = parsed
    return address & _mask(min(own, prefix))


def ipv4_netmask_suffix(text: str | None) -> int | None:
    """Kusto ``ipv4_netmask_suffix()``: the ``/prefix`` of the string, 32 when absent."""
    parsed = parse_ipv4_prefix(text)
    return None if parsed is None else parsed[1]


def ipv4_compare(left: str | None, right: str | None, prefix: int | None = 32) -> int | None:
    """Kusto ``ipv4_compare()``: -1/0/1 comparing both addresses under the smallest prefix involved."""
    a, b = parse_ipv4_prefix(left), parse_ipv4_prefix(right)
    if a is None or b is None or not _valid_prefix(prefix):
        return None
    mask = _mask(min(a[1], b[1], prefix))
    x, y = a[0] & mask, b[0] & mask
    return (x > y) - (x < y)


def ipv4_is_match(left: str | None, right: str | None, prefix: int | None = 32) -> bool | None:
    """Kusto ``ipv4_is_match()``: equality under the smallest prefix involved."""
    compared = ipv4_compare(left, right, prefix)
    return None if compared is None else compared == 0


def parse_cidr(text: str | None) -> tuple[int, int] | None:
    """A lookup-table key (``'10.0.0.0/8'``, or a plain IP = /32) -> inclusive (start, end) ints."""
    parsed = parse_ipv4_prefix(text)
    if parsed is None:
        return None
    address, prefix = parsed
    start = address & _mask(prefix)
    return start, start | (~_mask(prefix) & _FULL)


def ipv4_is_in_range(address: str | None, ipv4_range: str | None) -> bool | None:
    """Kusto ``ipv4_is_in_range()``: ``parse_ipv4(address)`` lies inside the prefix-notation range."""
    value, bounds = parse_ipv4(address), parse_cidr(ipv4_range)
    if value is None or bounds is None:
        return None
    return bounds[0] <= value <= bounds[1]


def ipv4_is_in_any_range(address: str | None, ranges: Iterable[str | None]) -> bool | None:
    """Kusto ``ipv4_is_in_any_range()``; None when the address or any range fails to parse."""
    results = [ipv4_is_in_range(address, item) for item in ranges]
    if parse_ipv4(address) is None or any(result is None for result in results):
        return None
    return any(results)


def ipv4_is_private(text: str | None) -> bool | None:
    """Kusto ``ipv4_is_private()``: the (masked) address range lies in 10/8, 172.16/12 or 192.168/16.

    IPv6 and other unparsable input give None (so ``not(ipv4_is_private(ip))`` drops IPv6 rows).
    """
    bounds = parse_cidr(text)
    if bounds is None:
        return None
    start, end = bounds
    for block, length in _PRIVATE_BLOCKS:
        block_end = block | (~_mask(length) & _FULL)
        if block <= start and end <= block_end:
            return True
    return False


# (network, type) checked in order; first match wins. Anything unmatched is "Public".
IP_TYPE_RULES: tuple[tuple[str, str], ...] = (
    # IPv4
    ("255.255.255.255/32", "Broadcast"),
    ("127.0.0.0/8", "Loopback"),
    ("10.0.0.0/8", "Private"),
    ("172.16.0.0/12", "Private"),
    ("192.168.0.0/16", "Private"),
    ("169.254.0.0/16", "LinkLocal"),
    ("224.0.0.0/4", "Multicast"),
    ("0.0.0.0/8", "Reserved"),  # "this network", including the unspecified 0.0.0.0
    ("100.64.0.0/10", "Reserved"),  # carrier-grade NAT shared space
    ("192.0.0.0/24", "Reserved"),  # IETF protocol assignments
    ("192.0.2.0/24", "Reserved"),  # TEST-NET-1
    ("198.18.0.0/15", "Reserved"),  # benchmarking
    ("198.51.100.0/24", "Reserved"),  # TEST-NET-2
    ("203.0.113.0/24", "Reserved"),  # TEST-NET-3
    ("240.0.0.0/4", "Reserved"),  # future use (255.255.255.255 matched above)
    # IPv6
    ("::1/128", "Loopback"),
    ("::/128", "Reserved"),  # unspecified
    ("::ffff:0:0/96", "FourToSixMapping"),  # IPv4-mapped, whatever the embedded IPv4 is
    ("2001::/32", "Teredo"),
    ("fe80::/10", "LinkLocal"),
    ("fc00::/7", "Private"),  # unique local addresses
    ("fec0::/10", "Private"),  # deprecated site-local
    ("ff00::/8", "Multicast"),
    ("2001:db8::/32", "Reserved"),  # documentation
    ("100::/64", "Reserved"),  # discard-only
    ("::/8", "Reserved"),  # rest of the IETF-reserved low block (IPv4-compatible etc.)
)

_IP_TYPE_NETWORKS = tuple((ipaddress.ip_network(network), kind) for network, kind in IP_TYPE_RULES)
_GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")


def ip_type(address: str | None) -> str:
    """Classify an IPv4/IPv6 address as Defender's ``RemoteIPType`` does; ``""`` when it does not parse.

    IPv4 uses this module's strict parser (no prefix allowed); IPv6 uses :mod:`ipaddress`, ignoring a
    ``%zone`` suffix. Global IPv6 outside 2000::/3 that no rule names is "Reserved".
    """
    if not isinstance(address, str):
        return ""
    parsed = parse_ipv4_prefix(address)
    if parsed is not None and "/" not in address:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv4Address(parsed[0])
    else:
        if ":" not in address:
            return ""
        try:
            ip = ipaddress.IPv6Address(address.split("%", 1)[0])
        except ValueError:
            return ""
    for network, kind in _IP_TYPE_NETWORKS:
        if network.version == ip.version and ip in network:
            return kind
    if ip.version == 6 and ip not in _GLOBAL_UNICAST_V6:
        return "Reserved"
    return "Public"
