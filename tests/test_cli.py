"""The `tinygrad-edu` command: end to end in a subprocess, --help, and one-line errors."""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tinygrad_edu.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(*args, path=None, cwd=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if path is not None:
        env["PATH"] = path
    return subprocess.run([sys.executable, "-m", "tinygrad_edu", *args], capture_output=True, text=True,
                          env=env, cwd=cwd or ROOT, timeout=120)


def test_demo_trains_and_writes_plots_and_graph(tmp_path):
    out = tmp_path / "out"
    result = run("demo", "--epochs", "20", "--out", str(out))
    assert result.returncode == 0, result.stderr
    for name in ("loss.png", "decision_boundary.png", "grad_norms.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    svg_text = " ".join(el.text or "" for el in ET.parse(out / "graph.svg").getroot().iter())
    assert "layers.0.weight" in svg_text and "tanh" in svg_text and "(200, 16)" in svg_text
    assert "accuracy" in result.stdout
    assert "epoch" in result.stderr  # the tqdm progress bar
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_demo_without_graphviz_writes_dot_and_says_how_to_install(tmp_path):
    empty = tmp_path / "empty_bin"
    empty.mkdir()
    out = tmp_path / "out"
    result = run("demo", "--epochs", "3", "--quiet", "--dataset", "xor", "--out", str(out), path=str(empty))
    assert result.returncode == 0, result.stderr
    assert (out / "graph.dot").read_text().startswith("digraph")
    assert not (out / "graph.svg").exists()
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "apt-get install graphviz" in notes[0] and "graph.dot" in notes[0]


def test_trace_prints_the_tutorial_steps():
    result = run("trace")
    assert result.returncode == 0, result.stderr
    for text in ("Step 0 ", "Step 11 ", "hidden_layer_input", "d_hiddenlayer", "Error_at_hidden_layer"):
        assert text in result.stdout


def test_trace_writes_html(tmp_path, capsys):
    assert main(["trace", "--html", str(tmp_path / "trace.html")]) == 0
    page = (tmp_path / "trace.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and 'id="trace-data"' in page and "d_hiddenlayer" in page
    assert "http://" not in page and "https://" not in page  # self-contained: nothing fetched


@pytest.mark.parametrize("args, expected", [
    ([], "demo"),
    (["demo"], "--hidden"),
    (["trace"], "--seed"),
])
def test_help_lists_the_options(args, expected, capsys):
    with pytest.raises(SystemExit) as caught:
        main([*args, "--help"])
    assert caught.value.code == 0
    assert expected in capsys.readouterr().out


def test_help_through_python_dash_m():
    result = run("demo", "--help")
    assert result.returncode == 0 and "--optimizer" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["demo", "--dataset", "nope"], "invalid choice: 'nope'"),
    (["demo", "--hidden", "0"], "must be positive"),
    (["demo", "--hidden", "abc"], "positive integers"),
    (["demo", "--hidden", "16,,4"], "positive integers"),
    (["demo", "--epochs", "0"], "positive integer"),
    (["demo", "--lr", "-1"], "positive finite number"),
    (["demo", "--lr", "nan"], "positive finite number"),
    (["demo", "--optimizer", "rmsprop"], "invalid choice"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_arguments_print_one_line_and_exit_2(args, message, capsys):
    with pytest.raises(SystemExit) as caught:
        main(args)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tinygrad-edu") and message in err


@pytest.mark.parametrize("args, message", [
    (["demo", "--seed", "-1"], "--seed: expected a non-negative integer"),
    (["trace", "--seed", "-1"], "--seed: expected a non-negative integer"),
    (["demo", "--seed", str(2 ** 64)], "--seed: expected a non-negative integer"),
    (["demo", "--epochs", "100000000000"], "--epochs: expected a positive integer up to 100000, got 100000000000"),
    (["demo", "--samples", "10000000000"], "--samples: expected a positive integer up to 10000"),
    (["demo", "--hidden", "100000000"], "hidden layer sizes must be at most 1024, got 100000000"),
    (["demo", "--hidden", ",".join(["4"] * 17)], "at most 16 hidden layers, got 17"),
])
def test_absurd_or_negative_numbers_are_one_line_and_exit_2(args, message, capsys, tmp_path):
    out = ["--out", str(tmp_path), "--quiet"] if args[0] == "demo" else []  # should the check regress
    with pytest.raises(SystemExit) as caught:
        main([*args, *out])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tinygrad-edu") and message in err


def test_html_path_that_is_a_folder_is_one_line_and_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["trace", "--html", str(tmp_path)])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a folder; give a file name" in err
    assert os.listdir(tmp_path) == [] and not list(tmp_path.parent.glob(f".{tmp_path.name}*"))


def test_largest_accepted_sizes_still_parse():
    from tinygrad_edu.cli import build_parser
    args = build_parser().parse_args(["demo", "--epochs", "100000", "--samples", "10000", "--seed", str(2 ** 64 - 1),
                                      "--hidden", ",".join(["1024"] * 16)])
    assert args.epochs == 100000 and args.samples == 10000 and args.hidden == [1024] * 16


def test_failure_to_write_the_html_is_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "t.html"))

    monkeypatch.setattr(Path, "write_text", disk_full)
    assert main(["trace", "--html", str(tmp_path / "t.html")]) == 1
    err = capsys.readouterr().err
    assert err == f"tinygrad-edu trace: error: No space left on device ({tmp_path / 't.html'})\n"


def test_unwritable_output_folder_is_one_line_and_exit_2(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert main(["demo", "--out", str(blocker / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write to the output folder" in err and str(blocker) in err


def test_errors_show_no_traceback_in_a_real_process(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    for args in (["demo", "--hidden", "abc"], ["demo", "--out", str(blocker / "out")], ["trace", "--seed", "-1"],
                 ["trace", "--html", str(tmp_path)]):
        result = run(*args)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_no_subcommand_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


def test_demo_without_the_viz_extras_says_what_to_install(monkeypatch, capsys, tmp_path):
    import importlib.util
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tqdm" else real_find_spec(name, *a))
    assert main(["demo", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tqdm" in err and "pip install 'tinygrad_edu[viz]'" in err
