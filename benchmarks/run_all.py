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
- ``LeNet digits``: Conv2d(1,8,3,p=1)-ReLU-MaxPool2d(2)-Conv2d(8,16,3,p=1)-ReLU-MaxPool2d(2)-Flatten-Linear(64,32)-
  ReLU-Linear(32,10) on the 8x8 digits as (N,1,8,8) images, batch 64, cross-entropy, SGD, per step.
- ``GPT step``: tinygrad_edu.models.GPT (2 layers, 4 heads, 32 wide, block 16; torch: the same model from
  tools/record_torch_models.py, weights copied by state_dict), batch 8 of random token ids, AdamW, per step.
- ``chain 200k``: backward through a 200,000-node chain (y = y * 1.0001 + 0.0001; building it is not timed);
  peak traced memory of tinygrad_edu's pass reported; then a 1,000,000-node chain, once.
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
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

import tinygrad_edu.nn.functional as F  # noqa: E402, N812 (the PyTorch convention)
from tinygrad_edu import Tensor, manual_seed, nn, optim  # noqa: E402
from tinygrad_edu.data import load_digits, make_moons, seed_example  # noqa: E402
from tinygrad_edu.models import GPT  # noqa: E402

if torch:  # the GPT written with torch.nn, with the same parameter names (tools/ needs torch to import)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
    from record_torch_models import TorchGPT  # noqa: E402
else:
    TorchGPT = None

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


# ----- LeNet on the digits and a GPT step (same initial weights via state_dict) -------------------
def lenet(layers) -> Any:
    """The LeNet-style CNN from `layers` (tinygrad_edu.nn or torch.nn): the same names in both."""
    return layers.Sequential(layers.Conv2d(1, 8, 3, padding=1), layers.ReLU(), layers.MaxPool2d(2),
                             layers.Conv2d(8, 16, 3, padding=1), layers.ReLU(), layers.MaxPool2d(2),
                             layers.Flatten(), layers.Linear(64, 32), layers.ReLU(), layers.Linear(32, 10))


def lenet_data(batch_size: int, steps: int) -> tuple:
    """Initial weights (seeded tinygrad_edu init, float32) and `steps` batches of (N,1,8,8) digits."""
    manual_seed(0)
    weights = {name: value.astype(F32) for name, value in lenet(nn).state_dict().items()}
    inputs, targets = load_digits()
    inputs = inputs.reshape(-1, 1, 8, 8).astype(F32)
    order = np.random.default_rng(0).permutation(len(inputs))
    batches = [(inputs[order[i * batch_size:(i + 1) * batch_size]], targets[order[i * batch_size:(i + 1) * batch_size]])
               for i in range(steps)]
    return weights, batches


GPT_CONFIG = dict(vocab_size=65, block_size=16, n_embd=32, n_head=4, n_layer=2)
GPT_BATCH, GPT_LR = 8, 1e-3


def gpt_data(steps: int) -> tuple:
    manual_seed(0)
    weights = {name: value.astype(F32) for name, value in GPT(**GPT_CONFIG).state_dict().items()}
    rng = np.random.default_rng(0)
    shape = (GPT_BATCH, GPT_CONFIG["block_size"])
    batches = [(rng.integers(0, GPT_CONFIG["vocab_size"], size=shape, dtype=np.int64),
                rng.integers(0, GPT_CONFIG["vocab_size"], size=shape, dtype=np.int64)) for _ in range(steps)]
    return weights, batches


def tinygrad_trainer(model: Any, weights: dict, batches: list, optimizer: Callable, images: bool) -> Callable[[], Any]:
    model.load_state_dict(weights, strict=True)
    opt = optimizer(model.parameters())

    def run():
        for inputs, targets in batches:
            logits = model(Tensor(inputs) if images else inputs)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
        return np.concatenate([value.ravel() for value in model.state_dict().values()])
    return run


def torch_trainer(model: Any, weights: dict, batches: list, optimizer: Callable) -> Callable[[], Any]:
    model.load_state_dict({name: torch.from_numpy(value.copy()) for name, value in weights.items()}, strict=True)
    opt = optimizer(model.parameters())
    batches = [(torch.from_numpy(inputs), torch.from_numpy(targets)) for inputs, targets in batches]

    def run():
        for inputs, targets in batches:
            logits = model(inputs)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
        return np.concatenate([value.detach().numpy().ravel() for value in model.state_dict().values()])
    return run


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
    lenet_steps, gpt_steps = max(1, int(10 * scale)), max(1, int(10 * scale))
    lenet_w, lenet_b = lenet_data(64, lenet_steps)
    gpt_w, gpt_b = gpt_data(gpt_steps)
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
        ("LeNet digits (per step)", lenet_steps, {
            TG: lambda: tinygrad_trainer(lenet(nn), lenet_w, lenet_b, lambda p: optim.SGD(p, lr=LR), True),
            TORCH: lambda: torch_trainer(lenet(torch.nn), lenet_w, lenet_b, lambda p: torch.optim.SGD(p, lr=LR))},
         1e-3),
        ("GPT step (per step)", gpt_steps, {
            TG: lambda: tinygrad_trainer(GPT(**GPT_CONFIG), gpt_w, gpt_b, lambda p: optim.AdamW(p, lr=GPT_LR), False),
            TORCH: lambda: torch_trainer(TorchGPT(**GPT_CONFIG), gpt_w, gpt_b,
                                         lambda p: torch.optim.AdamW(p, lr=GPT_LR))}, 1e-3),
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
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only the workloads whose name contains NAME (repeatable; skips the memory and "
                             "million-node checks)")
    args = parser.parse_args()
    table = workloads(args.scale)
    if args.only:
        table = [row for row in table if any(part.lower() in row[0].lower() for part in args.only)]
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
    if args.only:
        return
    peak = peak_bytes(chain_build_and_backward, 200_000)
    print(f"chain 200k: tinygrad_edu peak traced memory {peak / 2**20:.1f} MiB (build + backward)")
    if not args.skip_million:
        start = time.process_time()
        value = chain_build_and_backward(1_000_000)
        print(f"chain 1,000,000 nodes: backward ok (d/dx = {value:.4g}) in {time.process_time() - start:.1f} s")


if __name__ == "__main__":
    main()
