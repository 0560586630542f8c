"""The three seed hunts re-implemented in plain pandas/numpy: an independent expectation for kqlhunt.

    seed000(df, now, *, time_column="Timestamp", geo_country=...) -> DataFrame
    seed003(df, now) -> DataFrame
    seed004(df, now) -> DataFrame

`df` is a DeviceNetworkEvents frame as read from the lake (docs/CONVENTIONS.md types: naive-UTC timestamps,
strings never null, RemotePort a nullable integer). Each function returns what Kusto returns for the seed
text in /work/shared/seeds, with Kusto's column names in Kusto's order; dynamic values are Python lists,
datetimes are tz-aware UTC, long columns int64, int columns int32, real columns float64.

Written from the KQL text and the Kusto documentation only; nothing here imports kqlhunt. Every semantic
decision is stated next to the code that makes it. Where Kusto leaves a value open (make_set order, any()),
the choice made here is documented and tests must compare such columns as sets / memberships.

Output schemas, as answered by the Kusto.Language oracle (/work/shared/kql-oracle, kqlcheck.js over the seed
texts, asked 2026-11-23; seed 004 also reports the known false alarm KS134 on make_timespan(0,0,0.001)):
  000: InitiatingProcessFileName:string, Hashes:dynamic, DeviceCount:long, SampleProcess:string,
       SampleRemoteIP:string, Ports:dynamic, RemoteIP_country:string  (the Sentinel text over the sentinel
       schema variant gives the same columns)
  003: RemoteUrl:string, ConnectionCount:long, DistinctHostCount:long, set_DeviceName:dynamic,
       set_RemoteIPType:dynamic, set_RemotePort:dynamic, set_InitiatingProcessParentFileName:dynamic,
       set_InitiatingProcessFileName:dynamic, set_RemoteIP:dynamic, set_InitiatingProcessCommandLine:dynamic
  004: InitiatingProcessFileName:string, RemoteIP:string, RemotePort:int, dcount_DeviceId:long,
       DeviceId:string, DeviceName:string, InitiatingProcessAccountName:string,
       InitiatingProcessAccountDomain:string, RemoteIP2:string, count_:long, min_Timestamp:datetime,
       max_Timestamp:datetime, Duration:long, percentile_TimeDeltaInSeconds_5:long, ..._25:long, ..._50:long,
       ..._75:long, ..._95:long, TimeDeltaList:dynamic, TimeDeltaInSeconds_min:real,
       TimeDeltaInSeconds_min_index:long, TimeDeltaInSeconds_max:real, TimeDeltaInSeconds_max_index:long,
       TimeDeltaInSeconds_avg:real, TimeDeltaInSeconds_stdev:real, TimeDeltaInSeconds_variance:real,
       Jitter:real, BeaconSleepMin:real, BeaconSleepMax:real, Domains:dynamic, Timestamp:datetime
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

SEED000_COLUMNS = ["InitiatingProcessFileName", "Hashes", "DeviceCount", "SampleProcess", "SampleRemoteIP",
                   "Ports", "RemoteIP_country"]
SEED003_COLUMNS = ["RemoteUrl", "ConnectionCount", "DistinctHostCount", "set_DeviceName", "set_RemoteIPType",
                   "set_RemotePort", "set_InitiatingProcessParentFileName", "set_InitiatingProcessFileName",
                   "set_RemoteIP", "set_InitiatingProcessCommandLine"]
_PCTS = (5, 25, 50, 75, 95)
SEED004_COLUMNS = [
    "InitiatingProcessFileName", "RemoteIP", "RemotePort", "dcount_DeviceId", "DeviceId", "DeviceName",
    "InitiatingProcessAccountName", "InitiatingProcessAccountDomain", "RemoteIP2", "count_", "min_Timestamp",
    "max_Timestamp", "Duration", *(f"percentile_TimeDeltaInSeconds_{p}" for p in _PCTS), "TimeDeltaList",
    "TimeDeltaInSeconds_min", "TimeDeltaInSeconds_min_index", "TimeDeltaInSeconds_max",
    "TimeDeltaInSeconds_max_index", "TimeDeltaInSeconds_avg", "TimeDeltaInSeconds_stdev",
    "TimeDeltaInSeconds_variance", "Jitter", "BeaconSleepMin", "BeaconSleepMax", "Domains", "Timestamp"]

_SECOND_US = 1_000_000


# ----------------------------------------------------------------------------------------------------------
# Scalar semantics shared by the seeds (unit-tested in test_seeds_pandas.py)

def naive_utc(now: datetime) -> pd.Timestamp:
    """`now` as a naive UTC pandas Timestamp (the lake stores naive UTC)."""
    ts = pd.Timestamp(now)
    return ts.tz_convert(UTC).tz_localize(None) if ts.tzinfo is not None else ts


def _timestamps(s: pd.Series) -> pd.Series:
    """A datetime column as naive-UTC datetime64[us]."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert(UTC).dt.tz_localize(None)
    return s.astype("datetime64[us]")


def _as_text(s: pd.Series) -> pd.Series:
    """String column with Kusto's no-null rule: a missing string is the empty string."""
    if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
        return s.fillna("")
    return s.astype(object).where(s.notna(), "").astype(str)


def has_term(value: str, term: str) -> bool:
    """Kusto `has` (case-insensitive): `term` occurs in `value` as a whole term, i.e. not preceded or followed
    by an ASCII letter or digit (Kusto's terms are maximal runs of alphanumerics)."""
    pattern = r"(?<![0-9A-Za-z])" + re.escape(term) + r"(?![0-9A-Za-z])"
    return re.search(pattern, value, flags=re.IGNORECASE) is not None


def _has_mask(s: pd.Series, term: str) -> np.ndarray:
    """has_term over a column, evaluated once per distinct value (a missing string is "")."""
    codes, uniques = pd.factorize(s)
    hit = np.append(np.array([has_term(str(u), term) for u in uniques], dtype=bool), has_term("", term))
    return hit[codes]  # code -1 (missing) picks the appended "" entry


def ends_with_ci(s: pd.Series, suffix: str) -> pd.Series:
    """Kusto `endswith` is case-insensitive."""
    return _as_text(s).str.lower().str.endswith(suffix.lower())


def starts_with_ci(value: str, prefix: str) -> bool:
    return value.lower().startswith(prefix.lower())


_IPV4 = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:/(\d{1,2}))?$")


def parse_ipv4(value: str) -> ipaddress.IPv4Address | None:
    """An IPv4 address as Kusto's ipv4_* functions accept it (dotted quad, optional /prefix), else None."""
    m = _IPV4.match(value or "")
    if not m or any(int(g) > 255 for g in m.groups()[:4]) or (m.group(5) and int(m.group(5)) > 32):
        return None
    return ipaddress.IPv4Address(".".join(m.groups()[:4]))


_RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def ipv4_is_private(value: str) -> bool | None:
    """Kusto ipv4_is_private(): true for 10/8, 172.16/12 and 192.168/16 (the docs' table; loopback and
    link-local are *not* private here); null (None) when the text is not an IPv4 address, e.g. IPv6."""
    ip = parse_ipv4(value)
    if ip is None:
        return None
    return any(ip in net for net in _RFC1918)


def ipv4_lookup_match(value: str, networks: Sequence[str]) -> str:
    """The first network (as written in the lookup table) containing the IPv4 address, or "" when there is
    none or the value is not IPv4 (ipv4_lookup's return_unmatched rows get an empty string key)."""
    ip = parse_ipv4(value)
    if ip is None:
        return ""
    for net in networks:
        if ip in ipaddress.ip_network(net, strict=False):
            return net
    return ""


def datetime_diff_seconds(later: np.ndarray, earlier: np.ndarray) -> np.ndarray:
    """datetime_diff('second', later, earlier): the number of second *boundaries* crossed, i.e.
    floor(later / 1 s) - floor(earlier / 1 s), not the truncated elapsed time (the docs' example
    datetime_diff('second', 10:00:10.0, 10:00:00.9) gives 10, truncation would give 9)."""
    a = np.asarray(later, dtype="datetime64[us]").astype(np.int64)
    b = np.asarray(earlier, dtype="datetime64[us]").astype(np.int64)
    return np.floor_divide(a, _SECOND_US) - np.floor_divide(b, _SECOND_US)


def percentile_nearest_rank(values: Sequence[float], p: float) -> float:
    """Kusto percentile(): nearest-rank on the sorted values, element ceil(p/100 * n) (1-based, at least the
    first). Kusto computes an estimate (t-digest); on a few hundred values it is exact in practice."""
    v = np.sort(np.asarray(values))
    rank = max(1, math.ceil(p / 100.0 * len(v)))
    return v[rank - 1]


def series_stats(values: Sequence[float]) -> tuple[float, int, float, int, float, float, float]:
    """series_stats(): (min, min_idx, max, max_idx, avg, stdev, variance); indexes are the first occurrence,
    stdev/variance are the *sample* (n - 1) ones."""
    v = np.asarray(values, dtype=np.float64)
    var = float(v.var(ddof=1)) if len(v) > 1 else 0.0
    return (float(v.min()), int(v.argmin()), float(v.max()), int(v.argmax()), float(v.mean()),
            math.sqrt(var), var)


# series_outliers(): the docs name Tukey's fences on the 10th/90th percentiles ("ctukey") and give a random
# worked example; the real engine's output for that example is frozen in
# /work/shared/conformance/kusto-docs-dev.json (case series-outliers-function-00, 365 values, 74 non-zero
# scores). Fitting it shows, exactly (residuals ~1e-15):
#   * the fences are P10 and P90 with *linear interpolation* between closest ranks (position p*(n-1),
#     numpy's default "linear" method) - not nearest-rank like percentile();
#   * values inside [P10, P90] score 0; above: (x - P90) / s; below: (x - P10) / s (negative);
#   * one scale s for both sides, s = (P90 - P10) / 2.772605605507949.
# The divisor is fitted (to ~1e-13) from that example. It reads as a normalisation to classic Tukey units:
# under a normal distribution Tukey's fence Q75 + 1.5 IQR sits near 2.7 sigma, and 1.5 * (z90 - z10) /
# (2.7 - z90) equals the divisor for z90 = 1.2968208 (not the textbook 1.2816, which would give 2.714), so a
# ctukey score of 1.5 lands where the classic one would. Only the fitted number matters here; the
# interpretation is not needed for 10/90. (The 2018 docs example [30,28,5,...] fits no fence model with one
# scale and is obsolete.) Unknown and not needed by the seeds: P90 == P10 (here: 0 inside, +-inf outside).
CTUKEY_RANGE_DIVISOR = 2.772605605507949


def series_outliers(values: Sequence[float], low: float = 10.0, high: float = 90.0) -> list[float]:
    v = np.asarray(values, dtype=np.float64)
    p_low, p_high = np.percentile(v, [low, high], method="linear")
    scale = (p_high - p_low) / CTUKEY_RANGE_DIVISOR
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(v > p_high, (v - p_high) / scale, np.where(v < p_low, (v - p_low) / scale, 0.0))
    return [float(x) for x in score]


def url_host(url: str) -> str:
    """tostring(parse_url(u).Host): the host part of an absolute URL, "" when there is none."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return ""
    host = netloc.rsplit("@", 1)[-1]
    if host.startswith("["):
        return host[1: host.find("]")] if "]" in host else ""
    return host.split(":", 1)[0]


_LAST_THREE_LABELS = re.compile(r"([A-z0-9-]+\.[A-z0-9-]+\.[A-z0-9-]+)\..*")


def seed004_domain(remote_url: str) -> str:
    """Seed 004's Domains expression for one RemoteUrl:
    Host = tostring(parse_url(iif(RemoteUrl !startswith "http", strcat("http://", RemoteUrl),
                                  RemoteUrl)).Host)
    domain = reverse(replace(@'([A-z0-9-]+\\.[A-z0-9-]+\\.[A-z0-9-]+)\\..*', @'\\1', reverse(Host)))
    `replace` is replace_regex (every non-overlapping match; `[A-z]` is the ASCII range A..z, as in Python).
    On the reversed host the match keeps the first three labels, i.e. the host's last three labels."""
    url = remote_url if starts_with_ci(remote_url, "http") else "http://" + remote_url
    host = url_host(url)
    return _LAST_THREE_LABELS.sub(r"\1", host[::-1])[::-1]


def make_set(values: Iterable) -> list:
    """make_set(): distinct non-null values; Kusto leaves the order open, first-seen order is used here.
    Empty strings are values (Kusto strings have no null), so they are kept."""
    out: list = []
    seen: set = set()
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            continue
        v = v.item() if isinstance(v, np.generic) else v
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


def take_any(values: Iterable[str]) -> str:
    """any()/take_any() of one string column: an arbitrary value of the group; given a single column,
    Kusto tries to return a non-empty one. Here: the first non-empty value in input order, else ""."""
    for v in values:
        if v:
            return v
    return ""


def _utc_aware(s: pd.Series) -> pd.Series:
    return s.astype("datetime64[us]").dt.tz_localize(UTC)


# ----------------------------------------------------------------------------------------------------------
# Seed 000 — rare outbound IPv4 from low-prevalence processes

_SEED000_EXCLUDED_NETS = ("100.0.0.0/16", "200.200.200.0/24")
_BROWSER = re.compile(r"^(msedge|chrome|firefox)\.exe\Z", re.IGNORECASE)


def seed000(df: pd.DataFrame, now: datetime, *, time_column: str = "Timestamp",
            geo_country: Callable[[str], str]) -> pd.DataFrame:
    """`time_column` is "TimeGenerated" for the Sentinel variant of the text (otherwise identical)."""
    now_ts = naive_utc(now)
    t = df
    # search in (DeviceNetworkEvents) "tcp" and "connectionsuccess" and "public"
    #   == where * has "tcp" and * has "connectionsuccess" and * has "public": each term must be a whole
    #   term (case-insensitive) of some column. Non-string columns (numbers, datetimes, bools) print without
    #   these letters, so only string columns can match. (The later filters Protocol == "Tcp", ActionType ==
    #   "ConnectionSuccess", RemoteIPType == "Public" imply all three terms, so the search cannot change the
    #   result - it is evaluated anyway.) The `$table` column search adds is dropped by the summarize.
    text_cols = [c for c in t.columns if t[c].dtype == object or pd.api.types.is_string_dtype(t[c].dtype)]
    for term in ("connectionsuccess", "tcp", "public"):  # most selective first; AND is order-free
        any_col = np.zeros(len(t), dtype=bool)
        for c in text_cols:
            any_col |= _has_mask(t[c], term)
        t = t[any_col]
    # where Timestamp > ago(30d): strict; null timestamps compare null -> dropped.
    t = t[(_timestamps(t[time_column]) > now_ts - pd.Timedelta(days=30)).to_numpy(dtype=bool)]
    # where isempty(RemoteUrl)
    t = t[_as_text(t["RemoteUrl"]) == ""]
    # evaluate ipv4_lookup(ExcludedNets, RemoteIP, ExcludedNet, return_unmatched = true): unmatched rows stay
    # with ExcludedNet == "" (a string column: empty, not null). Non-IPv4 values (IPv6) never match, so they
    # stay too - the hunt's "IPv4" intent is not enforced by the text.
    ips = _as_text(t["RemoteIP"])
    codes, uniques = pd.factorize(ips)
    net = np.array([ipv4_lookup_match(u, _SEED000_EXCLUDED_NETS) for u in uniques], dtype=object)
    excluded = net[codes] if len(uniques) else np.array([], dtype=object)
    t = t[excluded == ""]
    # where not(InitiatingProcessFileName matches regex @'(?i)^(msedge|chrome|firefox)\.exe$')
    #   RE2: `$` is end of text (no multiline), hence \Z in Python.
    names = _as_text(t["InitiatingProcessFileName"])
    t = t[~names.map(lambda s: _BROWSER.search(s) is not None).to_numpy(dtype=bool)]
    # where (Protocol == "Tcp" and ActionType == "ConnectionSuccess" and RemoteIPType == "Public")
    #   and InitiatingProcessFileName endswith ".exe" and not(RemotePort in (80, 443))
    #   == is case-sensitive, endswith is not. `null in (80, 443)` is false (null == non-null is false), so a
    #   null RemotePort passes not(...).
    port = t["RemotePort"]
    web_port = port.isin([80, 443]).to_numpy(dtype=bool) & port.notna().to_numpy(dtype=bool)
    t = t[(_as_text(t["Protocol"]) == "Tcp").to_numpy(dtype=bool)
          & (_as_text(t["ActionType"]) == "ConnectionSuccess").to_numpy(dtype=bool)
          & (_as_text(t["RemoteIPType"]) == "Public").to_numpy(dtype=bool)
          & ends_with_ci(t["InitiatingProcessFileName"], ".exe").to_numpy(dtype=bool)
          & ~web_port]
    # extend InitiatingProcessFileName=tolower(InitiatingProcessFileName)
    t = t.assign(InitiatingProcessFileName=_as_text(t["InitiatingProcessFileName"]).str.lower())
    # summarize Hashes=make_set(MD5), DeviceCount=count_distinct(DeviceId), SampleProcess=any(CommandLine),
    #   SampleRemoteIP=any(RemoteIP), Ports=make_set(RemotePort) by InitiatingProcessFileName
    #   count_distinct is exact. The two any() calls are independent (they may come from different rows).
    rows = []
    for name, g in t.groupby("InitiatingProcessFileName", sort=False):
        rows.append({
            "InitiatingProcessFileName": name,
            "Hashes": make_set(_as_text(g["InitiatingProcessMD5"])),
            "DeviceCount": int(_as_text(g["DeviceId"]).nunique()),
            "SampleProcess": take_any(_as_text(g["InitiatingProcessCommandLine"])),
            "SampleRemoteIP": take_any(_as_text(g["RemoteIP"])),
            "Ports": make_set(int(p) for p in g["RemotePort"] if pd.notna(p)),
        })
    out = pd.DataFrame(rows, columns=SEED000_COLUMNS[:-1])
    # where DeviceCount < 4
    out = out[out["DeviceCount"] < 4]
    # extend RemoteIP_country = tostring(parse_json(geo_info_from_ip_address(SampleRemoteIP)).country)
    out = out.assign(RemoteIP_country=[geo_country(ip) or "" for ip in out["SampleRemoteIP"]])
    # sort by DeviceCount asc (ties in any order; a stable sort keeps first-seen order)
    out = out.sort_values("DeviceCount", kind="stable").reset_index(drop=True)
    return out.astype({"DeviceCount": "int64"})[SEED000_COLUMNS]


# ----------------------------------------------------------------------------------------------------------
# Seed 003 — outbound connections from LOLBins

SEED003_EXCLUSION_LIST = ("login.live.com",)
SEED003_EXECUTABLES = (
    "AppInstaller.exe", "cmd.exe", "Aspnet_Compiler.exe", "At.exe", "Atbroker.exe", "Bash.exe",
    "Bitsadmin.exe", "CertOC.exe", "CertReq.exe", "Certutil.exe", "Cmdkey.exe", "cmdl32.exe",
    "Cmstp.exe", "ConfigSecurityPolicy.exe", "Conhost.exe", "Control.exe", "Csc.exe", "Cscript.exe",
    "CustomShellHost.exe", "DataSvcUtil.exe", "Desktopimgdownldr.exe", "DeviceCredentialDeployment.exe",
    "Dfsvc.exe", "Diantz.exe", "Diskshadow.exe", "Dnscmd.exe", "Esentutl.exe", "Eventvwr.exe",
    "Expand.exe", "Explorer.exe", "Extexport.exe", "Extrac32.exe", "Findstr.exe", "Finger.exe",
    "fltMC.exe", "Forfiles.exe", "Ftp.exe", "Gpscript.exe", "Hh.exe", "IMEWDBLD.exe", "Ie4uinit.exe",
    "Ieexec.exe", "Ilasm.exe", "Infdefaultinstall.exe", "Installutil.exe", "Jsc.exe", "Ldifde.exe",
    "Makecab.exe", "Mavinject.exe", "Microsoft.Workflow.Compiler.exe", "Mmc.exe", "MpCmdRun.exe",
    "Msbuild.exe", "Msconfig.exe", "Msdt.exe", "Mshta.exe", "Msiexec.exe", "Netsh.exe", "Odbcconf.exe",
    "OfflineScannerShell.exe", "OneDriveStandaloneUpdater.exe", "Pcalua.exe", "Pcwrun.exe", "Pktmon.exe",
    "Pnputil.exe", "Presentationhost.exe", "Print.exe", "PrintBrm.exe", "Psr.exe", "Rasautou.exe",
    "rdrleakdiag.exe", "Reg.exe", "Regasm.exe", "Regedit.exe", "Regini.exe", "Register-cimprovider.exe",
    "Regsvcs.exe", "Regsvr32.exe", "Replace.exe", "Rpcping.exe", "Rundll32.exe", "Runexehelper.exe",
    "Runonce.exe", "Runscripthelper.exe", "Sc.exe", "Schtasks.exe", "Scriptrunner.exe", "Setres.exe",
    "SettingSyncHost.exe", "Stordiag.exe", "SyncAppvPublishingServer.exe", "Ttdinject.exe",
    "Tttracer.exe", "Unregmp2.exe", "vbc.exe", "Verclsid.exe", "Wab.exe", "winget.exe", "Wlrmdr.exe",
    "Wmic.exe", "WorkFolders.exe", "Wscript.exe", "Wsreset.exe", "wuauclt.exe", "Xwizard.exe",
    "fsutil.exe", "wt.exe", "GfxDownloadWrapper.exe", "Advpack.dll", "Desk.cpl", "Dfshim.dll",
    "Ieadvpack.dll", "Ieframe.dll", "Mshtml.dll", "Pcwutl.dll", "Setupapi.dll", "Shdocvw.dll",
    "Shell32.dll", "Syssetup.dll", "Url.dll", "Zipfldr.dll", "Comsvcs.dll", "AccCheckConsole.exe",
    "adplus.exe", "AgentExecutor.exe", "Appvlp.exe", "Bginfo.exe", "Cdb.exe", "coregen.exe",
    "Createdump.exe", "csi.exe", "DefaultPack.EXE", "Devinit.exe",
)
_SEED003_SUFFIXES = ("measure.office.com", "windows.net", "office.com", "msn.com", "microsoft.com")


def seed003(df: pd.DataFrame, now: datetime) -> pd.DataFrame:
    now_ts = naive_utc(now)
    t = df[(_timestamps(df["Timestamp"]) > now_ts - pd.Timedelta(days=30)).to_numpy(dtype=bool)]
    # where InitiatingProcessFileName in~ (SuspiciousExecutables): case-insensitive equality with any item.
    wanted = {x.lower() for x in SEED003_EXECUTABLES}
    t = t[_as_text(t["InitiatingProcessFileName"]).str.lower().isin(wanted).to_numpy(dtype=bool)]
    # where ActionType == 'ConnectionSuccess' | where RemoteIPType != "Private" (both case-sensitive; any
    # other type, including "" and FourToSixMapping, passes)
    t = t[(_as_text(t["ActionType"]) == "ConnectionSuccess").to_numpy(dtype=bool)]
    t = t[(_as_text(t["RemoteIPType"]) != "Private").to_numpy(dtype=bool)]
    # where not(RemoteUrl in (ExclusionList)): `in` is case-sensitive ("LOGIN.LIVE.COM" would pass).
    url = _as_text(t["RemoteUrl"])
    t = t[~url.isin(SEED003_EXCLUSION_LIST).to_numpy(dtype=bool)]
    # where RemoteUrl !endswith ... (case-insensitive; "" ends with none of them, so bare-IP rows stay)
    for suffix in _SEED003_SUFFIXES:
        t = t[~ends_with_ci(t["RemoteUrl"], suffix).to_numpy(dtype=bool)]
    # summarize ConnectionCount=count(), DistinctHostCount=dcount(DeviceName), make_set(...) x7 by RemoteUrl
    #   dcount is an estimate in Kusto, exact at these sizes; make_set order is open (first-seen here).
    rows = []
    for remote_url, g in t.groupby(_as_text(t["RemoteUrl"]), sort=False):
        rows.append({
            "RemoteUrl": remote_url,
            "ConnectionCount": len(g),
            "DistinctHostCount": int(_as_text(g["DeviceName"]).nunique()),
            "set_DeviceName": make_set(_as_text(g["DeviceName"])),
            "set_RemoteIPType": make_set(_as_text(g["RemoteIPType"])),
            "set_RemotePort": make_set(int(p) for p in g["RemotePort"] if pd.notna(p)),
            "set_InitiatingProcessParentFileName": make_set(_as_text(g["InitiatingProcessParentFileName"])),
            "set_InitiatingProcessFileName": make_set(_as_text(g["InitiatingProcessFileName"])),
            "set_RemoteIP": make_set(_as_text(g["RemoteIP"])),
            "set_InitiatingProcessCommandLine": make_set(_as_text(g["InitiatingProcessCommandLine"])),
        })
    out = pd.DataFrame(rows, columns=SEED003_COLUMNS)
    # order by ConnectionCount asc
    out = out.sort_values("ConnectionCount", kind="stable").reset_index(drop=True)
    return out.astype({"ConnectionCount": "int64", "DistinctHostCount": "int64"})


# ----------------------------------------------------------------------------------------------------------
# Seed 004 — network beacons

_KEYS7 = ["DeviceId", "DeviceName", "InitiatingProcessAccountName", "InitiatingProcessAccountDomain",
          "InitiatingProcessFileName", "RemoteIP", "RemotePort"]
_SEED004 = {"TotalEventsThresholdMin": 15,
            # toint((1d - 1s) / make_timespan(0, 0, 0.001)) = 86_399_000
            "TotalEventsThresholdMax": 86_399_000,
            "JitterThreshold": 50, "OutlierThresholdMax": 2, "OutlierCountMax": 3,
            "CompromisedDeviceCountMax": 10}


def _beacon_row(key: tuple, stamps: np.ndarray) -> dict | None:
    """The mv-apply subquery for one BeaconCandidates row (its sorted distinct timestamps), or None when the
    jitter filter drops it.

    mv-apply Timestamp to typeof(datetime) on (extend nextX = next(X, 1) ...): next() inside the per-record
    subtable yields null on the last element (and "" for strings), so `nextRemotePort == RemotePort` is false
    there and the last timestamp is dropped: count_ = N - 1, max_Timestamp is the second-to-last timestamp,
    TimeDeltaList has N - 1 deltas. All other next* equal the current values (one outer record)."""
    cur, nxt = stamps[:-1], stamps[1:]
    deltas = datetime_diff_seconds(nxt, cur)
    mn, mn_i, mx, mx_i, avg, stdev, var = series_stats(deltas)
    with np.errstate(divide="ignore", invalid="ignore"):
        jitter = float(np.float64(stdev) / np.float64(avg) * 100)  # real division: avg 0 -> inf/NaN
    # where Jitter < JitterThreshold (NaN compares false)
    if not jitter < _SEED004["JitterThreshold"]:
        return None
    row = dict(zip(_KEYS7, key, strict=True))
    row.update({
        "count_": len(deltas),
        "min_Timestamp": cur.min(),
        "max_Timestamp": cur.max(),
        "Duration": int(datetime_diff_seconds(np.array([cur.max()]), np.array([cur.min()]))[0]),
        **{f"percentile_TimeDeltaInSeconds_{p}": int(percentile_nearest_rank(deltas, p)) for p in _PCTS},
        "TimeDeltaList": [int(d) for d in deltas],  # make_list keeps the subtable's (time) order
        "TimeDeltaInSeconds_min": mn, "TimeDeltaInSeconds_min_index": mn_i,
        "TimeDeltaInSeconds_max": mx, "TimeDeltaInSeconds_max_index": mx_i,
        "TimeDeltaInSeconds_avg": avg, "TimeDeltaInSeconds_stdev": stdev, "TimeDeltaInSeconds_variance": var,
        "Jitter": jitter, "BeaconSleepMin": avg - stdev, "BeaconSleepMax": avg + stdev,
    })
    return row


def _domains_by_ip(df: pd.DataFrame, now_ts: pd.Timestamp) -> dict[str, list[str]]:
    """The leftouter join's right side: DeviceNetworkEvents | where Timestamp > ago(starttime + 1d)
    | extend Host=..., domain=... | summarize Domains = make_set(domain) by RemoteIP (all rows of the window,
    no other filter; the domain is computed once per distinct RemoteUrl)."""
    w = df[(_timestamps(df["Timestamp"]) > now_ts - pd.Timedelta(days=2)).to_numpy(dtype=bool)]
    urls = _as_text(w["RemoteUrl"])
    codes, uniques = pd.factorize(urls)
    dom = np.array([seed004_domain(u) for u in uniques], dtype=object)
    domains = pd.Series(dom[codes] if len(uniques) else [], index=w.index, dtype=object)
    out: dict[str, list[str]] = {}
    for ip, g in domains.groupby(_as_text(w["RemoteIP"]), sort=False):
        out[ip] = make_set(g)
    return out


def seed004(df: pd.DataFrame, now: datetime) -> pd.DataFrame:
    now_ts = naive_utc(now)
    p = _SEED004
    ts = _timestamps(df["Timestamp"])
    # where Timestamp between (ago(1d)..ago(1s)): both ends inclusive.
    t = df[((ts >= now_ts - pd.Timedelta(days=1)) & (ts <= now_ts - pd.Timedelta(seconds=1))).to_numpy(bool)]
    # where RemoteIPType !in ("Reserved", "Private", "LinkLocal", "Loopback")  (case-sensitive)
    t = t[~_as_text(t["RemoteIPType"]).isin(["Reserved", "Private", "LinkLocal", "Loopback"]).to_numpy(bool)]
    # where isnotempty(RemoteIP) and RemoteIP !in ("0.0.0.0")
    ip = _as_text(t["RemoteIP"])
    t = t[((ip != "") & (ip != "0.0.0.0")).to_numpy(bool)]
    # where not(ipv4_is_private(RemoteIP)): null for non-IPv4 (IPv6, "::ffff:a.b.c.d") -> not(null) is null
    # -> the row is dropped. Only a definite `false` survives.
    ip = _as_text(t["RemoteIP"])
    codes, uniques = pd.factorize(ip)
    private = np.array([ipv4_is_private(u) for u in uniques], dtype=object)
    keep = np.array([x is False for x in private], dtype=bool)
    t = t[keep[codes] if len(uniques) else np.zeros(0, bool)]
    # where ActionType in ("ConnectionSuccess", "CsonnectionRequest", "CsonnectionFailed"): the typos mean
    # only ConnectionSuccess can match (`in` is case-sensitive).
    t = t[_as_text(t["ActionType"]).isin(["ConnectionSuccess", "CsonnectionRequest", "CsonnectionFailed"])
          .to_numpy(bool)]

    # summarize make_set(Timestamp) by the seven keys | where 15 < array_length(set) < 86399000
    # | project ..., Timestamp = array_sort_asc(set_Timestamp)
    #   Null keys form their own group (dropna=False). A group whose RemotePort is null then loses every
    #   element in mv-apply (null == null is null), so it never becomes a candidate.
    frame = pd.DataFrame({k: _as_text(t[k]) for k in _KEYS7[:-1]})
    frame["RemotePort"] = t["RemotePort"].astype("Int64")
    frame["Timestamp"] = _timestamps(t["Timestamp"]).to_numpy()
    candidates = []
    for key, g in frame.groupby(_KEYS7, sort=False, dropna=False):
        if pd.isna(key[-1]):
            continue
        stamps = np.unique(g["Timestamp"].to_numpy(dtype="datetime64[us]"))  # distinct, sorted
        if not p["TotalEventsThresholdMin"] < len(stamps) < p["TotalEventsThresholdMax"]:
            continue
        row = _beacon_row((*key[:-1], int(key[-1])), stamps)
        if row is not None:
            candidates.append(row)
    sub_cols = [c for c in SEED004_COLUMNS if c not in ("InitiatingProcessFileName", "RemoteIP", "RemotePort",
                                                         "dcount_DeviceId", "DeviceId", "DeviceName",
                                                         "InitiatingProcessAccountName",
                                                         "InitiatingProcessAccountDomain", "RemoteIP2",
                                                         "Domains", "Timestamp")]
    beacon = pd.DataFrame(candidates, columns=[*_KEYS7, *sub_cols])
    if beacon.empty:
        return _typed004(pd.DataFrame(columns=SEED004_COLUMNS))
    # | join kind=leftouter (Domains by RemoteIP) on RemoteIP -> RemoteIP1, Domains. The right side has one
    # row per RemoteIP, so no row multiplies; an unmatched row would get RemoteIP1 = "" and Domains = null.
    domains = _domains_by_ip(df, now_ts)
    beacon["RemoteIP1"] = [ip if ip in domains else "" for ip in beacon["RemoteIP"]]
    beacon["Domains"] = [domains.get(ip) for ip in beacon["RemoteIP"]]

    # PotentialBeacons: summarize dcount(DeviceId) by InitiatingProcessFileName, RemoteIP, RemotePort
    #   | where dcount_DeviceId <= 10 | join kind=inner BeaconCandidates on the three keys | project-away *1
    # dcount is exact here. The right side's RemoteIP becomes RemoteIP2 because RemoteIP1 already exists on
    # the right (Kusto picks the smallest suffix unused on either side); `project-away *1` then removes
    # InitiatingProcessFileName1, RemotePort1 and the Domains join's RemoteIP1. `inner` keeps every match
    # (it is not the innerunique default, which would dedupe the left side first - irrelevant here since the
    # left side is unique on the join keys).
    keys3 = ["InitiatingProcessFileName", "RemoteIP", "RemotePort"]
    dc = (beacon.groupby(keys3, sort=False)["DeviceId"].nunique().rename("dcount_DeviceId").reset_index())
    dc = dc[dc["dcount_DeviceId"] <= p["CompromisedDeviceCountMax"]]
    right = beacon.rename(columns={"RemoteIP": "RemoteIP2"})
    right["RemoteIP"] = right["RemoteIP2"]
    potential = dc.merge(right, on=keys3, how="inner")
    potential = potential.drop(columns=[c for c in potential.columns if c.endswith("1")])

    # ImpossibleBeaconsByTimeDelta: extend outliers = series_outliers(TimeDeltaList)
    #   | mv-expand TimeDeltaList, outliers to typeof(double) | where outliers > 2 or outliers < -3
    #   | summarize count() by the seven keys | where count_ > 3
    # then PotentialBeacons | join kind=leftantisemi on the seven keys. PotentialBeacons is unique on the
    # seven keys, so this is a per-row test.
    def impossible(deltas: list[int]) -> bool:
        scores = series_outliers(deltas)
        n_out = sum(1 for s in scores if s > p["OutlierThresholdMax"] or s < -1 * p["OutlierCountMax"])
        return n_out > p["OutlierCountMax"]

    potential = potential[np.array([not impossible(d) for d in potential["TimeDeltaList"]], dtype=bool)]
    # extend Timestamp = min_Timestamp | order by Jitter asc, TimeDeltaInSeconds_avg asc (nulls first on asc;
    # neither column can be null here)
    potential = potential.assign(Timestamp=potential["min_Timestamp"])
    potential = potential.sort_values(["Jitter", "TimeDeltaInSeconds_avg"], kind="stable",
                                      na_position="first")
    return _typed004(potential.reset_index(drop=True)[SEED004_COLUMNS])


def _typed004(out: pd.DataFrame) -> pd.DataFrame:
    types = {"RemotePort": "int32", "dcount_DeviceId": "int64", "count_": "int64", "Duration": "int64",
             "TimeDeltaInSeconds_min_index": "int64", "TimeDeltaInSeconds_max_index": "int64",
             **{f"percentile_TimeDeltaInSeconds_{q}": "int64" for q in _PCTS},
             **{c: "float64" for c in ("TimeDeltaInSeconds_min", "TimeDeltaInSeconds_max",
                                       "TimeDeltaInSeconds_avg", "TimeDeltaInSeconds_stdev",
                                       "TimeDeltaInSeconds_variance", "Jitter", "BeaconSleepMin",
                                       "BeaconSleepMax")}}
    out = out.astype(types)
    for c in ("min_Timestamp", "max_Timestamp", "Timestamp"):
        out[c] = _utc_aware(out[c])
    return out

