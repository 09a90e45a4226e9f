"""Reading the scheme file (SCORING.md "Scheme file"): `load_scheme(path)` returns a validated `Scheme`
(scheme/model.py) or raises `SchemeError` naming the line or key at fault. Nothing is written before the
scheme validates: the run loads it first.
"""

from __future__ import annotations

import codecs
import stat
from pathlib import Path
from typing import Any

import yaml

from orchestration.scheme.errors import SchemeError, _q
from orchestration.scheme.model import Scheme, parse_scheme

# Bounds on what a scheme file can make the product do (a hostile or broken file must fail fast): file
# size and nesting depth; the bounds of the messages are in scheme/errors.py.
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32


class _Refused(yaml.YAMLError):
    """Something the scheme loader refuses before building anything (anchors, aliases, deep nesting)."""

    def __init__(self, mark: yaml.Mark, message: str):
        super().__init__(message)
        self.mark, self.message = mark, message


class _Guards:
    """Refuses YAML anchors and aliases while composing, so nothing is ever expanded ("billion laughs":
    a few KB of aliases stand for billions of values), and nesting deeper than MAX_DEPTH (the composer
    recurses). Values that cannot be built (a date like 2026-13-45, an integer of more than 4300
    digits) become YAML errors naming their line instead of a bare ValueError."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(event.start_mark, "YAML anchors and aliases (&a / *a) are not allowed in a scheme file")
        if self._depth >= MAX_DEPTH:
            raise _Refused(event.start_mark, f"nested more than {MAX_DEPTH} levels deep")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, ArithmeticError, TypeError) as exc:
            value = node.value if isinstance(node, yaml.ScalarNode) else None
            if node.tag == "tag:yaml.org,2002:timestamp":
                problem = f"{_q(value)} looks like a date but is not one ({exc}); quote it if it is text"
            elif node.tag == "tag:yaml.org,2002:int":
                problem = f"{_q(value)}: an integer with too many digits"
            else:
                problem = f"cannot read {_q(value) if value is not None else 'the value'}: {exc}"
            raise _Refused(node.start_mark, problem) from None


class PySchemeLoader(_Guards, yaml.SafeLoader):
    """yaml.SafeLoader with the _Guards checks (pure Python; used when PyYAML has no libyaml)."""

    BYTE_OFFSETS = False  # reader-error positions are character offsets


try:  # libyaml's event parser (C) under PyYAML's own composer, so that _Guards sees every event
    from yaml._yaml import CParser as _CParser
except ImportError:  # PyYAML built without libyaml
    _CParser = None

if _CParser is not None:

    class CSchemeLoader(
        _Guards, yaml.composer.Composer, _CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver
    ):
        """SafeLoader's constructor and resolver on libyaml's parser (about 6x faster than PySchemeLoader
        on a 1 MB file), composed in Python with the _Guards checks."""

        BYTE_OFFSETS = True  # libyaml reports reader-error positions in UTF-8 bytes

        def __init__(self, stream: str):
            _CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            yaml.composer.Composer.__init__(self)

    SchemeLoader: type = CSchemeLoader
else:
    SchemeLoader = PySchemeLoader


def _yaml_error_line(name: str, text: str, exc: yaml.YAMLError, byte_offsets: bool) -> str:
    """One line naming the file and line of a YAML error."""
    if isinstance(exc, _Refused):
        return f"{name} line {exc.mark.line + 1}: {exc.message}"
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        if "exceeded maximum nesting depth" in (exc.problem or ""):  # libyaml's own limit (1000 flow levels)
            return f"{name} line {mark.line + 1}: nested more than {MAX_DEPTH} levels deep"
        problem = exc.problem or "syntax error"
        if exc.context:
            problem = f"{exc.context}: {problem}"
        return f"{name} line {mark.line + 1}, column {mark.column + 1}: not valid YAML: {problem}"
    if isinstance(exc, yaml.reader.ReaderError):
        pos = max(exc.position, 0)
        line = (text.encode("utf-8").count(b"\n", 0, pos) if byte_offsets else text.count("\n", 0, pos)) + 1
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        return f"{name} line {line}: not valid YAML: character #x{char:04x} is not allowed ({exc.reason})"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{name}: not valid YAML: {first}"


def _read_scheme_text(p: Path) -> str:
    """The file's text, read as UTF-8 (a UTF-8 BOM is allowed), at most MAX_FILE_BYTES."""
    where, name = str(p), p.name or str(p)
    try:
        st = p.stat()
    except (FileNotFoundError, NotADirectoryError, ValueError):
        raise SchemeError(where, [f"file not found: {p}"]) from None
    except OSError as exc:
        raise SchemeError(where, [f"cannot read {p}: {exc.strerror or exc}"]) from None
    if stat.S_ISDIR(st.st_mode):
        raise SchemeError(where, [f"{p} is a directory, not a scheme file"])
    if not stat.S_ISREG(st.st_mode):
        raise SchemeError(where, [f"{p} is not a regular file (a device, a pipe or a socket)"])
    too_big = f"{name}: the scheme file is larger than {MAX_FILE_BYTES:,} bytes (1 MB); a scheme file is a few KB"
    if st.st_size > MAX_FILE_BYTES:
        raise SchemeError(where, [f"{too_big} (this one: {st.st_size:,} bytes)"])
    try:
        with p.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)  # bounded even when the size on disk was wrong (/proc, growing)
    except OSError as exc:
        raise SchemeError(where, [f"cannot read {p}: {exc.strerror or exc}"]) from None
    if len(data) > MAX_FILE_BYTES:
        raise SchemeError(where, [too_big])
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SchemeError(where, [f"{name}: the file is UTF-16; save the scheme file as UTF-8"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SchemeError(
            where,
            [
                f"{name} line {line}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at column {column}); "
                "save the scheme file as UTF-8"
            ],
        ) from None


def read_scheme_yaml(text: str, name: str = "<scheme>", where: str = "<scheme>", loader: type | None = None) -> Any:
    """The data of a scheme file's text; SchemeError naming the line when it is not acceptable YAML
    (syntax, anchors and aliases, nesting, values that cannot be built)."""
    loader = loader or SchemeLoader
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - SafeConstructor and Resolver only
    except yaml.YAMLError as exc:
        raise SchemeError(where, [_yaml_error_line(name, text, exc, loader.BYTE_OFFSETS)]) from None
    except RecursionError:
        raise SchemeError(where, [f"{name}: nested too deeply"]) from None


def load_scheme(path: str | Path) -> Scheme:
    """The validated scheme of the file at `path`; SchemeError (and nothing else) when it cannot be used."""
    p = Path(path)
    text = _read_scheme_text(p)
    data = read_scheme_yaml(text, p.name or str(p), str(p))
    return parse_scheme(data, str(p))


def scheme_partitioning(path: str | Path) -> tuple[str, str | None]:
    """Grain and first period of the scheme file at `path`; quarterly from 2020 when it cannot be read
    (a run then stops at scheme_config with the file's errors)."""
    try:
        scheme = load_scheme(path)
    except (SchemeError, OSError):
        return "quarter", None
    return scheme.grain, scheme.first_period
