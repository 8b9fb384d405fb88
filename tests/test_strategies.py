"""tinygrad_edu.testing.strategies produce what they document."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Tensor
from tinygrad_edu.testing.strategies import arrays, broadcastable_shapes, floats, shapes, tensors


@given(shapes())
def test_default_shapes_have_up_to_3_axes_of_size_1_to_4(shape):
    assert isinstance(shape, tuple) and len(shape) <= 3
    assert all(1 <= side <= 4 for side in shape)


@given(shapes(min_dims=2, max_dims=4, min_side=2, max_side=3))
def test_shapes_respect_their_bounds(shape):
    assert 2 <= len(shape) <= 4 and all(2 <= side <= 3 for side in shape)


@given(st.data())
def test_broadcastable_shapes_really_broadcast(data):
    shape = data.draw(shapes(), label="shape")
    other = data.draw(broadcastable_shapes(shape), label="other")
    result = np.broadcast_shapes(shape, other)  # raises if they do not broadcast
    assert len(other) <= max(len(shape), 1) + 1
    assert np.broadcast_to(np.zeros(other), result).shape == result
    assert np.broadcast_to(np.zeros(shape), result).shape == result


@given(floats(limit=2.5))
def test_floats_are_finite_and_within_the_limit(value):
    assert np.isfinite(value) and -2.5 <= value <= 2.5


@given(arrays((2, 3)))
def test_arrays_default_to_finite_float64_in_minus_3_to_3(array):
    assert array.shape == (2, 3) and array.dtype == np.float64
    assert np.all(np.isfinite(array)) and np.all(np.abs(array) <= 3.0)


@given(arrays(shapes(max_dims=2), dtype=np.float32, elements=st.floats(0.5, 1.0, width=32)))
def test_arrays_take_a_shape_strategy_a_dtype_and_elements(array):
    assert array.dtype == np.float32 and array.ndim <= 2
    assert np.all((array >= 0.5) & (array <= 1.0))


@given(tensors())
def test_tensors_default_to_float64_leaves_that_require_grad(tensor):
    assert isinstance(tensor, Tensor) and tensor.is_leaf
    assert tensor.dtype == np.float64 and tensor.requires_grad
    assert tensor.ndim <= 3 and np.all(np.abs(tensor.data) <= 3.0)


@given(tensors(shape=(4,), dtype=np.float32, requires_grad=False))
def test_tensors_take_shape_dtype_and_requires_grad(tensor):
    assert tensor.shape == (4,) and tensor.dtype == np.float32 and not tensor.requires_grad


@given(tensors(elements=st.floats(0.1, 2.0)))
def test_tensors_with_a_positive_domain_work_with_log(tensor):
    assert np.all(np.isfinite(tensor.log().data))
