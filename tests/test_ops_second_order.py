"""Second derivatives of the elementwise, reduction, matmul and movement ops of the table.

``gradgradcheck`` differentiates the backward pass itself (recorded with
create_graph=True) and compares it with finite differences of the first
derivative.  Ops whose second derivative is zero almost everywhere (relu, abs,
max, getitem...) are still checked: the recorded backward must then give 0.
"""
import pytest
from hypothesis import given
from hypothesis import strategies as st
from op_table import examples, ops_in

from tinygrad_edu import Tensor, gradgradcheck

SECOND_ORDER_OPS = ops_in("elementwise", "reduction", "matmul", "movement")


@pytest.mark.parametrize("op", SECOND_ORDER_OPS, ids=lambda op: op.name)
@given(data=st.data())
def test_second_derivative_matches_finite_differences(op, data):
    arrays, params = data.draw(examples(op), label="inputs, params")
    tensors = [Tensor(array, requires_grad=True) for array in arrays]
    assert gradgradcheck(lambda *ts: op.fn(*ts, **params), tensors)


def test_second_order_covers_every_family_but_conv():
    families = {op.family for op in SECOND_ORDER_OPS}
    assert families == {"elementwise", "reduction", "matmul", "movement"}
