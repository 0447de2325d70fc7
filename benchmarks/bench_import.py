"""What importing valueroute costs a host, above a bare interpreter start.

Each statement runs in a fresh interpreter under ``python -X importtime``; the
import time is the sum of the cumulative times of the top-level imports it
reports. The baseline is the same measure for ``pass`` (what the interpreter
imports at start-up anyway), taken in the same run; the figures reported are
medians over ``--repeats`` fresh processes, minus the baseline's median. Wall
time of the whole process is reported beside them.

Targets: ``from valueroute import Engine, TaskSpec, AgentSpec`` <= 150 ms and
``import valueroute`` <= 250 ms above the bare start.

    python benchmarks/bench_import.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time

from _timing import results_dir

STATEMENTS = {
    "bare interpreter": "pass",
    "import valueroute": "import valueroute",
    "engine, specs": "from valueroute import Engine, TaskSpec, AgentSpec",
    "durable engine": "from valueroute.journal import DurableEngine",
    "simulator": "from valueroute.sim.run import simulate",
}
TARGETS_MS = {"import valueroute": 250.0, "engine, specs": 150.0}


def import_ms(statement: str) -> tuple[float, float]:
    """Import time (sum of top-level cumulative times) and process wall time, in ms."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = (time.perf_counter() - start) * 1000.0
    total_us = 0
    for line in done.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        _, cumulative, name = line.split("|", 2)
        # Top-level imports have no nesting indent: one space after the bar.
        if cumulative.strip().isdigit() and not name.startswith("  "):
            total_us += int(cumulative)
    return total_us / 1000.0, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    # One untimed run each fills the bytecode caches.
    for statement in STATEMENTS.values():
        import_ms(statement)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in STATEMENTS}
    for _ in range(args.repeats):
        for name, statement in STATEMENTS.items():
            samples[name].append(import_ms(statement))
    medians = {
        name: (
            statistics.median(s[0] for s in runs),
            statistics.median(s[1] for s in runs),
        )
        for name, runs in samples.items()
    }
    base_import, base_wall = medians["bare interpreter"]
    results = []
    print(f"{'statement':<18} {'import ms':>10} {'above bare':>11} {'wall ms':>9} {'target':>8}")
    for name, (imp, wall) in medians.items():
        above = imp - base_import
        target = TARGETS_MS.get(name)
        print(
            f"{name:<18} {imp:>10.1f} {above:>11.1f} {wall:>9.1f} "
            f"{'' if target is None else f'<= {target:.0f}':>8}"
        )
        results.append(
            {
                "statement": STATEMENTS[name],
                "import_ms": imp,
                "above_bare_ms": above,
                "wall_ms": wall,
                "wall_above_bare_ms": wall - base_wall,
                "target_ms": target,
                "meets_target": None if target is None else above <= target,
            }
        )
    out = results_dir() / "bench_import.json"
    out.write_text(
        json.dumps(
            {"python": platform.python_version(), "repeats": args.repeats, "results": results},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
