"""Split tinygrad_edu/composite.py into the package tinygrad_edu/composite/ by family (run from the repository root).

Every top-level function and constant is copied unchanged, in its original order, into the module FAMILY names;
the only edit is the relative import inside cumsum/einsum/tensordot (``.ops.`` -> ``..ops.``), one level deeper.
Re-running it on a composite.py that another branch edited in place carries those edits over; a name it does not
know stops it.   usage: python tools/split_composite.py [composite.py [output folder]]

For merging a branch that edited composite.py before the split, e.g.
    git show OTHER:tinygrad_edu/composite.py > /tmp/composite.py
    python tools/split_composite.py /tmp/composite.py     # rewrites tinygrad_edu/composite/
    git diff tinygrad_edu/composite/                       # the other branch's edits, now in the family files
A one-off; delete it once no branch still edits composite.py.
"""
import ast
import sys
from pathlib import Path

source_path = Path(sys.argv[1] if len(sys.argv) > 1 else "tinygrad_edu/composite.py")
source = source_path.read_text()
lines = source.split("\n")
tree = ast.parse(source)

FAMILY = {
    "elementwise": ["leaky_relu", "gelu", "_LN2", "log2", "log10", "exp2", "relu6", "hardsigmoid", "hardswish",
                    "mish", "elu", "_SELU_ALPHA", "selu", "logsigmoid", "softsign"],
    "reduce": ["var", "std", "logsumexp", "softmax", "log_softmax", "prod", "cumsum"],
    "indexing": ["_dim", "_along", "masked_fill", "_triangle", "tril", "triu", "split", "chunk", "repeat_interleave",
                 "roll", "flip", "diagonal", "diag_embed", "sort", "topk", "_gather"],
    "linalg": ["einsum", "tensordot", "outer", "trace"],
    "conv": ["conv2d", "max_pool2d", "avg_pool2d", "_pool_windows", "_windows", "conv1d"],
}
HEADER_NODES = (ast.Expr, ast.ImportFrom, ast.Import, ast.If)  # docstring, imports, `if TYPE_CHECKING:`

TYPE_IMPORTS = '''if TYPE_CHECKING:
    from ..tensor import Tensor
'''
HEADERS = {
    "elementwise": ('''"""Elementwise composites: activations (leaky_relu, gelu, relu6, hardsigmoid, hardswish, mish, elu, selu,
logsigmoid, softsign) and log2, log10, exp2, each built from elementwise primitives.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

''', "\n"),
    "reduce": ('''"""Composites along an axis: var, std, logsumexp, softmax, log_softmax, prod and cumsum."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..checks import Axis, kept_shape, normalize_axes
from .indexing import _dim

''', "\n"),
    "indexing": ('''"""Composites that pick, mask and rearrange elements: masked_fill, tril, triu, split, chunk,
repeat_interleave, roll, flip, diagonal, diag_embed, sort and topk, each an index or a where() on a primitive.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from ..checks import normalize_axes

''', "\n"),
    "linalg": ('''"""Products and sums over paired axes: einsum, tensordot, outer and trace."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .indexing import _dim, diagonal

''', "\n"),
    "conv": ('''"""Convolution and pooling as windows (`Windows`, im2col) and a matmul: conv2d, conv1d, max_pool2d, avg_pool2d."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from ..checks import pair
from ..ops.window import Windows

''', "\n"),
}

def names_list(prefix, names, indent, close):
    """``prefix`` + the quoted names, wrapped under 120 columns (continuation lines indented by ``indent``)."""
    out, line = [], prefix
    for i, name in enumerate(names):
        item = f'"{name}"' + (", " if i < len(names) - 1 else close)
        if len(line) + len(item.rstrip()) > 118:
            out.append(line.rstrip())
            line = " " * indent
        line += item
    return "\n".join(out + [line])


def import_line(module, names):
    prefix = f"from .{module} import "
    text = prefix + ", ".join(names)
    if len(text) <= 118:
        return text
    return names_list(prefix + "(", names, 4, ")").replace('"', "")


chunks = {}  # first name -> source text
for node in tree.body:
    if isinstance(node, HEADER_NODES):
        continue
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "__all__":
        continue
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        name, start = node.name, min([node.lineno] + [d.lineno for d in node.decorator_list])
    elif isinstance(node, ast.Assign):
        target = node.targets[0]
        name, start = (target.elts[0] if isinstance(target, ast.Tuple) else target).id, node.lineno
    else:
        raise SystemExit(f"unexpected top-level statement at line {node.lineno}")
    chunks[name] = "\n".join(lines[start - 1:node.end_lineno])

placed = [name for names in FAMILY.values() for name in names]
unknown = sorted(set(chunks) - set(placed))
if unknown:
    raise SystemExit(f"new top-level names, put them in FAMILY: {unknown}")

out = Path(sys.argv[2] if len(sys.argv) > 2 else "tinygrad_edu/composite")
out.mkdir(exist_ok=True)
public_of = {}
for family, names in FAMILY.items():
    head, _ = HEADERS[family]
    public = [n for n in names if not n.startswith("_")]
    public_of[family] = public
    body = "\n\n\n".join(chunks[n].replace("from .ops.", "from ..ops.") for n in names)
    text = head + TYPE_IMPORTS + "\n" + names_list("__all__ = [", public, 11, "]") + "\n\n\n" + body + "\n"
    (out / f"{family}.py").write_text(text)

docstring = ast.get_docstring(tree)
FAMILIES_TEXT = """

By family: `elementwise` (activations, log2, ...), `reduce` (var, std, softmax, ...), `indexing`
(masked_fill, split, sort, ...), `linalg` (einsum, tensordot, ...) and `conv` (conv2d, pooling).
"""
init = ['"""' + docstring.replace("so this module does not import", "so this package does not import")
        + FAMILIES_TEXT + '"""', "from __future__ import annotations", ""]
for family in sorted(FAMILY):
    init.append(import_line(family, sorted(public_of[family])))
everything = sorted(n for names in public_of.values() for n in names)
init += ["", names_list("__all__ = [", everything, 11, "]"), ""]
(out / "__init__.py").write_text("\n".join(init))
import subprocess  # noqa: E402

subprocess.run(["ruff", "check", "--fix", "--select", "I", "-q", str(out)], check=True)  # isort the imports
print("wrote", ", ".join(sorted(p.name for p in out.iterdir())))
