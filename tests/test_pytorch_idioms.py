"""Code written from PyTorch habit: the behaviours of issue 14 that do not need the engine core.

PyTorch's own behaviour (torch 2.13) is recorded in the comments and literals; no torch import.
"""
import inspect

import numpy as np
import pytest

import tinygrad_edu.nn.functional as F  # noqa: N812 (PyTorch's convention)
import tinygrad_edu.optim as optim
from tinygrad_edu import Function, Tensor, detect_anomaly, no_grad

OPTIMIZERS = sorted((cls for _, cls in inspect.getmembers(optim, inspect.isclass)
                     if issubclass(cls, optim.Optimizer) and cls is not optim.Optimizer), key=lambda cls: cls.__name__)


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda cls: cls.__name__)
def test_optimizer_rejects_a_non_leaf_tensor_as_pytorch_does(optimizer):
    leaf = Tensor([1.0, 2.0], requires_grad=True)
    computed = leaf * 2.0
    assert not computed.is_leaf
    # torch.optim.SGD([x * 2], lr=0.1) -> ValueError: can't optimize a non-leaf Tensor
    with pytest.raises(ValueError, match=r"^can't optimize a non-leaf Tensor \(item 1 was computed"):
        optimizer([leaf, computed], lr=0.1)


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda cls: cls.__name__)
def test_optimizer_accepts_leaves_that_do_not_require_grad(optimizer):
    with no_grad():
        made_without_graph = Tensor([1.0]) * 2.0  # a leaf, as in PyTorch
    optimizer([Tensor(np.ones(2), requires_grad=True), made_without_graph], lr=0.1)


# ----- behaviours that already match PyTorch: guards for the engine rewrite (numbers from torch 2.13) -----

def test_in_place_update_of_a_leaf_that_requires_grad_raises():
    # torch: RuntimeError: a leaf Variable that requires grad is being used in an in-place operation.
    p = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf.*in-place"):
        p += 1


def test_hand_written_sgd_step_under_no_grad_updates_the_parameter_in_place():
    # torch: with no_grad(): p -= 0.1 * p.grad -> same object, [0.8, 1.6], still a leaf that requires grad
    p = Tensor([1.0, 2.0], requires_grad=True)
    same = p
    (p * p).sum().backward()
    with no_grad():
        p -= 0.1 * p.grad
    assert same is p and p.is_leaf and p.requires_grad
    np.testing.assert_allclose(p.data, [0.8, 1.6], rtol=1e-6)


def test_needs_input_grad_is_a_tuple_of_bools():
    # torch: [(True, False)] for x requiring grad and y not
    seen = []

    class Multiply(Function):
        def forward(ctx, x, y):
            return x * y

        def backward(ctx, grad_output):
            seen.append(ctx.needs_input_grad)
            return grad_output, grad_output

    Multiply.apply(Tensor([1.0], requires_grad=True), Tensor([2.0])).sum().backward()
    assert seen == [(True, False)]


def test_nested_detect_anomaly_restores_the_outer_mode():
    # torch: inside the outer block after the inner exits: True; after both: False
    with detect_anomaly():
        with detect_anomaly():
            pass
        with pytest.raises(FloatingPointError):
            Tensor([-1.0]).sqrt()
    with np.errstate(invalid="ignore"):
        Tensor([-1.0]).sqrt()  # no FloatingPointError: anomaly mode is off again


def test_gradient_of_a_broadcastable_shape_from_a_custom_backward_is_summed_as_pytorch_does():
    # torch: backward returning ones((2, 2)) for an input of shape (2,) -> x.grad == [2., 2.]
    class Wide(Function):
        def forward(ctx, x):
            return x * 2

        def backward(ctx, grad_output):
            return Tensor(np.ones((2, 2)))

    x = Tensor([1.0, 2.0], requires_grad=True)
    Wide.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def _grad_at(function, values):
    x = Tensor(values, requires_grad=True, dtype=np.float64)
    with np.errstate(divide="ignore"):  # log(0) = -inf: NumPy warns, PyTorch does not
        function(x).sum().backward()
    return x.grad.tolist()


@pytest.mark.parametrize("function, values, expected", [
    (lambda x: x.sqrt(), [0.0], [np.inf]),
    (lambda x: x.log(), [0.0], [np.inf]),
    (lambda x: x ** 0.5, [0.0], [np.inf]),
    (lambda x: x ** 2, [0.0], [0.0]),
    (lambda x: x ** 0, [0.0], [0.0]),
    (lambda x: x ** 1, [0.0], [1.0]),
    (lambda x: x ** 1.5, [0.0], [0.0]),
    (lambda x: x.softmax(-1)[1], [-np.inf, 0.0], [0.0, 0.0]),
    (lambda x: x.log_softmax(-1)[1], [-np.inf, 0.0], [0.0, 0.0]),
    (lambda x: F.cross_entropy(x.reshape(1, 2), np.array([1])), [-np.inf, 0.0], [0.0, 0.0]),
], ids=["sqrt", "log", "pow_half", "pow_2", "pow_0", "pow_1", "pow_1.5", "softmax_neg_inf", "log_softmax_neg_inf",
        "cross_entropy_neg_inf"])
def test_gradient_at_the_edge_of_the_domain_is_pytorchs(function, values, expected):
    assert _grad_at(function, values) == expected


def test_logsumexp_of_only_minus_infinity_is_minus_infinity():
    # torch: logsumexp(tensor([-inf, -inf]), 0) == -inf, silently (today NumPy warns "divide by zero in log")
    with np.errstate(divide="ignore"):
        assert Tensor([-np.inf, -np.inf], dtype=np.float64).logsumexp(axis=0).item() == -np.inf


@pytest.mark.parametrize("values, correction", [([3.0], 1), ([1.0, 1.0], 2)])
def test_var_of_constant_values_with_no_degrees_of_freedom_is_nan(values, correction):
    # torch: tensor([3.]).var() -> nan; tensor([1., 1.]).var(correction=2) -> nan (0 / 0)
    assert np.isnan(Tensor(values, dtype=np.float64).var(correction=correction).item())


def test_log_softmax_and_logsumexp_over_an_empty_axis_follow_pytorch():
    # torch: log_softmax(zeros(2, 0), -1).shape == (2, 0); logsumexp(zeros(2, 0), -1) == [-inf, -inf]
    empty = Tensor(np.zeros((2, 0)))
    with np.errstate(divide="ignore"):  # today NumPy warns "divide by zero in log"; PyTorch is silent
        assert empty.log_softmax(-1).shape == (2, 0) and empty.logsumexp(axis=-1).tolist() == [-np.inf, -np.inf]


def test_stack_of_0_d_tensors_works():
    # torch: stack([tensor(1.), tensor(2.)]) == [1., 2.]
    assert Tensor.stack([Tensor(1.0), Tensor(2.0)]).tolist() == [1.0, 2.0]
