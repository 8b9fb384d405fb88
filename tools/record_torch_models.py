"""Record PyTorch's numbers for the two notebook models (run by hand where torch is installed).

    python tools/record_torch_models.py

For each model (notebook 09's CharMLP, notebook 10's GPT), in a small
configuration so the file stays small:

1. build the tinygrad_edu model (seeded), cast it to float64 and take its
   `state_dict()`: the fixed initial weights;
2. write the same model with `torch.nn`, with the same attribute names, and
   `load_state_dict` those arrays into it with `strict=True`: this fails if a
   name or a shape differs, which is the graduation test itself;
3. train it in float64 with `torch.optim.AdamW` for STEPS steps on fixed random
   batches, recording the loss before each step and the logits after the last;
4. write everything to tests/data/torch_<model>.npz (no pickle), plus the names
   and shapes of the torch model's `state_dict()` in the notebook's own
   configuration.

tests/test_models.py replays the same steps with tinygrad_edu and compares, so
the test suite never needs torch.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as TF  # noqa: N812

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu.models import GPT, CharMLP  # noqa: E402

STEPS = 25
LEARNING_RATE = 1e-2
WEIGHT_DECAY = 0.01
OUT_DIR = REPO_ROOT / "tests" / "data"

# Small configurations for the recorded training runs; the notebooks' own (72 characters in the
# shipped Pride and Prejudice chapters, 27 for the names) for the name check.
GPT_SMALL = dict(vocab_size=11, block_size=8, n_embd=16, n_head=2, n_layer=2)
GPT_NOTEBOOK = dict(vocab_size=72, block_size=32, n_embd=64, n_head=4, n_layer=3)
MLP_SMALL = dict(vocab_size=27, block_size=3, n_embd=4, n_hidden=32)
MLP_NOTEBOOK = dict(vocab_size=27, block_size=3, n_embd=10, n_hidden=200)


# ----------------------------------------------------------------- the models in torch.nn

class TorchCausalSelfAttention(tnn.Module):
    def __init__(self, n_embd: int, n_head: int, block_size: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.query = tnn.Linear(n_embd, n_embd, bias=False)
        self.key = tnn.Linear(n_embd, n_embd, bias=False)
        self.value = tnn.Linear(n_embd, n_embd, bias=False)
        self.proj = tnn.Linear(n_embd, n_embd)
        # persistent=False: a constant, not part of state_dict (as in tinygrad_edu)
        self.register_buffer("mask", torch.tril(torch.ones(block_size, block_size, dtype=torch.bool)), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, time, channels = x.shape
        head_size = channels // self.n_head
        q, k, v = (t.view(batch, time, self.n_head, head_size).transpose(1, 2)
                   for t in (self.query(x), self.key(x), self.value(x)))
        scores = (q @ k.transpose(-2, -1)) * head_size ** -0.5
        scores = scores.masked_fill(~self.mask[:time, :time], float("-inf"))
        out = scores.softmax(dim=-1) @ v
        return self.proj(out.transpose(1, 2).reshape(batch, time, channels))


class TorchBlock(tnn.Module):
    def __init__(self, n_embd: int, n_head: int, block_size: int) -> None:
        super().__init__()
        self.ln1 = tnn.LayerNorm(n_embd)
        self.attn = TorchCausalSelfAttention(n_embd, n_head, block_size)
        self.ln2 = tnn.LayerNorm(n_embd)
        self.mlp = tnn.Sequential(tnn.Linear(n_embd, 4 * n_embd), tnn.ReLU(), tnn.Linear(4 * n_embd, n_embd))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TorchGPT(tnn.Module):
    def __init__(self, vocab_size: int, block_size: int, n_embd: int, n_head: int, n_layer: int) -> None:
        super().__init__()
        self.token_embedding = tnn.Embedding(vocab_size, n_embd)
        self.position_embedding = tnn.Embedding(block_size, n_embd)
        self.blocks = tnn.Sequential(*[TorchBlock(n_embd, n_head, block_size) for _ in range(n_layer)])
        self.ln_f = tnn.LayerNorm(n_embd)
        self.lm_head = tnn.Linear(n_embd, vocab_size)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.token_embedding(idx) + self.position_embedding(torch.arange(idx.shape[1]))
        return self.lm_head(self.ln_f(self.blocks(x)))


class TorchCharMLP(tnn.Module):
    def __init__(self, vocab_size: int, block_size: int, n_embd: int, n_hidden: int) -> None:
        super().__init__()
        self.embedding = tnn.Embedding(vocab_size, n_embd)
        self.hidden = tnn.Linear(block_size * n_embd, n_hidden)
        self.output = tnn.Linear(n_hidden, vocab_size)

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        return self.output(torch.tanh(self.hidden(self.embedding(context).flatten(1))))


# ----------------------------------------------------------------- recording

def batches_for(kind: str, config: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """STEPS fixed batches of (inputs, targets) as int64 arrays, from a rule the model can learn
    (so the recorded loss falls): each next token is (3 * previous + 1) mod vocab_size."""
    vocab = config["vocab_size"]
    if kind == "gpt":
        tokens = rng.integers(0, vocab, size=(STEPS, 4, 1))
        for _ in range(config["block_size"]):
            tokens = np.concatenate([tokens, (3 * tokens[:, :, -1:] + 1) % vocab], axis=2)
        return tokens[:, :, :-1], tokens[:, :, 1:]
    contexts = rng.integers(0, vocab, size=(STEPS, 32, config["block_size"]))
    return contexts, (3 * contexts[:, :, -1] + 1) % vocab


def loss_of(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return TF.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def record(kind: str, ours_class: type, torch_class: type, small: dict, notebook: dict) -> Path:
    tg.manual_seed(0)
    initial = ours_class(**small).double().state_dict()
    model = torch_class(**small).double()
    model.load_state_dict({name: torch.from_numpy(array) for name, array in initial.items()}, strict=True)
    inputs, targets = batches_for(kind, small, np.random.default_rng(1234))
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    losses = []
    for step in range(STEPS):
        loss = loss_of(model(torch.from_numpy(inputs[step])), torch.from_numpy(targets[step]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        final_logits = model(torch.from_numpy(inputs[0])).numpy()
    names_shapes = [(name, tuple(value.shape)) for name, value in torch_class(**notebook).state_dict().items()]
    arrays = {f"initial/{name}": array for name, array in initial.items()}
    arrays.update(
        config_keys=np.array(list(small)), config_values=np.array(list(small.values()), dtype=np.int64),
        inputs=inputs, targets=targets, losses=np.array(losses), final_logits=final_logits,
        learning_rate=np.array(LEARNING_RATE), weight_decay=np.array(WEIGHT_DECAY),
        notebook_config_keys=np.array(list(notebook)),
        notebook_config_values=np.array(list(notebook.values()), dtype=np.int64),
        notebook_names=np.array([name for name, _ in names_shapes]),
        notebook_shapes=np.array([",".join(map(str, shape)) for _, shape in names_shapes]),
        torch_version=np.array(torch.__version__),
    )
    path = OUT_DIR / f"torch_{kind}.npz"
    np.savez_compressed(path, **arrays)
    print(f"{path.relative_to(REPO_ROOT)}: loss {losses[0]:.6f} -> {losses[-1]:.6f} over {STEPS} AdamW steps "
          f"({path.stat().st_size} bytes)")
    return path


def main() -> None:
    torch.set_num_threads(1)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    record("makemore", CharMLP, TorchCharMLP, MLP_SMALL, MLP_NOTEBOOK)
    record("gpt", GPT, TorchGPT, GPT_SMALL, GPT_NOTEBOOK)


if __name__ == "__main__":
    main()
