"""The primitive operations, grouped by family.

Each primitive is a `Function` with its forward (NumPy) and backward (Tensor
operations, so it can be differentiated again) side by side; the hot ones also
state the rule on bare arrays (``backward_arrays``) for backward passes that
record nothing.  Everything else the Tensor offers (mean, softmax, conv2d, ...)
is composed from these.
"""
from . import elementwise, loss, matmul, movement, reduce, window  # noqa: F401
