"""Record PyTorch's numbers for the reference tests (run by hand where PyTorch is installed).

    python tools/record_torch_reference.py            # writes tests/data/torch_reference.npz

Runs every case of `tests/torch_reference_cases.py` with PyTorch in float64 on
one thread: each case's inputs and initial weights, the loss of every step, the
final `state_dict()`, learning rates and clipped gradient norms go into one
compressed `.npz` (no pickle). `tests/test_torch_reference.py` replays the same
cases with tinygrad_edu from the stored inputs and compares to 1e-9, so CI never
needs PyTorch. `--check` runs both libraries here and prints the largest
difference per case without writing anything.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, ROOT)

import torch_reference_cases as cases  # noqa: E402 (after the path set-up)

OUTPUT = os.path.join(ROOT, "tests", "data", "torch_reference.npz")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with tinygrad_edu, write nothing")
    parser.add_argument("--output", default=OUTPUT)
    args = parser.parse_args()
    import torch

    torch_lib = cases.TorchLib()
    arrays: dict[str, np.ndarray] = {}
    for name in cases.CASES:
        inputs, results = cases.run_case(torch_lib, name)
        arrays.update(inputs)
        arrays.update(results)
        if args.check:
            _, ours = cases.run_case(cases.TinygradLib(), name, stored=inputs)
            worst = max(float(np.max(np.abs(np.asarray(ours[key], dtype=np.float64)
                                            - np.asarray(value, dtype=np.float64)), initial=0.0))
                        for key, value in results.items())
            print(f"{name:32s} {len(results):3d} arrays  max |tinygrad_edu - torch| = {worst:.3e}")
    if not args.check:
        arrays["torch_version"] = np.array(torch.__version__)
        np.savez_compressed(args.output, **arrays)
        print(f"wrote {len(arrays)} arrays for {len(cases.CASES)} cases to {args.output} "
              f"({os.path.getsize(args.output) / 1024:.0f} KB, torch {torch.__version__})")


if __name__ == "__main__":
    main()
