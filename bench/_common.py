"""Shared pieces of the benchmarks: a throwaway instance, wrk, the floors, figures.

The scratch database, the free port and gunicorn are the tests' too: they live in `harness`.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import ROOT, Gunicorn, ScratchDatabase, free_port  # noqa: F401 - for the benchmarks


def shared_bench() -> Path | None:
    """Return the folder of reference floors (../shared/bench), or None when it is not here."""
    for candidate in (
        os.environ.get("LINLI_SHARED_BENCH"),
        ROOT.parent / "shared" / "bench",
        "/work/shared/bench",
    ):
        if candidate and (Path(candidate) / "run_floor.sh").exists():
            return Path(candidate)
    return None


def backends() -> list[str]:
    """The databases a benchmark runs on: SQLite ("", a scratch file) always, and PostgreSQL at
    BENCH_POSTGRES_URL (default: the test server) when it answers."""
    import psycopg

    found = [""]
    url = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        psycopg.connect(url, connect_timeout=3).close()
        found.append(url)
    except psycopg.Error:
        pass
    return found


def instance(config: str = "") -> Path:
    """Make a throwaway instance folder with `config` as its config.py."""
    folder = Path(tempfile.mkdtemp(prefix="linli-bench-"))
    (folder / "config.py").write_text(config)
    return folder


def flask_env(instance_path: Path, database_url: str | None = None) -> dict:
    env = dict(os.environ, LINLI_INSTANCE_PATH=str(instance_path), LINLI_LOG_LEVEL="WARNING")
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def flask(args: list[str], env: dict) -> str:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def child_pids(parent: int) -> list[int]:
    """Return the processes whose parent is `parent` (a gunicorn master's workers), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) process `pid` has used, from /proc; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(
    url: str, script: Path, seconds: int, env: dict | None = None, connections: int = 16
) -> dict:
    """Run wrk (2 threads) and return requests/s, p50, p99 and the non-2xx count."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        env=dict(os.environ, **(env or {})),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result = {"non_2xx": 0}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec"):
            result["rps"] = float(parts[1])
        elif parts[:1] == ["50%"]:
            result["p50"] = parts[1]
        elif parts[:1] == ["99%"]:
            result["p99"] = parts[1]
        elif "Non-2xx" in line:
            result["non_2xx"] = int(parts[-1])
    result["raw"] = out
    return result


def floor(seconds: int) -> dict | None:
    """Measure ../shared/bench's redemption floor in this run; None when it is not available."""
    folder = shared_bench()
    if folder is None:
        return None
    out = (
        subprocess.run(
            ["bash", str(folder / "run_floor.sh"), sys.executable, str(seconds)],
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    # floor: <rps> req/s, p50 <x>, p99 <y>
    words = out.replace(",", "").split()
    return {"rps": float(words[1]), "p50": words[4], "p99": words[6], "line": out}


def ms(text: str) -> float:
    """Turn wrk's '3.21ms' / '850.00us' / '1.02s' into milliseconds."""
    for suffix, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


class Figure:
    """One line of docs/benchmarks.md: what was measured, against what, and the target."""

    def __init__(self, name, ours, reference, ratio, target, ok, notes=""):
        self.name, self.ours, self.reference = name, ours, reference
        self.ratio, self.target, self.ok, self.notes = ratio, target, ok, notes

    def row(self) -> str:
        ratio = f"{self.ratio:.2f}" if isinstance(self.ratio, float) else str(self.ratio)
        verdict = "✅" if self.ok else ("—" if self.ok is None else "❌")
        cells = (self.name, self.ours, self.reference, ratio, self.target, verdict, self.notes)
        return "| " + " | ".join(str(c) for c in cells) + " |"


def machine() -> str:
    """Describe this machine in one line: CPU, cores, memory, Python, SQLite."""
    import platform
    import sqlite3

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb // 1024 // 1024} GiB"
    except (OSError, ValueError, IndexError):
        memory = "? GiB"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory}; Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; load average {load:.2f} at the start"
    )
