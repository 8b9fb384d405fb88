"""Instructions per unit of work, counted by valgrind's callgrind: a speed measure that does not move with machine load.

Run as a script (``python benchmarks/count_instructions.py [workload ...]``); it needs
``valgrind`` (Debian: ``apt-get install valgrind``) and runs each workload twice under
callgrind, at 1 and at ``--units`` units, so that start-up cost cancels:
instructions per unit = (count at K units - count at 1 unit) / (K - 1).

Workloads (printed per op, epoch or step):

- ``op``: ops of run_all's per-op chain ``x = tanh(x * a + b) - c`` on 16 float32 (1,000-op chains, fwd+bwd);
- ``forward``: the same chain without backward;
- ``seed``: epochs of the seed 4-3-1 sigmoid network (100 a unit); ``moons``: 2-10-1 steps on 1,000
  points (10 a unit); ``digits``: 64-128-10 minibatch steps, one batch again and again (10 a unit).

Counts repeat exactly only with BLAS on one thread (its idle threads spin otherwise) and
address-space randomization off (``setarch -R``, used when present).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = ("op", "forward", "seed", "moons", "digits")
# What one unit runs: ops for the chains (a chain of 1,000 per 1,000), epochs or steps for the networks.
PER_UNIT = {"op": 1000, "forward": 1000, "seed": 100, "moons": 10, "digits": 10}


def run_units(workload: str, units: int) -> None:
    """The workload itself (run inside valgrind): a warm-up, then ``units`` units."""
    sys.modules["torch"] = None  # type: ignore[assignment]  # the tinygrad_edu side only
    sys.path.insert(0, HERE)
    import run_all  # noqa: PLC0415 (after sys.path and the torch stub)

    if workload in ("op", "forward"):
        values = run_all.op_values()

        def chain() -> None:
            from tinygrad_edu import Tensor  # noqa: PLC0415
            x = Tensor(values[0])
            a, b, c = (Tensor(v, requires_grad=True) for v in values[1:])
            for _ in range(run_all.CYCLES):
                x = (x * a + b).tanh() - c
            if workload == "op":
                x.sum().backward()
        chain()
        for _ in range(units):
            chain()
    elif workload in ("seed", "moons"):
        data = run_all.sigmoid_data(workload)
        run_all.sigmoid_tinygrad(data, 3)()
        run_all.sigmoid_tinygrad(data, units * PER_UNIT[workload])()
    else:
        weights, batches = run_all.initial_weights([64, 128, 10], 0), run_all.digits_batches(64, 0)
        run = run_all.mlp_runner(run_all.make_tinygrad_mlp, weights, batches[:1])()
        run()
        for _ in range(units * PER_UNIT[workload]):
            run()


def count(workload: str, units: int) -> int:
    """Instructions of one run of this script's workload at ``units`` units, under callgrind."""
    with tempfile.TemporaryDirectory() as folder:
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/out",
                   sys.executable, os.path.abspath(__file__), "--run", workload, str(units)]
        if shutil.which("setarch"):
            command = ["setarch", "-R"] + command
        environment = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                           PYTHONHASHSEED="0")
        result = subprocess.run(command, capture_output=True, text=True, env=environment)
        found = re.search(r"Collected : (\d+)", result.stderr)
        if result.returncode != 0 or found is None:
            raise SystemExit(f"callgrind run of {workload!r} failed:\n{result.stderr[-2000:]}")
        return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", help=f"any of {', '.join(WORKLOADS)} (default: op seed digits)")
    parser.add_argument("--units", type=int, default=3, help="units in the second run (default 3)")
    parser.add_argument("--run", nargs=2, metavar=("WORKLOAD", "UNITS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_units(args.run[0], int(args.run[1]))
        return
    unknown = [name for name in args.workloads if name not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload {', '.join(unknown)}: choose from {', '.join(WORKLOADS)}")
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    if args.units < 2:
        raise SystemExit("--units must be at least 2")
    for workload in args.workloads or ["op", "seed", "digits"]:
        each = (count(workload, args.units) - count(workload, 1)) / (args.units - 1) / PER_UNIT[workload]
        thing = "op (1,000 ops a chain)" if workload in ("op", "forward") else "epoch" if workload == "seed" else "step"
        print(f"{workload:8s} {each:12,.0f} instructions per {thing}")


if __name__ == "__main__":
    main()
