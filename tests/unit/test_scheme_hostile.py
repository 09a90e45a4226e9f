"""Hostile and broken scheme files: nothing a scheme file holds can hang the product, flood its output
or escape as anything but a SchemeError (which `scorecard check-config` turns into exit 2).

"Does not hang" is shown without timing: the inputs below would expand to billions of values, and the
exact error comes back because anchors and aliases are refused while composing, before anything is
built."""

from pathlib import Path

import pytest
import yaml

from orchestration.cli import main
from orchestration.scheme import errors as msg
from orchestration.scheme import file as sch
from orchestration.scheme.errors import SchemeError
from orchestration.scheme.file import load_scheme, read_scheme_yaml
from orchestration.scheme.model import parse_scheme

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "config" / "scorecard.yml"
DEFAULT_TEXT = DEFAULT.read_text(encoding="utf-8")
ANCHORS = "YAML anchors and aliases (&a / *a) are not allowed in a scheme file"
RULES = (
    "hidden_complaint, complaint_underreporting, inflated_self_report, channel_gap, self_filled_survey, "
    "speeder_burst, fabricated_contact"
)
# the loader in use (libyaml's parser under the Python composer) and the pure-Python fallback
LOADERS = list(dict.fromkeys([sch.SchemeLoader, sch.PySchemeLoader]))


def _laughs(levels: int, width: int) -> str:
    """A flow sequence of `levels` anchored lists, each `width` aliases of the one before: a couple of
    KB that stand for width ** levels values."""
    parts = ["&a0 [" + ", ".join(["lol"] * width) + "]"]
    parts += [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "[" + ", ".join(parts) + "]"


def _with_anomalies(value: str) -> tuple[str, int]:
    """The default scheme file with `anomalies.channel_gap.confidence: value`, and that line's number."""
    text = DEFAULT_TEXT.replace("anomalies: {}", "anomalies: {channel_gap: {confidence: " + value + "}}")
    return text, text[: text.index("anomalies:")].count("\n") + 1


def _write(tmp_path: Path, text: str, name: str = "scheme.yml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _load_errors(path: Path) -> list[str]:
    with pytest.raises(SchemeError) as exc:
        load_scheme(path)
    return exc.value.errors


def _parse_error(data: dict) -> SchemeError:
    with pytest.raises(SchemeError) as exc:
        parse_scheme(data, "test.yml")
    return exc.value


def _default() -> dict:
    return yaml.safe_load(DEFAULT_TEXT)


# --- anchors and aliases ---------------------------------------------------------------------------


def test_billion_laughs_is_refused_before_any_expansion(tmp_path, capsys):
    text, line = _with_anomalies(_laughs(10, 10))  # 10 ** 10 values in 2.3 KB; it used to hang check-config
    assert len(text.encode()) < 2400
    p = _write(tmp_path, text)
    assert _load_errors(p) == [f"scheme.yml line {line}: {ANCHORS}"]
    assert main(["check-config", str(p)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"INVALID {p}: 1 error(s) in the scheme file:\n  - scheme.yml line {line}: {ANCHORS}\n"


def test_the_small_laughs_no_longer_give_a_39_mb_message(tmp_path):
    text, line = _with_anomalies(_laughs(7, 9))  # its value's repr was the 39 MB error message
    with pytest.raises(SchemeError) as exc:
        load_scheme(_write(tmp_path, text))
    assert exc.value.errors == [f"scheme.yml line {line}: {ANCHORS}"]
    assert len(str(exc.value)) < 300


@pytest.mark.parametrize("loader", LOADERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("timezone: Asia/Shanghai\ngrain: quarter\nbase: &a {default: 5}\nmin_sample: *a\n", 3),  # the brief's case
        ("grain: quarter\nunused: &only_an_anchor 5\n", 2),
        ("grain: quarter\n\nmin_sample: *never_defined\n", 3),
        ("base: {x: 1}\nm:\n  <<: *base\n", 3),  # merge keys need an alias
        ("--- &root\ngrain: quarter\n", 1),
        ("? &k grain\n: quarter\n", 1),
        ("grain: &g quarter\n", 1),
        (_laughs(12, 10), 1),  # 10 ** 12 values
    ],
)
def test_anchors_and_aliases_are_refused_wherever_they_are(loader, text, line):
    with pytest.raises(SchemeError) as exc:
        read_scheme_yaml(text, "scheme.yml", "scheme.yml", loader=loader)
    assert exc.value.errors == [f"scheme.yml line {line}: {ANCHORS}"]


@pytest.mark.parametrize("loader", LOADERS, ids=lambda c: c.__name__)
def test_the_same_file_without_aliases_loads_like_safe_load(loader):
    assert read_scheme_yaml(DEFAULT_TEXT, loader=loader) == yaml.safe_load(DEFAULT_TEXT)
    merged = "m:\n  <<: {x: 1, y: 2}\n  y: 3\n"  # a merge key with an inline mapping needs no alias
    assert read_scheme_yaml(merged, loader=loader) == {"m": {"x": 1, "y": 3}}


# --- nesting, values that cannot be built, characters ----------------------------------------------


@pytest.mark.parametrize("loader", LOADERS, ids=lambda c: c.__name__)
def test_nesting_is_limited(loader):
    assert sch.MAX_DEPTH == 32
    deepest = "[" * 31 + "1" + "]" * 31
    value = read_scheme_yaml(deepest, loader=loader)
    for _ in range(31):
        (value,) = value
    assert value == 1
    with pytest.raises(SchemeError) as exc:
        read_scheme_yaml("[" * 32 + "1" + "]" * 32, "scheme.yml", loader=loader)
    assert exc.value.errors == ["scheme.yml line 1: nested more than 32 levels deep"]
    with pytest.raises(SchemeError) as exc:  # 100 000 levels: used to be a RecursionError
        read_scheme_yaml("anomalies: " + "[" * 100_000 + "]" * 100_000, "scheme.yml", loader=loader)
    assert exc.value.errors == ["scheme.yml line 1: nested more than 32 levels deep"]
    block = "a:\n" + "".join("  " * i + "a:\n" for i in range(1, 40))
    with pytest.raises(SchemeError) as exc:
        read_scheme_yaml(block, "scheme.yml", loader=loader)
    assert exc.value.errors == ["scheme.yml line 32: nested more than 32 levels deep"]


@pytest.mark.parametrize("loader", LOADERS, ids=lambda c: c.__name__)
def test_values_that_cannot_be_built_name_their_line(loader):
    def errors(text: str) -> list[str]:
        with pytest.raises(SchemeError) as exc:
            read_scheme_yaml(text, "scheme.yml", loader=loader)
        return exc.value.errors

    # both used to escape as a bare ValueError (check-config exited 1 with a traceback)
    assert errors("grain: quarter\nfirst_period: 2026-13-45\n") == [
        "scheme.yml line 2: '2026-13-45' looks like a date but is not one (month must be in 1..12); "
        "quote it if it is text"
    ]
    assert errors("coverage_min: " + "9" * 5000 + "\n") == [
        "scheme.yml line 1: '" + "9" * 80 + "...': an integer with too many digits"
    ]
    assert errors("x: !!python/object/apply:os.system [echo]\n") == [
        "scheme.yml line 1, column 4: not valid YAML: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'"
    ]
    reason = "control" if loader is not sch.PySchemeLoader else "special"  # libyaml's and PyYAML's words
    assert errors("a: é\nb: 汉字\nc: x\x00\n") == [
        f"scheme.yml line 3: not valid YAML: character #x0000 is not allowed ({reason} characters are not allowed)"
    ]


def test_numbers_too_large_for_decimal_arithmetic():
    d = _default()
    d["schemes"]["mature"]["weights"]["sales_attainment"] = "1e999999999"  # used to raise decimal.Overflow
    assert _parse_error(d).errors == [
        "schemes.mature.weights: number out of range: 1E+999999999 (at most 15 digits before the decimal point)"
    ]
    d = _default()
    d["schemes"]["mature"]["scoring"]["nps"] = {"method": "piecewise", "points": [[0, 0], ["1e20", 100]]}
    assert _parse_error(d).errors == [
        "schemes.mature.scoring.nps.points: number out of range: 1E+20 (at most 15 digits before the decimal point)"
    ]
    d = _default()
    d["schemes"]["mature"]["weights"]["sales_attainment"] = float("nan")
    assert _parse_error(d).errors == ["schemes.mature.weights.sales_attainment: Input should be a finite number"]


# --- size of the file and of the message -------------------------------------------------------------


def test_file_size_is_capped_before_parsing(tmp_path):
    assert sch.MAX_FILE_BYTES == 1_048_576
    pad = sch.MAX_FILE_BYTES - len(DEFAULT_TEXT.encode("utf-8"))
    at_limit = DEFAULT_TEXT + "#" * (pad - 1) + "\n"
    p = _write(tmp_path, at_limit)
    assert p.stat().st_size == sch.MAX_FILE_BYTES
    assert load_scheme(p).grain == "quarter"
    p = _write(tmp_path, at_limit + "\n")
    assert _load_errors(p) == [
        "scheme.yml: the scheme file is larger than 1,048,576 bytes (1 MB); a scheme file is a few KB "
        "(this one: 1,048,577 bytes)"
    ]
    p = _write(tmp_path, (_laughs(10, 10) + "\n") * 2000)  # 4.6 MB: refused by size, not even read
    assert _load_errors(p) == [
        "scheme.yml: the scheme file is larger than 1,048,576 bytes (1 MB); a scheme file is a few KB "
        f"(this one: {p.stat().st_size:,} bytes)"
    ]


def test_quoted_values_are_truncated_to_80_characters():
    assert msg.MAX_VALUE_CHARS == 80
    d = _default()
    d["anomalies"] = {"channel_gap": {"confidence": "x" * 5000}}
    assert _parse_error(d).errors == [f"anomalies.channel_gap.confidence: must be a number, got '{'x' * 80}...'"]
    d["anomalies"] = {"channel_gap": {"confidence": list(range(100_000))}}
    assert _parse_error(d).errors == ["anomalies.channel_gap.confidence: must be a number, got [0, 1, 2, 3, 4, 5, ...]"]
    d["anomalies"] = {"r" * 5000: {}}
    assert _parse_error(d).errors == [f"anomalies.{'r' * 80}...: unknown rule (rules: {RULES})"]
    d = _default()
    d["timezone"] = "A" * 5000  # used to escape as OSError: [Errno 36] File name too long, 5 KB long
    assert _parse_error(d).errors == [
        f"timezone: unknown time zone '{'A' * 80}...' (use an IANA name such as Asia/Shanghai)"
    ]
    d = _default()
    d["encodings"] = {"c" * 900: "u" * 900}
    err = _parse_error(d).errors
    assert err[1] == f"encodings.{'c' * 80}...: unknown codec '{'u' * 80}...'"
    assert err[0].startswith(f"encodings.{'c' * 80}...: unknown entity (known: crm/teams, ")


def test_each_error_line_is_capped():
    assert msg.MAX_ERROR_CHARS == 600
    d = _default()
    d["closed_periods"] = ["Q" * 5000]
    full = f"closed_periods[0]: {'Q' * 5000!r} is not a quarter label of the scheme's grain (like 2026-Q3)"
    assert _parse_error(d).errors == [full[:597] + "..."]


def test_the_whole_message_is_capped_with_n_more_errors():
    d = _default()
    for i in range(200):
        d[f"k{i:03d}"] = 1
    exc = _parse_error(d)
    assert exc.errors == [f"k{i:03d}: unknown key" for i in range(200)]
    assert str(exc) == (
        "test.yml: 200 error(s) in the scheme file:\n  - "
        + "\n  - ".join(f"k{i:03d}: unknown key" for i in range(50))
        + "\n  - ... 150 more errors"
    )
    d = _default()
    for i in range(1000):
        d[f"k{i}" + "x" * 900] = 1
    exc = _parse_error(d)
    assert len(exc.errors) == 1000 and exc.omitted == 961
    assert len(str(exc)) == 4006  # 43 (head) + 39 x 101 (listed lines) + 24 (the last line)
    assert str(exc).endswith(f"\n  - k38{'x' * 77}...: unknown key\n  - ... 961 more errors")


def test_a_1_mb_file_of_90000_unknown_keys_gives_a_short_message(tmp_path):
    text = DEFAULT_TEXT + "".join(f"k{i}: 1\n" for i in range(90_000))
    with pytest.raises(SchemeError) as exc:
        load_scheme(_write(tmp_path, text))
    assert len(exc.value.errors) == 90_000
    assert str(exc.value).endswith("\n  - k49: unknown key\n  - ... 89950 more errors")
    assert len(str(exc.value)) < msg.MAX_MESSAGE_CHARS


# --- check-config: every failure is INVALID + exit 2, with a bounded message -------------------------


def _cases() -> dict[str, tuple[bytes | None, str]]:
    laughs, line = _with_anomalies(_laughs(10, 10))
    posix = DEFAULT_TEXT.replace("timezone: Asia/Shanghai", "timezone: posix/Asia/Shanghai")
    local = DEFAULT_TEXT.replace("timezone: Asia/Shanghai", "timezone: localtime")
    last = DEFAULT_TEXT.count("\n") + 1
    return {
        "laughs": (laughs.encode(), f"scheme.yml line {line}: {ANCHORS}"),
        "deep": (
            b"anomalies: " + b"[" * 100_000 + b"]" * 100_000,
            "scheme.yml line 1: nested more than 32 levels deep",
        ),
        "bad_date": (
            (DEFAULT_TEXT + "first_period: 2026-13-45\n").encode(),
            f"scheme.yml line {last}: '2026-13-45' looks like a date but is not one",
        ),
        "big_int": (
            DEFAULT_TEXT.replace("coverage_min: 0.7", "coverage_min: " + "9" * 5000).encode(),
            "an integer with too many digits",
        ),
        "too_big": ((DEFAULT_TEXT + "#" * 2_000_000 + "\n").encode(), "scheme.yml: the scheme file is larger than"),
        "not_utf8": (
            DEFAULT_TEXT.encode() + "# 备注\n".encode("gb18030"),
            f"scheme.yml line {last}: not valid UTF-8 (byte 0xb1 at column 3); save the scheme file as UTF-8",
        ),
        "empty": (b"", "(top level): the scheme file is empty; it needs at least schemes and grades"),
        "list": (b"- a\n", "(top level): the scheme file must be a YAML mapping (key: value lines), got a list"),
        "directory": (None, "is a directory, not a scheme file"),
        "posix_zone": (
            posix.encode(),
            "timezone: 'posix/Asia/Shanghai' is not a time zone the warehouse accepts; "
            "use an IANA name such as Asia/Shanghai",
        ),
        "localtime": (
            local.encode(),
            "timezone: 'localtime' is not a time zone the warehouse accepts; use an IANA name such as Asia/Shanghai",
        ),
        "long_zone": (
            DEFAULT_TEXT.replace("timezone: Asia/Shanghai", "timezone: " + "A" * 5000).encode(),
            f"timezone: unknown time zone '{'A' * 80}...'",
        ),
        "unknown_entity": (
            (DEFAULT_TEXT + "encodings: {crm/repz: gb18030}\n").encode(),
            "encodings.crm/repz: unknown entity (known: crm/teams, ",
        ),
        "unknown_codec": (
            (DEFAULT_TEXT + "encodings: {crm/reps: utf-9}\n").encode(),
            "encodings.crm/reps: unknown codec 'utf-9'",
        ),
        "decimal_overflow": (
            DEFAULT_TEXT.replace("sales_attainment: 0.30", "sales_attainment: '1e999999999'").encode(),
            "number out of range: 1E+999999999",
        ),
        "nul": ((DEFAULT_TEXT + "# \x00\n").encode(), f"scheme.yml line {last}: not valid YAML: character #x0000"),
        "many_keys": (
            (DEFAULT_TEXT + "".join(f"k{i}{'x' * 900}: 1\n" for i in range(1000))).encode(),
            "more errors",  # how many are listed depends on the length of the path
        ),
    }


@pytest.mark.parametrize("case", list(_cases()))
def test_check_config_says_invalid_and_exits_2(tmp_path, capsys, case):
    content, expected = _cases()[case]
    p = tmp_path / "scheme.yml"
    if content is None:
        p.mkdir()
    else:
        p.write_bytes(content)
    assert main(["check-config", str(p)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"INVALID {p}: ")
    assert expected in captured.err
    assert len(captured.err) < msg.MAX_MESSAGE_CHARS + 200
