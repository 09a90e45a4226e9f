"""GE's Data Docs pages without a network.

GE's page templates (great_expectations 1.24: page.j2, index_page.j2, js_script_imports.j2, top_navbar.j2) load
jQuery, Bootstrap, bootstrap-table, Font Awesome and more from CDNs, and its index page builds its tables with
those scripts: offline, the index showed no suite and no run, and the validation pages showed bare unstyled
tables without their status icons. Each of those addresses is replaced, when a page is written, with a copy kept
in `vendor/` (vendor/README.md: name, version, licence and source of each file) that the site holds in
`static/vendor/`; GE's logo comes from its own `static/images/`.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from functools import cache
from pathlib import Path

VENDOR = Path(__file__).parent / "vendor"
SITE_VENDOR = Path("static") / "vendor"  # in the site folder

# Every script and stylesheet address of GE's templates, and the vendored files served instead. The copies are
# the npm registry's, byte for byte: popper and bootstrap.min.js match the integrity hashes GE's template gives
# (tests/integration/test_data_docs_offline.py). bootstrap-prefers-dark is taken minified (the same build).
CDN_ASSETS: dict[str, tuple[str, ...]] = {
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery-3.7.1/dist/jquery.min.js",),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js-1.12.9/dist/umd/popper.min.js",
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap-4.3.1/dist/js/bootstrap.min.js",
    ),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap-4.3.1/dist/css/bootstrap.min.css",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table-1.19.1/dist/bootstrap-table.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table-1.19.1/dist/bootstrap-table.min.css",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (
        "bootstrap-table-1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": (
        "bootstrap-table-1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css",
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": (
        "bootstrap-table-1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        "bootstrap-datepicker-1.9.0/dist/js/bootstrap-datepicker.min.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        "bootstrap-datepicker-1.9.0/dist/css/bootstrap-datepicker.min.css",
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (
        "bootstrap-dark-1.1.0/dist/css/bootstrap-prefers-dark.min.css",
    ),
    # GE's pages use the solid icons only (`fas`): the base stylesheet and the solid style, not all.min.css
    # with its brands, regular and v4 fonts (1 MB more)
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fontawesome-free-6.6.0/css/fontawesome.min.css",
        "fontawesome-free-6.6.0/css/solid.min.css",
    ),
}
# Vega draws the charts of two expectation types only (expect_column_kl_divergence_to_be_less_than and
# expect_column_distinct_values_to_be_in_set), both refused by the chunked route (ge_suites.SUPPORTED_TYPES):
# a page that draws no chart (no `vegaEmbed(`) loses the three scripts; one that does would keep them.
VEGA = (
    "https://cdn.jsdelivr.net/npm/vega@5",
    "https://cdn.jsdelivr.net/npm/vega-lite@5",
    "https://cdn.jsdelivr.net/npm/vega-embed@6",
)
# GE's logo, from its web-assets bucket (with a tracking query): the copy among GE's own static images; the dark
# theme's logo (full_logo_dark.png) is not among them, the light one stands in for it
GE_WEB_ASSET = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/([\w.-]+)(\?[^\"')\s]*)?"
)
GE_IMAGES = {"logo-long.png": "logo-long.png", "full_logo_dark.png": "logo-long.png"}

# a link to one of GE's static files (favicon, images), relative to the page: GE counts the folders of a validation
# page one short (its favicon link points into validations/), so each is made again from the page's place
GE_STATIC_LINK = re.compile(r"(?<=\")(?:\./|(?:\.\./)+)static/((?:images|styles|fonts)/[^\"]+)(?=\")")

# a <script src=...></script> or <link href=...> naming an http(s) address
EXTERNAL_TAG = re.compile(
    r"<(?P<tag>script|link)\b[^>]*?\b(?:src|href)=\"(?P<url>https?://[^\"]+)\"[^>]*>(?:\s*</script>)?",
    re.IGNORECASE,
)


@cache
def _vendor_digest() -> str:
    sha = hashlib.sha256()
    for path in sorted(p for p in VENDOR.rglob("*") if p.is_file()):
        sha.update(path.relative_to(VENDOR).as_posix().encode() + b"\0" + path.read_bytes())
    return sha.hexdigest()


def install_vendor(site_dir: Path) -> bool:
    """The vendored files in `<site>/static/vendor/`, copied when they are missing or changed (files of an older
    set stay: pages written before may still name them). True when copied."""
    target = site_dir / SITE_VENDOR
    marker = target / ".sha256"
    if marker.is_file() and marker.read_text() == _vendor_digest():
        return False
    shutil.copytree(VENDOR, target, dirs_exist_ok=True)
    marker.write_text(_vendor_digest())
    return True


def offline_html(text: str, page: Path, site_dir: Path) -> str:
    """A page's HTML with GE's CDN scripts, stylesheets and logo replaced by relative links to the site's copies
    (the integrity and crossorigin attributes go with the address: a browser refuses them from disk)."""

    def rel(*parts: str) -> str:
        return Path(os.path.relpath(site_dir.joinpath("static", *parts), page.parent)).as_posix()

    draws_charts = "vegaEmbed(" in text

    def replace(m: re.Match) -> str:
        url = m["url"]
        if url in VEGA and not draws_charts:
            return ""
        if url not in CDN_ASSETS:
            return m[0]
        if m["tag"].lower() == "script":
            return "\n".join(f'<script src="{rel("vendor", f)}"></script>' for f in CDN_ASSETS[url])
        return "\n".join(f'<link rel="stylesheet" href="{rel("vendor", f)}">' for f in CDN_ASSETS[url])

    def image(m: re.Match) -> str:
        name = GE_IMAGES.get(m[1])
        return rel("images", name) if name else m[0]

    text = GE_STATIC_LINK.sub(lambda m: rel(*m[1].split("/")), text)
    return GE_WEB_ASSET.sub(image, EXTERNAL_TAG.sub(replace, text))


def make_offline(pages: list[Path], site_dir: Path) -> None:
    """Rewrite GE's pages in place (those that exist; a page already rewritten is left as it is)."""
    for page in pages:
        if not page.is_file():
            continue
        text = page.read_text(encoding="utf-8")
        new = offline_html(text, page, site_dir)
        if new != text:
            page.write_text(new, encoding="utf-8")
