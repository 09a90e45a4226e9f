"""A standalone Spark cluster on 127.0.0.1: one master and one worker, each its own JVM, started with
the pyspark package's own launcher (`<pyspark>/bin/spark-class org.apache.spark.deploy.master.Master`
and `... deploy.worker.Worker spark://127.0.0.1:<port>`), Java 17.

    python -m orchestration.engines.spark_cluster up|status|down [--state-dir DIR] [--master-port 7077] ...

`up` returns once the master's web UI (`http://127.0.0.1:<ui port>/json/`) lists the worker as ALIVE.
The state directory (default `<repo>/.spark_cluster/`) holds `master.pid`, `worker.pid`,
`cluster.json` (ports and pids), `logs/master.out`, `logs/worker.out` and the worker's work dir
`work/` (one folder per application, with each executor's stdout and stderr). `down` stops the two
JVMs and everything they started (executor JVMs, pyspark daemons): SIGTERM, then SIGKILL after a
grace period. Pipelines connect with `SCORECARD_SPARK_MASTER=spark://127.0.0.1:7077`
(orchestration/engines/spark.py). Tests use `standalone_cluster(...)` (free ports, always stopped).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = ROOT / ".spark_cluster"
DEFAULT_MASTER_PORT = 7077
DEFAULT_UI_PORT = 8080
DEFAULT_WORKER_UI_PORT = 8081
DEFAULT_WORKER_CORES = 2
DEFAULT_WORKER_MEMORY = "2g"
# heap of the master and worker daemons themselves (not of the executors)
DAEMON_MEMORY = "512m"
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"

# pid -> Popen for the processes this Python process started: reaped after they stop (no zombies)
_CHILDREN: dict[int, subprocess.Popen] = {}


class ClusterError(RuntimeError):
    pass


@dataclass(frozen=True)
class Cluster:
    state_dir: str
    master_port: int
    ui_port: int
    worker_ui_port: int
    master_pid: int
    worker_pid: int
    worker_cores: int
    worker_memory: str

    @property
    def master_url(self) -> str:
        return f"spark://{HOST}:{self.master_port}"

    @property
    def ui_url(self) -> str:
        return f"http://{HOST}:{self.ui_port}"


def spark_home() -> Path:
    """The pyspark package's folder: it carries bin/spark-class and jars/."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def java_major() -> int:
    java = Path(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else "java"
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30).stderr
    except FileNotFoundError as e:
        raise ClusterError("no java on PATH (and JAVA_HOME unset): Spark 4 needs Java 17") from e
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not m:
        raise ClusterError(f"cannot read the Java version from: {out.strip()}")
    major = int(m.group(1))
    return int(m.group(2)) if major == 1 and m.group(2) else major


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        # as the JVM's servers do: a port whose old connections linger in TIME_WAIT is free, a listening one not
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        return True


# --- processes (Linux /proc) -------------------------------------------------------------------------


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, ppid) of a process, None when it does not exist."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = text[text.rfind(")") + 2 :].split()
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    st = _stat(pid)
    return st is not None and st[0] != "Z"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _is_ours(pid: int, main_class: str) -> bool:
    """The pid still is the JVM (or, for a moment at start, the spark-class script) of that class: a pid
    file left behind after a reboot must not make us signal an unrelated process."""
    return alive(pid) and main_class in _cmdline(pid)


def descendants(pid: int) -> list[int]:
    """All processes below `pid` (executor JVMs, pyspark daemons and their workers), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st is not None:
                children.setdefault(st[1], []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _reap(pids) -> None:
    for pid in pids:
        proc = _CHILDREN.get(pid)
        if proc is not None and proc.poll() is not None:
            _CHILDREN.pop(pid, None)


def _stop(pids: list[int], grace: float) -> list[int]:
    """SIGTERM to all, SIGKILL to what is left after `grace` seconds; returns the pids that were alive."""
    pids = [p for p in dict.fromkeys(pids) if alive(p)]
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        _reap(pids)
        if not any(alive(p) for p in pids):
            break
        time.sleep(0.2)
    for pid in pids:
        if alive(pid):
            _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        _reap(pids)
        time.sleep(0.1)
    for pid in pids:
        proc = _CHILDREN.pop(pid, None)
        if proc is not None:
            proc.wait(timeout=10)
    return pids


# --- state directory -------------------------------------------------------------------------------


def _paths(state_dir: Path) -> dict[str, Path]:
    return {
        "master_pid": state_dir / "master.pid",
        "worker_pid": state_dir / "worker.pid",
        "state": state_dir / "cluster.json",
        "master_log": state_dir / "logs" / "master.out",
        "worker_log": state_dir / "logs" / "worker.out",
        "work": state_dir / "work",
    }


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def read_state(state_dir: str | Path = DEFAULT_STATE_DIR) -> Cluster | None:
    try:
        return Cluster(**json.loads(_paths(Path(state_dir))["state"].read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return None


def running(state_dir: str | Path = DEFAULT_STATE_DIR) -> Cluster | None:
    """The cluster of this state directory when both its JVMs are alive."""
    p = _paths(Path(state_dir))
    master, worker = _read_pid(p["master_pid"]), _read_pid(p["worker_pid"])
    cluster = read_state(state_dir)
    if cluster and master and worker and _is_ours(master, MASTER_CLASS) and _is_ours(worker, WORKER_CLASS):
        return cluster
    return None


def master_json(ui_url: str, timeout: float = 5.0) -> dict:
    """The master's state from its web UI: workers (with state ALIVE/DEAD), active applications."""
    with urllib.request.urlopen(f"{ui_url}/json/", timeout=timeout) as r:
        return json.load(r)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _launch(main_class: str, args: list[str], log: Path, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    # spark-class execs the JVM, so the pid is the JVM's; a session of its own keeps it out of the
    # caller's terminal signals (Ctrl-C of `make`) and lets `down` find it by pid alone
    cmd = [str(spark_home() / "bin" / "spark-class"), main_class, *args]
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    _CHILDREN[proc.pid] = proc
    return proc


def up(
    state_dir: str | Path = DEFAULT_STATE_DIR,
    master_port: int = DEFAULT_MASTER_PORT,
    ui_port: int = DEFAULT_UI_PORT,
    worker_ui_port: int = DEFAULT_WORKER_UI_PORT,
    worker_cores: int = DEFAULT_WORKER_CORES,
    worker_memory: str = DEFAULT_WORKER_MEMORY,
    timeout: float = 120.0,
) -> tuple[Cluster, bool]:
    """Start master and worker unless this state directory's cluster already runs; wait until the
    master lists the worker as ALIVE. Returns (cluster, started): started is False when it was running."""
    state_dir = Path(state_dir).resolve()
    existing = running(state_dir)
    if existing is not None:
        return existing, False
    down(state_dir)  # a half-dead cluster or stale pid files
    if java_major() < 17:
        raise ClusterError("Spark 4 needs Java 17 or later on PATH (or JAVA_HOME)")
    for name, port in (("master", master_port), ("master web UI", ui_port), ("worker web UI", worker_ui_port)):
        if not _port_free(port):
            raise ClusterError(f"{HOST}:{port} ({name} port) is in use; pick another port")
    p = _paths(state_dir)
    p["master_log"].parent.mkdir(parents=True, exist_ok=True)
    p["work"].mkdir(parents=True, exist_ok=True)
    # no retry on the next port: a master on 7078 when 7077 was asked would be unreachable by its URL
    daemon_opts = "-Dspark.port.maxRetries=0 -Dspark.master.rest.enabled=false"
    env = os.environ | {
        "SPARK_HOME": str(spark_home()),
        "SPARK_LOCAL_IP": HOST,
        "SPARK_LOG_DIR": str(p["master_log"].parent),
        "SPARK_WORKER_DIR": str(p["work"]),
        "SPARK_DAEMON_MEMORY": DAEMON_MEMORY,
        "SPARK_MASTER_OPTS": daemon_opts,
        "SPARK_WORKER_OPTS": daemon_opts,
        # the Python of executors when the driver names none (spark.py sets spark.pyspark.python)
        "PYSPARK_PYTHON": sys.executable,
    }
    started = time.monotonic()
    master = _launch(
        MASTER_CLASS,
        ["--host", HOST, "--port", str(master_port), "--webui-port", str(ui_port)],
        p["master_log"],
        env,
        state_dir,
    )
    p["master_pid"].write_text(f"{master.pid}\n")
    master_url = f"spark://{HOST}:{master_port}"
    worker = _launch(
        WORKER_CLASS,
        [
            master_url,
            "--host",
            HOST,
            "--cores",
            str(worker_cores),
            "--memory",
            worker_memory,
            "--work-dir",
            str(p["work"]),
            "--webui-port",
            str(worker_ui_port),
        ],
        p["worker_log"],
        env,
        state_dir,
    )
    p["worker_pid"].write_text(f"{worker.pid}\n")
    cluster = Cluster(
        str(state_dir), master_port, ui_port, worker_ui_port, master.pid, worker.pid, worker_cores, worker_memory
    )
    p["state"].write_text(json.dumps(asdict(cluster), indent=2) + "\n")

    deadline, last = started + timeout, "no answer yet"
    while time.monotonic() < deadline:
        dead = [n for n, proc in (("master", master), ("worker", worker)) if proc.poll() is not None]
        if dead:
            last = f"{' and '.join(dead)} exited"
            break
        try:
            state = master_json(cluster.ui_url, timeout=2)
            if any(w.get("state") == "ALIVE" for w in state.get("workers", [])):
                return cluster, True
            last = f"master answers, workers: {[(w.get('id'), w.get('state')) for w in state.get('workers', [])]}"
        except (urllib.error.URLError, OSError, ValueError) as e:
            last = f"master web UI not answering ({e})"
        time.sleep(0.5)
    else:
        last = f"timeout after {timeout:.0f} s; {last}"
    down(state_dir)
    raise ClusterError(
        f"Spark cluster did not come up: {last}\n"
        f"--- {p['master_log']} (tail) ---\n{_tail(p['master_log'])}\n"
        f"--- {p['worker_log']} (tail) ---\n{_tail(p['worker_log'])}"
    )


def down(state_dir: str | Path = DEFAULT_STATE_DIR, grace: float = 15.0) -> list[int]:
    """Stop worker and master and every process below them (executors, pyspark daemons); remove the pid
    files. Returns the pids that were stopped (empty when nothing ran)."""
    p = _paths(Path(state_dir).resolve())
    pids: list[int] = []
    for key, main_class in (("worker_pid", WORKER_CLASS), ("master_pid", MASTER_CLASS)):
        pid = _read_pid(p[key])
        if pid is not None and _is_ours(pid, main_class):
            # children first in the list, collected before any dies (an orphan is re-parented to init)
            pids.extend([*descendants(pid), pid])
    stopped = _stop(pids, grace)
    left = [pid for pid in stopped if alive(pid)]
    if left:
        raise ClusterError(f"processes still alive after SIGKILL: {left}")
    for key in ("master_pid", "worker_pid", "state"):
        p[key].unlink(missing_ok=True)
    return stopped


@contextmanager
def standalone_cluster(
    state_dir: str | Path,
    master_port: int | None = None,
    ui_port: int | None = None,
    worker_ui_port: int | None = None,
    worker_cores: int = DEFAULT_WORKER_CORES,
    worker_memory: str = DEFAULT_WORKER_MEMORY,
    timeout: float = 120.0,
) -> Iterator[Cluster]:
    """A cluster for the duration of the block (free ports where None), always stopped at exit."""
    state_dir = Path(state_dir)
    try:
        cluster, _ = up(
            state_dir,
            master_port or free_port(),
            ui_port or free_port(),
            worker_ui_port or free_port(),
            worker_cores,
            worker_memory,
            timeout,
        )
        yield cluster
    finally:
        down(state_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.engines.spark_cluster",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    parser.add_argument("--master-port", type=int, default=DEFAULT_MASTER_PORT)
    parser.add_argument("--ui-port", type=int, default=DEFAULT_UI_PORT)
    parser.add_argument("--worker-ui-port", type=int, default=DEFAULT_WORKER_UI_PORT)
    parser.add_argument("--worker-cores", type=int, default=DEFAULT_WORKER_CORES)
    parser.add_argument("--worker-memory", default=DEFAULT_WORKER_MEMORY)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds `up` waits for an ALIVE worker")
    args = parser.parse_args(argv)

    if args.command == "up":
        started = time.monotonic()
        try:
            cluster, new = up(
                args.state_dir,
                args.master_port,
                args.ui_port,
                args.worker_ui_port,
                args.worker_cores,
                args.worker_memory,
                args.timeout,
            )
        except ClusterError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        if new:
            print(
                f"Spark cluster up in {time.monotonic() - started:.1f} s (master pid {cluster.master_pid}, "
                f"worker pid {cluster.worker_pid}: {cluster.worker_cores} cores, {cluster.worker_memory})"
            )
        else:
            print(
                f"Spark cluster already running (master pid {cluster.master_pid}, worker pid {cluster.worker_pid});"
                " nothing done"
            )
        print(f"master: {cluster.master_url}\nweb UI: {cluster.ui_url}\nstate:  {cluster.state_dir}")
        print(f"use it: export SCORECARD_SPARK_MASTER={cluster.master_url}")
        return 0
    if args.command == "down":
        cluster = read_state(args.state_dir)
        stopped = down(args.state_dir)
        if stopped:
            print(
                f"Spark cluster stopped ({len(stopped)} processes: {' '.join(map(str, stopped))})"
                + (f"; was {cluster.master_url}" if cluster else "")
            )
        else:
            print("Spark cluster not running; nothing to stop")
        return 0
    cluster = running(args.state_dir)
    if cluster is None:
        print(f"Spark cluster not running (state dir {Path(args.state_dir).resolve()})")
        return 1
    try:
        state = master_json(cluster.ui_url)
        workers = ", ".join(f"{w['id']} {w['state']} ({w['cores']} cores)" for w in state.get("workers", []))
        apps = ", ".join(f"{a['id']} {a['name']} {a['state']}" for a in state.get("activeapps", []))
    except (urllib.error.URLError, OSError, ValueError) as e:
        workers, apps = f"(web UI not answering: {e})", ""
    print(f"Spark cluster running: master pid {cluster.master_pid}, worker pid {cluster.worker_pid}")
    print(f"master: {cluster.master_url}\nweb UI: {cluster.ui_url}\nworkers: {workers or 'none'}")
    print(f"applications: {apps or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
