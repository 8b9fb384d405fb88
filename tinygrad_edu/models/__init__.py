"""The language models the notebooks build, importable so tests can check them against PyTorch.

- `tinygrad_edu.models.makemore.CharMLP`: Bengio et al. (2003)'s MLP over a few
  characters of context with an embedding table (notebook 09).
- `tinygrad_edu.models.gpt.GPT`: a small decoder-only transformer (notebook 10).

Their parameter names are the names a `torch.nn` model written the same way has,
so `state_dict()` moves between the two unchanged (tools/record_torch_models.py).
"""
from tinygrad_edu.models.gpt import GPT
from tinygrad_edu.models.makemore import CharMLP

__all__ = ["GPT", "CharMLP"]
