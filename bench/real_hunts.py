"""kqlhunt on real public hunts: parse, bind and execution rates, and what to implement next.

    python bench/real_hunts.py --repo /work/.mirror/Bert-JanP+Hunting-Queries-Detection-Rules/repo \
                               [--repo ...] [--json bench/out/real_hunts.json] [--oracle DIR | --no-oracle]

Each `--repo` is a git directory (a bare mirror: files are read from the objects of HEAD) or a work
tree (files are read from disk). Nothing from those repositories is stored in this project. Queries
come from Markdown fenced blocks (```kql / ```kusto / untagged blocks that read a Defender table),
`.kql`/`.csl`/`.txt` files, and the `query:` field of Sentinel `.yaml` rules; a block or file holding
several queries is split where one query is complete and the next begins (see `split_queries`).

Every unique query that reads a Defender XDR table is measured; the headline figures are for those
that read DeviceNetworkEvents, and the same figures are printed for all Defender hunts. Stages:
  parse      kqlhunt's parser accepts the text
  bind       kqlhunt.compile(q, schemas=...) succeeds (parse, bind, plan and SQL). Tables other than
             DeviceNetworkEvents get their documented Defender XDR columns (TABLE_SCHEMAS, from the
             Microsoft Learn advanced-hunting schema pages); a query that reads a table kqlhunt has no
             schema for is counted as "needs table X", not as a bind failure
  run-empty  kqlhunt.query(q) with every table empty (externaldata URIs read as empty files: never fetched)
  run-gen    kqlhunt.query(q) with DeviceNetworkEvents = kqlhunt.demo.generate_table(--rows)
Every stage runs in a worker process with a time limit (--timeout); a worker that hangs or dies is
replaced. Failures are classified by diagnostic code and, for KH3xx, by the construct the message names.
The oracle (Microsoft's Kusto.Language via ../shared/kql-oracle) says whether each query is valid KQL at
all, so hunts broken upstream are reported apart from kqlhunt's failures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
DEFAULT_ORACLE = PROJECT.parent / "shared" / "kql-oracle"
NOW = datetime(2025, 3, 14, 12, 0, 0, tzinfo=UTC)  # kqlhunt.demo.DEFAULT_NOW: ago() lands inside the demo data

QUERY_SUFFIXES = (".kql", ".csl", ".kusto", ".txt")
MD_SUFFIXES = (".md", ".markdown")
YAML_SUFFIXES = (".yaml", ".yml")
KQL_FENCE_LANGS = frozenset({"kql", "kusto", "csl"})

# The tables of the Defender XDR advanced-hunting schema (Microsoft Learn, "Data tables in the Microsoft
# Defender XDR advanced hunting schema", defender-xdr/advanced-hunting-schema-tables.md).
DEFENDER_TABLES = frozenset("""
AADSignInEventsBeta AADSpnSignInEventsBeta AIAgentsInfo AlertEvidence AlertInfo BehaviorEntities BehaviorInfo
CampaignInfo CloudAppEvents CloudAuditEvents CloudDnsEvents CloudProcessEvents CloudStorageAggregatedEvents
DataSecurityBehaviors DataSecurityEvents DeviceBaselineComplianceAssessment DeviceBaselineComplianceAssessmentKB
DeviceBaselineComplianceProfiles DeviceEvents DeviceFileCertificateInfo DeviceFileEvents DeviceImageLoadEvents
DeviceInfo DeviceLogonEvents DeviceNetworkEvents DeviceNetworkInfo DeviceProcessEvents DeviceRegistryEvents
DeviceTvmBrowserExtensions DeviceTvmBrowserExtensionsKB DeviceTvmCertificateInfo DeviceTvmHardwareFirmware
DeviceTvmInfoGathering DeviceTvmInfoGatheringKB DeviceTvmSecureConfigurationAssessment
DeviceTvmSecureConfigurationAssessmentKB DeviceTvmSoftwareEvidenceBeta DeviceTvmSoftwareInventory
DeviceTvmSoftwareVulnerabilities DeviceTvmSoftwareVulnerabilitiesKB DisruptionAndResponseEvents
EmailAttachmentInfo EmailEvents EmailPostDeliveryEvents EmailUrlInfo EntraIdSignInEvents EntraIdSpnSignInEvents
ExposureGraphEdges ExposureGraphNodes FileMaliciousContentInfo GraphApiAuditEvents IdentityAccountInfo
IdentityDirectoryEvents IdentityEvents IdentityInfo IdentityLogonEvents IdentityQueryEvents MessageEvents
MessagePostDeliveryEvents MessageUrlInfo OAuthAppInfo UrlClickEvents
""".split())  # noqa: SIM905 - a word list reads better than 62 quoted names
TARGET = "DeviceNetworkEvents"


# ---------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class RepoFile:
    repo: str
    path: str
    text: str


def repo_label(root: Path) -> str:
    """`/work/.mirror/owner+name/repo` -> `owner/name`; otherwise the directory name."""
    if root.name == "repo" and "+" in root.parent.name:
        return root.parent.name.replace("+", "/", 1)
    return root.name


def is_bare_git(root: Path) -> bool:
    return (root / "HEAD").is_file() and (root / "objects").is_dir()


def wanted(path: str) -> bool:
    return path.lower().endswith(QUERY_SUFFIXES + MD_SUFFIXES + YAML_SUFFIXES)


def read_repo(root: Path) -> tuple[str, str | None, list[RepoFile], list[str]]:
    """(label, commit, files, paths that could not be read) of a bare git dir (HEAD) or a work tree."""
    label = repo_label(root)
    if is_bare_git(root):
        commit = _git(root, "rev-parse", "HEAD").strip()
        files, missing = _read_git(root, label)
        return label, commit, files, missing
    files = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if ".git" in p.relative_to(root).parts or not p.is_file() or not wanted(rel):
            continue
        files.append(RepoFile(label, rel, p.read_bytes().decode("utf-8", "replace")))
    commit = None
    if (root / ".git").exists():
        commit = _git(root, "rev-parse", "HEAD").strip() or None
    return label, commit, files, []


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    return done.stdout


def _read_git(root: Path, label: str) -> tuple[list[RepoFile], list[str]]:
    listing = subprocess.run(["git", "-C", str(root), "ls-tree", "-r", "-z", "HEAD"], capture_output=True,
                             check=True).stdout.decode("utf-8", "replace")
    blobs: list[tuple[str, str]] = []
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        _mode, kind, sha = meta.split()
        if kind == "blob" and wanted(path):
            blobs.append((sha, path))
    proc = subprocess.run(["git", "-C", str(root), "cat-file", "--batch"], capture_output=True, check=False,
                          input="".join(f"{sha}\n" for sha, _ in blobs).encode())
    out, pos = proc.stdout, 0
    files, missing = [], []
    for _sha, path in blobs:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode().split()
        pos = end + 1
        if len(header) < 3 or header[1] != "blob":  # "<sha> missing": the snapshot lacks this object
            missing.append(path)
            continue
        size = int(header[2])
        files.append(RepoFile(label, path, out[pos:pos + size].decode("utf-8", "replace")))
        pos += size + 1
    return files, missing


# ------------------------------------------------------------------------------------------- extraction


@dataclass
class Query:
    id: str
    repo: str
    path: str
    line: int  # 1-based line of the query's first line in the file
    source: str  # md:<fence language or "">, kql, txt, yaml
    text: str
    tables: list[str]  # Defender tables read (identifiers outside comments and strings)
    duplicates: list[str] = field(default_factory=list)  # ids of identical queries elsewhere


def scan(text: str) -> tuple[str, list[tuple[int, int]]]:
    """(masked, string spans): the text with comments blanked and string literals' contents replaced by
    `x`, same length and line breaks, so offsets and lines still match; and where the strings are."""
    out = list(text)
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)

    def blank(a: int, b: int, fill: str) -> None:
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = fill

    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j, " ")
            i = j
        elif text.startswith("```", i):  # multi-line string literal
            j = text.find("```", i + 3)
            j = n if j < 0 else j + 3
            blank(i + 3, max(i + 3, j - 3), "x")
            spans.append((i, j))
            i = j
        elif c in "\"'":
            verbatim = i > 0 and text[i - 1] == "@"
            j = i + 1
            while j < n:
                if text[j] == "\\" and not verbatim:
                    j += 2
                    continue
                if text[j] == c:
                    if verbatim and j + 1 < n and text[j + 1] == c:
                        j += 2
                        continue
                    break
                if text[j] == "\n" and not verbatim:
                    break
                j += 1
            j = min(j, n)
            blank(i + 1, j, "x")
            spans.append((i, j + 1))
            i = j + 1
        else:
            i += 1
    return "".join(out), spans


def mask(text: str) -> str:
    return scan(text)[0]


IDENT = re.compile(r"(?<![\w.$])[A-Za-z_][A-Za-z0-9_]*")


def tables_read(text: str) -> list[str]:
    code = mask(text)
    return sorted({m.group(0) for m in IDENT.finditer(code)} & DEFENDER_TABLES)


# A chunk that starts with one of these continues the query before it; a query that ends with one of
# DANGLING_WORDS is not finished.
CONTINUATION_WORDS = frozenset({"and", "or", "by", "on", "with", "kind", "not", "asc", "desc", "nulls", "to",
                                "between", "in", "has", "contains", "startswith", "endswith", "matches"})
DANGLING_WORDS = (CONTINUATION_WORDS - {"asc", "desc", "nulls"}) | frozenset(
    {"join", "union", "lookup", "let", "where", "project", "extend", "summarize", "sort", "order", "top"})


def _starts_query(chunk_code: str) -> bool:
    """Does a chunk (blank- or comment-line separated) begin a new query rather than continue one?"""
    line = next((ln for ln in chunk_code.split("\n") if ln.strip()), "")
    if line[:1].isspace():
        return False  # indented: a continuation line (`| project\n    A,\n    B`)
    m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", line)
    return bool(m) and m.group(0) not in CONTINUATION_WORDS


def _complete(code: str) -> bool:
    """Could the code so far be a whole query: brackets balanced, and not ending on `;`, an operator or
    a dangling keyword?"""
    depth = 0
    for ch in code:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
    stripped = code.rstrip()
    if depth != 0 or not stripped or stripped[-1] in ";=,|(!<>+-*/~:.":
        return False
    last = re.findall(r"[A-Za-z_][A-Za-z0-9_-]*$", stripped)
    return not (last and last[0] in DANGLING_WORDS)


def split_queries(text: str) -> list[tuple[int, str]]:
    """Split a block or file into queries: [(first line offset, text)]. Chunks are separated by lines
    that hold no code (blank or comment-only); a chunk starts a new query only when the query so far is
    complete and the chunk begins, unindented, with a name (a table, `let`, `union`...). Comment-only
    chunks between queries are dropped, except the comment lines right above a query; comments inside
    a query stay."""
    lines = text.split("\n")
    code, spans = scan(text)
    masked = code.split("\n")
    starts, pos = [], 0
    for ln in lines:
        starts.append(pos)
        pos += len(ln) + 1
    in_string = {k for k, s in enumerate(starts) for a, b in spans if a < s < b}
    chunks: list[tuple[int, int]] = []  # [start, end) line ranges holding code
    start = None
    for k, code_line in enumerate(masked):
        if code_line.strip() or k in in_string:
            if start is None:
                start = k
        elif start is not None:
            chunks.append((start, k))
            start = None
    if start is not None:
        chunks.append((start, len(masked)))
    queries: list[list[int]] = []  # [first line, end line)
    for a, b in chunks:
        if queries:
            cur = queries[-1]
            so_far = "\n".join(masked[cur[0]:cur[1]])
            if not (_complete(so_far) and _starts_query("\n".join(masked[a:b]))):
                cur[1] = b
                continue
        first = a
        while first > 0 and lines[first - 1].strip().startswith("//"):
            first -= 1
        queries.append([max(first, queries[-1][1]) if queries else first, b])
    return [(a, "\n".join(lines[a:b]).strip("\n")) for a, b in queries]


FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")


def md_blocks(text: str) -> list[tuple[int, str, str]]:
    """Fenced code blocks of a Markdown text: [(line offset of the block's first line, language, body)]."""
    lines = text.splitlines()
    blocks = []
    k = 0
    while k < len(lines):
        m = FENCE_OPEN.match(lines[k])
        if not m:
            k += 1
            continue
        fence, indent = m.group("fence"), len(m.group("indent"))
        lang = (m.group("info").split() or [""])[0].lower()
        body: list[str] = []
        j = k + 1
        while j < len(lines):
            stripped = lines[j].strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                break
            body.append(lines[j][indent:] if lines[j][:indent].isspace() else lines[j].lstrip())
            j += 1
        blocks.append((k + 1, lang, "\n".join(body)))
        k = j + 1
    return blocks


def yaml_queries(text: str) -> list[tuple[int, str]]:
    """The `query:` of a Sentinel rule/hunting YAML (line offset of the field, text)."""
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("query"), str):
        return []
    m = re.search(r"^query\s*:[ \t]*(.*)$", text, re.MULTILINE)
    offset = 0
    if m:  # 0-based line of the query's first line: the field's own line, or the next for a block scalar
        offset = text[:m.start()].count("\n") + (1 if m.group(1).strip()[:1] in ("", "|", ">") else 0)
    return [(offset, doc["query"])]


def extract(file: RepoFile) -> list[Query]:
    """Every query in a file that reads a Defender table."""
    lower = file.path.lower()
    text = file.text.replace("\r\n", "\n").replace("\r", "\n")
    found: list[tuple[int, str, str]] = []  # (line offset, source, text)
    if lower.endswith(MD_SUFFIXES):
        for offset, lang, body in md_blocks(text):
            if lang and lang not in KQL_FENCE_LANGS:
                continue
            found += [(offset + o, f"md:{lang}", q) for o, q in split_queries(body)]
    elif lower.endswith(YAML_SUFFIXES):
        for offset, body in yaml_queries(text):
            found += [(offset + o, "yaml", q) for o, q in split_queries(body)]
    elif lower.endswith(QUERY_SUFFIXES):
        kind = "txt" if lower.endswith(".txt") else "kql"
        found += [(o, kind, q) for o, q in split_queries(text)]
    out = []
    for n, (offset, source, text) in enumerate(found):
        tables = tables_read(text)
        if tables:
            out.append(Query(f"{file.repo}:{file.path}#{n + 1}", file.repo, file.path, offset + 1, source,
                             text, tables))
    return out


def dedupe(queries: Iterable[Query]) -> list[Query]:
    """One Query per distinct text (whitespace-normalised); the others are listed as its duplicates."""
    seen: dict[str, Query] = {}
    for q in queries:
        key = " ".join(q.text.split())
        if key in seen:
            seen[key].duplicates.append(q.id)
        else:
            seen[key] = q
    return list(seen.values())


# ---------------------------------------------------------------------------------------------- schemas

# Columns of the other Defender XDR tables the hunts read most, as documented on Microsoft Learn
# (MicrosoftDocs/defender-docs, defender-xdr/advanced-hunting-<table>-table.md), in the pages' order.
# A bare name is a string column. One deliberate deviation: `AdditionalFields` is dynamic everywhere, as in
# kqlhunt's own DeviceNetworkEvents and in the Sentinel/Log Analytics copies of these tables (the Defender
# pages of the Device* tables say string). Groups of columns that several pages repeat are spelled once.
_IP_ACCOUNT = ("InitiatingProcessAccountDomain InitiatingProcessAccountName InitiatingProcessAccountSid "
               "InitiatingProcessAccountUpn InitiatingProcessAccountObjectId")
_IP_HASHES = "InitiatingProcessSHA1 InitiatingProcessSHA256 InitiatingProcessMD5"
_VERSION_INFO = ("CompanyName", "ProductName", "ProductVersion", "InternalFileName", "OriginalFileName",
                 "FileDescription")
_IP_VERSION = " ".join(f"InitiatingProcessVersionInfo{x}" for x in _VERSION_INFO)
_IP_PROCESS = ("InitiatingProcessId:long InitiatingProcessCommandLine InitiatingProcessCreationTime:datetime "
               "InitiatingProcessFolderPath InitiatingProcessParentId:long InitiatingProcessParentFileName "
               "InitiatingProcessParentCreationTime:datetime")
_IP_LEVELS = "InitiatingProcessIntegrityLevel InitiatingProcessTokenElevation"
_IP_RDP = ("InitiatingProcessSessionId:long IsInitiatingProcessRemoteSession:bool "
           "InitiatingProcessRemoteSessionDeviceName InitiatingProcessRemoteSessionIP")
_FILE = "FileName FolderPath SHA1 SHA256 MD5"
_DEVICE = "Timestamp:datetime DeviceId DeviceName ActionType"
_ACCOUNT = "AccountName AccountDomain AccountUpn AccountSid AccountObjectId AccountDisplayName"
_TAIL = "ReportId:long AppGuardContainerId"

TABLE_SCHEMAS: dict[str, str] = {
    "DeviceProcessEvents": f"""{_DEVICE} {_FILE} FileSize:long
        {" ".join(f"ProcessVersionInfo{x}" for x in _VERSION_INFO)}
        ProcessId:long ProcessCommandLine ProcessIntegrityLevel ProcessTokenElevation ProcessCreationTime:datetime
        AccountDomain AccountName AccountSid AccountUpn AccountObjectId LogonId:long {_IP_ACCOUNT}
        InitiatingProcessLogonId:long {_IP_LEVELS} {_IP_HASHES} InitiatingProcessFileName
        InitiatingProcessFileSize:long {_IP_VERSION} {_IP_PROCESS} InitiatingProcessSignerType
        InitiatingProcessSignatureStatus {_TAIL} AdditionalFields:dynamic""",
    "DeviceEvents": f"""{_DEVICE} {_FILE} FileSize:long AccountDomain AccountName AccountSid RemoteUrl
        RemoteDeviceName ProcessId:long ProcessCommandLine ProcessCreationTime:datetime ProcessTokenElevation
        LogonId:long RegistryKey RegistryValueName RegistryValueData RemoteIP RemotePort:int LocalIP LocalPort:int
        FileOriginUrl FileOriginIP {_IP_HASHES} InitiatingProcessFileName InitiatingProcessFileSize:long
        InitiatingProcessFolderPath InitiatingProcessId:long InitiatingProcessCommandLine
        InitiatingProcessCreationTime:datetime {_IP_ACCOUNT} {_IP_VERSION} InitiatingProcessParentId:long
        InitiatingProcessParentFileName InitiatingProcessParentCreationTime:datetime InitiatingProcessLogonId:long
        {_TAIL} AdditionalFields:dynamic {_IP_RDP} CreatedProcessSessionId:long IsProcessRemoteSession:bool
        ProcessRemoteSessionDeviceName ProcessRemoteSessionIP""",
    "DeviceFileEvents": f"""{_DEVICE} {_FILE} FileOriginUrl FileOriginReferrerUrl FileOriginIP
        PreviousFolderPath PreviousFileName FileSize:long {_IP_ACCOUNT} InitiatingProcessMD5 InitiatingProcessSHA1
        InitiatingProcessSHA256 InitiatingProcessFolderPath InitiatingProcessFileName InitiatingProcessFileSize:long
        {_IP_VERSION} InitiatingProcessId:long InitiatingProcessCommandLine InitiatingProcessCreationTime:datetime
        {_IP_LEVELS} InitiatingProcessParentId:long InitiatingProcessParentFileName
        InitiatingProcessParentCreationTime:datetime RequestProtocol RequestSourceIP RequestSourcePort:int
        RequestAccountName RequestAccountDomain RequestAccountSid ShareName SensitivityLabel SensitivitySubLabel
        IsAzureInfoProtectionApplied:bool {_TAIL} AdditionalFields:dynamic {_IP_RDP}""",
    "DeviceRegistryEvents": f"""{_DEVICE} RegistryKey RegistryValueType RegistryValueName RegistryValueData
        PreviousRegistryKey PreviousRegistryValueName PreviousRegistryValueData {_IP_ACCOUNT} {_IP_HASHES}
        InitiatingProcessFileName InitiatingProcessFileSize:long {_IP_VERSION} {_IP_PROCESS} {_IP_LEVELS} {_TAIL}
        {_IP_RDP}""",
    "DeviceImageLoadEvents": f"""{_DEVICE} {_FILE} FileSize:long {_IP_ACCOUNT} {_IP_LEVELS} {_IP_HASHES}
        InitiatingProcessFileName InitiatingProcessFileSize:long {_IP_VERSION} {_IP_PROCESS} {_TAIL}""",
    "DeviceLogonEvents": f"""{_DEVICE} LogonType AccountDomain AccountName AccountSid Protocol FailureReason
        IsLocalAdmin:bool LogonId:long RemoteDeviceName RemoteIP RemoteIPType RemotePort:int {_IP_ACCOUNT}
        {_IP_LEVELS} {_IP_HASHES} InitiatingProcessFileName InitiatingProcessFileSize:long {_IP_VERSION}
        {_IP_PROCESS} {_TAIL} AdditionalFields:dynamic {_IP_RDP}""",
    "DeviceInfo": """Timestamp:datetime DeviceId DeviceName ClientVersion PublicIP OSArchitecture OSPlatform
        OSBuild:long IsAzureADJoined:bool JoinType AadDeviceId LoggedOnUsers RegistryDeviceTag OSVersion
        MachineGroup ReportId:long OnboardingStatus AdditionalFields:dynamic DeviceCategory DeviceType
        DeviceSubtype Model Vendor OSDistribution OSVersionInfo MergedDeviceIds MergedToDeviceId
        IsInternetFacing:bool SensorHealthState IsExcluded:bool ExclusionReason ExposureLevel AssetValue
        DeviceManualTags DeviceDynamicTags ConnectivityType HostDeviceId""",
    "DeviceNetworkInfo": """Timestamp:datetime DeviceId DeviceName NetworkAdapterName MacAddress
        NetworkAdapterType NetworkAdapterStatus TunnelType ConnectedNetworks DnsAddresses IPv4Dhcp IPv6Dhcp
        DefaultGateways IPAddresses ReportId:long NetworkAdapterVendor""",
    "DeviceFileCertificateInfo": """Timestamp:datetime DeviceId DeviceName SHA1 IsSigned:bool SignatureType Signer
        SignerHash Issuer IssuerHash CertificateSerialNumber CrlDistributionPointUrls
        CertificateCreationTime:datetime CertificateExpirationTime:datetime
        CertificateCountersignatureTime:datetime IsTrusted:bool IsRootSignerMicrosoft:bool ReportId:long""",
    "DeviceTvmSoftwareVulnerabilities": """DeviceId DeviceName OSPlatform OSVersion OSArchitecture SoftwareVendor
        SoftwareName SoftwareVersion CveId VulnerabilitySeverityLevel RecommendedSecurityUpdate
        RecommendedSecurityUpdateId CveTags:dynamic""",
    "DeviceTvmSoftwareInventory": """DeviceId DeviceName OSPlatform OSVersion OSArchitecture SoftwareVendor
        SoftwareName SoftwareVersion EndOfSupportStatus EndOfSupportDate:datetime ProductCodeCpe""",
    "AlertInfo": """Timestamp:datetime AlertId Title Category Severity ServiceSource DetectionSource
        AttackTechniques""",
    "AlertEvidence": """Timestamp:datetime AlertId Title Categories AttackTechniques ServiceSource DetectionSource
        EntityType EvidenceRole EvidenceDirection FileName FolderPath SHA1 SHA256 FileSize:long ThreatFamily
        RemoteIP RemoteUrl AccountName AccountDomain AccountSid AccountObjectId AccountUpn DeviceId DeviceName
        LocalIP NetworkMessageId EmailSubject Application ApplicationId:int OAuthApplicationId ProcessCommandLine
        RegistryKey RegistryValueName RegistryValueData AdditionalFields:dynamic Severity CloudResource
        CloudPlatform ResourceType ResourceID SubscriptionId""",
    "EmailEvents": """Timestamp:datetime NetworkMessageId InternetMessageId SenderMailFromAddress SenderFromAddress
        SenderDisplayName SenderObjectId SenderMailFromDomain SenderFromDomain SenderIPv4 SenderIPv6
        RecipientEmailAddress RecipientObjectId Subject EmailClusterId:long EmailDirection DeliveryAction
        DeliveryLocation ThreatTypes ThreatNames DetectionMethods ConfidenceLevel BulkComplaintLevel:int
        EmailAction EmailActionPolicy EmailActionPolicyGuid AuthenticationDetails AttachmentCount:int UrlCount:int
        EmailLanguage Connectors OrgLevelAction OrgLevelPolicy UserLevelAction UserLevelPolicy ReportId
        AdditionalFields:dynamic LatestDeliveryLocation LatestDeliveryAction""",
    "EmailUrlInfo": "Timestamp:datetime NetworkMessageId Url UrlDomain UrlLocation ReportId",
    "EmailAttachmentInfo": """Timestamp:datetime NetworkMessageId SenderFromAddress SenderDisplayName
        SenderObjectId RecipientEmailAddress RecipientObjectId FileName FileType SHA256 FileSize:long ThreatTypes
        ThreatNames DetectionMethods ReportId""",
    "IdentityQueryEvents": f"""Timestamp:datetime ActionType Application QueryType QueryTarget Query Protocol
        {_ACCOUNT} DeviceName IPAddress Port:int DestinationDeviceName DestinationIPAddress DestinationPort:int
        TargetDeviceName TargetAccountUpn TargetAccountDisplayName Location ReportId AdditionalFields:dynamic""",
    "IdentityDirectoryEvents": f"""Timestamp:datetime ActionType Application TargetAccountUpn
        TargetAccountDisplayName TargetDeviceName DestinationDeviceName DestinationIPAddress DestinationPort:int
        Protocol {_ACCOUNT} DeviceName IPAddress Port:int Location ISP ReportId AdditionalFields:dynamic""",
    "IdentityLogonEvents": f"""Timestamp:datetime ActionType Application LogonType Protocol FailureReason
        {_ACCOUNT} DeviceName DeviceType OSPlatform IPAddress Port:int DestinationDeviceName DestinationIPAddress
        DestinationPort:int TargetDeviceName TargetAccountDisplayName Location Isp ReportId
        AdditionalFields:dynamic""",
    "IdentityInfo": """Timestamp:datetime ReportId AccountObjectId AccountUpn OnPremSid AccountDisplayName
        AccountName AccountDomain CriticalityLevel:int Type DistinguishedName CloudSid GivenName Surname Department
        JobTitle EmailAddress SipProxyAddress Address City Country IsAccountEnabled:bool Manager Phone
        CreatedDateTime:datetime ChangeSource BlastRadius CompanyName DeletedDateTime:datetime EmployeeId
        OtherMailAddresses:dynamic RiskLevel RiskLevelDetails State Tags:dynamic AssignedRoles:dynamic
        PrivilegedEntraPimRoles:dynamic TenantId SourceSystem OnPremObjectId TenantMembershipType RiskStatus
        UserAccountControl IdentityEnvironment SourceProviders:dynamic GroupMembership:dynamic""",
    "CloudAppEvents": """Timestamp:datetime ActionType Application ApplicationId:int AppInstanceId:int
        AccountObjectId AccountId AccountDisplayName IsAdminOperation:bool DeviceType OSPlatform IPAddress
        IsAnonymousProxy:bool CountryCode City Isp UserAgent ActivityType ActivityObjects:dynamic ObjectName
        ObjectType ObjectId ReportId AccountType IsExternalUser:bool IsImpersonated:bool IPTags:dynamic IPCategory
        UserAgentTags:dynamic RawEventData:dynamic AdditionalFields:dynamic LastSeenForUser:dynamic
        UncommonForUser:dynamic AuditSource SessionData:dynamic OAuthAppId""",
    "AADSignInEventsBeta": """Timestamp:datetime Application ApplicationId LogonType ErrorCode:int CorrelationId
        SessionId AccountDisplayName AccountObjectId AccountUpn IsExternalUser:int IsGuestUser:bool
        AlternateSignInName LastPasswordChangeTimestamp:datetime ResourceDisplayName ResourceId ResourceTenantId
        DeviceName AadDeviceId EntraIdDeviceId OSPlatform DeviceTrustType IsManaged:int IsCompliant:int
        AuthenticationProcessingDetails AuthenticationRequirement TokenIssuerType:int RiskLevelAggregated:int
        RiskDetails:int RiskState:int UserAgent ClientAppUsed Browser ConditionalAccessPolicies
        ConditionalAccessStatus:int IPAddress Country State City Latitude Longitude NetworkLocationDetails RequestId
        ReportId EndpointCall""",
}
# What the Sentinel / Log Analytics copy of a table adds (kqlhunt's `sentinel` flavour of DeviceNetworkEvents).
SENTINEL_EXTRA = "TenantId TimeGenerated:datetime SourceSystem Type"


def table_schema(name: str, flavour: str = "defender") -> list[tuple[str, str]] | None:
    """[(column, kusto type)] of a table with a documented schema here, or None."""
    spec = TABLE_SCHEMAS.get(name)
    if spec is None:
        return None
    cols = [(c, t or "string") for c, _, t in (item.partition(":") for item in spec.split())]
    if flavour == "sentinel":
        have = {c for c, _ in cols}
        extra = SENTINEL_EXTRA.split() + (["MachineGroup"] if name.startswith("Device") else [])
        cols += [(c, t or "string") for c, _, t in (item.partition(":") for item in extra) if c not in have]
    return cols


def flavour_of(text: str) -> str:
    from kqlhunt.semantic.catalog import choose_flavour

    return choose_flavour(text)


def schemas_for(tables: Iterable[str], flavour: str) -> dict[str, list[tuple[str, str]]]:
    return {t: s for t in tables if (s := table_schema(t, flavour)) is not None}


# ------------------------------------------------------------------------------------- classification

UNSUPPORTED_TAIL = re.compile(r"\s+is not supported by kqlhunt yet.*$", re.DOTALL)


def construct_of(message: str) -> str:
    """The construct a KH3xx message refuses: "the `parse` operator", "the `x()` function"..."""
    what = UNSUPPORTED_TAIL.sub("", message.strip().splitlines()[0]).strip()
    m = re.fullmatch(r"the function `([^`]+?)(?:\(\))?`", what)  # two spellings of one thing
    if m:
        what = f"the `{m.group(1)}()` function"
    return what


NAME_IN_TICKS = re.compile(r"`([^`]*[A-Z0-9_][^`]*)`")


def error_key(code: str, message: str) -> str:
    """A grouping key for a failure: the construct for KH3xx, else the message with user-chosen names
    (identifiers with a capital letter, digit or underscore) replaced by `…`."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    if code.startswith("KH3"):
        return construct_of(first)
    if code.startswith("KH4"):
        first = re.sub(r"\s+", " ", first)[:120]
    return NAME_IN_TICKS.sub(lambda m: "`…`" if re.fullmatch(r"[A-Za-z_]\w*", m.group(1)) else m.group(0), first)


UNKNOWN_TABLE = re.compile(r"unknown table `([^`]+)`")


def missing_table(code: str, message: str) -> str | None:
    m = UNKNOWN_TABLE.search(message) if code == "KH203" else None
    return m.group(1) if m else None


# --------------------------------------------------------------------------------------------- worker

STAGES = ("parse", "bind", "run_empty", "run_gen")


def _empty_table(schema: list[tuple[str, str]]):
    import pyarrow as pa

    types = {"string": pa.string(), "int": pa.int32(), "long": pa.int64(), "real": pa.float64(),
             "bool": pa.bool_(), "datetime": pa.timestamp("us", tz="UTC"),
             "dynamic": pa.list_(pa.int64())}  # BIGINT[]: kqlhunt reads a type it has no name for as dynamic
    return pa.table({c: pa.array([], type=types[t]) for c, t in schema})


def worker_main(conn, config: dict) -> None:
    """Child process: answer {"stage", "query", "tables", "flavour"} requests until None."""
    import traceback

    import kqlhunt
    import kqlhunt.api
    from kqlhunt.demo import generate_table
    from kqlhunt.syntax.parser import parse

    now = datetime.fromisoformat(config["now"])
    generated = generate_table(config["rows"], seed=config["seed"], now=now) if config["rows"] else None
    conn.send({"ready": True})
    while (req := conn.recv()) is not None:
        text, stage, flavour = req["query"], req["stage"], req["flavour"]
        schemas = schemas_for(req["tables"], flavour)
        start = time.perf_counter()
        answer: dict = {"status": "ok"}
        try:
            if stage == "parse":
                parse(text)
            elif stage == "bind":
                compiled = kqlhunt.compile(text, schemas=schemas, now=now)
                answer["columns"] = len(compiled.columns)
            else:
                tables = {name: _empty_table(cols) for name, cols in schemas.items()}
                if stage == "run_gen" and TARGET in req["tables"]:
                    tables[TARGET] = generated
                result, _ = kqlhunt.api.run(text, tables=tables, now=now, memory_limit=config["memory_limit"],
                                            threads=config["threads"], resolver=_offline_resolver())
                answer["rows"] = result.num_rows
        except kqlhunt.KqlError as exc:
            d = exc.diagnostics[0] if exc.diagnostics else None
            answer = {"status": "error", "code": d.code if d else "KH???", "message": d.message if d else str(exc)}
            if d is not None:
                answer.update({k: v for k, v in d.to_dict(text).items() if k in ("line", "col", "start", "end")})
        except Exception as exc:  # kqlhunt must raise KqlError for every bad query: this is a bug to report
            answer = {"status": "error", "code": "internal", "message": f"{type(exc).__name__}: {exc}",
                      "traceback": traceback.format_exc(limit=-4)}
        answer["seconds"] = round(time.perf_counter() - start, 4)
        conn.send(answer)


def _offline_resolver():  # type: ignore[no-untyped-def]
    """externaldata without the network: every URI reads as an empty file (the hunt still runs end to
    end; threat-intel lists are simply empty)."""
    import tempfile

    from kqlhunt.engines.external import ExternalResolver

    class Offline(ExternalResolver):
        def resolve(self, uri, source):  # type: ignore[no-untyped-def]
            empty = Path(tempfile.gettempdir()) / "kqlhunt-bench-empty.txt"
            empty.touch()
            return empty

    return Offline()


class Worker:
    """A worker process with a watchdog: a request that takes longer than its time limit kills it (the
    next request starts a fresh one)."""

    def __init__(self, config: dict, startup_timeout: float = 600.0):
        self.config = config
        self.startup_timeout = startup_timeout
        self.ctx = mp.get_context("spawn")
        self.proc = None
        self.conn = None
        self.restarts = -1

    def _start(self) -> None:
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=worker_main, args=(child, self.config), daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent
        self.restarts += 1
        if not parent.poll(self.startup_timeout):
            raise RuntimeError("worker did not start (generating the demo table took too long?)")
        parent.recv()  # EOFError if the worker died while starting

    def call(self, req: dict, timeout: float) -> dict:
        start = time.perf_counter()
        try:
            if self.proc is None or not self.proc.is_alive():
                self._start()
                start = time.perf_counter()
            self.conn.send(req)
            if self.conn.poll(timeout):
                return self.conn.recv()
            self.stop()
            return {"status": "timeout", "code": "timeout", "message": f"no answer within {timeout:g} s",
                    "seconds": round(time.perf_counter() - start, 4)}
        except (EOFError, BrokenPipeError, ConnectionResetError, RuntimeError) as exc:
            code = self.proc.exitcode if self.proc else None
            self.stop()
            return {"status": "crash", "code": "crash", "message": f"worker died (exit code {code}; {exc!r})",
                    "seconds": round(time.perf_counter() - start, 4)}

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.is_alive():
                self.proc.kill()
            self.proc.join(5)
        if self.conn is not None:
            self.conn.close()
        self.proc = self.conn = None


def evaluate(q: Query, worker: Worker, timeouts: dict[str, float]) -> dict:
    """Run the stages of one query in order; a stage runs only if the one before it succeeded."""
    flavour = flavour_of(q.text)
    needs = sorted(set(q.tables) - {TARGET} - set(TABLE_SCHEMAS))
    out: dict = {"flavour": flavour, "needs_tables": needs, "stages": {}}
    stages = out["stages"]
    req = {"query": q.text, "tables": q.tables, "flavour": flavour}
    for stage in STAGES:
        if stage != "parse" and (needs or stages[STAGES[STAGES.index(stage) - 1]]["status"] != "ok"):
            break
        if stage == "run_gen" and TARGET not in q.tables:
            stages[stage] = dict(stages["run_empty"], same_as="run_empty")  # no table here has rows
            break
        answer = worker.call(dict(req, stage=stage), timeouts[stage])
        if stage == "bind" and (table := missing_table(answer.get("code", ""), answer.get("message", ""))):
            needs.append(table)
            answer["needs_table"] = table
        stages[stage] = answer
    return out


# --------------------------------------------------------------------------------------------- oracle

# Defender XDR's built-in functions (Microsoft Learn: advanced-hunting-*-function.md): valid in the portal,
# unknown to a bare Kusto.Language; an oracle diagnostic about one is not a sign of a broken hunt.
DEFENDER_FUNCTIONS = frozenset({"AssignedIPAddresses", "DeviceFromIP", "FileProfile", "SeenBy",
                                "GetAnomalousBehaviorsAbout", "GetAnomalousBehaviorsByKind",
                                "GetAnomalousBehaviorsByValue", "GetFirstSeenBehaviors",
                                "GetHighVolumeAnomalyBehaviors", "GetUncommonValueBehaviors"})


def oracle_request(q: Query, flavour: str) -> dict:
    from kqlhunt.semantic.catalog import builtin_schema

    tables = {t: [[c, ty] for c, ty in cols] for t, cols in schemas_for(q.tables, flavour).items()}
    tables[TARGET] = [[c.name, c.type.name] for c in builtin_schema(TARGET, flavour)]
    return {"id": q.id, "query": q.text, "tables": tables, "default_tables": False}


def run_oracle(oracle_dir: Path, requests: list[dict], jobs: int, timeout: float = 3600.0) -> dict[str, dict]:
    """Microsoft's Kusto.Language on every query (one batch): {id: raw answer}."""
    with tempfile.TemporaryDirectory(prefix="real_hunts_oracle_") as tmp:
        src, dst = Path(tmp, "in.jsonl"), Path(tmp, "out.jsonl")
        src.write_text("".join(json.dumps(r) + "\n" for r in requests), encoding="utf-8")
        subprocess.run(["node", str(oracle_dir / "kqlcheck.js"), "--batch", str(src), "--out", str(dst),
                        "--jobs", str(jobs)], check=True, timeout=timeout, cwd=oracle_dir)
        answers = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {a.get("id"): a for a in answers}


def oracle_verdict(answer: dict | None, needs: Iterable[str]) -> dict:
    """valid / syntax / semantic (broken upstream, or written against another schema) / error. Unknown-name
    diagnostics about tables kqlhunt was given no schema for are not held against the query; nor is any
    semantic diagnostic once the query calls a Defender built-in function (FileProfile, ...), which a bare
    Kusto.Language does not know."""
    if answer is None:
        return {"verdict": "n/a"}
    if "error" in answer:
        return {"verdict": "error", "message": answer["error"]}
    missing = set(needs)
    errors = [d for d in answer.get("diagnostics", []) if d.get("severity") == "Error"]
    syntax = [d for d in errors if d.get("phase") == "syntax"]
    if syntax:
        return {"verdict": "syntax", "code": syntax[0]["code"], "message": syntax[0]["message"],
                "line": syntax[0].get("line"), "col": syntax[0].get("col")}
    real = [d for d in errors if not (d["code"] == "KS204" and d.get("snippet") in missing)]
    if any(d["code"] == "KS211" and d.get("snippet") in DEFENDER_FUNCTIONS for d in real):
        # the result of a Defender function is unknown here, so are the names used after it
        return {"verdict": "valid", "note": "semantics not checked past a Defender built-in function"}
    if real:
        return {"verdict": "semantic", "code": real[0]["code"], "message": real[0]["message"],
                "line": real[0].get("line"), "col": real[0].get("col")}
    return {"verdict": "valid"}


# -------------------------------------------------------------------------------------------- summary


def first_failure(outcome: dict) -> tuple[str, dict] | None:
    for stage in STAGES:
        answer = outcome["stages"].get(stage)
        if answer is not None and answer["status"] != "ok" and "needs_table" not in answer:
            return stage, answer
    return None


def _pct(k: int, n: int) -> str:
    return f"{100 * k / n:5.1f}%" if n else "   n/a"


def summarise(queries: list[Query], outcomes: dict[str, dict]) -> dict:
    """Counts and rates for one scope (a list of queries)."""
    n = len(queries)
    needs = [q for q in queries if outcomes[q.id]["needs_tables"]]
    needs_ids = {q.id for q in needs}
    ok = {s: sum(outcomes[q.id]["stages"].get(s, {}).get("status") == "ok" for q in queries) for s in STAGES}
    # the grammar is fine when the parser accepts the text or refuses a construct by name (KH3xx)
    nonempty = sum(outcomes[q.id]["stages"].get("run_gen", {}).get("rows", 0) > 0 for q in queries)
    grammar = sum(outcomes[q.id]["stages"]["parse"].get("code", "KH3").startswith("KH3") for q in queries)
    eligible = n - len(needs)
    verdicts = Counter(outcomes[q.id]["oracle"]["verdict"] for q in queries)
    valid = [q for q in queries if outcomes[q.id]["oracle"]["verdict"] == "valid" and q.id not in needs_ids]
    ok_valid = {s: sum(outcomes[q.id]["stages"].get(s, {}).get("status") == "ok" for q in valid) for s in STAGES}
    by_code: Counter = Counter()
    groups: dict[str, dict[str, dict]] = {"KH1": {}, "KH2": {}, "KH3": {}, "other": {}}
    for q in queries:
        failure = first_failure(outcomes[q.id])
        if failure is None:
            continue
        stage, answer = failure
        code, message = answer.get("code", "?"), answer.get("message", "")
        by_code[f"{code} ({stage})"] += 1
        group = code[:3] if code[:3] in groups else "other"
        if group != "other":
            key = error_key(code, message)
        elif code.startswith("KH"):
            key = f"{code} {stage}: {error_key(code, message)}"
        else:  # internal error, timeout, crash
            key = f"{code} {stage}: {' '.join(message.split())[:100]}"
        entry = groups[group].setdefault(key, {"queries": 0, "valid_kql": 0, "example": (
            f"{q.id} @{answer.get('line', '?')}:{answer.get('col', '?')}  {_snippet(q.text, answer)}")})
        entry["queries"] += 1
        entry["valid_kql"] += outcomes[q.id]["oracle"]["verdict"] == "valid"

    def ranked(group: str) -> dict[str, dict]:
        return dict(sorted(groups[group].items(), key=lambda kv: (-kv[1]["queries"], kv[0])))

    return {
        "queries": n, "needs_table": len(needs), "eligible": eligible, "grammar_ok": grammar,
        "run_gen_nonempty": nonempty,
        "ok": ok, "rates": {"parse": _ratio(ok["parse"], n), **{s: _ratio(ok[s], eligible) for s in STAGES[1:]}},
        "valid_kql": len(valid), "ok_valid": ok_valid,
        "rates_valid": {s: _ratio(ok_valid[s], len(valid)) for s in STAGES},
        "oracle": dict(verdicts),
        "needs_tables": dict(Counter(t for q in needs for t in outcomes[q.id]["needs_tables"]).most_common()),
        "failures_by_code": dict(by_code.most_common()),
        "refused_constructs": ranked("KH3"),
        "syntax_errors": ranked("KH1"),
        "name_type_errors": ranked("KH2"),
        "other_failures": ranked("other"),
    }


def _ratio(k: int, n: int) -> float | None:
    return round(k / n, 4) if n else None


def _snippet(text: str, answer: dict) -> str:
    start = answer.get("start")
    if start is None:
        return ""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line = text[line_start:line_end if line_end >= 0 else len(text)]
    col = start - line_start
    lo = max(0, col - 40)
    return repr(line[lo:col + 40].strip())[:90]


def print_summary(title: str, s: dict, top: int) -> None:
    n, e, v = s["queries"], s["eligible"], s["valid_kql"]
    print(f"\n=== {title}: {n} unique queries ({s['needs_table']} need a table kqlhunt has no schema for) ===")
    if s["oracle"]:
        print("oracle (Kusto.Language): " + ", ".join(f"{k} {c}" for k, c in sorted(s["oracle"].items())))
    print(f"{'stage':<10} {'ok':>5} {'of':>5} {'rate':>7}   {'valid KQL':>9} {'rate':>7}")
    for stage in STAGES:
        denom = n if stage == "parse" else e
        print(f"{stage:<10} {s['ok'][stage]:>5} {denom:>5} {_pct(s['ok'][stage], denom):>7}   "
              f"{s['ok_valid'][stage]:>4}/{v:<4} {_pct(s['ok_valid'][stage], v):>7}")
    print(f"grammar ok (parsed, or refused by name at parse time): {s['grammar_ok']} {_pct(s['grammar_ok'], n)}; "
          f"run_gen returned rows for {s['run_gen_nonempty']} of {s['ok']['run_gen']}")
    if s["needs_tables"]:
        print("needs table: " + ", ".join(f"{t} {c}" for t, c in list(s["needs_tables"].items())[:top]))
    print("first failure by code: " + ", ".join(f"{k} {c}" for k, c in s["failures_by_code"].items()))
    for label, field_name, group in (("refused constructs (KH3xx)", "refused_constructs", "KH3"),
                                     ("syntax errors (KH1xx)", "syntax_errors", "KH1"),
                                     ("name/type errors (KH2xx)", "name_type_errors", "KH2"),
                                     ("engine, internal, timeouts", "other_failures", "other")):
        rows = list(s[field_name].items())[:top]
        if not rows:
            continue
        print(f"\n  top {label}  (queries, of which valid KQL per the oracle):")
        for key, entry in rows:
            print(f"  {entry['queries']:>4} {entry['valid_kql']:>4}  {key}")
            if group != "KH3":
                print(f"             e.g. {entry['example']}")


# ----------------------------------------------------------------------------------------------- main


def collect(repos: list[Path]) -> tuple[list[dict], list[Query], int]:
    metas, found = [], []
    for root in repos:
        label, commit, files, missing = read_repo(root)
        queries = [q for f in files for q in extract(f)]
        metas.append({"repo": label, "path": str(root), "commit": commit, "files": len(files),
                      "unreadable_files": missing, "queries": len(queries),
                      "reading_" + TARGET: sum(TARGET in q.tables for q in queries)})
        found += queries
    return metas, dedupe(found), len(found)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", action="append", type=Path, required=True,
                    help="a git directory (bare mirror) or work tree of a hunting-query repository (repeatable)")
    ap.add_argument("--json", type=Path, help="write per-query outcomes and the summaries here")
    ap.add_argument("--oracle", type=Path, default=DEFAULT_ORACLE if DEFAULT_ORACLE.is_dir() else None,
                    help=f"kql-oracle folder (kqlcheck.js); default {DEFAULT_ORACLE} when present")
    ap.add_argument("--no-oracle", action="store_true", help="skip the Kusto.Language check")
    ap.add_argument("--scope", choices=("dne", "defender"), default="defender",
                    help="measure only DeviceNetworkEvents hunts, or every Defender hunt (default)")
    ap.add_argument("--rows", type=int, default=50_000, help="rows of the generated DeviceNetworkEvents table")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per stage before the worker is killed")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes")
    ap.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit of each run")
    ap.add_argument("--limit", type=int, help="measure only the first N queries (a quick look)")
    ap.add_argument("--top", type=int, default=15, help="rows of each 'top' table")
    args = ap.parse_args(argv)

    metas, queries, extracted = collect(args.repo)
    queries.sort(key=lambda q: (TARGET not in q.tables, q.id))  # DeviceNetworkEvents hunts first
    if args.scope == "dne":
        queries = [q for q in queries if TARGET in q.tables]
    if args.limit:
        queries = queries[:args.limit]
    for m in metas:
        print(f"{m['repo']} @ {(m['commit'] or 'work tree')[:12]}: {m['files']} files, {m['queries']} queries "
              f"reading a Defender table ({m['reading_' + TARGET]} read {TARGET})"
              + (f", {len(m['unreadable_files'])} files missing from the snapshot" if m["unreadable_files"] else ""))
    print(f"{extracted} queries, {len(queries)} unique measured")

    outcomes: dict[str, dict] = {}
    oracle_answers: dict[str, dict] = {}
    if args.oracle and not args.no_oracle:
        start = time.perf_counter()
        oracle_answers = run_oracle(args.oracle, [oracle_request(q, flavour_of(q.text)) for q in queries],
                                    args.jobs)
        print(f"oracle: {len(oracle_answers)} answers in {time.perf_counter() - start:.0f} s")

    config = {"rows": args.rows, "seed": 7, "now": NOW.isoformat(), "memory_limit": args.memory_limit,
              "threads": 1}
    timeouts = dict.fromkeys(STAGES, args.timeout)
    local = threading.local()
    workers: list[Worker] = []
    lock = threading.Lock()

    def job(q: Query) -> None:
        if not hasattr(local, "worker"):
            local.worker = Worker(config)
            with lock:
                workers.append(local.worker)
        outcome = evaluate(q, local.worker, timeouts)
        with lock:
            outcomes[q.id] = outcome
            if len(outcomes) % 50 == 0 or len(outcomes) == len(queries):
                print(f"  {len(outcomes)}/{len(queries)} measured", file=sys.stderr, flush=True)

    start = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            list(pool.map(job, queries))
    finally:
        for w in workers:
            w.stop()
    elapsed = time.perf_counter() - start
    for q in queries:
        outcome = outcomes[q.id]
        outcome["oracle"] = oracle_verdict(oracle_answers.get(q.id), outcome["needs_tables"]) \
            if oracle_answers else {"verdict": "n/a"}

    scopes = {TARGET: [q for q in queries if TARGET in q.tables]}
    if args.scope == "defender":
        scopes["all Defender hunts"] = queries
    summaries = {name: summarise(qs, outcomes) for name, qs in scopes.items()}
    for name, s in summaries.items():
        print_summary(name, s, args.top)
    restarts = sum(max(0, w.restarts) for w in workers)
    print(f"\nmeasured in {elapsed:.0f} s with {args.jobs} workers ({restarts} worker restarts after a timeout "
          "or crash)")

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = {
            "meta": {"argv": sys.argv if argv is None else argv, "now": NOW.isoformat(), "rows": args.rows,
                     "timeout_s": args.timeout, "kqlhunt_commit": _git(PROJECT, "rev-parse", "HEAD").strip(),
                     "repos": metas, "extracted": extracted, "measured": len(queries), "seconds": round(elapsed)},
            "summaries": summaries,
            "queries": [{**asdict(q), **outcomes[q.id]} for q in queries],
        }
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
