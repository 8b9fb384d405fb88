"""The `tinygrad-edu` command (also `python -m tinygrad_edu`).

    tinygrad-edu demo [--dataset moons] [--hidden 16,16] [--epochs 300] [--lr 0.05]
                      [--optimizer adam] [--seed 0] [--out ./tinygrad_edu_out]
    tinygrad-edu trace [--seed 0] [--lr 0.1] [--html FILE]

`demo` trains a small MLP on a 2-D toy data set with a progress bar and writes
``loss.png``, ``decision_boundary.png`` and ``graph.svg`` into ``--out``. When
the Graphviz `dot` program is missing it writes ``graph.dot`` instead, prints
one line saying how to install Graphviz and still exits 0: the training and the
plots succeeded, and the graph's source is on disk.

`trace` prints one training iteration of the tutorial's 4-3-1 network, step by step.

Mistakes in the arguments (an unknown data set, ``--hidden abc``, ``--epochs 0``,
a negative seed, absurd sizes such as ``--epochs 10000000``, an output folder
that cannot be written, an ``--html`` path that is a folder) print one line to
stderr and exit with status 2; no traceback.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, NoReturn, Optional, Sequence

__all__ = ["DATASETS", "USAGE_ERROR", "UsageError", "build_parser", "main", "run_demo", "run_trace"]

DATASETS = ("moons", "spirals", "blobs", "xor")
USAGE_ERROR = 2
# Upper limits, so that a typo (a few extra zeros) is an error rather than hours of training or a MemoryError.
MAX_EPOCHS = 100_000
MAX_SAMPLES = 10_000
MAX_HIDDEN_SIZE = 1024
MAX_HIDDEN_LAYERS = 16
MAX_SEED = 2 ** 64 - 1


class UsageError(Exception):
    """A mistake in the command line; reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line (``prog: error: ...``) instead of usage + message."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _hidden_sizes(text: str) -> list:
    sizes = []
    for part in text.split(","):
        part = part.strip()
        try:
            size = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"hidden layer sizes must be positive integers separated by commas, e.g. 16,16; got {text!r}"
            ) from None
        if size < 1:
            raise argparse.ArgumentTypeError(f"hidden layer sizes must be positive, got {size} in {text!r}")
        if size > MAX_HIDDEN_SIZE:
            raise argparse.ArgumentTypeError(f"hidden layer sizes must be at most {MAX_HIDDEN_SIZE}, "
                                             f"got {size} in {text!r}")
        sizes.append(size)
    if len(sizes) > MAX_HIDDEN_LAYERS:
        raise argparse.ArgumentTypeError(f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(sizes)}")
    return sizes


def _int_up_to(low: int, high: int, what: str) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high], described as `what` in the error."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value
    return parse


_epochs = _int_up_to(1, MAX_EPOCHS, f"a positive integer up to {MAX_EPOCHS}")
_samples = _int_up_to(1, MAX_SAMPLES, f"a positive integer up to {MAX_SAMPLES}")
_seed = _int_up_to(0, MAX_SEED, "a non-negative integer (below 2**64)")


def _html_file(text: str) -> Path:
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file name, e.g. {path / 'trace.html'}")
    return path


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `tinygrad-edu` (subcommands `demo` and `trace`)."""
    parser = _Parser(
        prog="tinygrad-edu",
        description="tinygrad_edu: watch backpropagation work. Subcommands: demo, trace.",
        epilog="Run `tinygrad-edu demo --help` or `tinygrad-edu trace --help` for their options.",
    )
    from tinygrad_edu import __version__
    parser.add_argument("--version", action="version", version=f"tinygrad-edu {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{demo,trace}", parser_class=_Parser)

    demo = commands.add_parser(
        "demo", help="train a small MLP on a 2-D toy data set and draw what happened",
        description="Train a small MLP on a 2-D toy data set (full-batch, cross-entropy loss) with a "
                    "progress bar, then write loss.png, decision_boundary.png and graph.svg (the "
                    "computation graph of the last step with its gradient flow) into --out.",
        epilog="Without the Graphviz `dot` program, graph.dot is written instead of graph.svg and a one-line "
               "note says how to install Graphviz; the exit status stays 0 because training and plots worked.",
    )
    demo.add_argument("--dataset", choices=DATASETS, default="moons", help="toy data set (default: moons)")
    demo.add_argument("--samples", type=_samples, default=200,
                      help=f"number of points (default: 200, at most {MAX_SAMPLES})")
    demo.add_argument("--hidden", type=_hidden_sizes, default=[16, 16], metavar="SIZES",
                      help="hidden layer sizes, comma-separated (default: 16,16)")
    demo.add_argument("--activation", choices=("relu", "tanh", "sigmoid"), default="tanh",
                      help="hidden activation (default: tanh)")
    demo.add_argument("--epochs", type=_epochs, default=300,
                      help=f"full-batch training steps (default: 300, at most {MAX_EPOCHS})")
    demo.add_argument("--lr", type=_positive_float, default=0.05, help="learning rate (default: 0.05)")
    demo.add_argument("--optimizer", choices=("sgd", "adam"), default="adam", help="optimizer (default: adam)")
    demo.add_argument("--seed", type=_seed, default=0, help="random seed for data and initialisation (default: 0)")
    demo.add_argument("--out", type=Path, default=Path("tinygrad_edu_out"),
                      help="output folder, created if needed (default: ./tinygrad_edu_out)")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")

    trace = commands.add_parser(
        "trace", help="print one training iteration of the tutorial's 4-3-1 network, step by step",
        description="Print every forward and backward step of one training iteration of the "
                    "'Neural Networks from Scratch' tutorial's 4-3-1 sigmoid network (steps 0-11), "
                    "with the actual matrices.",
    )
    trace.add_argument("--seed", type=_seed, default=0, help="seed of the random initial weights (default: 0)")
    trace.add_argument("--lr", type=_positive_float, default=0.1, help="learning rate (default: 0.1)")
    trace.add_argument("--width", type=_positive_int, default=110, help="text width (default: 110)")
    trace.add_argument("--html", type=_html_file, default=None, metavar="FILE",
                       help="also write the trace as an interactive page (one self-contained HTML file: step "
                            "through it, point at a cell to see the cells it came from)")
    return parser


# ---------------------------------------------------------------- demo

def _load_dataset(name: str, samples: int, seed: int) -> tuple:
    import numpy as np

    from tinygrad_edu import data

    if name == "moons":
        points, labels = data.make_moons(n_samples=samples, noise=0.15, seed=seed)
    elif name == "spirals":
        points, labels = data.make_spirals(n_samples=samples, noise=0.05, seed=seed)
    elif name == "blobs":
        points, labels = data.make_blobs(n_samples=samples, centers=3, seed=seed)
    else:  # xor: the tutorial's four points, without the constant column (the MLP has biases)
        points, labels = data.xor()
        points = points[:, :2]
    return np.asarray(points, dtype=np.float32), np.asarray(labels).reshape(-1).astype(np.int64)


def _check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".write-test-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        reason = error.strerror or str(error)
        raise UsageError(f"cannot write to the output folder {str(folder)!r}: {reason}") from None


def _save_figure(fig: Any, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    fig.savefig(temporary, dpi=110, format=path.suffix.lstrip("."))
    os.replace(temporary, path)


def _require_viz_extras() -> None:
    """The demo draws with matplotlib and graphviz and shows a tqdm bar: optional dependencies."""
    import importlib.util
    missing = [name for name in ("tqdm", "matplotlib", "graphviz") if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(f"the demo needs {', '.join(missing)}: pip install 'tinygrad_edu[viz]'")


def run_demo(args: argparse.Namespace) -> int:
    """Train, plot and draw; returns the exit status."""
    _require_viz_extras()
    _check_writable(args.out)
    import numpy as np
    from tqdm import tqdm

    import tinygrad_edu as tg
    import tinygrad_edu.nn as nn
    import tinygrad_edu.nn.functional as F  # noqa: N812 (PyTorch's convention)
    import tinygrad_edu.optim as optim
    from tinygrad_edu import viz

    started = time.perf_counter()
    points, y = _load_dataset(args.dataset, args.samples, args.seed)
    n_classes = int(y.max()) + 1
    tg.manual_seed(args.seed)
    model = nn.MLP([points.shape[1], *args.hidden, n_classes], activation=args.activation)
    parameters = list(model.parameters())
    optimizer: Any
    if args.optimizer == "adam":
        optimizer = optim.Adam(parameters, lr=args.lr)
    else:
        optimizer = optim.SGD(parameters, lr=args.lr, momentum=0.9)
    inputs = tg.Tensor(points)
    recorder = viz.GradNormRecorder(model.named_parameters())
    losses = []
    bar = tqdm(range(args.epochs), desc=f"{args.dataset} {args.optimizer}", unit="epoch", disable=args.quiet,
               dynamic_ncols=True, file=sys.stderr, mininterval=0.25)
    for _ in bar:
        optimizer.zero_grad()
        logits = model(inputs)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        recorder.record()
        optimizer.step()
        losses.append(float(loss.item()))
        accuracy = float(np.mean(logits.data.argmax(axis=1) == y))
        bar.set_postfix(loss=f"{losses[-1]:.4f}", acc=f"{accuracy:.1%}", refresh=False)
    bar.close()

    # The graph of one more forward/backward pass, after training, for the drawing.
    optimizer.zero_grad()
    loss = F.cross_entropy(model(inputs), y)
    loss.backward()
    with tg.no_grad():
        accuracy = float(np.mean(model(inputs).data.argmax(axis=1) == y))

    out: Path = args.out
    written = []
    _save_figure(viz.plot_loss(losses, title=f"{args.dataset}: cross-entropy loss"), out / "loss.png")
    written.append(out / "loss.png")
    _save_figure(viz.plot_decision_boundary(model, points, y, title=args.dataset), out / "decision_boundary.png")
    written.append(out / "decision_boundary.png")
    _save_figure(viz.plot_grad_norms(recorder, title="gradient norm per parameter"), out / "grad_norms.png")
    written.append(out / "grad_norms.png")
    note = None
    try:
        written.append(viz.render_graph(loss, out / "graph.svg", params=model.named_parameters(),
                                        inputs={"X": inputs}, rankdir="TB"))
    except viz.GraphvizNotFoundError as error:
        written.append(error.dot_path)
        note = str(error)
    elapsed = time.perf_counter() - started
    print(f"final loss {losses[-1]:.4f}, accuracy {accuracy:.1%} after {args.epochs} epochs ({elapsed:.1f} s)")
    for path in written:
        print(f"wrote {path}")
    if note is not None:
        print(f"note: {note}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- trace

def run_trace(args: argparse.Namespace) -> int:
    """Print the tutorial network's trace (and write it as HTML with --html)."""
    from tinygrad_edu.viz import tutorial_trace

    if args.html is not None:
        _check_writable(args.html.parent if str(args.html.parent) else Path("."))
    result = tutorial_trace(seed=args.seed, lr=args.lr)
    print(result.to_text(width=args.width))
    if args.html is not None:
        result.save(args.html)
        print(f"wrote {args.html} (an interactive page: open it in a browser, step with the arrow keys)")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of `tinygrad-edu`; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return USAGE_ERROR
    try:
        if args.command == "demo":
            return run_demo(args)
        return run_trace(args)
    except UsageError as error:
        print(f"tinygrad-edu {args.command}: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print(f"tinygrad-edu {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `tinygrad-edu trace | head`: the reader left, nothing to report
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as error:  # e.g. the disk filled up while writing: one line, not a traceback
        where = f" ({error.filename})" if error.filename else ""
        print(f"tinygrad-edu {args.command}: error: {error.strerror or error}{where}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
