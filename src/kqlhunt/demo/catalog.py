"""Static catalogue of the demo telemetry: binaries, destinations and background flows.

Everything here is data. `generator` turns it into lookup tables once and then draws millions of rows as
integer indices into them, so adding a binary or a site is a one-line change here.

Public addresses are taken from ranges the named operators really announce (Google, Microsoft, Akamai,
Cloudflare, Fastly, GitHub, ...), so a geo lookup resolves them to countries; only RFC 1918 space is used for
"Private" traffic. The planted activity (see `plants.py`) adds its own binaries and destinations.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

# Account kinds: index into the per-device identity table built by the generator.
SYSTEM, LOCAL_SERVICE, NETWORK_SERVICE, USER = 0, 1, 2, 3
ACCOUNT_KINDS = 4

# Local address kinds: index into the per-device local-address table.
LOCAL_V4, LOCAL_V6, LOCAL_LOOPBACK, LOCAL_MAPPED, LOCAL_LINKLOCAL = 0, 1, 2, 3, 4
LOCAL_KINDS = 5

# Device roles: workstations and server roles, each with its own mix of flows.
ROLES = ("wks", "dc", "fs", "sql", "web", "app")

_WIN = "Microsoft Corporation", "Microsoft® Windows® Operating System", "10.0.19041.3636"
_OFFICE = "Microsoft Corporation", "Microsoft Office", "16.0.17126.20132"
_DEFENDER_PLATFORM = r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.23110.3-0"


@dataclass(frozen=True)
class Binary:
    """One executable as Defender describes its initiating process. `{user}` expands to the account name."""

    file_name: str
    folder: str
    company: str
    product: str
    version: str
    description: str
    original_name: str
    size: int
    command_line: str
    parent: str
    account: int
    integrity: str = "Medium"
    elevation: str = "TokenElevationTypeDefault"

    @property
    def path(self) -> str:
        return self.folder + "\\" + self.file_name


def _win(name: str, folder: str, description: str, size: int, command_line: str, parent: str,
         account: int = SYSTEM, original: str | None = None) -> Binary:
    company, product, version = _WIN
    integrity = "System" if account != USER else "Medium"
    return Binary(name, folder, company, product, version, description, original or name, size, command_line,
                  parent, account, integrity)


_SYS32 = r"C:\Windows\System32"

BINARIES: dict[str, Binary] = {
    # --- browsers ------------------------------------------------------------------------------------
    "chrome": Binary(
        "chrome.exe", r"C:\Program Files\Google\Chrome\Application", "Google LLC", "Google Chrome",
        "120.0.6099.130", "Google Chrome", "chrome.exe", 3_167_256,
        r'"C:\Program Files\Google\Chrome\Application\chrome.exe" --type=utility '
        r"--utility-sub-type=network.mojom.NetworkService --lang=en-US --service-sandbox-type=none "
        r"--mojo-platform-channel-handle=2172 --field-trial-handle=1960,i,1739,262144 /prefetch:11",
        "chrome.exe", USER),
    "msedge": Binary(
        "msedge.exe", r"C:\Program Files (x86)\Microsoft\Edge\Application", "Microsoft Corporation",
        "Microsoft Edge", "120.0.2210.91", "Microsoft Edge", "msedge.exe", 4_063_160,
        r'"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" --type=utility '
        r"--utility-sub-type=network.mojom.NetworkService --lang=en-US --service-sandbox-type=none "
        r"--mojo-platform-channel-handle=2380 /prefetch:11",
        "msedge.exe", USER),
    "firefox": Binary(
        "firefox.exe", r"C:\Program Files\Mozilla Firefox", "Mozilla Corporation", "Firefox", "121.0",
        "Firefox", "firefox.exe", 663_576, r'"C:\Program Files\Mozilla Firefox\firefox.exe"',
        "explorer.exe", USER),
    # --- productivity --------------------------------------------------------------------------------
    "teams": Binary(
        "ms-teams.exe",
        r"C:\Program Files\WindowsApps\MSTeams_23320.3021.2567.4799_x64__8wekyb3d8bbwe",
        "Microsoft Corporation", "Microsoft Teams", "23320.3021.2567.4799", "Microsoft Teams",
        "ms-teams.exe", 1_423_800,
        r'"C:\Program Files\WindowsApps\MSTeams_23320.3021.2567.4799_x64__8wekyb3d8bbwe\ms-teams.exe" '
        r"msteams:system-initiated", "explorer.exe", USER),
    "onedrive": Binary(
        "OneDrive.exe", r"C:\Users\{user}\AppData\Local\Microsoft\OneDrive", "Microsoft Corporation",
        "Microsoft OneDrive", "23.246.1127.0002", "Microsoft OneDrive", "OneDrive.exe", 3_401_120,
        r'"C:\Users\{user}\AppData\Local\Microsoft\OneDrive\OneDrive.exe" /background', "explorer.exe", USER),
    "onedrive_updater": Binary(
        "OneDriveStandaloneUpdater.exe", r"C:\Users\{user}\AppData\Local\Microsoft\OneDrive",
        "Microsoft Corporation", "Microsoft OneDrive", "23.246.1127.0002", "Standalone Updater",
        "OneDriveStandaloneUpdater.exe", 3_785_096,
        r'"C:\Users\{user}\AppData\Local\Microsoft\OneDrive\OneDriveStandaloneUpdater.exe" /reporting',
        "svchost.exe", USER),
    "outlook": Binary(
        "OUTLOOK.EXE", r"C:\Program Files\Microsoft Office\root\Office16", *_OFFICE,
        "Microsoft Outlook", "Outlook.exe", 43_207_544,
        r'"C:\Program Files\Microsoft Office\Root\Office16\OUTLOOK.EXE" ', "explorer.exe", USER),
    "winword": Binary(
        "WINWORD.EXE", r"C:\Program Files\Microsoft Office\root\Office16", *_OFFICE,
        "Microsoft Word", "WinWord.exe", 1_634_184,
        r'"C:\Program Files\Microsoft Office\Root\Office16\WINWORD.EXE" /n', "explorer.exe", USER),
    "excel": Binary(
        "EXCEL.EXE", r"C:\Program Files\Microsoft Office\root\Office16", *_OFFICE,
        "Microsoft Excel", "Excel.exe", 64_321_416,
        r'"C:\Program Files\Microsoft Office\Root\Office16\EXCEL.EXE" ', "explorer.exe", USER),
    "code": Binary(
        "Code.exe", r"C:\Users\{user}\AppData\Local\Programs\Microsoft VS Code", "Microsoft Corporation",
        "Visual Studio Code", "1.85.1", "Visual Studio Code", "electron.exe", 156_562_840,
        r'"C:\Users\{user}\AppData\Local\Programs\Microsoft VS Code\Code.exe" --type=utility '
        r"--utility-sub-type=network.mojom.NetworkService", "Code.exe", USER),
    "searchapp": _win("SearchApp.exe", r"C:\Windows\SystemApps\Microsoft.Windows.Search_cw5n1h2txyewy",
                      "Search application", 2_012_472,
                      r'"C:\Windows\SystemApps\Microsoft.Windows.Search_cw5n1h2txyewy\SearchApp.exe" '
                      r"-ServerName:CortanaUI.AppX8z9r6jm96hw4bsbneegw0kyxx296wr9t.mca", "svchost.exe", USER),
    "explorer": _win("explorer.exe", r"C:\Windows", "Windows Explorer", 5_489_472, r"C:\Windows\Explorer.EXE",
                     "userinit.exe", USER),
    "googleupdate": Binary(
        "GoogleUpdate.exe", r"C:\Program Files (x86)\Google\Update", "Google LLC", "Google Update",
        "1.3.36.352", "Google Installer", "GoogleUpdate.exe", 161_872,
        r'"C:\Program Files (x86)\Google\Update\GoogleUpdate.exe" /ua /installsource scheduler',
        "svchost.exe", SYSTEM, "System"),
    # --- Windows services ----------------------------------------------------------------------------
    "svchost_wu": _win("svchost.exe", _SYS32, "Host Process for Windows Services", 55_320,
                       r"C:\Windows\system32\svchost.exe -k netsvcs -p -s wuauserv", "services.exe"),
    "svchost_dns": _win("svchost.exe", _SYS32, "Host Process for Windows Services", 55_320,
                        r"C:\Windows\system32\svchost.exe -k NetworkService -p -s Dnscache", "services.exe",
                        NETWORK_SERVICE),
    "svchost_dhcp": _win("svchost.exe", _SYS32, "Host Process for Windows Services", 55_320,
                         r"C:\Windows\system32\svchost.exe -k LocalServiceNetworkRestricted -p -s Dhcp",
                         "services.exe", LOCAL_SERVICE),
    "svchost_rdp": _win("svchost.exe", _SYS32, "Host Process for Windows Services", 55_320,
                        r"C:\Windows\System32\svchost.exe -k NetworkService -s TermService", "services.exe",
                        NETWORK_SERVICE),
    "svchost_rpc": _win("svchost.exe", _SYS32, "Host Process for Windows Services", 55_320,
                        r"C:\Windows\system32\svchost.exe -k RPCSS -p", "services.exe", NETWORK_SERVICE),
    "wuauclt": _win("wuauclt.exe", _SYS32, "Windows Update", 65_536,
                    r"C:\Windows\system32\wuauclt.exe /UpdateDeploymentProvider UpdateDeploymentProvider.dll "
                    r"/ClassId 4c1a3f8b-7e0e-4b5f-9d7c-3a2f1e6b9c01 /RunHandlerComServer", "svchost.exe"),
    "compattel": _win("CompatTelRunner.exe", _SYS32, "Microsoft Compatibility Telemetry", 124_416,
                      r"C:\Windows\system32\compattelrunner.exe -m:appraiser.dll -f:DoScheduledTelemetryRun",
                      "svchost.exe"),
    "msmpeng": Binary(
        "MsMpEng.exe", _DEFENDER_PLATFORM, "Microsoft Corporation", "Microsoft® Windows® Operating System",
        "4.18.23110.3", "Antimalware Service Executable", "MsMpEng.exe", 133_560,
        rf'"{_DEFENDER_PLATFORM}\MsMpEng.exe"', "services.exe", SYSTEM, "System"),
    "mpcmdrun": Binary(
        "MpCmdRun.exe", _DEFENDER_PLATFORM, "Microsoft Corporation", "Microsoft® Windows® Operating System",
        "4.18.23110.3", "Microsoft Malware Protection Command Line Utility", "MpCmdRun.exe", 1_508_304,
        rf'"{_DEFENDER_PLATFORM}\MpCmdRun.exe" SignatureUpdate -ScheduleJob -RestrictPrivileges',
        "MsMpEng.exe", SYSTEM, "System"),
    "mssense": Binary(
        "MsSense.exe", r"C:\Program Files\Windows Defender Advanced Threat Protection",
        "Microsoft Corporation", "Microsoft® Windows® Operating System", "10.8560.25364.1036",
        "Windows Defender Advanced Threat Protection Service Executable", "MsSense.exe", 5_126_464,
        r'"C:\Program Files\Windows Defender Advanced Threat Protection\MsSense.exe"', "services.exe",
        SYSTEM, "System"),
    "system": _win("ntoskrnl.exe", _SYS32, "NT Kernel & System", 11_035_984, "", "", original="ntkrnlmp.exe"),
    "lsass": _win("lsass.exe", _SYS32, "Local Security Authority Process", 59_456,
                  r"C:\Windows\system32\lsass.exe", "wininit.exe"),
    "powershell": _win("powershell.exe", r"C:\Windows\System32\WindowsPowerShell\v1.0", "Windows PowerShell",
                       455_680, r'"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" '
                       r"-NoProfile -Command Enter-PSSession -ComputerName app01.contoso.local",
                       "explorer.exe", USER, original="PowerShell.EXE"),
    # --- server software -----------------------------------------------------------------------------
    "dns_server": _win("dns.exe", _SYS32, "Domain Name System (DNS) Server", 2_334_208,
                       r"C:\Windows\system32\dns.exe", "services.exe"),
    "sqlservr": Binary(
        "sqlservr.exe", r"C:\Program Files\Microsoft SQL Server\MSSQL15.MSSQLSERVER\MSSQL\Binn",
        "Microsoft Corporation", "Microsoft SQL Server", "2019.150.4345.5", "SQL Server Windows NT - 64 Bit",
        "SQLSERVR.EXE", 492_072,
        r'"C:\Program Files\Microsoft SQL Server\MSSQL15.MSSQLSERVER\MSSQL\Binn\sqlservr.exe" -sMSSQLSERVER',
        "services.exe", NETWORK_SERVICE, "High"),
    "w3wp": _win("w3wp.exe", r"C:\Windows\System32\inetsrv", "IIS Worker Process", 28_160,
                 r'c:\windows\system32\inetsrv\w3wp.exe -ap "DefaultAppPool" -v "v4.0" -l "webengine4.dll" '
                 r"-a \\.\pipe\iisipm5d1d1f9a -h "
                 r'"C:\inetpub\temp\apppools\DefaultAppPool\DefaultAppPool.config" -w "" -m 0',
                 "svchost.exe", NETWORK_SERVICE),
    "iisapp": Binary(
        "ContosoOrders.Api.exe", r"D:\Apps\ContosoOrders", "Contoso Ltd", "Contoso Orders", "3.4.1.0",
        "Contoso Orders API", "ContosoOrders.Api.exe", 187_904,
        r'"D:\Apps\ContosoOrders\ContosoOrders.Api.exe" --urls http://+:8080', "services.exe",
        NETWORK_SERVICE, "High"),
}


@dataclass(frozen=True)
class Endpoint:
    ip: str
    url: str = ""


def _eps(*pairs: tuple[str, str]) -> tuple[Endpoint, ...]:
    return tuple(Endpoint(ip, url) for url, ip in pairs)


# Destination pools. Entries early in a pool are drawn more often (popular sites).
POOLS: dict[str, tuple[Endpoint, ...]] = {
    "web": _eps(
        ("www.google.com", "142.250.185.100"), ("www.google.com", "142.250.180.4"),
        ("fonts.gstatic.com", "142.250.185.67"), ("www.youtube.com", "142.250.74.206"),
        ("www.linkedin.com", "13.107.42.14"), ("github.com", "140.82.121.4"), ("github.com", "140.82.112.3"),
        ("avatars.githubusercontent.com", "185.199.108.133"), ("stackoverflow.com", "151.101.1.69"),
        ("cdn.jsdelivr.net", "104.16.85.20"), ("www.wikipedia.org", "185.15.59.224"),
        ("en.wikipedia.org", "185.15.58.224"), ("www.bbc.co.uk", "151.101.0.81"),
        ("www.reddit.com", "151.101.65.140"), ("www.amazon.com", "54.239.28.85"),
        ("zoom.us", "170.114.52.2"), ("slack.com", "3.120.200.206"), ("www.spiegel.de", "128.65.210.8"),
        ("www.lemonde.fr", "151.101.2.217"), ("www.salesforce.com", "104.109.10.129"),
        ("login.salesforce.com", "13.108.238.136"), ("www.dropbox.com", "162.125.248.18"),
        ("ya.ru", "77.88.55.242"), ("www.baidu.com", "110.242.68.66"), ("www.naver.com", "223.130.200.107"),
        ("www.heise.de", "193.99.144.85"), ("www.nytimes.com", "151.101.193.164"),
        ("www.cloudflare.com", "104.16.124.96"), ("www.adobe.com", "23.213.161.90"),
        ("www.ovhcloud.com", "198.27.92.14"),
        ("www.hetzner.com", "213.133.116.44"), ("www.rakuten.co.jp", "133.237.16.246"),
        ("www.smh.com.au", "104.18.20.35"), ("docs.python.org", "151.101.128.223"),
        ("pypi.org", "151.101.192.223"), ("registry.npmjs.org", "104.16.24.34"),
        ("www.atlassian.com", "18.244.18.55"), ("contoso.atlassian.net", "13.227.64.102"),
    ),
    "web_v6": _eps(
        ("www.google.com", "2a00:1450:4001:82b::2004"), ("www.youtube.com", "2a00:1450:4001:811::200e"),
        ("www.facebook.com", "2a03:2880:f12f:83:face:b00c:0:25de"),
        ("www.wikipedia.org", "2a02:ec80:300:ed1a::1"), ("www.cloudflare.com", "2606:4700::6810:7c60"),
        ("github.com", "2606:50c0:8000::154"), ("www.bing.com", "2620:1ec:c11::200"),
    ),
    "google_update": _eps(("update.googleapis.com", "142.250.186.35"), ("dl.google.com", "142.250.186.46")),
    "bing": _eps(("www.bing.com", "13.107.21.200"), ("www.bing.com", "204.79.197.200"),
                 ("th.bing.com", "13.107.6.158")),
    "m365": _eps(
        ("outlook.office365.com", "52.96.88.130"), ("outlook.office365.com", "52.97.146.178"),
        ("outlook.office.com", "52.98.207.2"), ("substrate.office.com", "52.96.163.82"),
        ("teams.microsoft.com", "52.113.194.132"), ("presence.teams.microsoft.com", "52.114.76.37"),
        ("login.microsoftonline.com", "20.190.159.2"), ("login.microsoftonline.com", "40.126.31.67"),
        ("graph.microsoft.com", "20.190.151.7"), ("officeclient.microsoft.com", "52.109.8.19"),
        ("roaming.officeapps.live.com", "52.109.12.23"), ("ecs.office.com", "52.113.196.254"),
        ("nexusrules.officeapps.live.com", "52.111.236.4"), ("contoso.sharepoint.com", "13.107.136.9"),
    ),
    "onedrive": _eps(("contoso-my.sharepoint.com", "13.107.136.10"), ("skyapi.live.net", "13.107.42.12"),
                     ("onedrive.live.com", "13.107.42.13"), ("storage.live.com", "13.107.43.12")),
    "onedrive_update": _eps(("oneclient.sfx.ms", "23.212.249.163"), ("g.live.com", "13.107.42.17")),
    "teams_media": _eps(("", "52.112.168.36"), ("", "52.112.231.108"), ("", "52.113.66.79"),
                        ("", "52.114.241.16"), ("", "52.115.62.21")),
    "mapped_m365": _eps(("", "::ffff:52.113.194.132"), ("", "::ffff:52.96.88.130"),
                        ("", "::ffff:13.107.42.14")),
    "windows_update": _eps(
        ("fe3cr.delivery.mp.microsoft.com", "20.242.39.171"), ("slscr.update.microsoft.com", "20.54.24.148"),
        ("ctldl.windowsupdate.com", "93.184.221.240"),
        ("7.tlu.dl.delivery.mp.microsoft.com", "8.241.121.126"),
        ("settings-win.data.microsoft.com", "20.42.73.29"), ("v10.events.data.microsoft.com", "20.189.173.1"),
        ("download.windowsupdate.com", "23.52.178.153"),
    ),
    "defender": _eps(
        ("wdcp.microsoft.com", "20.42.65.92"), ("wdcpalt.microsoft.com", "20.42.65.88"),
        ("winatp-gw-weu.microsoft.com", "20.50.80.209"), ("winatp-gw-neu.microsoft.com", "20.54.88.152"),
        ("smartscreen-prod.microsoft.com", "20.189.108.105"), ("go.microsoft.com", "23.46.212.187"),
    ),
    "defender_updates": _eps(("definitionupdates.microsoft.com", "20.9.155.148"),
                             ("www.microsoft.com", "23.46.220.162")),
    "explorer_feeds": _eps(("arc.msn.com", "20.73.194.208"), ("ris.api.iris.microsoft.com", "20.103.156.88"),
                           ("www.msn.com", "204.79.197.203")),
    # wuauclt.exe talks to the delivery-optimisation hosts only (all under microsoft.com).
    "update_delivery": _eps(("fe3cr.delivery.mp.microsoft.com", "20.242.39.171"),
                            ("slscr.update.microsoft.com", "20.54.24.148"),
                            ("7.tlu.dl.delivery.mp.microsoft.com", "8.241.121.126")),
    "vscode": _eps(("update.code.visualstudio.com", "13.107.246.40"),
                   ("marketplace.visualstudio.com", "13.107.42.18"),
                   ("default.exp-tas.com", "13.107.5.93")),
    "loopback": _eps(("", "127.0.0.1")),
    "gateway_v6": _eps(("", "fe80::1")),
    "public_dns": _eps(("", "8.8.8.8"), ("", "1.1.1.1"), ("", "9.9.9.9"), ("", "208.67.222.222")),
    "scanners": _eps(("", "167.94.138.35"), ("", "198.235.24.14"), ("", "45.146.164.110"),
                     ("", "193.32.162.77"), ("", "162.142.125.218"), ("", "185.224.128.17")),
    "listen": (Endpoint(""),),
    # Filled from the fleet by the generator: internal servers and clients.
    "dns_internal": (), "dc": (), "fileserver": (), "sqlserver": (), "servers": (), "clients": (),
    "appservers": (),
}


@dataclass(frozen=True)
class Flow:
    """A kind of connection a binary makes. `ports` are remote ports for outbound flows and local ports
    for inbound/listening ones; `weights` gives the relative frequency per device role."""

    binary: str
    pool: str
    direction: str  # "out" | "in" | "listen"
    protocol: str
    ports: tuple[tuple[int, float], ...]
    weights: dict[str, float]
    actions: tuple[tuple[str, float], ...] = ()
    local: int = LOCAL_V4


OUT_TCP = (("ConnectionSuccess", 0.93), ("ConnectionFailed", 0.035), ("ConnectionRequest", 0.02),
           ("ConnectionAttempt", 0.015))
OUT_UDP = (("ConnectionSuccess", 0.985), ("ConnectionFailed", 0.015))
INBOUND = (("InboundConnectionAccepted", 1.0),)
LISTEN = (("ListeningConnectionCreated", 1.0),)
WEB = ((443, 0.93), (80, 0.07))


def _out(binary: str, pool: str, ports, weights, protocol: str = "Tcp", local: int = LOCAL_V4) -> Flow:
    actions = OUT_TCP if protocol == "Tcp" else OUT_UDP
    return Flow(binary, pool, "out", protocol, tuple(ports), weights, actions, local)


def _in(binary: str, pool: str, port: int, weights, protocol: str = "Tcp") -> Flow:
    return Flow(binary, pool, "in", protocol, ((port, 1.0),), weights, INBOUND)


def _listen(binary: str, port: int, weights, protocol: str = "Tcp") -> Flow:
    return Flow(binary, "listen", "listen", protocol, ((port, 1.0),), weights, LISTEN)


ALL_SERVERS = {"dc": 1.0, "fs": 1.0, "sql": 1.0, "web": 1.0, "app": 1.0}

FLOWS: tuple[Flow, ...] = (
    # Browsing (workstations).
    _out("chrome", "web", WEB, {"wks": 24}),
    _out("chrome", "web", ((443, 1.0),), {"wks": 5}, protocol="Udp"),  # QUIC
    _out("chrome", "web_v6", ((443, 1.0),), {"wks": 3}, local=LOCAL_V6),
    _out("msedge", "web", WEB, {"wks": 12, "app": 0.3}),
    _out("msedge", "bing", ((443, 1.0),), {"wks": 2}),
    _out("msedge", "web_v6", ((443, 1.0),), {"wks": 1.5}, local=LOCAL_V6),
    _out("firefox", "web", WEB, {"wks": 4}),
    _out("searchapp", "bing", ((443, 1.0),), {"wks": 2}),
    # Microsoft 365.
    _out("teams", "m365", ((443, 1.0),), {"wks": 9}),
    _out("teams", "teams_media", ((3478, 0.4), (3479, 0.2), (3480, 0.3), (3481, 0.1)), {"wks": 4},
         protocol="Udp"),
    _out("teams", "mapped_m365", ((443, 1.0),), {"wks": 1}, local=LOCAL_MAPPED),
    _out("outlook", "m365", ((443, 1.0),), {"wks": 8}),
    _out("winword", "m365", ((443, 1.0),), {"wks": 1.5}),
    _out("excel", "m365", ((443, 1.0),), {"wks": 1.5}),
    _out("onedrive", "onedrive", ((443, 1.0),), {"wks": 5}),
    _out("onedrive_updater", "onedrive_update", ((443, 1.0),), {"wks": 0.05}),
    _out("code", "vscode", ((443, 1.0),), {"wks": 0.6}),
    _out("code", "loopback", ((9229, 0.4), (5173, 0.3), (3000, 0.3)), {"wks": 0.5}, local=LOCAL_LOOPBACK),
    _out("explorer", "explorer_feeds", ((443, 1.0),), {"wks": 0.8}),
    _out("googleupdate", "google_update", ((443, 1.0),), {"wks": 0.3}),
    # Windows and Defender (everyone).
    _out("svchost_wu", "windows_update", WEB, {"wks": 4, **ALL_SERVERS}),
    _out("wuauclt", "update_delivery", ((443, 1.0),), {"wks": 0.3, **{r: 0.3 for r in ALL_SERVERS}}),
    _out("compattel", "windows_update", ((443, 1.0),), {"wks": 0.3, **{r: 0.3 for r in ALL_SERVERS}}),
    _out("msmpeng", "defender", ((443, 1.0),), {"wks": 3, **{r: 2 for r in ALL_SERVERS}}),
    _out("mpcmdrun", "defender_updates", ((443, 1.0),), {"wks": 0.3, **{r: 0.3 for r in ALL_SERVERS}}),
    _out("mssense", "defender", ((443, 1.0),), {"wks": 2, **{r: 2 for r in ALL_SERVERS}}),
    _out("svchost_dns", "dns_internal", ((53, 1.0),), {"wks": 10, "fs": 4, "sql": 4, "web": 4, "app": 4},
         protocol="Udp"),
    _out("svchost_dhcp", "gateway_v6", ((547, 1.0),), {"wks": 0.4, **{r: 0.2 for r in ALL_SERVERS}},
         protocol="Udp", local=LOCAL_LINKLOCAL),
    # Active Directory, SMB, admin traffic (private).
    _out("lsass", "dc", ((88, 0.5), (389, 0.4), (636, 0.1)),
         {"wks": 4, "fs": 2, "sql": 2, "web": 2, "app": 2}),
    _out("svchost_rpc", "dc", ((135, 1.0),), {"wks": 1, "fs": 1, "sql": 1, "web": 1, "app": 1}),
    _out("system", "fileserver", ((445, 1.0),), {"wks": 6, "app": 2}),
    _out("powershell", "servers", ((5985, 0.9), (5986, 0.1)), {"wks": 0.15}),
    _out("iisapp", "sqlserver", ((1433, 1.0),), {"app": 6, "web": 3}),
    _out("dns_server", "public_dns", ((53, 1.0),), {"dc": 10}, protocol="Udp"),
    # Inbound and listening sockets.
    _in("dns_server", "clients", 53, {"dc": 25}, protocol="Udp"),
    _in("lsass", "clients", 88, {"dc": 10}),
    _in("lsass", "clients", 389, {"dc": 8}),
    _in("system", "clients", 445, {"fs": 30, "dc": 2}),
    _in("svchost_rdp", "clients", 3389, {"fs": 0.5, "sql": 0.5, "web": 0.5, "app": 0.5, "dc": 0.5}),
    _in("sqlservr", "appservers", 1433, {"sql": 25}),
    _in("w3wp", "clients", 443, {"web": 15}),
    _in("w3wp", "scanners", 443, {"web": 3}),
    _in("system", "servers", 445, {"wks": 0.3}),
    _listen("svchost_rpc", 135, {"wks": 0.1, **{r: 0.1 for r in ALL_SERVERS}}),
    _listen("system", 445, {"wks": 0.1, **{r: 0.1 for r in ALL_SERVERS}}),
    _listen("svchost_rdp", 3389, {r: 0.1 for r in ALL_SERVERS}),
    _listen("sqlservr", 1433, {"sql": 0.2}),
    _listen("w3wp", 443, {"web": 0.2}),
    _listen("code", 5173, {"wks": 0.05}),
)

_RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def ip_type(address: str) -> str:
    """Defender's RemoteIPType/LocalIPType vocabulary for an address ("" when there is no address)."""
    if not address:
        return ""
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return "FourToSixMapping"
        if ip.teredo is not None:
            return "Teredo"
    if ip.is_loopback:
        return "Loopback"
    if ip.is_link_local:
        return "LinkLocal"
    if ip.version == 4 and any(ip in net for net in _RFC1918):
        return "Private"
    if ip.version == 6 and ip in ipaddress.ip_network("fc00::/7"):
        return "Private"
    if str(ip) == "255.255.255.255":
        return "Broadcast"
    if not ip.is_global:
        return "Reserved"
    return "Public"
