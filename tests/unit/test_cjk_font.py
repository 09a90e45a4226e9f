"""The CJK glyphs a report embeds (orchestration/report/cjk_font.py): exactly the page's characters, from
the font the install brings, cached by character set."""

from __future__ import annotations

import base64
import io
import re

import pytest
from fontTools.ttLib import TTFont

from orchestration.report import cjk_font
from orchestration.report.cjk_font import cjk_characters, with_cjk_font

PAGE = "<html><head><title>x</title></head><body><td>华东一组</td><td>West</td><p>（优秀，良好）ア</p></body></html>"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cjk_font.subset_font.cache_clear()
    yield tmp_path / "scorecard" / "cjk"
    cjk_font.subset_font.cache_clear()


def test_a_page_without_cjk_text_is_unchanged():
    page = "<html><head></head><body>Sales scorecard 2026-Q1 — 87.5 %</body></html>"
    assert with_cjk_font(page) == page


def test_the_face_holds_exactly_the_page_characters(cache):
    assert cjk_characters(PAGE) == "".join(sorted("华东一组（优秀，良好）ア"))
    out = with_cjk_font(PAGE)
    faces = re.findall(r'<style id="cjk-font">(.*?)</style>', out)
    assert len(faces) == 1 and out.index('<style id="cjk-font">') < out.index("</head>")
    face = faces[0]
    assert 'font-family: "Noto Sans CJK SC"; font-weight: 400;' in face
    assert "unicode-range: U+2E80-303F, U+3040-30FF, U+3400-4DBF, U+4E00-9FFF, U+F900-FAFF" in face
    data = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)\)", face).group(1))
    font = TTFont(io.BytesIO(data))
    mapped = {chr(c) for c in font.getBestCmap()}
    assert mapped == set("华东一组（优秀，良好）ア")  # nothing else: a few KB, not the 32 MB collection
    assert "fvar" not in font  # a static regular, not the variable default (Thin)
    assert font["OS/2"].usWeightClass == 400
    assert len(data) < 20_000
    # cut once per character set: the second page with the same characters reads the cache
    assert [p.suffix for p in cache.iterdir()] == [".otf"]
    assert next(cache.iterdir()).read_bytes() == data
    cjk_font.subset_font.cache_clear()
    assert with_cjk_font(PAGE) == out
