"""The engine's shape: one idea per file, imports one way, every Tensor method found where its op lives."""
import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import tinygrad_edu
import tinygrad_edu.ops
from tinygrad_edu import Tensor

PACKAGE = Path(tinygrad_edu.__file__).parent
# The autograd layer and the ops: below the Tensor, so they must never import it.
BELOW_TENSOR = ["function", "grad_mode", "anomaly", "in_place", "records", "leaves", "autograd"] + [
    f"ops.{info.name}" for info in pkgutil.iter_modules(tinygrad_edu.ops.__path__)]
TENSOR_LAYER = ["tensor", "dtypes"] + [path.stem for path in PACKAGE.glob("tensor_*.py")]
ENGINE = BELOW_TENSOR + TENSOR_LAYER


def _path(module: str) -> Path:
    return PACKAGE.joinpath(*module.split(".")).with_suffix(".py")


def _runtime_imports(tree: ast.AST) -> list:
    """Every module an import statement names, outside ``if TYPE_CHECKING:`` blocks."""
    found = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom):
            found.extend(f"{node.module or ''}.{alias.name}".strip(".") for alias in node.names)
            found.append(node.module or "")
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


@pytest.mark.parametrize("module", BELOW_TENSOR)
def test_the_autograd_layer_and_the_ops_never_import_the_tensor(module):
    names = _runtime_imports(ast.parse(_path(module).read_text(encoding="utf-8")))
    upward = [name for name in names if name.split(".")[-1] in TENSOR_LAYER or name.split(".")[-1] == "composite"]
    assert not upward, f"{module} imports {upward} (imports go one way: tensor -> ops -> autograd)"


@pytest.mark.parametrize("module", ENGINE)
def test_every_engine_file_holds_one_idea_in_at_most_500_lines(module):
    lines = len(_path(module).read_text(encoding="utf-8").splitlines())
    assert lines <= 500, f"{module}.py has {lines} lines"


@pytest.mark.parametrize("module", ENGINE)
def test_every_engine_module_says_what_it_exports(module):
    assert isinstance(importlib.import_module(f"tinygrad_edu.{module}").__all__, list)


def _methods_classes() -> list:
    classes = []
    for module in ENGINE:
        namespace = importlib.import_module(f"tinygrad_edu.{module}")
        classes += [value for name, value in vars(namespace).items()
                    if inspect.isclass(value) and name.endswith("Methods") and value.__module__ == namespace.__name__]
    return classes


def test_tensor_inherits_the_methods_of_every_family():
    classes = _methods_classes()
    assert len(classes) >= 10
    missing = [cls.__qualname__ for cls in classes if cls not in Tensor.__mro__]
    assert not missing, f"add {missing} to the bases of Tensor"


def test_every_tensor_method_from_a_family_has_a_docstring():
    undocumented = [f"{cls.__name__}.{name}" for cls in _methods_classes() for name, value in vars(cls).items()
                    if not name.startswith("_") and callable(getattr(value, "__func__", value))
                    and not inspect.getdoc(getattr(value, "__func__", value))]
    assert not undocumented


def test_no_two_families_define_the_same_tensor_method():
    seen: dict = {}
    for cls in _methods_classes():
        for name in vars(cls):
            if not name.startswith("__") or name in ("__array__", "__array_ufunc__"):
                assert name not in seen, f"{name} is in both {seen.get(name)} and {cls.__name__}"
                seen[name] = cls.__name__


def test_tensors_keep_their_fixed_slots():
    # Every base declares __slots__ = (), so a Tensor has no __dict__ and a typo'd attribute is an error.
    t = Tensor([1.0])
    assert not hasattr(t, "__dict__")
    with pytest.raises(AttributeError):
        t.requires_gard = True
