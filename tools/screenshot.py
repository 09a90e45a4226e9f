"""A local HTML file as a full-page PNG, rendered by headless Chromium with the network shut (tools/browser.py).

    python -m tools.screenshot OUT.png FILE.html [--width 1280]

The PNG is `--width` pixels wide (device scale 1) and as tall as the page. What the page asked of the network
(nothing, for a page that works from disk) and the script errors it raised are printed; the exit status is 0
when the PNG is written, whatever the page did.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.browser import Browser, BrowserError


def screenshot(out: Path, page: Path, width: int = 1280) -> tuple[Path, list[str], list[str]]:
    """Write the PNG; returns it with the page's requests that left the disk and its script errors."""
    with Browser() as browser:
        opened = browser.open(page, width=width)
        opened.screenshot(out)
        external = [url for url in opened.requests if not url.startswith(("file:", "data:"))]
        return out, external, list(opened.exceptions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.screenshot", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the PNG to write")
    parser.add_argument("page", type=Path, help="a local HTML file")
    parser.add_argument("--width", type=int, default=1280, help="CSS pixels (default 1280)")
    args = parser.parse_args(argv)
    if not args.page.is_file():
        parser.error(f"{args.page}: no such file")
    try:
        out, external, errors = screenshot(args.out, args.page, args.width)
    except BrowserError as exc:
        print(f"screenshot: {exc}", file=sys.stderr)
        return 1
    print(out)
    for url in external:
        print(f"  asked the network (blocked): {url}", file=sys.stderr)
    for error in errors:
        print(f"  script error: {error.splitlines()[0]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
