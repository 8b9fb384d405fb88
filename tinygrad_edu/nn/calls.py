"""Which module call returned which tensor, so that drawings and traces can show each op inside the module that ran it.

`Module.__call__` records a call only while recording is on: importing
`tinygrad_edu.viz` turns it on (a drawing may be asked for), and
`record_module_calls(False)` turns it off again; off, a module call costs
nothing extra. One entry per module call that built a graph (none under
no_grad), keyed by id() and checked through a weak reference, so it keeps no
tensor alive; dead entries are swept every _SWEEP_EVERY new entries.
"""
from __future__ import annotations

import weakref
from typing import Any

__all__ = ["module_calls", "record_call", "record_module_calls"]

recording = False  # read by Module.__call__ on every call
_CALLS: dict = {}  # id(output) -> (weak ref to output, [(module, [(id(arg), id(arg._ctx)), ...])])
_SWEEP_EVERY = 4096
_new_entries = 0


def record_module_calls(enabled: bool = True) -> bool:
    """Turn the records of module calls on or off (`draw_graph` groups ops by module from them); return the old setting."""
    global recording
    previous, recording = recording, bool(enabled)
    return previous


def record_call(module: Any, args: tuple, output: Any) -> None:
    """Remember that `module`, called with `args`, returned `output` (a Tensor made by an op)."""
    global _new_entries
    entry = _CALLS.get(id(output))
    if entry is None or entry[0]() is not output:
        _new_entries += 1
        if _new_entries % _SWEEP_EVERY == 0:
            for key in [key for key, (ref, _) in _CALLS.items() if ref() is None]:
                del _CALLS[key]
        entry = _CALLS[id(output)] = (weakref.ref(output), [])
    calls: list = entry[1]
    calls.append((module, [(id(a), id(a._ctx)) for a in args if hasattr(a, "_ctx")]))


def module_calls(tensor: Any) -> list:
    """``[(module, input ids)]`` of the module calls that returned ``tensor``, innermost first.

    ``input ids`` are ``(id(arg), id(arg._ctx))`` for each Tensor argument of
    the call (the ids stay valid while ``tensor`` and its graph are alive).
    Empty for a tensor no module returned, one made under ``no_grad``, or one
    made while recording was off.
    """
    entry = _CALLS.get(id(tensor))
    if entry is None or entry[0]() is not tensor:
        return []
    return list(entry[1])
