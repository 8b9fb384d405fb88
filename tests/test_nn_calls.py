"""The records of module calls (nn.calls) that drawings group ops by: kept only while recording is on."""
import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn
from tinygrad_edu.nn.calls import module_calls, record_module_calls


def test_module_calls_are_recorded_only_while_recording_is_on():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    x = Tensor(np.ones((4, 2), np.float32))
    previous = record_module_calls(False)
    try:
        assert module_calls(model(x)) == []
        record_module_calls(True)
        assert [type(m).__name__ for m, _ in module_calls(model(x))] == ["ReLU", "Sequential"]
    finally:
        record_module_calls(previous)


def test_loading_the_drawing_tools_turns_recording_on():
    import tinygrad_edu.nn.calls as calls
    import tinygrad_edu.viz  # noqa: F401
    assert calls.recording
