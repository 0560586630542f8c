"""The DeviceNetworkEvents table as the lake stores it: the 45 Defender columns, in order, with the Parquet
types of docs/CONVENTIONS.md, plus the small vocabularies the generator writes."""

from __future__ import annotations

import pyarrow as pa

TABLE = "DeviceNetworkEvents"

KUSTO_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Timestamp", "datetime"), ("DeviceId", "string"), ("DeviceName", "string"), ("ActionType", "string"),
    ("RemoteIP", "string"), ("RemotePort", "int"), ("RemoteUrl", "string"), ("LocalIP", "string"),
    ("LocalPort", "int"), ("Protocol", "string"), ("LocalIPType", "string"), ("RemoteIPType", "string"),
    ("InitiatingProcessSHA1", "string"), ("InitiatingProcessSHA256", "string"),
    ("InitiatingProcessMD5", "string"), ("InitiatingProcessFileName", "string"),
    ("InitiatingProcessFileSize", "long"), ("InitiatingProcessVersionInfoCompanyName", "string"),
    ("InitiatingProcessVersionInfoProductName", "string"),
    ("InitiatingProcessVersionInfoProductVersion", "string"),
    ("InitiatingProcessVersionInfoInternalFileName", "string"),
    ("InitiatingProcessVersionInfoOriginalFileName", "string"),
    ("InitiatingProcessVersionInfoFileDescription", "string"), ("InitiatingProcessId", "long"),
    ("InitiatingProcessCommandLine", "string"), ("InitiatingProcessCreationTime", "datetime"),
    ("InitiatingProcessFolderPath", "string"), ("InitiatingProcessParentFileName", "string"),
    ("InitiatingProcessParentId", "long"), ("InitiatingProcessParentCreationTime", "datetime"),
    ("InitiatingProcessAccountDomain", "string"), ("InitiatingProcessAccountName", "string"),
    ("InitiatingProcessAccountSid", "string"), ("InitiatingProcessAccountUpn", "string"),
    ("InitiatingProcessAccountObjectId", "string"), ("InitiatingProcessIntegrityLevel", "string"),
    ("InitiatingProcessTokenElevation", "string"), ("ReportId", "long"), ("AppGuardContainerId", "string"),
    ("AdditionalFields", "dynamic"), ("InitiatingProcessSessionId", "long"),
    ("IsInitiatingProcessRemoteSession", "bool"), ("InitiatingProcessRemoteSessionDeviceName", "string"),
    ("InitiatingProcessRemoteSessionIP", "string"), ("InitiatingProcessUniqueId", "string"),
)
_ARROW = {"datetime": pa.timestamp("us"), "string": pa.string(), "int": pa.int32(), "long": pa.int64(),
          "bool": pa.bool_(), "dynamic": pa.string()}
# strings are never null (docs/CONVENTIONS.md); saying so in the file lets engines skip null handling
SCHEMA = pa.schema([pa.field(n, _ARROW[t], nullable=t not in ("string", "dynamic")) for n, t in KUSTO_COLUMNS])
TEXT_COLUMNS = tuple(f.name for f in SCHEMA if f.type == pa.string())

# In-flight batches keep text columns dictionary-encoded (cheap to build from lookup tables, written as
# Parquet dictionary pages); the files' logical type is plain UTF-8 string either way.
BATCH_SCHEMA = pa.schema([pa.field(f.name, pa.dictionary(pa.int32(), pa.string()) if f.type == pa.string()
                                   else f.type, nullable=f.nullable) for f in SCHEMA])

ACTIONS = ("ConnectionSuccess", "ConnectionFailed", "ConnectionRequest", "ConnectionAttempt",
           "InboundConnectionAccepted", "ListeningConnectionCreated")
PROTOCOLS = ("Tcp", "Udp")
