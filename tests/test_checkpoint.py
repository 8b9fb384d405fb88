"""state_dict / load_state_dict / save / load: exact round trips, clear errors, atomic writes."""
import io
import os
import subprocess
import sys
import tempfile
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.nn as nn
import tinygrad_edu.nn.module as module_file
from tinygrad_edu import Tensor, manual_seed


def _model(seed=0):
    manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def _snapshot(model):
    return {name: array.copy() for name, array in model.state_dict().items()}


def _assert_state_equal(model, snapshot):
    state = model.state_dict()
    assert list(state) == list(snapshot)
    for name in snapshot:
        np.testing.assert_array_equal(state[name], snapshot[name])
        assert state[name].dtype == snapshot[name].dtype


def _trained(model):
    model(Tensor(np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)))  # moves BatchNorm stats
    return model


def test_state_dict_names_parameters_and_buffers_in_order():
    assert list(_model().state_dict()) == [
        "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
        "1.num_batches_tracked", "3.weight", "3.bias"]


def test_state_dict_returns_copies():
    model = _model()
    state = model.state_dict()
    state["0.weight"][...] = 123.0
    assert not np.any(model[0].weight.data == 123.0)


def test_load_state_dict_round_trip_is_exact():
    source, target = _trained(_model(0)), _model(1)
    target.load_state_dict(source.state_dict())
    _assert_state_equal(target, _snapshot(source))


def test_load_state_dict_keeps_tensor_identity_and_dtype():
    model = _model()
    weight, array = model[0].weight, model[0].weight.data
    state = {name: value.astype(np.float64) if value.dtype == np.float32 else value
             for name, value in _model(5).state_dict().items()}
    model.load_state_dict(state)
    assert model[0].weight is weight and model[0].weight.data is array and array.dtype == np.float32
    np.testing.assert_array_equal(array, state["0.weight"].astype(np.float32))


def test_missing_key_raises_key_error_naming_it_and_changes_nothing():
    model = _model()
    before = _snapshot(model)
    state = _model(1).state_dict()
    del state["3.bias"]
    with pytest.raises(KeyError, match=r"missing keys: \['3.bias'\]"):
        model.load_state_dict(state)
    _assert_state_equal(model, before)


def test_unexpected_key_raises_key_error_naming_it_and_changes_nothing():
    model = _model()
    before = _snapshot(model)
    state = _model(1).state_dict()
    state["4.weight"] = np.zeros((2, 2), np.float32)
    with pytest.raises(KeyError, match=r"unexpected keys: \['4.weight'\]"):
        model.load_state_dict(state)
    _assert_state_equal(model, before)


def test_shape_mismatch_raises_value_error_naming_shapes_and_changes_nothing():
    model = _model()
    before = _snapshot(model)
    state = _model(1).state_dict()  # every other entry is valid and different
    state["3.weight"] = np.zeros((4, 2), np.float32)
    with pytest.raises(ValueError, match=r"3.weight: checkpoint has shape \(4, 2\), model has \(2, 4\)"):
        model.load_state_dict(state)
    _assert_state_equal(model, before)


def test_uncastable_dtype_raises_and_changes_nothing():
    model = _model()
    before = _snapshot(model)
    state = _model(1).state_dict()
    state["1.num_batches_tracked"] = np.array(1.5)
    with pytest.raises(ValueError, match="cannot cast checkpoint dtype float64 to model dtype int64"):
        model.load_state_dict(state)
    _assert_state_equal(model, before)


def test_non_strict_load_reports_and_skips_mismatched_names():
    model = _model()
    state = _model(1).state_dict()
    del state["0.bias"]
    state["extra"] = np.zeros(1)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(model[0].weight.data, state["0.weight"])


def test_save_load_round_trip_is_exact(tmp_path):
    source, target = _trained(_model(0)), _model(1)
    path = tmp_path / "model.npz"
    source.save(path)
    assert target.load(path) is target
    _assert_state_equal(target, _snapshot(source))


def test_save_writes_exactly_the_given_path(tmp_path):
    _model().save(tmp_path / "weights.ckpt")
    assert sorted(os.listdir(tmp_path)) == ["weights.ckpt"]


def test_saved_file_loads_with_numpy_without_pickle(tmp_path):
    model = _trained(_model())
    model.save(str(tmp_path / "m.npz"))
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(model.state_dict())
        np.testing.assert_array_equal(archive["1.running_var"], model[1].running_var.data)


def test_save_overwrites_an_existing_checkpoint(tmp_path):
    path = tmp_path / "m.npz"
    _model(0).save(path)
    newer = _model(1)
    newer.save(path)
    _assert_state_equal(_model(2).load(path), _snapshot(newer))


def test_parameter_named_like_a_savez_argument_round_trips(tmp_path):
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.file = Tensor([1.0, 2.0], requires_grad=True)
            self.allow_pickle = Tensor([3.0], requires_grad=True)

    Odd().save(tmp_path / "odd.npz")
    loaded = Odd()
    loaded.file.data[...] = 0.0
    loaded.load(tmp_path / "odd.npz")
    assert loaded.file.tolist() == [1.0, 2.0]


def test_truncated_file_raises_naming_it_and_changes_nothing(tmp_path):
    path = tmp_path / "m.npz"
    _model(0).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    model = _model(1)
    before = _snapshot(model)
    with pytest.raises(nn.CheckpointError, match="m.npz"):
        model.load(path)
    _assert_state_equal(model, before)


def test_garbage_file_raises_a_value_error_naming_it(tmp_path):
    path = tmp_path / "garbage.npz"
    path.write_bytes(b"this is not a checkpoint at all" * 10)
    model = _model()
    before = _snapshot(model)
    with pytest.raises(ValueError, match="garbage.npz"):
        model.load(path)
    _assert_state_equal(model, before)


def test_corrupted_member_raises_checkpoint_error(tmp_path):
    path = tmp_path / "m.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("0.weight.npy", b"\x93NUMPY garbage header")
    with pytest.raises(nn.CheckpointError, match="m.npz"):
        _model().load(path)


def test_plain_npy_file_raises_checkpoint_error(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(nn.CheckpointError, match="not an .npz archive"):
        _model().load(path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        _model().load(tmp_path / "nope.npz")


def test_checkpoint_of_another_architecture_raises_and_changes_nothing(tmp_path):
    path = tmp_path / "mlp.npz"
    nn.MLP([3, 5, 2]).save(path)
    model = _model()
    before = _snapshot(model)
    with pytest.raises(KeyError, match="missing keys"):
        model.load(path)
    _assert_state_equal(model, before)


def test_crash_before_rename_keeps_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    _model(0).save(path)
    old_bytes = path.read_bytes()

    def crash(*args):
        raise OSError("simulated crash during rename")

    monkeypatch.setattr(module_file.os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        _model(1).save(path)
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["m.npz"]


def test_crash_mid_write_keeps_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    _model(0).save(path)
    old_bytes = path.read_bytes()

    def half_write(file, arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt  # e.g. Ctrl-C in the middle of writing

    monkeypatch.setattr(module_file, "_write_npz", half_write)
    with pytest.raises(KeyboardInterrupt):
        _model(1).save(path)
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["m.npz"]
    _assert_state_equal(_model(2).load(path), _snapshot(_model(0)))


def test_save_into_a_missing_directory_raises_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        _model().save(tmp_path / "no_such_dir" / "m.npz")


@given(st.lists(st.integers(1, 6), min_size=2, max_size=4), st.integers(0, 2 ** 16))
def test_any_mlp_round_trips_exactly_through_a_file(sizes, seed):
    source, target = _mlp(sizes, seed), _mlp(sizes, seed + 1)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "mlp.npz")
        source.save(path)
        target.load(path)
    _assert_state_equal(target, _snapshot(source))


def _mlp(sizes, seed):
    manual_seed(seed)
    return nn.MLP(sizes, activation="tanh")


# ----- a checkpoint cannot be turned against the loader (issue 14, item 7) -----

def _npy_header(shape, descr="<f8"):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _load_measuring_memory(model, path):
    """Load `path` into `model` expecting CheckpointError; return (error, peak bytes traced meanwhile)."""
    tracemalloc.start()
    try:
        with pytest.raises(nn.CheckpointError) as caught:
            model.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return caught.value, peak


def test_tiny_file_declaring_a_huge_array_raises_in_bounded_memory(tmp_path):
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("weight.npy", _npy_header((10 ** 12,)))  # 8 TB declared, no data
    assert path.stat().st_size < 1000
    model = nn.Linear(3, 4)
    error, peak = _load_measuring_memory(model, path)
    assert "shape (1000000000000,)" in str(error) and "huge.npz" in str(error)
    assert peak < 2 ** 20


def test_zip_directory_lying_about_the_size_is_stopped_by_the_shape_check(tmp_path):
    path = tmp_path / "liar.npz"
    header = _npy_header((5 * 10 ** 8,))  # 4 GB declared
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("weight.npy", header)
        archive.writestr("bias.npy", _npy_header((4,), "<f4") + bytes(16))
    data = bytearray(path.read_bytes())
    directory_entry = data.index(b"PK\x01\x02")  # the first member's entry in the central directory
    data[directory_entry + 24:directory_entry + 28] = (len(header) + 8 * 5 * 10 ** 8).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    assert zipfile.ZipFile(path).getinfo("weight.npy").file_size > 4 * 10 ** 9  # the lie is in place
    model = nn.Linear(3, 4)
    before = _snapshot(model)
    error, peak = _load_measuring_memory(model, path)
    assert "weight: checkpoint has shape (500000000,), model has (4, 3)" in str(error)
    assert peak < 2 ** 20
    _assert_state_equal(model, before)


def test_zip_bomb_member_raises_before_it_is_decompressed(tmp_path):
    path = tmp_path / "bomb.npz"
    count = 10 ** 7  # 80 MB of zeros, deflated to well under 1 MB
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("weight.npy", "w", force_zip64=True) as member:
            member.write(_npy_header((count,)))
            chunk = bytes(2 ** 20)
            for _ in range(count * 8 // len(chunk)):
                member.write(chunk)
            member.write(bytes(count * 8 % len(chunk)))
        archive.writestr("bias.npy", _npy_header((4,), "<f4") + bytes(16))
    assert path.stat().st_size < 2 ** 20
    error, peak = _load_measuring_memory(nn.Linear(3, 4), path)
    assert "weight: checkpoint has shape (10000000,), model has (4, 3)" in str(error)
    assert peak < 2 ** 20


def test_shapes_are_compared_with_the_model_before_any_data_is_read(tmp_path, monkeypatch):
    path = tmp_path / "wide.npz"
    nn.Linear(3, 5).save(path)

    def no_reading(*args, **kwargs):
        raise AssertionError("array data was read before the shapes were checked")

    monkeypatch.setattr(np.lib.format, "read_array", no_reading)
    with pytest.raises(nn.CheckpointError, match=r"weight: checkpoint has shape \(5, 3\), model has \(4, 3\)"):
        nn.Linear(3, 4).load(path)


def test_member_holding_more_bytes_than_its_header_declares_is_corrupt(tmp_path):
    path = tmp_path / "padded.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("weight.npy", _npy_header((4, 3), "<f4") + bytes(48 + 8))
        archive.writestr("bias.npy", _npy_header((4,), "<f4") + bytes(16))
    with pytest.raises(nn.CheckpointError, match=r"weight.npy declares an array of shape \(4, 3\).*48 bytes.*56"):
        nn.Linear(3, 4).load(path)


def test_member_that_is_not_an_npy_array_is_rejected(tmp_path):
    path = tmp_path / "extra.npz"
    nn.Linear(3, 4).save(path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("notes.txt", b"hello")
    with pytest.raises(nn.CheckpointError, match="'notes.txt' is not an .npy array"):
        nn.Linear(3, 4).load(path)


def _killed_save(path):
    """Run a save in another process and SIGKILL it halfway through writing; return its pid."""
    script = (
        "import os, sys\n"
        "import tinygrad_edu.nn as nn, tinygrad_edu.nn.module as module_file\n"
        "def half_write(file, arrays):\n"
        "    file.write(b'PK\\x03\\x04 half an archive'); file.flush()\n"
        "    os.kill(os.getpid(), 9)\n"
        "module_file._write_npz = half_write\n"
        "print(os.getpid(), flush=True)\n"
        "nn.Linear(2, 2).save(sys.argv[1])\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == -9, result.stderr
    return int(result.stdout.split()[0])


def test_temporary_left_by_a_killed_save_is_removed_by_the_next_save(tmp_path):
    path = tmp_path / "m.npz"
    _model(0).save(path)
    old_bytes = path.read_bytes()
    _killed_save(path)
    leftovers = [name for name in os.listdir(tmp_path) if name != "m.npz"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".m.npz.")  # the kill really left one behind
    assert path.read_bytes() == old_bytes  # and the earlier checkpoint is whole
    _model(1).save(path)
    assert os.listdir(tmp_path) == ["m.npz"]
    _assert_state_equal(_model(2).load(path), _snapshot(_model(1)))


def test_next_save_keeps_temporaries_of_running_saves_and_other_files(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        kept = [f".m.npz.{sleeper.pid}.abcd1234.tmp",  # a save still running in another process
                ".m.npz.tmp", "m.npz.123.abcd1234.tmp", ".other.npz.999999.abcd1234.tmp", ".m.npz.12.x.tmp.bak"]
        for name in kept:
            (tmp_path / name).write_bytes(b"someone's data")
        _model().save(tmp_path / "m.npz")
        assert sorted(os.listdir(tmp_path)) == sorted(kept + ["m.npz"])
    finally:
        sleeper.kill()
        sleeper.wait()


def test_saving_through_a_symlink_writes_its_target_and_keeps_the_link(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "m.npz"
    _model(0).save(target)
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    _model(1).save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    _assert_state_equal(_model(2).load(target), _snapshot(_model(1)))
    assert sorted(os.listdir(tmp_path)) == ["latest.npz", "real"] and os.listdir(tmp_path / "real") == ["m.npz"]


def test_saving_through_a_dangling_symlink_creates_its_target(tmp_path):
    target = tmp_path / "new.npz"
    link = tmp_path / "link.npz"
    link.symlink_to(target)
    _model(1).save(link)
    assert link.is_symlink() and target.is_file()
    _assert_state_equal(_model(2).load(link), _snapshot(_model(1)))


def test_saving_to_a_directory_raises_naming_it_and_leaves_nothing(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    with pytest.raises(IsADirectoryError, match="it is a directory"):
        _model().save(tmp_path / "checkpoints")
    assert os.listdir(tmp_path) == ["checkpoints"] and os.listdir(tmp_path / "checkpoints") == []


def test_checkpoint_written_by_numpy_savez_compressed_loads(tmp_path):
    source = _trained(_model(0))
    path = tmp_path / "compressed.npz"
    np.savez_compressed(path, **source.state_dict())
    _assert_state_equal(_model(1).load(path), _snapshot(source))
