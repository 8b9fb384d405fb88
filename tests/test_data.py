"""tinygrad_edu.data: the toy sets, the generators, the shipped digits and mini-batching."""
import hashlib
import math
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.random
from tinygrad_edu.data import (
    batches,
    load_digits,
    make_blobs,
    make_moons,
    make_spirals,
    seed_example,
    xor,
)

GENERATORS = [make_moons, make_spirals, make_blobs]


# --- the tutorials' arrays -------------------------------------------------------------------

def test_seed_example_is_the_tutorials_3x4_set():
    X, y = seed_example()
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert X.tolist() == [[1, 0, 1, 0], [1, 0, 1, 1], [0, 1, 0, 1]]
    assert y.tolist() == [[1], [1], [0]]


def test_xor_has_a_constant_column_and_xor_labels():
    X, y = xor()
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert X.tolist() == [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]]
    assert y[:, 0].tolist() == [float(int(a) ^ int(b)) for a, b, _ in X]


def test_tutorial_sets_are_fresh_arrays_each_call():
    X, _ = seed_example()
    X[0, 0] = 99.0
    assert seed_example()[0][0, 0] == 1.0


# --- generators: shapes, dtypes, labels ------------------------------------------------------

@pytest.mark.parametrize("make", GENERATORS)
def test_generator_returns_float32_points_and_int64_labels(make):
    X, y = make(57, seed=0)
    assert X.shape == (57, 2) and X.dtype == np.float32
    assert y.shape == (57,) and y.dtype == np.int64


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_default_is_200_samples(make):
    X, y = make(seed=0)
    assert X.shape == (200, 2) and y.shape == (200,)


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_dtype_argument_sets_X_dtype(make):
    X, y = make(20, seed=0, dtype=np.float64)
    assert X.dtype == np.float64 and y.dtype == np.int64


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_same_seed_gives_same_data(make):
    X1, y1 = make(50, seed=7)
    X2, y2 = make(50, seed=7)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_different_seeds_give_different_data(make):
    assert not np.array_equal(make(50, seed=1)[0], make(50, seed=2)[0])


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_without_seed_follows_manual_seed(make):
    tinygrad_edu.random.manual_seed(3)
    X1, y1 = make(40)
    tinygrad_edu.random.manual_seed(3)
    X2, y2 = make(40)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_accepts_a_numpy_generator_as_seed(make):
    X1, _ = make(30, seed=np.random.default_rng(5))
    X2, _ = make(30, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(X1, X2)


@pytest.mark.parametrize("n_samples", [1, 2, 3, 101, 200])
def test_moons_labels_are_balanced_within_one(n_samples):
    _, y = make_moons(n_samples, seed=0)
    counts = np.bincount(y, minlength=2)
    assert counts.sum() == n_samples and counts.max() - counts.min() <= 1


@pytest.mark.parametrize("n_samples,n_classes", [(200, 2), (301, 3), (10, 4)])
def test_spirals_labels_are_balanced_within_one(n_samples, n_classes):
    _, y = make_spirals(n_samples, seed=0, n_classes=n_classes)
    counts = np.bincount(y, minlength=n_classes)
    assert len(counts) == n_classes and counts.max() - counts.min() <= 1


def test_blobs_labels_are_balanced_within_one():
    _, y = make_blobs(100, centers=3, seed=0)
    assert np.bincount(y).tolist() == [34, 33, 33]


def test_generators_return_samples_in_shuffled_order():
    _, y = make_moons(200, seed=0)
    assert not np.array_equal(y, np.sort(y))


# --- generators: geometry --------------------------------------------------------------------

def test_moons_without_noise_lie_on_their_half_circles():
    X, y = make_moons(200, noise=0.0, seed=0, dtype=np.float64)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-12)
    assert np.all(upper[:, 1] >= -1e-12)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=1e-12)
    assert np.all(lower[:, 1] <= 0.5 + 1e-12)


def test_moons_without_noise_span_both_ends_of_each_arc():
    X, y = make_moons(50, noise=0.0, seed=0, dtype=np.float64)
    assert min(X[y == 0, 0]) == pytest.approx(-1.0) and max(X[y == 0, 0]) == pytest.approx(1.0)
    assert min(X[y == 1, 0]) == pytest.approx(0.0) and max(X[y == 1, 0]) == pytest.approx(2.0)


def test_moons_noise_is_gaussian_with_the_given_spread():
    clean, y = make_moons(4000, noise=0.0, seed=0, dtype=np.float64)
    noisy, y_noisy = make_moons(4000, noise=0.2, seed=0, dtype=np.float64)
    # Same seed, same shuffle: the noisy points are the clean ones plus noise.
    np.testing.assert_array_equal(y, y_noisy)
    residual = noisy - clean
    assert abs(residual.mean()) < 0.01 and residual.std() == pytest.approx(0.2, rel=0.05)


def test_spirals_without_noise_lie_on_their_arms():
    n_classes = 3
    X, y = make_spirals(300, noise=0.0, seed=0, n_classes=n_classes, dtype=np.float64)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius.min() == pytest.approx(0.15) and radius.max() == pytest.approx(1.0)
    expected_angle = 2 * math.pi * (1.5 * radius + y / n_classes)
    angle_error = np.angle(np.exp(1j * (np.arctan2(X[:, 1], X[:, 0]) - expected_angle)))
    np.testing.assert_allclose(angle_error, 0.0, atol=1e-9)


def test_blobs_with_zero_std_sit_exactly_on_their_centres():
    centres = np.array([[0.0, 0.0], [5.0, -5.0], [3.0, 3.0]])
    X, y = make_blobs(30, centers=centres, cluster_std=0.0, seed=0, dtype=np.float64)
    np.testing.assert_array_equal(X, centres[y])


def test_blobs_cluster_around_given_centres_with_given_stds():
    centres = [[0.0, 0.0, 0.0], [10.0, 0.0, -10.0]]
    X, y = make_blobs(4000, centers=centres, cluster_std=[0.5, 2.0], seed=0, dtype=np.float64)
    assert X.shape == (4000, 3)
    for label, (centre, std) in enumerate(zip(centres, [0.5, 2.0])):
        points = X[y == label]
        np.testing.assert_allclose(points.mean(axis=0), centre, atol=0.15)
        np.testing.assert_allclose(points.std(axis=0), std, rtol=0.08)


def test_blobs_random_centres_lie_in_the_centre_box():
    X, y = make_blobs(300, centers=5, cluster_std=0.0, seed=1, n_features=4, center_box=(-2.0, 3.0))
    assert X.shape == (300, 4) and set(y.tolist()) == set(range(5))
    assert X.min() >= -2.0 and X.max() <= 3.0


# --- generators: bad arguments ---------------------------------------------------------------

@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("n_samples", [0, -3])
def test_generator_rejects_fewer_than_one_sample(make, n_samples):
    with pytest.raises(ValueError, match=rf"n_samples must be >= 1, got {n_samples}"):
        make(n_samples)


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("n_samples", [2.5, "10", True])
def test_generator_rejects_a_non_integer_sample_count(make, n_samples):
    with pytest.raises(TypeError, match="n_samples must be an int"):
        make(n_samples)


@pytest.mark.parametrize("make", [make_moons, make_spirals])
@pytest.mark.parametrize("noise", [-0.1, float("nan"), float("inf")])
def test_generator_rejects_negative_or_non_finite_noise(make, noise):
    with pytest.raises(ValueError, match=rf"noise must be a finite number >= 0, got {noise}"):
        make(10, noise=noise)


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_rejects_a_non_float_dtype(make):
    with pytest.raises(TypeError, match="dtype must be a floating NumPy dtype, got int32"):
        make(10, dtype=np.int32)


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("seed", ["0", 1.5])
def test_generator_rejects_a_seed_of_the_wrong_type(make, seed):
    with pytest.raises(TypeError, match="seed must be an int"):
        make(10, seed=seed)


def test_spirals_reject_fewer_than_two_classes():
    with pytest.raises(ValueError, match="n_classes must be >= 2, got 1"):
        make_spirals(10, n_classes=1)


@pytest.mark.parametrize("centers", [[1.0, 2.0], np.zeros((0, 2)), [[0.0, float("nan")]]])
def test_blobs_reject_centres_that_are_not_a_finite_k_by_d_array(centers):
    with pytest.raises(ValueError, match="centers"):
        make_blobs(10, centers=centers)


def test_blobs_reject_a_centre_count_below_one():
    with pytest.raises(ValueError, match="centers must be >= 1, got 0"):
        make_blobs(10, centers=0)


def test_blobs_reject_one_std_per_centre_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"one value per centre \(3\), got shape \(2,\)"):
        make_blobs(10, centers=3, cluster_std=[1.0, 2.0])


def test_blobs_reject_a_negative_std():
    with pytest.raises(ValueError, match="cluster_std must be finite and >= 0"):
        make_blobs(10, cluster_std=-1.0)


def test_blobs_reject_n_features_that_disagrees_with_the_centres():
    with pytest.raises(ValueError, match=r"n_features=3 does not match centers of shape \(2, 2\)"):
        make_blobs(10, centers=[[0, 0], [1, 1]], n_features=3)


# --- digits ----------------------------------------------------------------------------------

DIGITS_IMAGES_SHA256 = "8f26b2bd9d135c256808f68f14fdabddde6d9c7f869ae419704b051f0f14b3b3"
DIGITS_LABELS_SHA256 = "8ba4f891220f5e4c9c819638d1602d74b83618f167043c6da52a2a247841ddf0"
FIRST_DIGIT = [[0, 0, 5, 13, 9, 1, 0, 0], [0, 0, 13, 15, 10, 15, 5, 0], [0, 3, 15, 2, 0, 11, 8, 0],
               [0, 4, 12, 0, 0, 8, 8, 0], [0, 5, 8, 0, 0, 9, 8, 0], [0, 4, 11, 0, 1, 12, 7, 0],
               [0, 2, 14, 5, 10, 12, 0, 0], [0, 0, 6, 13, 10, 0, 0, 0]]


def test_digits_are_1797_rows_of_64_float32_pixels_in_unit_range():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0


def test_digits_match_the_known_checksums():
    X, y = load_digits(scaled=False)
    pixels = X.reshape(1797, 8, 8).astype(np.uint8)
    np.testing.assert_array_equal(pixels, X.reshape(1797, 8, 8))
    assert hashlib.sha256(pixels.tobytes()).hexdigest() == DIGITS_IMAGES_SHA256
    assert hashlib.sha256(y.astype(np.uint8).tobytes()).hexdigest() == DIGITS_LABELS_SHA256


def test_digits_known_values():
    X, y = load_digits(scaled=False)
    assert X[0].reshape(8, 8).tolist() == FIRST_DIGIT
    assert y[:10].tolist() == list(range(10))
    assert int(X.sum()) == 561718
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_digits_scaled_are_the_counts_divided_by_16():
    scaled, _ = load_digits()
    counts, _ = load_digits(scaled=False)
    np.testing.assert_array_equal(scaled * 16, counts)
    assert counts.max() == 16.0


def test_digits_as_images_are_nchw():
    X, _ = load_digits(images=True)
    assert X.shape == (1797, 1, 8, 8)
    np.testing.assert_array_equal(X.reshape(1797, 64), load_digits()[0])


def test_digits_dtype_argument_sets_X_dtype():
    assert load_digits(dtype=np.float64)[0].dtype == np.float64


def test_digits_are_fresh_arrays_each_call():
    X, y = load_digits()
    X[:] = -1.0
    y[:] = -1
    X2, y2 = load_digits()
    assert X2.min() == 0.0 and y2.min() == 0


def test_digits_file_is_small_uint8_and_loads_without_pickle():
    source = resources.files("tinygrad_edu.data").joinpath("digits.npz")
    with resources.as_file(source) as path:
        assert path.stat().st_size < 100_000
        with np.load(path, allow_pickle=False) as archive:
            assert sorted(archive.files) == ["images", "labels"]
            assert archive["images"].dtype == np.uint8 and archive["labels"].dtype == np.uint8


def test_digits_load_without_scikit_learn():
    # sys.modules[name] = None makes any `import sklearn` fail, as on a machine without it.
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "from tinygrad_edu.data import load_digits\n"
            "X, y = load_digits(); assert X.shape == (1797, 64), X.shape\n"
            "assert not any(name.startswith('sklearn') and sys.modules[name] for name in sys.modules)\n")
    subprocess.run([sys.executable, "-c", code], check=True)


# --- batches ---------------------------------------------------------------------------------

def _toy(n=10):
    X = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n)
    return X, y


def test_batches_cover_every_sample_exactly_once():
    X, y = _toy(23)
    seen = np.concatenate([yb for _, yb in batches(X, y, batch_size=5, seed=0)])
    assert sorted(seen.tolist()) == list(range(23))


@given(n=st.integers(1, 60), batch_size=st.integers(1, 70), seed=st.integers(0, 2**32 - 1),
       shuffle=st.booleans())
def test_batches_are_an_aligned_partition_for_any_sizes(n, batch_size, seed, shuffle):
    X, y = _toy(n)
    pairs = list(batches(X, y, batch_size, shuffle=shuffle, seed=seed))
    assert [len(yb) for _, yb in pairs] == [min(batch_size, n - start) for start in range(0, n, batch_size)]
    order = np.concatenate([yb for _, yb in pairs])
    assert sorted(order.tolist()) == list(range(n))
    np.testing.assert_array_equal(np.concatenate([xb for xb, _ in pairs]), X[order])


def test_batches_keep_the_last_partial_batch():
    X, y = _toy(10)
    assert [len(yb) for _, yb in batches(X, y, batch_size=4)] == [4, 4, 2]


def test_batches_without_shuffle_keep_the_order():
    X, y = _toy(7)
    assert [yb.tolist() for _, yb in batches(X, y, 3, shuffle=False)] == [[0, 1, 2], [3, 4, 5], [6]]


def test_batches_with_shuffle_change_the_order():
    X, y = _toy(50)
    order = np.concatenate([yb for _, yb in batches(X, y, 50, seed=0)])
    assert not np.array_equal(order, y)


def test_batches_same_seed_same_order():
    X, y = _toy(30)
    first = [yb.tolist() for _, yb in batches(X, y, 4, seed=11)]
    second = [yb.tolist() for _, yb in batches(X, y, 4, seed=11)]
    assert first == second


def test_batches_without_seed_follow_manual_seed_and_differ_per_epoch():
    X, y = _toy(30)
    tinygrad_edu.random.manual_seed(4)
    epoch1 = [yb.tolist() for _, yb in batches(X, y, 30)]
    epoch2 = [yb.tolist() for _, yb in batches(X, y, 30)]
    tinygrad_edu.random.manual_seed(4)
    assert [yb.tolist() for _, yb in batches(X, y, 30)] == epoch1
    assert epoch1 != epoch2


def test_batches_accept_lists_and_multidimensional_samples():
    images = np.zeros((6, 1, 8, 8))
    labels = [0, 1, 2, 3, 4, 5]
    X_batch, y_batch = next(batches(images, labels, 4, shuffle=False))
    assert X_batch.shape == (4, 1, 8, 8) and y_batch.tolist() == [0, 1, 2, 3]


def test_batches_of_tensors_are_tensors_with_the_same_dtype():
    from tinygrad_edu import Tensor
    X, y = _toy(9)
    pairs = list(batches(Tensor(X), Tensor(y, dtype=np.int64), 4, seed=0))
    assert all(isinstance(xb, Tensor) and isinstance(yb, Tensor) for xb, yb in pairs)
    assert pairs[0][0].dtype == np.float32 and pairs[0][1].dtype == np.int64
    order = np.concatenate([yb.numpy() for _, yb in pairs])
    np.testing.assert_array_equal(np.concatenate([xb.numpy() for xb, _ in pairs]), X[order])


def test_batches_reject_x_and_y_of_different_lengths():
    with pytest.raises(ValueError, match=r"X with 10 \(shape \(10, 2\)\) and y with 9 \(shape \(9,\)\)"):
        batches(np.zeros((10, 2)), np.zeros(9), 3)


@pytest.mark.parametrize("batch_size", [0, -1])
def test_batches_reject_a_batch_size_below_one(batch_size):
    with pytest.raises(ValueError, match=rf"batch_size must be >= 1, got {batch_size}"):
        batches(*_toy(), batch_size)


def test_batches_reject_a_non_integer_batch_size():
    with pytest.raises(TypeError, match="batch_size must be an int, got float 2.0"):
        batches(*_toy(), 2.0)


def test_batches_reject_a_scalar():
    with pytest.raises(ValueError, match="X must have a sample axis"):
        batches(3.0, [1], 1)


def test_batches_check_arguments_when_called_not_when_iterated():
    with pytest.raises(ValueError):
        batches(np.zeros(3), np.zeros(2), 1)  # never iterated


def test_digits_ship_in_the_built_wheel_and_load_from_a_non_editable_install(tmp_path):
    """setup.cfg's package_data puts digits.npz in the wheel; an installed copy loads it offline."""
    root = Path(__file__).resolve().parents[1]
    source = tmp_path / "src"
    source.mkdir()
    for name in ("setup.cfg", "setup.py", "README.md"):
        if (root / name).exists():
            shutil.copy(root / name, source / name)
    shutil.copytree(root / "tinygrad_edu", source / "tinygrad_edu",
                    ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "wheel"), str(source)],
                   check=True, cwd=tmp_path)
    wheel = next((tmp_path / "wheel").glob("tinygrad_edu-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        assert "tinygrad_edu/data/digits.npz" in archive.namelist()
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(tmp_path / "site"), str(wheel)],
                   check=True, cwd=tmp_path)
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "import tinygrad_edu.data as data\n"
            f"assert data.__file__.startswith({str(tmp_path / 'site')!r}), data.__file__\n"
            "X, y = data.load_digits(); assert X.shape == (1797, 64) and y[:3].tolist() == [0, 1, 2]\n")
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    environment["PYTHONPATH"] = str(tmp_path / "site")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, env=environment)
