"""tinygrad_edu: a readable, correct and fast reverse-mode autodiff engine for learning deep learning.

>>> from tinygrad_edu import Tensor
>>> x = Tensor([2.0, 3.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad.tolist()
[4.0, 6.0]
"""
from .autograd import Function, detect_anomaly, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from .checks import AxisError
from .gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from .random import manual_seed
from .tensor import DtypeError, Tensor

__version__ = "0.1.0"

__all__ = [
    "Tensor", "Function", "grad", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled",
    "detect_anomaly",
    "gradcheck", "gradgradcheck", "numerical_grad", "GradcheckError", "manual_seed",
    "AxisError", "DtypeError",
]
