"""Every differentiable op of the table: backward agrees with finite differences, forward with NumPy.

The tests are generated from ``op_table.OPS``: random shapes (broadcast pairs,
every axis form, keepdim), float64 values drawn from each op's domain.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from op_table import OPS, examples

from tinygrad_edu import Tensor, gradcheck


def _call(op, arrays, params):
    tensors = [Tensor(array, requires_grad=True) for array in arrays]
    return tensors, op.fn(*tensors, **params)


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
@given(data=st.data())
def test_gradient_matches_finite_differences(op, data):
    arrays, params = data.draw(examples(op), label="inputs, params")
    tensors = [Tensor(array, requires_grad=True) for array in arrays]
    assert gradcheck(lambda *ts: op.fn(*ts, **params), tensors)


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
@given(data=st.data())
def test_forward_matches_numpy_formula(op, data):
    arrays, params = data.draw(examples(op), label="inputs, params")
    originals = [array.copy() for array in arrays]
    _, out = _call(op, arrays, params)
    expected = np.asarray(op.reference(*originals, **params))
    assert out.shape == expected.shape
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)
    for array, original in zip(arrays, originals):  # ops never write into their inputs
        np.testing.assert_array_equal(array, original)


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
@given(data=st.data())
def test_gradient_has_each_inputs_shape_and_dtype(op, data):
    arrays, params = data.draw(examples(op), label="inputs, params")
    tensors = [Tensor(array.astype(np.float32), requires_grad=True) for array in arrays]
    out = op.fn(*tensors, **params)
    out.backward(np.ones(out.shape, dtype=np.float32))
    for tensor in tensors:
        assert tensor.grad is not None
        assert tensor.grad.shape == tensor.shape
        assert tensor.grad.dtype == np.float32
