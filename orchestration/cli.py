"""`scorecard`: the console command. Thin: it calls the same code the Dagster code location runs."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

from orchestration.scheme.dbt_vars import dbt_vars
from orchestration.scheme.errors import SchemeError
from orchestration.scheme.file import load_scheme
from orchestration.settings import DEFAULTS, PROJECT_ROOT, AsOfError, parse_as_of, path_setting, run_choices, set_paths

SCALES = {"tiny": (12, 0.25), "small": (30, 0.5), "default": (60, 1.0), "large": (200, 4.0)}


def _cmd_sample(args: argparse.Namespace) -> int:
    from tools.sample.generator import generate, years_of_history

    reps, rows_scale = SCALES[args.scale]
    if args.reps:
        reps = args.reps
    started = time.perf_counter()
    try:
        quarters, start = years_of_history(args.years)
    except ValueError as exc:
        print(f"--years: {exc}", file=sys.stderr)
        return 2
    counts = generate(Path(args.out), seed=args.seed, reps=reps, rows_scale=rows_scale, quarters=quarters, start=start)
    total = sum(counts.values())
    print(
        f"sample written to {Path(args.out) / 'landing'} (seed {args.seed}, {reps} reps) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    print(f"  history: {quarters} quarters from {start} ({args.years} year{'s' if args.years != 1 else ''})")
    for entity, n in sorted(counts.items()):
        print(f"  {entity:<28} {n:>9,}")
    print(f"  {'total':<28} {total:>9,}")
    print(f"ground truth of planted anomalies: {Path(args.out) / 'ground_truth.csv'}")
    return 0


def _is_mapping_file(path: str) -> bool:
    """A sources.yml (inputs and entities, no schemes) rather than a scheme file."""
    from orchestration.scheme.file import _read_scheme_text, read_scheme_yaml

    try:
        data = read_scheme_yaml(_read_scheme_text(Path(path)))
    except SchemeError:
        return False
    return isinstance(data, dict) and "schemes" not in data and ("entities" in data or "inputs" in data)


def _cmd_check_config(args: argparse.Namespace) -> int:
    if _is_mapping_file(args.file):
        from orchestration.mapping.model import load_sources

        try:
            mapping = load_sources(args.file)
        except SchemeError as exc:
            print(f"INVALID {exc}", file=sys.stderr)
            return 2
        files = {name: len(mapping.files(name)) for name in mapping.inputs}
        print(
            f"OK {args.file}: mapping of {len(mapping.entities)} entities ({', '.join(mapping.entities)}) from "
            f"{len(mapping.inputs)} inputs under {mapping.folder} "
            f"({', '.join(f'{k}: {n} file(s)' for k, n in files.items())})"
        )
        return 0
    try:
        scheme = load_scheme(args.file)
    except SchemeError as exc:
        print(f"INVALID {exc}", file=sys.stderr)
        return 2
    stages = ", ".join(f"{k} ({len(v.weights)} weighted indicators)" for k, v in sorted(scheme.schemes.items()))
    print(
        f"OK {args.file}: grain {scheme.grain}, time zone {scheme.timezone}, schemes {stages}, "
        f"{len(scheme.grades)} grade bands, report language {scheme.report.language}"
        + (
            f", sources: {len(scheme.mapping().entities)} entities mapped ({scheme.mapping().path})"
            if scheme.mapping()
            else ""
        )
    )
    return 0


def _cmd_dbt_vars(args: argparse.Namespace) -> int:
    scheme = load_scheme(args.config)
    as_of = parse_as_of(args.as_of, scheme.timezone).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    print(json.dumps(dbt_vars(scheme, as_of)))
    return 0


def _set_paths(args: argparse.Namespace) -> None:
    set_paths(
        landing=args.landing,
        config=args.config,
        warehouse=args.warehouse,
        as_of=args.as_of,
        sources=getattr(args, "sources", None),
    )


EXIT_BUSY = 3  # another run holds the warehouse


class Preflight(Exception):
    """An argument or folder that would make the run fail: said in one line before Dagster starts."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def _writable_folder(folder: Path) -> str | None:
    """Why the warehouse cannot be written in `folder` (one line), or None. Tries a real file: a
    read-only mount or a full disk is seen here, whoever runs it (root included)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".scorecard-write-probe-{os.getpid()}"
        with probe.open("wb") as fh:
            fh.write(b"0" * 4096)
            fh.flush()
            os.fsync(fh.fileno())
        probe.unlink()
    except OSError as exc:
        return f"warehouse folder {folder} is not writable: {exc.strerror or exc}"
    return None


def preflight_run(args: argparse.Namespace):
    """Every check that needs no Dagster: as-of, scheme file, periods, landing folder, warehouse folder,
    writer lock. Returns the scheme; raises Preflight."""
    from orchestration.contract.layout import landing_problem
    from orchestration.warehouse.writer_lock import current_holder

    try:
        scheme = load_scheme(path_setting("SCORECARD_CONFIG"))
    except SchemeError as exc:
        raise Preflight(f"run stopped before writing anything: {exc}") from None
    try:
        parse_as_of(path_setting("SCORECARD_AS_OF"), scheme.timezone)
    except AsOfError as exc:
        raise Preflight(f"--as-of: {exc}") from None
    try:
        run_choices()  # the environment's defaults of the run's choices (SCORECARD_TARGET, ...)
    except ValueError as exc:
        raise Preflight(str(exc)) from None
    if args.period and (args.period_from or args.period_to):
        raise Preflight("give either --period or --from/--to")
    period_from, period_to = (args.period, args.period) if args.period else (args.period_from, args.period_to)
    if period_from or period_to:
        from orchestration.periods import check_window, partition_keys

        keys = partition_keys(scheme.grain, scheme.first_period)
        if (err := check_window(period_from, period_to, scheme.grain, keys)) is not None:
            raise Preflight(f"period: {err}")
    try:
        mapping = _source_mapping(scheme)
    except SchemeError as exc:
        raise Preflight(f"run stopped before writing anything: {exc}") from None
    mapped = tuple(mapping.entities) if mapping else ()
    if (problem := landing_problem(Path(path_setting("SCORECARD_LANDING")), mapped)) is not None:
        raise Preflight(problem)
    warehouse = Path(path_setting("SCORECARD_WAREHOUSE"))
    if warehouse.exists() and not warehouse.is_file():
        raise Preflight(f"--warehouse {warehouse} is not a file")
    if any(quote in warehouse.stem for quote in "'\""):
        # DuckDB names the database after the file; dbt-duckdb writes that name into SQL string literals
        # unescaped, so the dbt build would stop on a SQL parser error
        raise Preflight(f"--warehouse {warehouse}: a quote in the file name is not supported (dbt-duckdb); rename it")
    if (problem := _writable_folder(warehouse.parent)) is not None:
        raise Preflight(problem)
    if (args.target or run_choices().target) == "spark":
        from orchestration.engines.spark_run import spark_problem

        if (problem := spark_problem(warehouse)) is not None:
            raise Preflight(problem)
    holder = current_holder(warehouse)
    if holder is not None and not args.wait:
        raise Preflight(
            f"another run ({holder.describe()}) holds this warehouse {warehouse.resolve()}; "
            "wait for it to finish (scorecard run --wait SECONDS) or stop that process",
            EXIT_BUSY,
        )
    return scheme, period_from, period_to


def _source_mapping(scheme, path: str | None = None, strict: bool = True):
    """The mapping file `path` (else SCORECARD_SOURCES), else the scheme file's `sources`; None if none.
    Not `strict` (the dry run): required columns left unmapped are reported, not errors."""
    from orchestration.mapping.model import load_sources

    path = path or path_setting("SCORECARD_SOURCES")
    return load_sources(path, strict=strict) if path else scheme.mapping()


def _cmd_map(args: argparse.Namespace) -> int:
    from orchestration.mapping.dry_run import dry_run, render

    if not args.dry_run:
        print(
            "scorecard map: give --dry-run (a run reads the mapping itself: scorecard run --sources FILE)",
            file=sys.stderr,
        )
        return 2
    try:
        scheme = load_scheme(args.config or path_setting("SCORECARD_CONFIG"))
        mapping = _source_mapping(scheme, args.sources, strict=False)
        as_of = parse_as_of(args.as_of or path_setting("SCORECARD_AS_OF"), scheme.timezone)
    except (SchemeError, AsOfError) as exc:
        print(f"INVALID {exc}", file=sys.stderr)
        return 2
    if mapping is None:
        print("no mapping: give --sources FILE, or a sources: section in the scheme file", file=sys.stderr)
        return 2
    started = time.perf_counter()
    reports = dry_run(mapping, scheme, as_of, first=args.failures, entities=args.entity or None)
    for line in render(mapping, reports):
        print(line)
    print(f"dry run in {time.perf_counter() - started:.1f} s; nothing was written")
    return 0 if all(r.ok for r in reports) else 1


def _cmd_run(args: argparse.Namespace) -> int:
    _set_paths(args)
    try:
        _, period_from, period_to = preflight_run(args)
    except Preflight as exc:
        print(str(exc), file=sys.stderr)
        return exc.code
    from orchestration.runner import run_pipeline
    from orchestration.warehouse.writer_lock import WarehouseBusy

    args.started = True
    try:
        outcome = run_pipeline(
            echo=print,
            log_level=args.log_level,
            period_from=period_from,
            period_to=period_to,
            verbose=args.verbose,
            wait_seconds=float(args.wait or 0),
            full_refresh=True if args.full_refresh else None,  # else the environment's default
            data_docs=False if args.no_data_docs else None,
            target=args.target,
        )
    except WarehouseBusy as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BUSY
    return 0 if outcome.success else 1


def _cmd_period_status(args: argparse.Namespace) -> int:
    from orchestration.closed_periods import ledger_path, record_status
    from orchestration.periods import label_error

    warehouse = args.warehouse or path_setting("SCORECARD_WAREHOUSE")
    try:
        scheme = load_scheme(args.config)
    except SchemeError as exc:
        print(f"INVALID {exc}", file=sys.stderr)
        return 2
    if (err := label_error(args.period, scheme.grain)) is not None:
        print(f"period: {err}", file=sys.stderr)
        return 2
    status = "closed" if args.command == "close-period" else "open"
    record_status(warehouse, args.period, status, args.reason)
    print(f"{args.period} {status} (ledger {ledger_path(warehouse)}); takes effect from the next run")
    return 0


def _cmd_what_if(args: argparse.Namespace) -> int:
    from orchestration.whatif import WhatIfError, format_text, run_what_if

    warehouse = args.warehouse or path_setting("SCORECARD_WAREHOUSE")
    try:
        result = run_what_if(args.config, warehouse, args.period, echo=print)
    except SchemeError as exc:
        print(f"INVALID {exc}", file=sys.stderr)
        return 2
    except WhatIfError as exc:
        print(f"what-if failed: {exc}", file=sys.stderr)
        return 1
    print(format_text(result, all_subjects=args.all))
    return 0


def _cmd_docs(args: argparse.Namespace) -> int:
    from orchestration.report.dbt_docs import DocsError, publish_dbt_docs

    warehouse = Path(args.warehouse or path_setting("SCORECARD_WAREHOUSE"))
    if not warehouse.is_file():
        print(f"no warehouse at {warehouse}: run `scorecard run` (or `make run`) first", file=sys.stderr)
        return 2
    try:
        page = publish_dbt_docs(warehouse)
    except DocsError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"the marts' docs: {page}\nall reports: {page.parents[1] / 'index.html'}")
    return 0


def _cmd_review(args: argparse.Namespace) -> int:
    from orchestration.reviews import ReviewError, format_queue, review_queue, write_decision

    warehouse = args.warehouse or path_setting("SCORECARD_WAREHOUSE")
    try:
        if args.list:
            print(format_queue(review_queue(warehouse, args.open), datetime.now(UTC), args.open))
            return 0
        if not args.flag_id:
            raise ReviewError("give a FLAG_ID to decide on, or --list to see the queue")
        if args.confirm == args.dismiss:
            raise ReviewError("give exactly one of --confirm and --dismiss")
        decided_at = None
        if args.decided_at:
            try:
                decided_at = datetime.fromisoformat(args.decided_at)
            except ValueError:
                raise ReviewError(f"--decided-at {args.decided_at!r} is not an ISO 8601 time") from None
            if decided_at.tzinfo is None:
                raise ReviewError(f"--decided-at {args.decided_at!r} needs a UTC offset, e.g. +08:00 or Z")
        try:
            scheme = load_scheme(args.config)
        except SchemeError as exc:
            raise ReviewError(f"scheme file: {exc}") from None
        from orchestration.closed_periods import closed_periods
        from orchestration.scheme.anomalies import anomaly_policy

        policy = anomaly_policy(scheme.anomalies)
        landing = args.landing or path_setting("SCORECARD_LANDING")
        decision = "confirmed" if args.confirm else "dismissed"
        probe = write_decision(
            landing,
            warehouse,
            args.flag_id,
            decision,
            args.by,
            args.reason,
            decided_at,
            policy=policy,
            closed_periods=set(closed_periods(list(scheme.closed_periods), warehouse)),
        )
    except ReviewError as exc:
        print(f"review: {exc}", file=sys.stderr)
        return 2
    f = probe.flag
    print(f"{decision} flag {f.flag_id} ({f.rule_id}, rep {f.rep_id}, {f.period}) by {args.by.strip()}: {probe.path}")
    print("at the next run:")
    for line in probe.effects:
        print(f"  - {line}")
    return 0


def bench_argv(args: argparse.Namespace) -> list[str]:
    """`scorecard bench`'s options as tools.bench takes them."""
    argv = ["--scales", args.scales, "--work", args.work, "--incremental", args.incremental, "--years", args.years]
    for option in ("results", "doc", "plot"):
        if getattr(args, option) is not None:
            argv += [f"--{option}", getattr(args, option)]
    return argv + ([] if args.rebuild_check else ["--no-rebuild-check"])


def _cmd_bench(args: argparse.Namespace) -> int:
    from tools.bench import main as bench_main

    return bench_main(bench_argv(args))


VERSIONED = ("dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "duckdb", "great-expectations", "pandera", "pandas")


def version_text() -> str:
    """`scorecard --version`: this package's version and the versions of the stack it runs on (for a
    bug report), read from the installed packages' metadata, without importing them."""
    from importlib.metadata import PackageNotFoundError, version

    def of(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    return f"scorecard {of('scorecard')} (" + ", ".join(f"{name} {of(name)}" for name in VERSIONED) + ")"


class _PrintVersion(argparse.Action):
    """argparse's `version` action wraps the line at the terminal's width: this one prints it whole."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_text())
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scorecard", description=__doc__)
    p.add_argument("--version", action=_PrintVersion, help="print the version of scorecard and of its stack, then exit")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sample", help="write a synthetic landing folder with planted anomalies")
    s.add_argument("--out", required=True, help="output folder: <out>/landing and <out>/ground_truth.csv")
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--scale", choices=sorted(SCALES), default="default")
    s.add_argument("--reps", type=int, help="number of reps (overrides the scale's)")
    s.add_argument(
        "--years", type=int, default=1, help="calendar years of history ending in 2026 (default 1: its 4 quarters)"
    )
    s.set_defaults(func=_cmd_sample)

    c = sub.add_parser("check-config", help="validate a scheme file and explain every error")
    c.add_argument("file")
    c.set_defaults(func=_cmd_check_config)

    mp = sub.add_parser("map", help="try a mapping of vendors' exports on them: what would pass, what would not")
    mp.add_argument("--dry-run", dest="dry_run", action="store_true", help="read and map, write nothing")
    mp.add_argument("--sources", help="the mapping file (env SCORECARD_SOURCES; default: the scheme file's sources)")
    mp.add_argument("--config", help="scheme file (env SCORECARD_CONFIG; default config/scorecard.yml)")
    mp.add_argument("--as-of", dest="as_of", help="as-of time, ISO 8601 (default now): later dates are in the future")
    mp.add_argument("--entity", action="append", help="only this entity (repeatable), e.g. crm/deals")
    mp.add_argument("--failures", type=int, default=5, help="failures shown per entity (default 5)")
    mp.set_defaults(func=_cmd_map)

    r = sub.add_parser("run", help="run the whole asset graph once, in-process, and print a summary")
    r.add_argument(
        "--sources",
        help="mapping file of vendors' exports (env SCORECARD_SOURCES; default: the scheme file's sources, if any)",
    )
    r.add_argument("--landing", help=f"landing folder (env SCORECARD_LANDING; default {DEFAULTS['SCORECARD_LANDING']})")
    r.add_argument("--config", help="scheme file (env SCORECARD_CONFIG; default config/scorecard.yml)")
    r.add_argument("--warehouse", help="DuckDB file (env SCORECARD_WAREHOUSE; default warehouse/scorecard.duckdb)")
    r.add_argument("--as-of", dest="as_of", help="as-of time, ISO 8601 (env SCORECARD_AS_OF; default now)")
    r.add_argument(
        "--target",
        choices=["duckdb", "postgres", "spark"],
        help="warehouse engine (env SCORECARD_TARGET; default duckdb); postgres also writes raw, "
        "marts and audit tables to the SCORECARD_PG_* database; spark does the whole run on the Spark cluster "
        "SCORECARD_SPARK_MASTER with tables under SCORECARD_SPARK_WAREHOUSE, --warehouse being their DuckDB "
        "reader file (needs the spark extra: pip install '.[spark]')",
    )
    r.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="Dagster console log level (progress output); default INFO",
    )
    r.add_argument("--period", help="rebuild one period only (label of the scheme's grain, e.g. 2026-Q1)")
    r.add_argument("--from", dest="period_from", help="first period of a range to rebuild (backfill)")
    r.add_argument("--to", dest="period_to", help="last period of a range to rebuild (backfill)")
    r.add_argument(
        "--verbose", action="store_true", help="print whole log messages (stack traces); they are always in the run log"
    )
    r.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="when another run holds the warehouse, wait up to SECONDS for it (default: stop at once, exit 3)",
    )
    r.add_argument(
        "--full-refresh",
        action="store_true",
        help="re-read every landing file, not only new and changed ones (env SCORECARD_FULL_REFRESH=1)",
    )
    r.add_argument(
        "--no-data-docs",
        action="store_true",
        help="skip the HTML docs (Great Expectations' pages, the marts' dbt docs), not the checks "
        "(env SCORECARD_GE_DATA_DOCS=0)",
    )
    r.set_defaults(func=_cmd_run)

    w = sub.add_parser(
        "what-if", help="recompute a period's grades under another scheme file, without publishing, and compare"
    )
    w.add_argument("--config", required=True, help="the alternative scheme file")
    w.add_argument("--period", help="period label, e.g. 2026-Q4 (default: the latest graded period)")
    w.add_argument(
        "--warehouse", help="published DuckDB file (env SCORECARD_WAREHOUSE; default warehouse/scorecard.duckdb)"
    )
    w.add_argument("--all", action="store_true", help="list every subject, not only the grade changes")
    w.set_defaults(func=_cmd_what_if)

    d = sub.add_parser(
        "docs", help="build the marts' docs (dbt docs, one static page) from the published warehouse, read-only"
    )
    d.add_argument(
        "--warehouse", help="published DuckDB file (env SCORECARD_WAREHOUSE; default warehouse/scorecard.duckdb)"
    )
    d.set_defaults(func=_cmd_docs)

    for name, text in (
        ("close-period", "freeze the published grades of a period (from the next run on)"),
        ("reopen-period", "reopen a closed period: the next run recomputes its grades"),
    ):
        cp = sub.add_parser(name, help=text)
        cp.add_argument("period", help="period label of the scheme's grain, e.g. 2026-Q1")
        cp.add_argument("--reason", help="why (kept in audit.period_status)")
        cp.add_argument(
            "--warehouse", help="published DuckDB file (env SCORECARD_WAREHOUSE; default warehouse/scorecard.duckdb)"
        )
        cp.add_argument("--config", default=path_setting("SCORECARD_CONFIG"))
        cp.set_defaults(func=_cmd_period_status)

    rv = sub.add_parser(
        "review",
        help="decide on an anomaly flag (confirm or dismiss, written to the landing folder) or list the queue",
    )
    rv.add_argument("flag_id", nargs="?", help="the flag's id (marts.anomaly_flags.flag_id)")
    rv.add_argument("--confirm", action="store_true", help="the flag is right: its rule's on_confirm policy applies")
    rv.add_argument("--dismiss", action="store_true", help="the flag is wrong: the figures stay as computed")
    rv.add_argument("--by", help="reviewer's name (not the flagged rep)")
    rv.add_argument("--reason", help="why (required)")
    rv.add_argument("--decided-at", dest="decided_at", help="decision time, ISO 8601 with offset (default now)")
    rv.add_argument("--list", action="store_true", help="print the flags, oldest first")
    rv.add_argument("--open", action="store_true", help="with --list: only the flags not yet decided")
    rv.add_argument("--landing", help="landing folder (env SCORECARD_LANDING)")
    rv.add_argument(
        "--warehouse", help="published DuckDB file (env SCORECARD_WAREHOUSE; default warehouse/scorecard.duckdb)"
    )
    rv.add_argument(
        "--config",
        default=path_setting("SCORECARD_CONFIG"),
        help="scheme file whose anomalies.policy the next run applies",
    )
    rv.set_defaults(func=_cmd_review)

    v = sub.add_parser("dbt-vars", help="print the --vars JSON to run the dbt project standalone")
    v.add_argument("--config", default=str(PROJECT_ROOT / "config" / "scorecard.yml"))
    v.add_argument("--as-of", dest="as_of", default="")
    v.set_defaults(func=_cmd_dbt_vars)
    b = sub.add_parser("bench", help="time and memory of the pipeline at several scales (docs/benchmarks.md)")
    b.add_argument("--scales", default="10k,100k,1m,10m", help="comma-separated: 10k, 100k, 1m, 10m, 10m-12q")
    b.add_argument("--work", default="/tmp/bench", help="folder for the generated data and warehouses (large)")
    b.add_argument("--incremental", default="1m,10m", help="scales that also re-run with 1%% new rows")
    b.add_argument("--years", default="1", help="calendar years of generated history ending in 2026 (default 1)")
    b.add_argument(
        "--no-rebuild-check",
        dest="rebuild_check",
        action="store_false",
        help="skip the full build that the nightly re-run's marts are compared with (one full run per scale)",
    )
    b.add_argument("--results", help="folder of the JSON results (default benchmarks/results)")
    b.add_argument("--doc", help="the Markdown page to update (default docs/benchmarks.md; '' leaves it alone)")
    b.add_argument("--plot", help="the chart to write (default docs/benchmarks.png; '' for none)")
    b.set_defaults(func=_cmd_bench)
    return p


def _os_error_line(exc: OSError) -> str:
    """What, where and what to do, in one line."""
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    hint = {
        errno.ENOSPC: "free disk space there, or point --warehouse at a larger disk",
        errno.EROFS: "the file system is read-only: point --warehouse at a writable folder",
        errno.EACCES: "check the folder's permissions",
        errno.EPERM: "check the folder's permissions",
        errno.EDQUOT: "the disk quota is exhausted: free space or raise the quota",
    }.get(exc.errno or 0, "see the log for details")
    return f"error: {exc.strerror or exc}{where}; {hint}"


def main(argv: list[str] | None = None) -> int:
    # Dagster's beta/preview notices about our own decorators are for developers, not for each run
    warnings.filterwarnings("ignore", message=r".*(is currently in beta|is currently in preview).*")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger("orchestration").addHandler(handler)
    args = build_parser().parse_args(argv)
    started = datetime.now(UTC)
    try:
        code = args.func(args)
    except OSError as exc:  # a full disk, a read-only folder: one line, the traceback in the log
        _log_traceback(args)
        print(_os_error_line(exc), file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except Exception as exc:  # a bug or an unforeseen state: one line here, the traceback in the log
        where = _log_traceback(args)
        first = (str(exc).strip().splitlines() or [""])[0][:400]
        print(f"error: {type(exc).__name__}: {first}" + (f" (traceback in {where})" if where else ""), file=sys.stderr)
        code = 1
    if args.command == "run" and getattr(args, "started", False):
        print(f"finished in {(datetime.now(UTC) - started).total_seconds():.1f} s")
    return code


def _log_traceback(args: argparse.Namespace) -> Path | None:
    """The traceback of an error that ends the command, in <warehouse dir>/logs/scorecard-errors.log (or
    on screen with --verbose). Returns the log file (None when it could not be written)."""
    import traceback

    text = traceback.format_exc()
    if getattr(args, "verbose", False):
        print(text, file=sys.stderr)
        return None
    warehouse = path_setting("SCORECARD_WAREHOUSE")
    try:
        from orchestration.run_logging import log_dir

        path = log_dir(warehouse) / "scorecard-errors.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"{datetime.now(UTC).isoformat()} {' '.join(sys.argv)}\n{text}\n")
        return path
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main())
