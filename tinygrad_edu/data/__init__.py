"""Data sets to learn on, and mini-batches.

- `seed_example()`, `xor()`: the seed tutorials' tiny arrays, float64 as the
  tutorials use them (`tutorial.py`).
- `make_moons`, `make_spirals`, `make_blobs`: 2-D classification sets made on the
  fly; X float32, y int64 class labels (`synthetic.py`).
- `load_digits()`: the 8x8 handwritten digits, shipped in the package, so it works
  offline with no extra dependency; X float32 in [0, 1], y int64 (`digits.py`).
- `batches(X, y, batch_size, shuffle=True, seed=None)`: mini-batches covering every
  sample once per pass (`batching.py`).
- `load_names(sex=None)`: the 1990 US Census first names; `load_text(name)`: about
  100 KB of public-domain prose, for character-level language models (`text.py`;
  sources and licences in `corpus/README.md`).

>>> from tinygrad_edu.data import make_moons, batches
>>> X, y = make_moons(100, noise=0.1, seed=0)
>>> sum(len(yb) for _, yb in batches(X, y, batch_size=32, seed=0))
100
"""
from tinygrad_edu.data.batching import batches
from tinygrad_edu.data.digits import load_digits
from tinygrad_edu.data.synthetic import make_blobs, make_moons, make_spirals
from tinygrad_edu.data.text import load_names, load_text
from tinygrad_edu.data.tutorial import seed_example, xor

__all__ = ["batches", "load_digits", "load_names", "load_text", "make_blobs", "make_moons", "make_spirals",
           "seed_example", "xor"]
