"""Compare the benchmarks of two revisions in ONE run, so that the ratio is fair on a shared, noisy machine.

The base revision is checked out into a temporary git worktree; each benchmark then runs alternately on the
base and on this checkout (base, head, base, head, ...) in child processes of the same virtualenv, the base
tree's code first on PYTHONPATH (the layer and local/ packages, its functions/ and template.yaml through its
own paths). Printed per benchmark: the median wall time and CPU time (user + system of the child) of each
side and the ratio head / base, then each side's last output lines (the benchmark's own figures).

    .venv/bin/python benchmarks/compare_revisions.py --base 0b63c19 [--rounds 2] [--only product_import]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HEAD_TREE = Path(__file__).resolve().parent.parent

# Sizes small enough that a round of every benchmark takes minutes, large enough to be dominated by
# storesync's own work rather than start-up.
BENCHMARKS: dict[str, list[str]] = {
    "product_import": ["benchmarks/bench_product_import.py", "--skus", "3000", "--no-tracemalloc"],
    "inventory_push": ["benchmarks/bench_inventory_push.py", "--skus", "2000", "--no-tracemalloc"],
    "order_import_simulated": ["benchmarks/bench_order_import_simulated.py", "--orders", "5000"],
    "order_import": [
        "benchmarks/bench_order_import.py",
        "--orders",
        "600",
        "--quota-scale",
        "200",
        "--tail",
        "20",
        "--no-tracemalloc",
    ],
}


@dataclass
class Side:
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    last_output: str = ""
    failed: str = ""


def run_once(tree: Path, script: list[str]) -> tuple[float, float, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tree / "layers" / "storesync"), str(tree / "local")])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    answer = subprocess.run(
        [sys.executable, *script], cwd=tree, env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if answer.returncode != 0:
        raise RuntimeError(f"exit {answer.returncode}: {answer.stderr.strip()[-2000:]}")
    return wall, cpu, answer.stdout


def add_worktree(revision: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="storesync-base-"))
    subprocess.run(
        ["git", "-C", str(HEAD_TREE), "worktree", "add", "--detach", "--quiet", str(folder), revision],
        check=True,
    )
    return folder


def remove_worktree(folder: Path) -> None:
    subprocess.run(["git", "-C", str(HEAD_TREE), "worktree", "remove", "--force", str(folder)], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", required=True, help="the revision to compare against (e.g. a commit)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each side per benchmark")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), help="run only these")
    args = parser.parse_args()
    base_tree = add_worktree(args.base)
    try:
        print(f"base {args.base} vs head {HEAD_TREE.name} (this checkout), {args.rounds} round(s) each")
        print(
            f"{'benchmark':<24} {'base wall':>10} {'head wall':>10} {'ratio':>6} {'base cpu':>9} {'head cpu':>9} {'ratio':>6}"
        )
        for name in args.only or list(BENCHMARKS):
            sides = {"base": Side(), "head": Side()}
            for _ in range(args.rounds):
                for label, tree in (("base", base_tree), ("head", HEAD_TREE)):
                    side = sides[label]
                    if side.failed:
                        continue
                    try:
                        wall, cpu, output = run_once(tree, BENCHMARKS[name])
                    except RuntimeError as exc:
                        side.failed = str(exc)
                        continue
                    side.walls.append(wall)
                    side.cpus.append(cpu)
                    side.last_output = output
            base, head = sides["base"], sides["head"]
            if base.failed or head.failed:
                print(f"{name:<24} failed: base {base.failed or 'ok'}; head {head.failed or 'ok'}")
                continue
            bw, hw = statistics.median(base.walls), statistics.median(head.walls)
            bc, hc = statistics.median(base.cpus), statistics.median(head.cpus)
            print(
                f"{name:<24} {bw:>9.1f}s {hw:>9.1f}s {hw / bw:>6.2f} {bc:>8.1f}s {hc:>8.1f}s {hc / bc:>6.2f}"
            )
            for label, side in sides.items():
                tail = "\n".join(side.last_output.strip().splitlines()[-6:])
                print(
                    f"  {label} output (last run):\n" + "\n".join(f"    {line}" for line in tail.splitlines())
                )
            sys.stdout.flush()
    finally:
        remove_worktree(base_tree)


if __name__ == "__main__":
    main()
