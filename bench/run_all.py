"""Run every benchmark in bench/ and write one table to docs/benchmarks.md.

    python bench/run_all.py [SECONDS]     (make bench)

Each benchmark measures its reference in the same run and reports a ratio: the machine is noisy,
so an absolute time alone says little.
"""

import importlib
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, machine  # noqa: E402

# Each module has figures(seconds) -> list[Figure].
BENCHMARKS = [
    "bench.redeem_throughput",
    "bench.card_page",
    "bench.print_sheet",
    "bench.dashboard",
    "bench.compare",
]


def kept_sections(path: Path) -> str:
    """The `## ` sections of the file as it is (each benchmark's own write-up, with the figures
    of its own runs): a new table replaces only the table above them."""
    if not path.exists():
        return ""
    text = path.read_text()
    start = text.find("\n## ")
    return text[start + 1 :] if start >= 0 else ""


def main(seconds: int = 10) -> Path:
    started = datetime.now(UTC)
    header = machine()
    figures, failures = [], []
    for name in BENCHMARKS:
        print(f"== {name}", flush=True)
        began = time.perf_counter()
        try:
            figures.extend(importlib.import_module(name).figures(seconds))
        except Exception as error:  # noqa: BLE001 - one broken benchmark must not hide the rest
            failures.append(f"{name}: {error!r}")
            print(f"   failed: {error!r}", flush=True)
        print(f"   {time.perf_counter() - began:.0f} s", flush=True)
    lines = [
        "# Benchmarks",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {header}. Written by `make bench`",
        "(`bench/run_all.py`); every figure is compared with a reference measured in the same",
        "run, because this machine is shared and noisy.",
        "",
        "| benchmark | ours | reference (same run) | ratio | target | met | notes |",
        "|---|---|---|---|---|---|---|",
        *(figure.row() for figure in figures),
    ]
    if failures:
        lines += ["", "Benchmarks that failed to run:", *(f"- {f}" for f in failures)]
    out = ROOT / "docs" / "benchmarks.md"
    out.parent.mkdir(exist_ok=True)
    kept = kept_sections(out)
    out.write_text("\n".join(lines) + "\n" + (f"\n{kept}" if kept else ""))
    print("\n".join(lines[6:]))
    print(f"\nwritten to {out}")
    return out


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
