"""Chinese that renders wherever a report is opened: each HTML report that holds CJK text embeds the
glyphs it uses, cut from the Noto Sans CJK font the install brings (manimgx-fonts-cjk, SIL OFL 1.1).

A browser draws a page's text with the fonts of the machine it runs on. Without a CJK font there (a fresh
Linux machine, a server's headless browser) Chinese names, labels and chart text show as empty boxes.
The reports' CSS already asks for "Noto Sans CJK SC" after the system fonts; an `@font-face` of that name
in the page, holding only the characters of the page (a subset made with fontTools, a few hundred KB for
a Chinese report), makes it present everywhere, for the HTML and for the inline SVG charts alike. The
subset is the regular weight (the browser thickens bold text itself).

The face covers only CJK code points (`unicode-range`), and the reports' CSS names it first: Latin text
falls through to the system fonts as before, and Chromium does not draw the page's first Chinese text with
its system fallback (empty boxes on a machine without a CJK font) while the embedded face loads, which it
did when the face came after the system fonts in the list.

Subsets are cached by their character set in the user's cache folder (`$XDG_CACHE_HOME/scorecard/cjk`,
else ~/.cache/...): the nightly reports repeat the same names, and a subset costs about 2 s to cut.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
from functools import cache
from pathlib import Path

FAMILY = "Noto Sans CJK SC"
FACE_INDEX = 2  # Noto Sans CJK SC in the collection (JP, KR, SC, TC, HK)
# CJK radicals and punctuation, kana, ideographs (and extension A), compatibility ideographs, full-width forms
RANGES = ((0x2E80, 0x303F), (0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F))
RANGES += ((0xFF00, 0xFFEF),)
CJK = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in RANGES) + "]")
UNICODE_RANGE = ", ".join(f"U+{a:04X}-{b:04X}" for a, b in RANGES)


def font_file() -> Path:
    import manimgx_fonts_cjk

    return Path(manimgx_fonts_cjk.__file__).with_name("NotoSansCJK-VF.otf.ttc")


def cjk_characters(html: str) -> str:
    """The distinct CJK characters of a page, sorted."""
    return "".join(sorted(set(CJK.findall(html))))


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "scorecard" / "cjk"


@cache
def subset_font(characters: str) -> bytes:
    """The font cut to `characters` (OpenType, regular weight)."""
    key = hashlib.sha256(f"{font_file().stat().st_size}:{characters}".encode()).hexdigest()[:24]
    cached = _cache_dir() / f"{key}.otf"
    if cached.is_file():
        return cached.read_bytes()
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    font = TTFont(str(font_file()), fontNumber=FACE_INDEX)
    options = subset.Options()
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    # a static regular: browsers drew the variable font's default instance (Thin); bold is synthesised
    font = instancer.instantiateVariableFont(font, {"wght": 400})
    out = io.BytesIO()
    font.save(out)
    data = out.getvalue()
    try:  # a cache that cannot be written only costs time
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, cached)
    except OSError:
        pass
    return data


def with_cjk_font(html: str) -> str:
    """`html` with an `@font-face` of the CJK characters it uses before `</head>`; unchanged without any."""
    characters = cjk_characters(html)
    if not characters or "</head>" not in html:
        return html
    data = base64.b64encode(subset_font(characters)).decode("ascii")
    face = (
        f'<style id="cjk-font">@font-face {{ font-family: "{FAMILY}"; font-weight: 400; '
        f"unicode-range: {UNICODE_RANGE}; "
        f'src: url(data:font/otf;base64,{data}) format("opentype"); }}</style>\n'
    )
    return html.replace("</head>", face + "</head>", 1)
