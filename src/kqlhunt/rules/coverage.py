"""Event coverage: which native Windows events feed a Defender table and ActionType.

A hand-maintained table. Each row says "a rule reading TABLE with ActionType X sees the activity that
PROVIDER logs as EVENT". The pairs follow the event documentation (Sysmon event IDs, the Security audit
events of Windows) and Defender's table reference; they are equivalences of *activity*, not of fields.
Add rows here, never in code.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFENDER = "Defender"


@dataclass(frozen=True)
class CoverageRow:
    table: str
    action_type: str
    provider: str  # Sysmon, Security-Auditing, Defender
    event: str  # "Event ID 3" or an ActionType
    title: str

    def to_dict(self) -> dict[str, str]:
        return {"table": self.table, "action_type": self.action_type, "provider": self.provider,
                "event": self.event, "title": self.title}


# (table, ActionType) -> [(provider, event, title)]; the Defender row itself is added by `rows_for`.
_NATIVE: dict[tuple[str, str], tuple[tuple[str, str, str], ...]] = {
    ("DeviceNetworkEvents", "ConnectionSuccess"): (
        ("Sysmon", "Event ID 3", "Network connection"),
        ("Security-Auditing", "Event ID 5156", "The Windows Filtering Platform has permitted a connection."),
    ),
    ("DeviceNetworkEvents", "ConnectionFailed"): (
        ("Security-Auditing", "Event ID 5157", "The Windows Filtering Platform has blocked a connection."),
    ),
    ("DeviceNetworkEvents", "InboundConnectionAccepted"): (
        ("Security-Auditing", "Event ID 5156", "The Windows Filtering Platform has permitted a connection."),
    ),
    ("DeviceNetworkEvents", "ListeningConnectionCreated"): (
        ("Security-Auditing", "Event ID 5154",
         "The Windows Filtering Platform has permitted an application or service to listen on a port."),
    ),
    ("DeviceNetworkEvents", "DnsConnectionInspected"): (
        ("Sysmon", "Event ID 22", "DNSEvent (DNS query)"),
    ),
    ("DeviceProcessEvents", "ProcessCreated"): (
        ("Sysmon", "Event ID 1", "Process creation"),
        ("Security-Auditing", "Event ID 4688", "A new process has been created."),
    ),
    ("DeviceFileEvents", "FileCreated"): (
        ("Sysmon", "Event ID 11", "FileCreate"),
    ),
    ("DeviceFileEvents", "FileDeleted"): (
        ("Sysmon", "Event ID 23", "FileDelete (File Delete archived)"),
    ),
    ("DeviceRegistryEvents", "RegistryValueSet"): (
        ("Sysmon", "Event ID 13", "RegistryEvent (Value Set)"),
        ("Security-Auditing", "Event ID 4657", "A registry value was modified."),
    ),
    ("DeviceRegistryEvents", "RegistryKeyCreated"): (
        ("Sysmon", "Event ID 12", "RegistryEvent (Object create and delete)"),
    ),
    ("DeviceImageLoadEvents", "ImageLoaded"): (
        ("Sysmon", "Event ID 7", "Image loaded"),
    ),
    ("DeviceLogonEvents", "LogonSuccess"): (
        ("Security-Auditing", "Event ID 4624", "An account was successfully logged on."),
    ),
    ("DeviceLogonEvents", "LogonFailed"): (
        ("Security-Auditing", "Event ID 4625", "An account failed to log on."),
    ),
}

# Defender's own one-line titles for the ActionTypes above.
_TITLES = {
    "ConnectionSuccess": "Connection succeeded", "ConnectionFailed": "Connection failed",
    "InboundConnectionAccepted": "Inbound connection accepted",
    "ListeningConnectionCreated": "Listening connection created",
    "DnsConnectionInspected": "DNS connection inspected", "ProcessCreated": "Process created",
    "FileCreated": "File created", "FileDeleted": "File deleted", "RegistryValueSet": "Registry value set",
    "RegistryKeyCreated": "Registry key created", "ImageLoaded": "Image loaded",
    "LogonSuccess": "Logon succeeded", "LogonFailed": "Logon failed",
}


def rows_for(action_types: dict[str, list[str]]) -> list[CoverageRow]:
    """Coverage rows for the ActionTypes a rule selects per table; a table without an ActionType filter
    is covered for every ActionType the table knows. Values not in the table (typos) cover nothing."""
    out: list[CoverageRow] = []
    for table, chosen in action_types.items():
        known = [a for (t, a) in _NATIVE if t == table]
        for action in (chosen or known):
            if (table, action) not in _NATIVE:
                continue
            for provider, event, title in _NATIVE[(table, action)]:
                out.append(CoverageRow(table, action, provider, event, title))
            out.append(CoverageRow(table, action, f"{DEFENDER}-{table}", action, _TITLES.get(action, action)))
    return out
