"""Small public-domain texts for character-level language models, shipped in the package.

- `load_names(sex=None)`: the first names of the 1990 US Census (lower case),
  the kind of list makemore learns to imitate.
- `load_text(name="pride_and_prejudice")`: about 100 KB of prose (Jane Austen,
  *Pride and Prejudice*, chapters 1-12) for a small GPT.

Sources and licences (public domain): `corpus/README.md` next to this file.

>>> from tinygrad_edu.data import load_names, load_text
>>> names = load_names()
>>> len(names), names[:3]
(5163, ['mary', 'patricia', 'linda'])
>>> load_text()[:19]
'PRIDE AND PREJUDICE'
"""
from __future__ import annotations

import gzip
from functools import lru_cache
from importlib import resources

__all__ = ["load_names", "load_text", "TEXTS"]

_NAME_FILES = {"female": "dist.female.first.gz", "male": "dist.male.first.gz"}

# load_text's names -> the file in corpus/ (see its README for each source).
TEXTS = {"pride_and_prejudice": "pride_and_prejudice_1-12.txt.gz"}


def _read(file_name: str) -> str:
    source = resources.files("tinygrad_edu.data").joinpath("corpus", file_name)
    with source.open("rb") as compressed:
        return gzip.decompress(compressed.read()).decode("ascii")


@lru_cache(maxsize=None)
def _names(sex: str) -> tuple[str, ...]:
    # Each line: NAME, frequency %, cumulative %, rank; already in rank order.
    return tuple(line.split()[0].lower() for line in _read(_NAME_FILES[sex]).splitlines() if line.strip())


def load_names(sex: str | None = None) -> list[str]:
    """First names from the 1990 US Census, lower case, most frequent first.

    `sex="female"` (4275 names) or `"male"` (1219); the default `None` gives the
    female list followed by the male names not already in it (5163 names; 331
    names such as "jean" are on both lists). Returns a new list each call.
    """
    if sex is None:
        female = _names("female")
        seen = set(female)
        return list(female) + [name for name in _names("male") if name not in seen]
    if sex not in _NAME_FILES:
        raise ValueError(f"load_names: sex must be 'female', 'male' or None, got {sex!r}")
    return list(_names(sex))


@lru_cache(maxsize=None)
def load_text(name: str = "pride_and_prejudice") -> str:
    """A shipped prose text as one string (ASCII, lines ending in "\\n").

    `name`: one of `TEXTS` ("pride_and_prejudice": chapters 1-12, 99,945 characters).
    """
    if name not in TEXTS:
        raise ValueError(f"load_text: unknown text {name!r}; available: {sorted(TEXTS)}")
    return _read(TEXTS[name])
