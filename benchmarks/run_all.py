"""Every speed target in one run: tinygrad_edu vs PyTorch eager vs hand-written NumPy, side by side.

Run ``python benchmarks/run_all.py`` (``--help`` lists the options). One thread,
float32, CPU seconds of this process (``time.process_time``); the contenders
of every workload are interleaved round by round, so a change in machine load
hits all of them alike, and each ratio is taken within one round before the
median (and the best) over rounds is reported. Without PyTorch the torch
columns are left empty.

Workloads (every contender starts from the same values and must agree first):

- ``op``: a 1,000-op elementwise chain on (16,) tensors (x * a + b, tanh, - c), forward + backward, per op.
- ``seed 4-3-1``: the seed tutorial's sigmoid network, full batch, 0.5 * sum((y - out)^2), SGD, per epoch.
- ``moons 2-10-1``: a 2-10-1 sigmoid network on 1,000 two-moons points, the same loss, per step.
- ``digits 64-128-10``: ReLU MLP, batch 64, softmax cross-entropy, SGD, per minibatch step.
- ``784-512-512-10``: ReLU MLP, batch 256, softmax cross-entropy, SGD, per step.
- ``chain 200k``: backward through a 200,000-node chain (y = y * 1.0001 + 0.0001; building it is not timed);
  peak traced memory of tinygrad_edu's pass reported; then a 1,000,000-node chain, once.
"""
from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc
from typing import Any, Callable

# isort: off
from _setup import timed, torch  # first: it pins BLAS to one thread before NumPy loads
import numpy as np
# isort: on

from train import (
    digits_batches,
    initial_weights,
    make_numpy_mlp,
    make_tinygrad_mlp,
    make_torch_mlp,
    random_batches,  # noqa: E402
)

from tinygrad_edu import Tensor, nn, optim  # noqa: E402
from tinygrad_edu.data import make_moons, seed_example  # noqa: E402

TG, TORCH, NUMPY = "tinygrad_edu", "torch", "numpy"
F32 = np.float32
LR = 0.1


# ----- op: the elementwise chain ------------------------------------------------------------------
def op_values() -> tuple:
    rng = np.random.default_rng(0)
    return tuple(v.astype(F32) for v in (rng.standard_normal(16), 1 + 0.01 * rng.standard_normal(16),
                                         0.01 * rng.standard_normal(16), 0.01 * rng.standard_normal(16)))


CYCLES = 250  # 4 ops per cycle


def op_tinygrad(x0, a0, b0, c0):
    x = Tensor(x0)
    a, b, c = (Tensor(v, requires_grad=True) for v in (a0, b0, c0))
    for _ in range(CYCLES):
        x = (x * a + b).tanh() - c
    x.sum().backward()
    return a.grad.numpy()


def op_torch(x0, a0, b0, c0):
    x = torch.from_numpy(x0)
    a, b, c = (torch.tensor(v, requires_grad=True) for v in (a0, b0, c0))
    for _ in range(CYCLES):
        x = (x * a + b).tanh() - c
    x.sum().backward()
    return a.grad.numpy()


def op_numpy(x0, a0, b0, c0):
    x, saved = x0, []
    for _ in range(CYCLES):
        y = np.tanh(x * a0 + b0)
        saved.append((x, y))
        x = y - c0
    grad_a = np.zeros_like(a0)
    grad = np.ones_like(x)
    for x_in, y in reversed(saved):
        grad = grad * (1 - y * y)
        grad_a += grad * x_in
        grad = grad * a0
    return grad_a


# ----- sigmoid networks: seed 4-3-1 and moons 2-10-1 ----------------------------------------------
def sigmoid_data(name: str) -> tuple:
    if name == "seed":
        X, y = seed_example()  # noqa: N806
        sizes = (4, 3, 1)
    else:
        X, labels = make_moons(1000, noise=0.1, seed=0)  # noqa: N806
        y = labels[:, None]
        sizes = (2, 10, 1)
    rng = np.random.default_rng(4)
    weights = [rng.uniform(-1, 1, size=(sizes[i], sizes[i + 1])).astype(F32) for i in range(2)]
    biases = [rng.uniform(-1, 1, size=(1, sizes[i + 1])).astype(F32) for i in range(2)]
    return X.astype(F32), y.astype(F32), weights, biases


def sigmoid_tinygrad(data: tuple, steps: int) -> Callable[[], Any]:
    X, y, weights, biases = data  # noqa: N806
    model = nn.Sequential(nn.Linear(*weights[0].shape), nn.Sigmoid(), nn.Linear(*weights[1].shape), nn.Sigmoid())
    for layer, w, b in ((model[0], weights[0], biases[0]), (model[2], weights[1], biases[1])):
        layer.weight.data[...], layer.bias.data[...] = w.T, b[0]
    optimizer = optim.SGD(model.parameters(), lr=LR)
    inputs, targets = Tensor(X), Tensor(y)

    def run():
        for _ in range(steps):
            loss = 0.5 * ((targets - model(inputs)) ** 2).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return model[2].weight.numpy().T.copy()
    return run


def sigmoid_torch(data: tuple, steps: int) -> Callable[[], Any]:
    X, y, weights, biases = data  # noqa: N806
    model = torch.nn.Sequential(torch.nn.Linear(*weights[0].shape), torch.nn.Sigmoid(),
                                torch.nn.Linear(*weights[1].shape), torch.nn.Sigmoid())
    with torch.no_grad():
        for layer, w, b in ((model[0], weights[0], biases[0]), (model[2], weights[1], biases[1])):
            layer.weight.copy_(torch.from_numpy(w.T.copy()))
            layer.bias.copy_(torch.from_numpy(b[0]))
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    inputs, targets = torch.from_numpy(X), torch.from_numpy(y)

    def run():
        for _ in range(steps):
            loss = 0.5 * ((targets - model(inputs)) ** 2).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return model[2].weight.detach().numpy().T.copy()
    return run


def sigmoid_numpy(data: tuple, steps: int) -> Callable[[], Any]:
    X, y, weights, biases = data  # noqa: N806
    wh, wout = (w.copy() for w in weights)
    bh, bout = (b.copy() for b in biases)
    return lambda: _sigmoid_numpy_steps(X, y, wh, bh, wout, bout, steps)


def _sigmoid_numpy_steps(X, y, wh, bh, wout, bout, steps):  # noqa: N803
    for _ in range(steps):
        hidden = 1 / (1 + np.exp(-(X @ wh + bh)))
        output = 1 / (1 + np.exp(-(hidden @ wout + bout)))
        d_output = (output - y) * output * (1 - output)
        d_hidden = (d_output @ wout.T) * hidden * (1 - hidden)
        wout -= LR * (hidden.T @ d_output)
        bout -= LR * d_output.sum(axis=0, keepdims=True)
        wh -= LR * (X.T @ d_hidden)
        bh -= LR * d_hidden.sum(axis=0, keepdims=True)
    return wout


# ----- MLPs (train.py's contenders, one step per timing unit) -------------------------------------
def mlp_runner(make: Callable, weights: list, batches: list) -> Callable[[], Callable[[], Any]]:
    """Setup (untimed): a fresh model from `weights`; the returned run trains it over `batches`."""
    def setup():
        train, read = make(weights)

        def run():
            train(batches)
            return read()[-1][0]
        return run
    return setup


# ----- chains -------------------------------------------------------------------------------------
def chain_tinygrad(nodes: int) -> Callable[[], float]:
    """Setup: build the chain (untimed); the returned run is the backward pass."""
    x = Tensor(np.float32(1.0), requires_grad=True)
    y = x
    for _ in range(nodes // 2):
        y = y * 1.0001 + 0.0001

    def run() -> float:
        y.backward()
        return float(x.grad.item())
    return run


def chain_torch(nodes: int) -> Callable[[], float]:
    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(nodes // 2):
        y = y * 1.0001 + 0.0001

    def run() -> float:
        y.backward()
        return float(x.grad)
    return run


def chain_build_and_backward(nodes: int) -> float:
    return chain_tinygrad(nodes)()


def peak_bytes(fn: Callable, *args: Any) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ----- the run ------------------------------------------------------------------------------------
def workloads(scale: float) -> list:
    """(name, unit count per timing, {contender: setup}, agreement rtol); setup() (untimed) returns the
    callable that is timed."""
    ops = op_values()
    seed, moons = sigmoid_data("seed"), sigmoid_data("moons")
    seed_epochs, moon_steps = max(1, int(300 * scale)), max(1, int(40 * scale))
    digits_w, digits_b = initial_weights([64, 128, 10], 0), digits_batches(64, 0)
    wide_steps = max(1, int(4 * scale))
    wide_w, wide_b = initial_weights([784, 512, 512, 10], 0), random_batches(wide_steps, 256, 784, 10, 0)
    chain_nodes = 200_000
    table = [
        ("op fwd+bwd (per op)", CYCLES * 4, {TG: lambda: lambda: op_tinygrad(*ops), TORCH: lambda: lambda: op_torch(*ops),
                                             NUMPY: lambda: lambda: op_numpy(*ops)}, 1e-4),
        ("seed 4-3-1 (per epoch)", seed_epochs, {TG: lambda: sigmoid_tinygrad(seed, seed_epochs),
                                                 TORCH: lambda: sigmoid_torch(seed, seed_epochs),
                                                 NUMPY: lambda: sigmoid_numpy(seed, seed_epochs)}, 1e-3),
        ("moons 2-10-1 (per step)", moon_steps, {TG: lambda: sigmoid_tinygrad(moons, moon_steps),
                                                 TORCH: lambda: sigmoid_torch(moons, moon_steps),
                                                 NUMPY: lambda: sigmoid_numpy(moons, moon_steps)}, 1e-3),
        ("digits 64-128-10 (per step)", len(digits_b), {
            TG: mlp_runner(make_tinygrad_mlp, digits_w, digits_b),
            TORCH: mlp_runner(make_torch_mlp, digits_w, digits_b) if torch else None,
            NUMPY: mlp_runner(make_numpy_mlp, digits_w, digits_b)}, 1e-3),
        ("784-512-512-10 (per step)", wide_steps, {
            TG: mlp_runner(make_tinygrad_mlp, wide_w, wide_b),
            TORCH: mlp_runner(make_torch_mlp, wide_w, wide_b) if torch else None,
            NUMPY: mlp_runner(make_numpy_mlp, wide_w, wide_b)}, 1e-3),
        ("chain 200k backward (per node)", chain_nodes, {TG: lambda: chain_tinygrad(chain_nodes),
                                                          TORCH: lambda: chain_torch(chain_nodes)}, 1e-4),
    ]
    result = []
    for name, units, contenders, rtol in table:
        contenders = {key: fn for key, fn in contenders.items() if fn is not None and (key != TORCH or torch)}
        result.append((name, units, contenders, rtol))
    return result


def check_agreement(name: str, contenders: dict, rtol: float) -> None:
    values = {key: np.asarray(setup()(), dtype=np.float64) for key, setup in contenders.items()}
    reference = values[TG]
    for key, value in values.items():
        if not np.allclose(value, reference, rtol=rtol, atol=rtol):
            raise AssertionError(f"{name}: {key} disagrees with tinygrad_edu: {value.ravel()[:4]} vs {reference.ravel()[:4]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--scale", type=float, default=1.0, help="work per timing (default 1.0)")
    parser.add_argument("--skip-million", action="store_true", help="skip the 1,000,000-node chain")
    args = parser.parse_args()
    table = workloads(args.scale)
    for name, _, contenders, rtol in table:
        check_agreement(name, contenders, rtol)
    times: dict = {name: {key: [] for key in contenders} for name, _, contenders, _ in table}
    for _ in range(args.rounds):
        for name, _, contenders, _ in table:
            for key, setup in contenders.items():
                run = setup()
                gc.collect()
                times[name][key].append(timed(run))
    print(f"tinygrad_edu benchmarks: {args.rounds} interleaved rounds, 1 thread, float32, CPU time"
          f"{'' if torch else ' (PyTorch not installed: no torch columns)'}")
    header = f"{'workload':34} {'tinygrad_edu':>13} {'torch':>11} {'numpy':>11} {'x torch (median/best)':>22} " \
             f"{'x numpy (median/best)':>22}"
    print(header)
    for name, units, _, _ in table:
        row = times[name]
        cells = [f"{statistics.median(row[key]) / units * 1e6:9.2f} us" if key in row else "-" for key in (TG, TORCH, NUMPY)]
        ratios = []
        for key in (TORCH, NUMPY):
            per_round = [mine / other for mine, other in zip(row[TG], row.get(key, []))]
            ratios.append(f"{statistics.median(per_round):.2f}x/{min(per_round):.2f}x" if per_round else "-")
        print(f"{name:34} {cells[0]:>13} {cells[1]:>11} {cells[2]:>11} {ratios[0]:>22} {ratios[1]:>22}")
    peak = peak_bytes(chain_build_and_backward, 200_000)
    print(f"chain 200k: tinygrad_edu peak traced memory {peak / 2**20:.1f} MiB (build + backward)")
    if not args.skip_million:
        start = time.process_time()
        value = chain_build_and_backward(1_000_000)
        print(f"chain 1,000,000 nodes: backward ok (d/dx = {value:.4g}) in {time.process_time() - start:.1f} s")


if __name__ == "__main__":
    main()
