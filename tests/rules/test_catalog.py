"""The static catalog: corpus counts and neighbours on rules written for the test, links that resolve,
and (when Debian's headless `chromium` is installed) pages that render and filter in a browser."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kqlhunt.rules import builtin_rules, load_rules
from kqlhunt.rules.catalog.site import build_site

BASE = "DeviceNetworkEvents\n| where Timestamp > ago(1d)\n| where RemotePort in (4444)\n"
RULES = {
    "port.kql": "// title: Port 4444\n" + BASE,
    "port_public.kql": "// title: Port 4444 to public IPs\n// tactics: Command and Control\n"
                       "// mitre: T1571\n" + BASE + '| where RemoteIPType == "Public"\n',
    "other.kql": "// title: Port 4444 again\n" + BASE + "| summarize count() by DeviceName\n",
    "broken.kql": "// title: Broken\nDeviceNetworkEvents | where NoSuchColumn == 1\n",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("rules")
    for name, text in RULES.items():
        (src / name).write_text(text, "utf-8")
    out = tmp_path_factory.mktemp("site")
    summary = build_site(load_rules(src) + builtin_rules(), out, title="Test catalog")
    assert summary == {"rules": 4 + len(builtin_rules()), "failed": 1}
    return out


def test_corpus_counts_and_neighbours(site: Path) -> None:
    catalog = json.loads((site / "catalog.json").read_text("utf-8"))
    assert catalog["schema"] == "kqlhunt.catalog/1"
    # port_public checks everything `port` and `other` check, plus RemoteIPType: a strict superset of both
    assert catalog["neighbours"]["port"] == {"subset": [], "superset": ["port_public"]}
    assert catalog["neighbours"]["port_public"] == {"subset": ["other", "port"], "superset": []}
    page = (site / "rules" / "port.html").read_text("utf-8")
    assert "2 other rules" in page  # RemotePort eq 4444 is checked by port_public and other too
    layer = json.loads((site / "attack-layer.json").read_text("utf-8"))
    assert layer["domain"] == "enterprise-attack"
    # T1571 from port_public, the rest from the built-in seed003
    assert [(t["techniqueID"], t["score"]) for t in layer["techniques"]] == [
        ("T1071", 1), ("T1105", 1), ("T1218", 1), ("T1568.002", 1), ("T1571", 1)]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.hrefs.extend(v for k, v in attrs if k == "href" and v)


def test_links_resolve(site: Path) -> None:
    pages = list(site.glob("*.html")) + list((site / "rules").glob("*.html"))
    assert len(pages) == 3 + 4 + len(builtin_rules())
    for page in pages:
        parser = _Links()
        parser.feed(page.read_text("utf-8"))
        for href in parser.hrefs:
            if href.startswith(("http://", "https://", "#")):
                continue
            target = (page.parent / href.split("?")[0]).resolve()
            assert target.is_file(), f"{page.name}: {href}"


def test_untrusted_text_is_escaped(tmp_path) -> None:
    (tmp_path / "x.kql").write_text('// title: <script>alert(1)</script>\nDeviceNetworkEvents | take 1\n', "utf-8")
    out = tmp_path / "site"
    build_site(load_rules(tmp_path), out)
    html = (out / "rules" / "x.html").read_text("utf-8")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _dom(url: str) -> str:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", url],
                          check=True, capture_output=True, text=True, timeout=90).stdout


@pytest.mark.skipif(CHROMIUM is None, reason="headless chromium is not installed")
def test_browser_search_and_filters(site: Path) -> None:
    index = (site / "index.html").as_uri()
    total = 4 + len(builtin_rules())
    assert f'id="count" class="muted">{total} of {total} rules<' in _dom(index)
    assert f">3 of {total} rules<" in _dom(index + "?q=4444")  # port, port_public, other
    assert f">1 of {total} rules<" in _dom(index + "?q=4444%20public")  # every word must match
    assert f">1 of {total} rules<" in _dom(index + "?technique=T1571")
    dom = _dom((site / "rules" / "port_public.html").as_uri())
    assert "Neighbours" in dom and "RemoteIPType" in dom


@pytest.mark.skipif(CHROMIUM is None, reason="headless chromium is not installed")
def test_browser_screenshot(site: Path, tmp_path) -> None:
    shot = tmp_path / "rule.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,1600",
                    f"--screenshot={shot}", (site / "rules" / "seed004.html").as_uri()],
                   check=True, capture_output=True, timeout=90)
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
