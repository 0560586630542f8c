"""The values some Defender columns can take, for "this can never match" checks.

ActionType per table follows Defender's advanced-hunting schema reference (the ActionType values each
table documents); RemoteIPType/LocalIPType the documented vocabulary that `ingest.iptype` also follows;
Protocol the values Defender logs in DeviceNetworkEvents. A value outside these lists is reported as a
warning, not an error: Microsoft adds ActionTypes over time.
"""

from __future__ import annotations

from kqlhunt.engines.runtime.ipv4 import IP_TYPE_RULES

_IP_TYPES = tuple(sorted({kind for _, kind in IP_TYPE_RULES} | {"Public"}))

ENUMERATIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("DeviceNetworkEvents", "ActionType"): (
        "ConnectionSuccess", "ConnectionFailed", "ConnectionRequest", "ConnectionAttempt",
        "ConnectionAcknowledged", "ConnectionFound", "InboundConnectionAccepted", "ListeningConnectionCreated",
        "NetworkSignatureInspected", "DnsConnectionInspected", "HttpConnectionInspected",
        "SslConnectionInspected", "SshConnectionInspected", "IcmpConnectionInspected", "FtpConnectionInspected",
        "SmtpConnectionInspected", "NtlmAuthenticationInspected", "NetworkProtectionUserBypassEvent",
    ),
    ("DeviceNetworkEvents", "RemoteIPType"): _IP_TYPES,
    ("DeviceNetworkEvents", "LocalIPType"): _IP_TYPES,
    ("DeviceNetworkEvents", "Protocol"): ("Tcp", "Udp", "Icmp", "IcmpV6", "TcpV4", "TcpV6", "UdpV4", "UdpV6",
                                          "Igmp", "Ipv6"),
    ("DeviceProcessEvents", "ActionType"): ("ProcessCreated", "OpenProcessApiCall"),
    ("DeviceFileEvents", "ActionType"): ("FileCreated", "FileModified", "FileRenamed", "FileDeleted"),
    ("DeviceRegistryEvents", "ActionType"): ("RegistryKeyCreated", "RegistryKeyDeleted", "RegistryKeyRenamed",
                                             "RegistryValueDeleted", "RegistryValueSet"),
    ("DeviceLogonEvents", "ActionType"): ("LogonAttempted", "LogonFailed", "LogonSuccess"),
    ("DeviceImageLoadEvents", "ActionType"): ("ImageLoaded",),
}


def known_values(tables: list[str], column: str) -> tuple[str, ...] | None:
    """The union of the enumerations of `column` over the tables a rule reads; None when none is known
    (or when a table the rule reads has no list, since the value might be that table's)."""
    found: list[str] = []
    for table in tables:
        values = ENUMERATIONS.get((table, column))
        if values is None:
            if any(c == column for _, c in ENUMERATIONS):
                return None
            continue
        found.extend(values)
    return tuple(dict.fromkeys(found)) or None
