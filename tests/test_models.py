"""The notebook models match the same models written with torch.nn, number for number.

tools/record_torch_models.py (run by hand where PyTorch is installed) loaded the
initial weights of each tinygrad_edu model into a torch.nn model with the same
parameter names (strict=True), trained it for 25 AdamW steps in float64 and
recorded the losses; here the same steps run in tinygrad_edu. No torch needed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F  # noqa: N812
import tinygrad_edu.optim as optim
from tinygrad_edu.models import GPT, CharMLP

DATA = Path(__file__).resolve().parent / "data"
MODELS = {"gpt": GPT, "makemore": CharMLP}
TOLERANCE = 1e-9


def recorded(kind: str) -> dict:
    with np.load(DATA / f"torch_{kind}.npz", allow_pickle=False) as file:
        return {name: file[name] for name in file.files}


def config(record: dict, prefix: str = "") -> dict:
    return {str(key): int(value) for key, value in zip(record[f"{prefix}config_keys"], record[f"{prefix}config_values"])}


def model_with_recorded_weights(kind: str, record: dict):
    model = MODELS[kind](**config(record)).double()
    initial = {name[len("initial/"):]: array for name, array in record.items() if name.startswith("initial/")}
    model.load_state_dict(initial, strict=True)
    return model


def loss_of(logits: tg.Tensor, targets: np.ndarray) -> tg.Tensor:
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_state_dict_names_and_shapes_are_torch_names_in_the_notebook_configuration(kind: str) -> None:
    record = recorded(kind)
    tg.manual_seed(0)
    ours = [(name, ",".join(map(str, array.shape)))
            for name, array in MODELS[kind](**config(record, "notebook_")).state_dict().items()]
    torch_names = list(zip(record["notebook_names"].tolist(), record["notebook_shapes"].tolist()))
    assert ours == torch_names


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_adamw_training_losses_match_torch_for_25_steps(kind: str) -> None:
    record = recorded(kind)
    model = model_with_recorded_weights(kind, record)
    optimizer = optim.AdamW(model.parameters(), lr=float(record["learning_rate"]),
                            weight_decay=float(record["weight_decay"]))
    losses = []
    for inputs, targets in zip(record["inputs"], record["targets"]):
        loss = loss_of(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert len(losses) >= 20
    np.testing.assert_allclose(losses, record["losses"], rtol=TOLERANCE, atol=TOLERANCE)
    assert losses[-1] < 0.8 * losses[0], "the recorded run learns; so must ours"
    with tg.no_grad():
        final_logits = model(record["inputs"][0]).numpy()
    np.testing.assert_allclose(final_logits, record["final_logits"], rtol=TOLERANCE, atol=TOLERANCE)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_a_state_dict_saved_and_loaded_gives_the_same_logits(kind: str, tmp_path: Path) -> None:
    record = recorded(kind)
    model = model_with_recorded_weights(kind, record)
    path = tmp_path / "model.npz"
    model.save(path)
    tg.manual_seed(1)
    other = MODELS[kind](**config(record)).double().load(path)
    inputs = record["inputs"][0]
    np.testing.assert_array_equal(other(inputs).numpy(), model(inputs).numpy())


def test_gpt_is_causal_a_later_token_does_not_change_earlier_logits() -> None:
    tg.manual_seed(0)
    model = GPT(vocab_size=7, block_size=6, n_embd=8, n_head=2, n_layer=1).double()
    idx = np.array([[1, 2, 3, 4, 5, 6]])
    changed = idx.copy()
    changed[0, 4] = 0
    np.testing.assert_array_equal(model(idx).numpy()[0, :4], model(changed).numpy()[0, :4])
    assert not np.allclose(model(idx).numpy()[0, 4], model(changed).numpy()[0, 4])


def test_gpt_rejects_a_context_longer_than_its_block_size() -> None:
    model = GPT(vocab_size=7, block_size=4, n_embd=8, n_head=2, n_layer=1)
    with pytest.raises(ValueError, match=r"block_size \(4\).*\(1, 5\)"):
        model(np.zeros((1, 5), dtype=np.int64))


def test_charmlp_rejects_a_context_of_the_wrong_length() -> None:
    model = CharMLP(vocab_size=27, block_size=3, n_embd=2, n_hidden=4)
    with pytest.raises(ValueError, match=r"block_size=3.*\(2, 4\)"):
        model(np.zeros((2, 4), dtype=np.int64))


def test_generate_is_reproducible_under_manual_seed() -> None:
    tg.manual_seed(0)
    model = GPT(vocab_size=7, block_size=4, n_embd=8, n_head=2, n_layer=1)
    start = np.zeros((2, 1), dtype=np.int64)
    tg.manual_seed(5)
    first = model.generate(start, 10)
    tg.manual_seed(5)
    assert first.shape == (2, 11) and np.array_equal(first, model.generate(start, 10))


def test_sample_draws_each_index_at_its_probability() -> None:
    from tinygrad_edu.models.gpt import sample

    generator = np.random.default_rng(0)
    probs = np.array([0.1, 0.0, 0.6, 0.3])
    counts = np.bincount([sample(probs, generator) for _ in range(20000)], minlength=4)
    assert counts[1] == 0
    np.testing.assert_allclose(counts / counts.sum(), probs, atol=0.015)


def test_the_recorded_notebook_configurations_are_the_notebooks_own() -> None:
    from tinygrad_edu.data import load_names, load_text

    gpt = config(recorded("gpt"), "notebook_")
    makemore = config(recorded("makemore"), "notebook_")
    assert gpt["vocab_size"] == len(set(load_text())), "notebook 10's vocabulary: the characters of the shipped text"
    assert makemore["vocab_size"] == len(set("".join(load_names()))) + 1, "notebook 09's: the letters and '.'"
    tg.manual_seed(0)
    assert 0.1e6 <= sum(p.data.size for p in GPT(**gpt).parameters()) <= 0.2e6
