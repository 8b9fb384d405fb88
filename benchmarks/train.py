"""Training speed and peak memory: tinygrad_edu vs hand-written NumPy vs PyTorch eager.

Run as a script (``python benchmarks/train.py``; ``--help`` lists the options).
Every contender runs on one thread and is timed in CPU seconds of this process
(``time.process_time``), so a busy machine slows the wall clock but not the
ratios much; the contenders are interleaved round by round, so drift in machine
load hits all of them alike, and the table shows medians and ratios.

1. One epoch (29 steps) of a 64-128-10 ReLU MLP on the 8x8 digits, batch 64,
   SGD lr 0.1, softmax cross-entropy, float32.
2. 50 steps of a 784-512-512-10 ReLU MLP, batch 256, on seeded random float32
   data, SGD lr 0.1, softmax cross-entropy (here BLAS does most of the work).
3. The seed tutorial's 4-3-1 sigmoid network with biases on ``seed_example()``,
   float64, full batch, lr 0.1, loss 0.5 * sum((y - out)^2): time per epoch.
4. Peak traced memory (``tracemalloc``, which sees NumPy's allocations and every
   Python object) while training workloads 1 and 2, tinygrad_edu vs hand-written
   NumPy, in passes separate from the timing. PyTorch's allocator is not traced,
   so it has no memory column.

All contenders start from the same weights (copied from one tinygrad_edu
model), see the same batches in the same order, and must agree on the final
loss (and weights) before anything is timed. The hand-written NumPy is the
plain code a careful student writes: the same forward, the softmax
cross-entropy gradient ``(softmax(z) - onehot(y)) / N`` by hand, the chain rule
layer by layer, and in-place SGD updates.
"""
from __future__ import annotations

import argparse
import gc
import statistics
import tracemalloc
from collections.abc import Callable
from typing import Any

# isort: off
from _setup import timed, torch  # first: it pins BLAS to one thread before NumPy loads
import numpy as np
# isort: on

import tinygrad_edu.nn.functional as F  # noqa: E402, N812 (the PyTorch convention)
from tinygrad_edu import Tensor, manual_seed, nn, optim  # noqa: E402
from tinygrad_edu.data import load_digits, seed_example  # noqa: E402

TINYGRAD = "tinygrad_edu"
PYTORCH = "pytorch eager"
NUMPY = "numpy (hand-written)"
LR = 0.1

# Targets from issue 3 ("Speed"), one thread each.
DIGITS_TARGET = 2.0        # digits epoch: x hand-written NumPy
WIDE_TARGET = 1.10         # 784-512-512-10 steps: x hand-written NumPy
TUTORIAL_TARGET = 1.0      # 4-3-1 per epoch: x PyTorch
MEMORY_TARGET = 1.2        # peak traced memory: x hand-written NumPy

Weights = list[tuple[np.ndarray, np.ndarray]]   # [(weight (out, in), bias (out,)), ...] per Linear
Batches = list[tuple[np.ndarray, np.ndarray]]   # [(inputs (N, features) float32, class indices (N,) int64)]


# ----- workloads 1 and 2: ReLU MLP + softmax cross-entropy, three ways -----------------------------
def initial_weights(sizes: list[int], seed: int) -> Weights:
    """The weights a seeded tinygrad_edu nn.MLP starts from (PyTorch's default init), as arrays."""
    manual_seed(seed)
    model = nn.MLP(sizes)
    linears = [layer for layer in model.layers if isinstance(layer, nn.Linear)]
    return [(layer.weight.numpy().copy(), layer.bias.numpy().copy()) for layer in linears]


def digits_batches(batch_size: int, seed: int) -> Batches:
    """One epoch of the digits in a fixed shuffled order, cut into batches before any timing."""
    inputs, targets = load_digits()
    order = np.random.default_rng(seed).permutation(len(inputs))
    return [(inputs[order[start:start + batch_size]], targets[order[start:start + batch_size]])
            for start in range(0, len(order), batch_size)]


def random_batches(steps: int, batch_size: int, features: int, classes: int, seed: int) -> Batches:
    """`steps` batches of standard-normal float32 inputs with random class indices."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((batch_size, features), dtype=np.float32),
             rng.integers(0, classes, size=batch_size, dtype=np.int64)) for _ in range(steps)]


def make_tinygrad_mlp(weights: Weights) -> tuple[Callable[[Batches], None], Callable[[], Weights]]:
    """A tinygrad_edu nn.MLP holding `weights`: returns (train over batches, read weights)."""
    model = nn.MLP([weights[0][0].shape[1]] + [weight.shape[0] for weight, _ in weights])
    linears = [layer for layer in model.layers if isinstance(layer, nn.Linear)]
    for layer, (weight, bias) in zip(linears, weights):
        layer.weight.data[...] = weight
        layer.bias.data[...] = bias
    optimizer = optim.SGD(model.parameters(), lr=LR)

    def train(batches: Batches) -> None:
        for inputs, targets in batches:
            loss = F.cross_entropy(model(Tensor(inputs)), targets)  # layers take Tensors, as in PyTorch
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    def read() -> Weights:
        return [(layer.weight.numpy().copy(), layer.bias.numpy().copy()) for layer in linears]

    return train, read


def make_numpy_mlp(weights: Weights) -> tuple[Callable[[Batches], None], Callable[[], Weights]]:
    """The same network, forward and backward written by hand in NumPy."""
    params = [(weight.copy(), bias.copy()) for weight, bias in weights]
    last = len(params) - 1

    def train(batches: Batches) -> None:
        for inputs, targets in batches:
            # forward: keep each layer's input and pre-activation for the backward pass
            layer_inputs, pre_activations = [], []
            x = inputs
            for index, (weight, bias) in enumerate(params):
                layer_inputs.append(x)
                z = x @ weight.T + bias
                if index < last:
                    pre_activations.append(z)
                    x = np.maximum(z, 0)
            rows = np.arange(len(targets))
            shifted = z - z.max(axis=1, keepdims=True)
            exp = np.exp(shifted)
            total = exp.sum(axis=1, keepdims=True)
            loss = np.mean(np.log(total[:, 0]) - shifted[rows, targets])  # noqa: F841 (computed, as the others do)
            # d loss / d logits = (softmax(z) - onehot(targets)) / N
            grad = exp / total
            grad[rows, targets] -= 1
            grad /= len(targets)
            # backward and update, last layer first
            for index in range(last, -1, -1):
                weight, bias = params[index]
                grad_weight = grad.T @ layer_inputs[index]
                grad_bias = grad.sum(axis=0)
                if index > 0:
                    grad = (grad @ weight) * (pre_activations[index - 1] > 0)
                weight -= LR * grad_weight
                bias -= LR * grad_bias

    def read() -> Weights:
        return [(weight.copy(), bias.copy()) for weight, bias in params]

    return train, read


def make_torch_mlp(weights: Weights) -> tuple[Callable[[Batches], None], Callable[[], Weights]]:
    """The same network as torch.nn.Sequential of Linear + ReLU, torch.optim.SGD."""
    layers: list[Any] = []
    for index, (weight, bias) in enumerate(weights):
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weight))
            linear.bias.copy_(torch.from_numpy(bias))
        layers.append(linear)
        if index < len(weights) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    linears = layers[::2]
    converted: dict[int, list] = {}

    def train(batches: Batches) -> None:
        # Batches become torch tensors once, outside the timed loop's steps (from_numpy shares memory).
        torch_batches = converted.setdefault(id(batches), [(torch.from_numpy(inputs), torch.from_numpy(targets))
                                                          for inputs, targets in batches])
        for inputs, targets in torch_batches:
            loss = torch.nn.functional.cross_entropy(model(inputs), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    def read() -> Weights:
        return [(linear.weight.detach().numpy().copy(), linear.bias.detach().numpy().copy()) for linear in linears]

    return train, read


def mean_loss(weights: Weights, batches: Batches) -> float:
    """Mean softmax cross-entropy over all the batches, in float64, for the agreement check."""
    inputs = np.concatenate([x for x, _ in batches]).astype(np.float64)
    targets = np.concatenate([y for _, y in batches])
    x = inputs
    for index, (weight, bias) in enumerate(weights):
        x = x @ weight.T.astype(np.float64) + bias
        if index < len(weights) - 1:
            x = np.maximum(x, 0)
    shifted = x - x.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(len(targets)), targets]))


# ----- workload 3: the tutorial's 4-3-1 sigmoid network ------------------------------------------
def tutorial_start(seed: int = 4) -> tuple[np.ndarray, ...]:
    """wh (4, 3), bh (1, 3), wout (3, 1), bout (1, 1) uniform in [0, 1), as the tutorial draws them."""
    rng = np.random.default_rng(seed)
    return (rng.uniform(size=(4, 3)), rng.uniform(size=(1, 3)), rng.uniform(size=(3, 1)), rng.uniform(size=(1, 1)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The tutorial's sigmoid, 1 / (1 + exp(-x))."""
    return 1 / (1 + np.exp(-x))


def tutorial_numpy(start: tuple[np.ndarray, ...], epochs: int) -> tuple[np.ndarray, ...]:
    """The tutorial's hand-written full-batch update (its variable names), gradient descent on
    0.5 * sum((y - output)^2)."""
    X, y = seed_example()  # noqa: N806 (the tutorial's names)
    wh, bh, wout, bout = (array.copy() for array in start)
    lr = LR
    for _ in range(epochs):
        hiddenlayer_activations = sigmoid(X @ wh + bh)
        output = sigmoid(hiddenlayer_activations @ wout + bout)
        E = y - output  # noqa: N806
        slope_output_layer = output * (1 - output)
        slope_hidden_layer = hiddenlayer_activations * (1 - hiddenlayer_activations)
        d_output = E * slope_output_layer
        Error_at_hidden_layer = d_output @ wout.T  # noqa: N806
        d_hiddenlayer = Error_at_hidden_layer * slope_hidden_layer
        wout += hiddenlayer_activations.T @ d_output * lr
        bout += np.sum(d_output, axis=0, keepdims=True) * lr
        wh += X.T @ d_hiddenlayer * lr
        bh += np.sum(d_hiddenlayer, axis=0, keepdims=True) * lr
    return wh, bh, wout, bout


def tutorial_tinygrad(start: tuple[np.ndarray, ...], epochs: int) -> tuple[np.ndarray, ...]:
    """nn.Sequential(Linear, Sigmoid, Linear, Sigmoid) in float64 with optim.SGD."""
    wh, bh, wout, bout = start
    model = nn.Sequential(nn.Linear(4, 3), nn.Sigmoid(), nn.Linear(3, 1), nn.Sigmoid()).to(np.float64)
    hidden, output_layer = model[0], model[2]
    hidden.weight.data[...], hidden.bias.data[...] = wh.T, bh[0]
    output_layer.weight.data[...], output_layer.bias.data[...] = wout.T, bout[0]
    optimizer = optim.SGD(model.parameters(), lr=LR)
    X, y = seed_example()  # noqa: N806
    inputs, targets = Tensor(X), Tensor(y)
    for _ in range(epochs):
        output = model(inputs)
        loss = 0.5 * ((targets - output) ** 2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return (hidden.weight.numpy().T, hidden.bias.numpy()[None], output_layer.weight.numpy().T,
            output_layer.bias.numpy()[None])


def tutorial_torch(start: tuple[np.ndarray, ...], epochs: int) -> tuple[np.ndarray, ...]:
    """torch.nn.Sequential(Linear, Sigmoid, Linear, Sigmoid) in float64 with torch.optim.SGD."""
    wh, bh, wout, bout = start
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Sigmoid(), torch.nn.Linear(3, 1),
                                torch.nn.Sigmoid()).double()
    hidden, output_layer = model[0], model[2]
    with torch.no_grad():
        hidden.weight.copy_(torch.from_numpy(wh.T))
        hidden.bias.copy_(torch.from_numpy(bh[0]))
        output_layer.weight.copy_(torch.from_numpy(wout.T))
        output_layer.bias.copy_(torch.from_numpy(bout[0]))
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    X, y = seed_example()  # noqa: N806
    inputs, targets = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(epochs):
        output = model(inputs)
        loss = 0.5 * ((targets - output) ** 2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return tuple(array.detach().numpy().copy() for array in
                 (hidden.weight.T, hidden.bias[None], output_layer.weight.T, output_layer.bias[None]))


# ----- measuring -----------------------------------------------------------------------------------
def mlp_contenders() -> dict[str, Callable[[Weights], Any]]:
    """Name -> builder of (train, read) for each contender available here."""
    contenders = {TINYGRAD: make_tinygrad_mlp, NUMPY: make_numpy_mlp}
    if torch is not None:
        contenders[PYTORCH] = make_torch_mlp
    return contenders


def check_mlp_agreement(name: str, weights: Weights, batches: Batches, rtol: float) -> tuple[float, float]:
    """Train every contender once from `weights`; assert the final losses agree; return the hand-written
    NumPy's final loss and the largest relative difference from it."""
    losses = {}
    for contender, make in mlp_contenders().items():
        train, read = make(weights)
        train(batches)
        losses[contender] = mean_loss(read(), batches)
    reference = losses[NUMPY]
    for contender, loss in losses.items():
        if not abs(loss - reference) <= rtol * abs(reference):
            raise AssertionError(f"{name}: {contender} ends at loss {loss!r}, hand-written NumPy at "
                                 f"{reference!r} (rtol {rtol}); the benchmark compares different computations")
    return reference, max(abs(loss - reference) / abs(reference) for loss in losses.values())


def time_mlp(weights: Weights, batches: Batches, rounds: int) -> dict[str, list[float]]:
    """Interleaved rounds; each round every contender trains a fresh copy of the same start."""
    contenders = mlp_contenders()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, make in contenders.items():
            train, _ = make(weights)       # building the model is not timed
            gc.collect()
            times[name].append(timed(train, batches))
    return times


def time_tutorial(epochs: int, rounds: int) -> dict[str, list[float]]:
    """Check the 4-3-1 contenders against the tutorial's weights, then time them in interleaved rounds."""
    start = tutorial_start()
    contenders = {TINYGRAD: tutorial_tinygrad, NUMPY: tutorial_numpy}
    if torch is not None:
        contenders[PYTORCH] = tutorial_torch
    reference = tutorial_numpy(start, epochs)
    for name, fn in contenders.items():
        for got, expected in zip(fn(start, epochs), reference):
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9, err_msg=f"4-3-1: {name} vs the tutorial")
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            gc.collect()
            times[name].append(timed(fn, start, epochs))
    return times


def peak_memory(make: Callable[[Weights], Any], weights: Weights, batches: Batches) -> int:
    """Peak traced bytes while training: the model's parameters plus everything training allocates
    (the batches themselves exist beforehand and are not counted)."""
    gc.collect()
    tracemalloc.start()
    try:
        train, _ = make(weights)
        gc.collect()
        tracemalloc.reset_peak()
        train(batches)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def parameter_bytes(weights: Weights) -> int:
    """Bytes of all weights and biases."""
    return sum(weight.nbytes + bias.nbytes for weight, bias in weights)


# ----- the table -------------------------------------------------------------------------------------
def verdict(value: float, target: float) -> str:
    """"<= 2.00x met" or "<= 2.00x MISSED"."""
    return f"<= {target:.2f}x {'met' if value <= target else 'MISSED'}"


def print_table(rows: list[tuple[str, str, str, str, str, str]]) -> None:
    """Print the rows under a header, columns padded to fit."""
    header = ("workload", "contender", "median", "x numpy", "x pytorch", "target (tinygrad_edu)")
    widths = [max(len(str(row[col])) for row in [header, *rows]) for col in range(len(header))]
    aligns = ["<", "<", ">", ">", ">", "<"]

    def line(row: tuple) -> str:
        return "  ".join(f"{cell:{align}{width}}" for cell, align, width in zip(row, aligns, widths)).rstrip()

    print(line(header))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line(row))


def speed_rows(label: str, times: dict[str, list[float]], scale: float, unit: str,
               target: tuple[str, float] | None) -> list[tuple[str, str, str, str, str, str]]:
    """Table rows for one workload: median (times `scale`, in `unit`), ratios, and the target verdict."""
    medians = {name: statistics.median(values) for name, values in times.items()}
    rows = []
    for index, name in enumerate((TINYGRAD, PYTORCH, NUMPY)):
        if name not in medians:
            continue
        median = medians[name]
        vs_numpy = f"{median / medians[NUMPY]:.2f}"
        vs_torch = f"{median / medians[PYTORCH]:.2f}" if PYTORCH in medians else "-"
        goal = ""
        if name == TINYGRAD and target is not None:
            against, limit = target
            if against in medians:
                goal = f"x {'numpy' if against == NUMPY else 'pytorch'} " + verdict(median / medians[against], limit)
            else:
                goal = "x pytorch <= 1.00x (no PyTorch installed)"
        rows.append((label if index == 0 else "", name, f"{median * scale:.2f} {unit}", vs_numpy, vs_torch, goal))
    return rows


def run(args: argparse.Namespace) -> None:
    """Check agreement, time every workload, measure peak memory, print the table."""
    digits_weights = initial_weights([64, 128, 10], seed=0)
    digits = digits_batches(64, seed=0)
    wide_weights = initial_weights([784, 512, 512, 10], seed=1)
    wide = random_batches(args.steps, 256, 784, 10, seed=1)

    # Same start, same batches: the contenders must agree before their times mean anything.
    # float32 sums in different orders drift apart by ~1e-7 per op; over an epoch the loss agrees to ~1e-5.
    agreement = [(label, *check_mlp_agreement(label, weights, batches, rtol=1e-4))
                 for label, weights, batches in (("digits", digits_weights, digits),
                                                 ("784-512-512-10", wide_weights, wide))]

    digits_times = time_mlp(digits_weights, digits, args.rounds)
    wide_times = time_mlp(wide_weights, wide, args.wide_rounds)
    tutorial_times = time_tutorial(args.epochs, args.tutorial_rounds)

    rows = []
    rows += speed_rows(f"digits 64-128-10, 1 epoch ({len(digits)} steps of 64)", digits_times, 1e3, "ms",
                       (NUMPY, DIGITS_TARGET))
    rows += speed_rows(f"784-512-512-10, {args.steps} steps of 256", wide_times, 1e3, "ms", (NUMPY, WIDE_TARGET))
    rows += speed_rows(f"4-3-1 sigmoid, per epoch (of {args.epochs})", tutorial_times, 1e6 / args.epochs, "us",
                       (PYTORCH, TUTORIAL_TARGET))
    if not args.skip_memory:
        for label, weights, batches in (("peak memory, digits epoch", digits_weights, digits),
                                        ("peak memory, 784-512-512-10", wide_weights, wide)):
            peaks = {name: peak_memory(make, weights, batches)
                     for name, make in mlp_contenders().items() if name != PYTORCH}
            ratio = peaks[TINYGRAD] / peaks[NUMPY]
            params = parameter_bytes(weights)
            rows.append((label, TINYGRAD, f"{peaks[TINYGRAD] / 2**20:.2f} MiB", f"{ratio:.2f}", "-",
                         "x numpy " + verdict(ratio, MEMORY_TARGET)))
            rows.append((f"  (parameters {params / 2**20:.2f} MiB)", NUMPY, f"{peaks[NUMPY] / 2**20:.2f} MiB",
                         "1.00", "-", ""))

    print(f"Training benchmark: one thread, CPU time (time.process_time), interleaved rounds, medians "
          f"({args.rounds} rounds digits, {args.wide_rounds} rounds 784-512-512-10, {args.tutorial_rounds} "
          f"rounds 4-3-1); peak memory by tracemalloc (parameters + training allocations, one pass each)")
    print(f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch is not None else ", no PyTorch"))
    print("Checked before timing: final mean loss over the data, "
          + "; ".join(f"{label} {loss:.6f} (contenders within {spread:.1e} relative)" for label, loss, spread in agreement)
          + f"; 4-3-1 weights equal to the tutorial's within 1e-9 after {args.epochs} epochs.")
    print()
    print_table(rows)
    print()
    print(f"Targets (issue 3): digits epoch <= {DIGITS_TARGET:.2f}x hand NumPy; 784-512-512-10 <= "
          f"{WIDE_TARGET:.2f}x hand NumPy; 4-3-1 per epoch <= {TUTORIAL_TARGET:.2f}x PyTorch; "
          f"peak memory <= {MEMORY_TARGET:.2f}x hand NumPy.")


def main() -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30, help="rounds of the digits epoch (default 30)")
    parser.add_argument("--wide-rounds", type=int, default=7, help="rounds of the 784-512-512-10 run (default 7)")
    parser.add_argument("--steps", type=int, default=50, help="steps of the 784-512-512-10 run (default 50)")
    parser.add_argument("--tutorial-rounds", type=int, default=15, help="rounds of the 4-3-1 run (default 15)")
    parser.add_argument("--epochs", type=int, default=2000, help="epochs of the 4-3-1 run (default 2000)")
    parser.add_argument("--skip-memory", action="store_true", help="leave out the tracemalloc passes")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
