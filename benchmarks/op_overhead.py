"""Per-op overhead of forward+backward: tinygrad_edu vs PyTorch eager vs the bare NumPy calls.

Run as a script (``python benchmarks/op_overhead.py``).  Everything runs on
one thread and the contenders are interleaved round by round, so that drift
in machine load hits all of them alike; the table shows medians and ratios.

1. A 1,000-op elementwise chain on small tensors (mul, add, tanh, sub,
   repeated), forward and backward, with three parameter leaves.
2. A 200,000-node chain ``x = x * 1.0001 + 0.0001`` (100,000 times), built and
   backpropagated (micrograd dies here with RecursionError).
"""
from __future__ import annotations

import argparse
import statistics

# isort: off
from _setup import timed, torch  # first: it pins BLAS to one thread before NumPy loads
import numpy as np
# isort: on

from tinygrad_edu import Tensor  # noqa: E402

SIZE = 16        # elements per tensor in the 1,000-op chain
CYCLES = 250     # 4 ops per cycle -> 1,000 ops


def chain_values(seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(SIZE)
    a = 1 + 0.01 * rng.standard_normal(SIZE)
    b = 0.01 * rng.standard_normal(SIZE)
    c = 0.01 * rng.standard_normal(SIZE)
    return x, a, b, c


def chain_tinygrad(x0, a0, b0, c0) -> np.ndarray:
    x = Tensor(x0)
    a, b, c = (Tensor(v, requires_grad=True) for v in (a0, b0, c0))
    for _ in range(CYCLES):
        x = ((x * a + b).tanh()) - c
    x.sum().backward()
    return a.grad.data


def chain_torch(x0, a0, b0, c0) -> np.ndarray:
    x = torch.tensor(x0)
    a, b, c = (torch.tensor(v, requires_grad=True) for v in (a0, b0, c0))
    for _ in range(CYCLES):
        x = ((x * a + b).tanh()) - c
    x.sum().backward()
    return a.grad.numpy()


def chain_numpy(x0, a0, b0, c0) -> np.ndarray:
    """The same chain with hand-written forward and backward: the floor of NumPy call cost."""
    a, b, c = a0, b0, c0
    x = x0
    saved = []
    for _ in range(CYCLES):
        scaled = x * a
        shifted = scaled + b
        y = np.tanh(shifted)
        saved.append((x, y))
        x = y - c
    grad_a = np.zeros_like(a)
    grad_b = np.zeros_like(b)
    grad_c = np.zeros_like(c)
    grad = np.ones_like(x)
    for x_in, y in reversed(saved):
        grad_c -= grad
        grad = grad * (1 - y * y)
        grad_b += grad
        grad_a += grad * x_in
        grad = grad * a
    return grad_a


def long_chain_tinygrad(steps: int) -> float:
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(steps):
        y = y * 1.0001 + 0.0001
    y.backward()
    return float(x.grad.data)


def long_chain_torch(steps: int) -> float:
    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(steps):
        y = y * 1.0001 + 0.0001
    y.backward()
    return float(x.grad)


def long_chain_numpy(steps: int) -> float:
    x = np.float32(1.0)
    ys = []
    y = x
    for _ in range(steps):
        ys.append(y)
        y = y * np.float32(1.0001) + np.float32(0.0001)
    grad = np.float32(1.0)
    for _ in range(steps):
        grad = grad * np.float32(1.0001)
    return float(grad)


def run(rounds: int, long_rounds: int, steps: int) -> None:
    values = chain_values()
    expected = chain_numpy(*values)
    np.testing.assert_allclose(chain_tinygrad(*values), expected, rtol=1e-10)
    contenders = [("tinygrad_edu", chain_tinygrad), ("numpy (hand-written)", chain_numpy)]
    if torch is not None:
        np.testing.assert_allclose(chain_torch(*values), expected, rtol=1e-10)
        contenders.insert(1, ("pytorch eager", chain_torch))
    times: dict = {name: [] for name, _ in contenders}
    for _ in range(rounds):
        for name, fn in contenders:
            times[name].append(timed(fn, *values))
    ops = CYCLES * 4
    base = statistics.median(times["numpy (hand-written)"])
    print(f"1,000-op elementwise chain, tensors of {SIZE} float64, forward+backward, median of {rounds} rounds")
    print(f"{'':24}{'us/op':>9}{'x numpy':>10}{'x pytorch':>11}")
    torch_median = statistics.median(times["pytorch eager"]) if torch is not None else None
    for name, _ in contenders:
        median = statistics.median(times[name])
        vs_torch = f"{median / torch_median:>11.2f}" if torch_median else f"{'-':>11}"
        print(f"{name:24}{median / ops * 1e6:>9.2f}{median / base:>10.2f}{vs_torch}")

    long_contenders = [("tinygrad_edu", long_chain_tinygrad), ("numpy (hand-written)", long_chain_numpy)]
    if torch is not None:
        long_contenders.insert(1, ("pytorch eager", long_chain_torch))
    long_times: dict = {name: [] for name, _ in long_contenders}
    for _ in range(long_rounds):
        for name, fn in long_contenders:
            long_times[name].append(timed(fn, steps))
    print()
    print(f"{2 * steps:,}-node chain x = x*1.0001 + 0.0001, build + backward, median of {long_rounds} rounds")
    print(f"{'':24}{'seconds':>9}{'x numpy':>10}{'x pytorch':>11}")
    long_base = statistics.median(long_times["numpy (hand-written)"])
    long_torch = statistics.median(long_times["pytorch eager"]) if torch is not None else None
    for name, _ in long_contenders:
        median = statistics.median(long_times[name])
        vs_torch = f"{median / long_torch:>11.2f}" if long_torch else f"{'-':>11}"
        print(f"{name:24}{median:>9.2f}{median / long_base:>10.2f}{vs_torch}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30, help="rounds of the 1,000-op chain")
    parser.add_argument("--long-rounds", type=int, default=3, help="rounds of the 200,000-node chain")
    parser.add_argument("--steps", type=int, default=100_000, help="iterations of the long chain (2 nodes each)")
    args = parser.parse_args()
    run(args.rounds, args.long_rounds, args.steps)


if __name__ == "__main__":
    main()
