"""GE's Data Docs pages work from disk with no network (orchestration/validate/ge_offline.py): what the built pages
reference, and what headless Chromium shows of them with every host name unresolvable, before and after the
rewrite. Chromium is Debian's package (/usr/bin/chromium), installed by .ci/run."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import struct
import subprocess
import sys
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import great_expectations
import pytest

from orchestration.contract.spec import spec_for
from orchestration.ingest.entity import IngestRun, ingest_entity
from orchestration.settings import PROJECT_ROOT
from orchestration.validate import data_docs
from orchestration.validate.data_docs import data_docs_dir
from orchestration.validate.ge_offline import CDN_ASSETS, VEGA, VENDOR
from orchestration.validate.ge_runner import run_suite
from orchestration.warehouse import connect
from tools.browser import Browser
from tools.sample.generator import generate

TZ = "Asia/Shanghai"
AS_OF = datetime(2026, 12, 31, 23, 59, 59, tzinfo=ZoneInfo(TZ))
GE_TEMPLATES = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
ENTITIES = ("crm/teams", "crm/deals")
# GE's crm__deals suite: 17 expectations, each with its status icon, and one more for the page's status
DEALS_EXPECTATIONS = 17
# in a validation page: 7 stylesheets, 6 scripts, favicon, logo (<img>) and the dark theme's logo (inline CSS)
ASSETS_PER_PAGE = 16


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> dict[str, Path]:
    """GE's site for two suites of a small sample as the pipeline writes it ("after"), and a copy of each page as
    GE wrote it, taken just before the rewrite ("before", with GE's static files but no vendored ones).

    crm__teams is validated first as before this change (no rewrite, no vendored files): the site of a warehouse
    that predates it. crm__deals is validated next as now: its build rewrites the older pages as well."""
    tmp = tmp_path_factory.mktemp("ge_offline")
    generate(tmp / "sample", seed=3, reps=12, rows_scale=0.25)
    warehouse = tmp / "w.duckdb"
    site, before = data_docs_dir(warehouse) / "ge", tmp / "before"
    rewrite, install = data_docs.make_offline, data_docs.install_vendor
    now = {"offline": False}

    def keep_ges_pages(pages: list[Path], site_dir: Path) -> None:
        for page in (p for p in pages if p.is_file()):
            (before / page.relative_to(site_dir)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(page, before / page.relative_to(site_dir))
        if now["offline"]:
            rewrite(pages, site_dir)

    with pytest.MonkeyPatch.context() as mp, connect(warehouse) as con:
        mp.setattr(data_docs, "make_offline", keep_ges_pages)
        mp.setattr(data_docs, "install_vendor", lambda site_dir: now["offline"] and install(site_dir))
        for entity in ENTITIES:
            ingest_entity(
                con, spec_for(entity), tmp / "sample" / "landing", IngestRun("ingest", AS_OF, TZ, "CNY", ("USD",))
            )
        for entity in ENTITIES:
            run_suite(con, spec_for(entity), "night-1", AS_OF, warehouse)
            now["offline"] = True
    shutil.copytree(site / "static", before / "static", ignore=shutil.ignore_patterns("vendor"))
    return {"after": site, "before": before}


def _validation_page(site: Path, suite: str) -> Path:
    (page,) = (site / "validations" / suite).rglob(f"{suite}.html")
    return page


class _Assets(HTMLParser):
    """What a page loads: script and <link> targets, images, and url() in its inline styles."""

    def __init__(self):
        super().__init__()
        self.refs: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.refs.append(a["src"])
        elif tag == "link" and a.get("href"):
            self.refs.append(a["href"])
        elif tag == "img" and a.get("src"):
            self.refs.append(a["src"])
        if a.get("style"):
            self.refs += _css_urls(a["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.refs += _css_urls(data)


def _css_urls(css: str) -> list[str]:
    urls = [u.strip("'\" ") for u in re.findall(r"url\(([^)]*)\)", css)]
    return [u for u in urls if not u.startswith("data:")] + re.findall(r"@import\s+[\"']([^\"']+)", css)


def _assets(page: Path) -> list[str]:
    parser = _Assets()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.refs


def _external(refs: list[str]) -> list[str]:
    return [r for r in refs if re.match(r"(https?:)?//", r)]


# ------------------------------------------------------------------------------------------------
# The pages as files (no browser)
# ------------------------------------------------------------------------------------------------


def test_built_pages_load_nothing_over_the_network_and_every_local_asset_exists(sites):
    site = sites["after"]
    pages = sorted(site.rglob("*.html"))
    assert [p.relative_to(site).parts[0] for p in pages] == ["expectations", "expectations", "index.html"] + [
        "validations"
    ] * 2
    # crm__teams' pages were written before the vendored files came (the fixture): rewritten all the same
    assert "validations/crm__teams" in "".join(p.relative_to(site).as_posix() for p in pages)
    stylesheets: set[Path] = set()
    for page in pages:
        refs = _assets(page)
        assert _external(refs) == [], page
        for ref in refs:
            target = (page.parent / ref.split("?")[0]).resolve()
            assert target.is_file(), (page, ref)
            if target.suffix == ".css":
                stylesheets.add(target)
    assert len(_assets(_validation_page(site, "crm__deals"))) == ASSETS_PER_PAGE
    # the vendored stylesheets' own references (Font Awesome's font files) are there too
    for css in stylesheets:
        refs = _css_urls(css.read_text(encoding="utf-8"))
        assert _external(refs) == [], css
        assert all((css.parent / r.split("?")[0].split("#")[0]).is_file() for r in refs), css
    fonts = {r for css in stylesheets for r in _css_urls(css.read_text(encoding="utf-8"))}
    assert fonts == {"../webfonts/fa-solid-900.woff2", "../webfonts/fa-solid-900.ttf"}


def test_before_the_rewrite_every_page_loaded_its_assets_from_cdns(sites):
    refs = _assets(_validation_page(sites["before"], "crm__deals"))
    # GE's own: 6 stylesheets, 9 scripts (3 of them Vega's), the logo and the dark theme's logo; the favicon
    # alone is local
    assert len(_external(refs)) == 17 and len(refs) == 18
    assert not (sites["before"] / "static" / "vendor").exists()


def test_every_cdn_address_of_ges_templates_is_vendored_or_dropped():
    named = set()
    for template in ("page.j2", "index_page.j2", "js_script_imports.j2"):
        text = (GE_TEMPLATES / template).read_text(encoding="utf-8")
        named |= set(re.findall(r"<(?:script|link)\b[^>]*?(?:src|href)=\"(https?://[^\"]+)\"", text))
    assert named == set(CDN_ASSETS) | set(VEGA)
    assert len(CDN_ASSETS) == 13
    vendored = {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*") if p.is_file()}
    served = {f for files in CDN_ASSETS.values() for f in files}
    fonts = {"fontawesome-free-6.6.0/webfonts/fa-solid-900.woff2", "fontawesome-free-6.6.0/webfonts/fa-solid-900.ttf"}
    licences = {f for f in vendored if Path(f).name.startswith("LICENSE")} | {"README.md"}
    assert vendored == served | fonts | licences  # nothing vendored that no page uses
    assert len(served) == 14


def test_vendored_scripts_are_the_cdn_copies_ge_pins_by_hash():
    text = (GE_TEMPLATES / "js_script_imports.j2").read_text(encoding="utf-8")
    pinned = dict(re.findall(r"src=\"(https?://[^\"]+)\" integrity=\"sha384-([^\"]+)\"", text))
    assert len(pinned) == 2  # popper and bootstrap.min.js
    for url, digest in pinned.items():
        (vendored,) = CDN_ASSETS[url]
        assert base64.b64encode(hashlib.sha384((VENDOR / vendored).read_bytes()).digest()).decode() == digest


# ------------------------------------------------------------------------------------------------
# In headless Chromium, every host name unresolvable
# ------------------------------------------------------------------------------------------------

ROWS = "[...document.querySelectorAll('table tbody tr')].map(tr => tr.innerText.replace(/\\s+/g, ' ').trim())"
LINKS = "[...document.querySelectorAll('tbody a')].map(a => a.getAttribute('href'))"
ICONS_DRAWN = "[...document.querySelectorAll('i.fas')].filter(i => i.getBoundingClientRect().width > 0).length"
FA_LOADED = "[...document.fonts].filter(f => f.family.includes('Font Awesome') && f.status === 'loaded').length"


def _network(page) -> list[str]:
    return [u for u in page.requests if not u.startswith(("file:", "data:"))]


def test_ges_index_lists_suites_and_runs_offline_only_after_the_rewrite(sites):
    with Browser() as browser:
        before = browser.open(sites["before"] / "index.html")
        after = browser.open(sites["after"] / "index.html")
        before_rows, after_rows = before.evaluate(ROWS), after.evaluate(ROWS)
        after_links = after.evaluate(LINKS)
    # before: the CDNs did not answer, jQuery never came, both tables stayed empty
    assert len(_network(before)) == 16
    assert [e.splitlines()[0] for e in before.exceptions] == ["ReferenceError: $ is not defined"] * 2
    assert before_rows == []
    # after: nothing asked of the network, no script error, both runs and both suites listed
    assert _network(after) == [] and after.exceptions == []
    assert len(after_rows) == 4
    assert sorted(r.split(" UTC ")[-1] for r in after_rows[:2]) == [
        "night-1 crm__deals crm__deals crm__deals",
        "night-1 crm__teams crm__teams crm__teams",
    ]
    assert sorted(after_rows[2:]) == ["crm__deals", "crm__teams"]
    assert sorted(after_links)[-2:] == ["expectations/crm__deals.html", "expectations/crm__teams.html"]


def test_a_validation_page_shows_its_styled_results_offline_only_after_the_rewrite(sites):
    with Browser() as browser:
        before = browser.open(_validation_page(sites["before"], "crm__deals"))
        after = browser.open(_validation_page(sites["after"], "crm__deals"))
        seen = {
            name: {
                "bootstrap_tables": page.evaluate("document.querySelectorAll('div.bootstrap-table').length"),
                "icons": page.evaluate("document.querySelectorAll('i.fas').length"),
                "icons_drawn": page.evaluate(ICONS_DRAWN),
                "font_awesome": page.evaluate(FA_LOADED),
            }
            for name, page in (("before", before), ("after", after))
        }
        rows = after.evaluate(ROWS)
    assert len(_network(before)) == 16  # its scripts only act on a click: no error, nothing drawn
    assert _network(after) == [] and after.exceptions == []
    # the same results are in the HTML either way; offline only the rewritten page draws them as GE meant:
    # bootstrap-table around each results table, a status icon beside every expectation
    assert seen["before"] == {
        "bootstrap_tables": 0,
        "icons": DEALS_EXPECTATIONS + 1,
        "icons_drawn": 0,
        "font_awesome": 0,
    }
    assert seen["after"] == {
        "bootstrap_tables": 14,  # statistics, info, batch spec, then the table-level and 11 column sections
        "icons": DEALS_EXPECTATIONS + 1,
        "icons_drawn": DEALS_EXPECTATIONS + 1,
        "font_awesome": 1,
    }
    assert "values must never be null. 100% not null" in rows


# ------------------------------------------------------------------------------------------------
# tools/screenshot.py
# ------------------------------------------------------------------------------------------------


def test_screenshot_writes_a_full_page_png_of_the_width_asked(tmp_path):
    page = tmp_path / "tall.html"
    page.write_text(
        "<!doctype html><html><body style='margin:0'>"
        "<div style='height:2345px;background:linear-gradient(#fff,#06c)'>tall</div>"
        "<footer style='position:fixed;bottom:0'>footer</footer></body></html>"
    )
    out = tmp_path / "shots" / "tall.png"
    done = subprocess.run(
        [sys.executable, "-m", "tools.screenshot", str(out), str(page), "--width", "640"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == str(out) and done.stderr == ""
    head = out.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    assert struct.unpack(">II", head[16:24]) == (640, 2345)


def test_screenshot_reports_what_a_page_asked_of_the_network(tmp_path, sites):
    page = _validation_page(sites["before"], "crm__teams")
    out = tmp_path / "before.png"
    done = subprocess.run(
        [sys.executable, "-m", "tools.screenshot", str(out), str(page)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    asked = [line for line in done.stderr.splitlines() if "asked the network" in line]
    assert len(asked) == 16 and "https://code.jquery.com/jquery-3.7.1.min.js" in done.stderr
    assert struct.unpack(">I", out.read_bytes()[16:20]) == (1280,)
