"""Encodings of CSV files (CONTRACT.md "File rules"): detection and transcoding to UTF-8.

UTF-8 (BOM or not) is read as is. Otherwise the file is read as GB18030 only when `detect_encoding`
is confident of it (charset-normalizer's mess ratio of the GB18030 reading and the share of its
characters in GB2312, the common simplified-Chinese set: Big5, Shift-JIS and cp1252 bytes read as
GB18030 land outside it); anything else stops the run naming the file and the `encodings` key. A
declared encoding (any Python codec) is used as given. The encoding and the detector's confidence
are kept in audit.file_manifest."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from orchestration.ingest.ingest_error import IngestError
from orchestration.ingest.landing_files import READ_BLOCK

UTF8_CODECS = ("utf-8", "utf8", "utf-8-sig", "utf_8", "utf_8_sig")
GB_MIN_CONFIDENCE = 0.8
DETECT_SAMPLE_BYTES = 256 * 1024


@dataclass(frozen=True)
class Encoding:
    codec: str  # the Python codec the file is read with
    confidence: float | None  # the detector's confidence; None when declared in the scheme file


def decodes(path: Path, codec: str) -> bool:
    """Whether the whole file decodes strictly with `codec` (streamed)."""
    dec = codecs.getincrementaldecoder(codec)(errors="strict")
    try:
        with path.open("rb") as fh:
            while block := fh.read(READ_BLOCK):
                dec.decode(block)
            dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _gb2312_share(path: Path) -> float | None:
    """Share of the non-ASCII characters of the file read as GB18030 that are GB2312 characters (the
    common simplified-Chinese set), or None when it is not valid GB18030. Streamed, C-speed counts."""
    dec = codecs.getincrementaldecoder("gb18030")(errors="strict")
    non_ascii = in_gb2312 = 0
    try:
        with path.open("rb") as fh:
            while True:
                block = fh.read(READ_BLOCK)
                text = dec.decode(block, final=not block)
                ascii_chars = len(text.encode("ascii", errors="ignore"))
                non_ascii += len(text) - ascii_chars
                in_gb2312 += (len(text.encode("gb2312", errors="ignore")) - ascii_chars) // 2
                if not block:
                    break
    except UnicodeDecodeError:
        return None
    return in_gb2312 / non_ascii if non_ascii else 1.0


def _sample(path: Path) -> bytes:
    """The file's first DETECT_SAMPLE_BYTES, cut after its last full line (no character cut in two)."""
    with path.open("rb") as fh:
        data = fh.read(DETECT_SAMPLE_BYTES + 1)
    if len(data) > DETECT_SAMPLE_BYTES:
        data = data[:DETECT_SAMPLE_BYTES]
        cut = data.rfind(b"\n")
        if cut > 0:
            data = data[: cut + 1]
    return data


def detect_encoding(path: Path, rel: str | None = None, entity: str | None = None) -> Encoding:
    """UTF-8 (BOM or not) when the whole file decodes as UTF-8 (confidence 1.0); GB18030 when the
    detector is confident of it (confidence = GB2312 share x (1 - charset-normalizer's mess ratio of
    the GB18030 reading), at least GB_MIN_CONFIDENCE); else IngestError naming the file, the
    detector's guess and the scheme-file key that reads it right."""
    from charset_normalizer import from_bytes  # a dependency of requests (pinned in pyproject.toml)

    rel = rel or str(path)
    if decodes(path, "utf-8-sig"):
        return Encoding("utf-8", 1.0)
    sample = _sample(path)
    share = _gb2312_share(path)
    gb_text = "not valid GB18030"
    if share is not None:
        gb = from_bytes(sample, cp_isolation=["gb18030"], threshold=1.0).best()
        mess = gb.chaos if gb is not None else 1.0
        confidence = round(share * (1.0 - mess), 3)
        if confidence >= GB_MIN_CONFIDENCE:
            return Encoding("gb18030", confidence)
        gb_text = f"GB18030 confidence {confidence:.2f}"
    best = from_bytes(sample).best()
    guess = f"{best.encoding}, {1.0 - best.chaos:.2f}" if best is not None else "no guess"
    raise IngestError(
        f"{rel}: not UTF-8 and not confidently GB18030 (detector: {guess}; {gb_text}); "
        f"set its encoding in the scheme file: encodings: {{{entity or '<entity>'}: <codec>}}"
    )


def transcode(path: Path, encoding: str, out: Path, rel: str) -> Path:
    """Stream a non-UTF-8 CSV into a UTF-8 copy that DuckDB reads."""
    dec = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
            while block := src.read(READ_BLOCK):
                dst.write(dec.decode(block))
            dst.write(dec.decode(b"", final=True))
    except UnicodeDecodeError as exc:
        raise IngestError(f"{rel}: not valid {encoding}: {exc}") from None
    return out


def is_wide(codec: str) -> bool:
    """UTF-16 and UTF-32: NUL bytes are part of their text, not a sign of a binary file."""
    return codecs.lookup(codec).name.startswith(("utf-16", "utf-32"))
