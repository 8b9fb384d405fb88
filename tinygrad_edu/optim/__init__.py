"""Optimizers: SGD, Adam, AdamW and RMSprop, with PyTorch's update rules step for step.

An optimizer holds parameter groups: `param_groups` is a list of dicts, each
with its `"params"` (a list of Tensors) and its own settings (`"lr"`,
`"momentum"`, ...); `SGD(model.parameters(), lr=0.1)` makes one group, and a list
of dicts (`[{"params": body, "lr": 0.01}, {"params": head}]`) makes several,
the settings not given taken from the constructor's arguments. A group's `"lr"`
may be changed between steps (that is what `optim.lr_scheduler` does).

`step()` reads each parameter's `.grad` and updates `param.data` in place with
plain NumPy, outside the autograd graph (so no graph is built and the Tensor
objects keep their identity); parameters whose `.grad` is None are skipped.
`zero_grad()` sets the gradients to None. The loop lives once, in
`Optimizer.step`; each subclass only writes its formula in `_update`.

>>> import tinygrad_edu as tg, tinygrad_edu.optim as optim
>>> w = tg.Tensor([1.0, -2.0], requires_grad=True)
>>> opt = optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step(); w.tolist()   # w -= 0.1 * 2w
[0.800000011920929, -1.600000023841858]
"""
from tinygrad_edu.optim import lr_scheduler
from tinygrad_edu.optim.adaptive import Adam, AdamW, RMSprop
from tinygrad_edu.optim.optimizer import SGD, Optimizer
from tinygrad_edu.optim.state import flatten_state_dict, unflatten_state_dict

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "RMSprop", "flatten_state_dict", "lr_scheduler", "unflatten_state_dict"]
