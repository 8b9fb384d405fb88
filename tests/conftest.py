"""Shared test configuration: hypothesis profiles (CI is derandomized and bounded)."""
import os

# One BLAS thread per pytest worker: with -n 2 on two cores, BLAS's own thread pools
# oversubscribe the machine and small matmuls get 10-20x slower.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from hypothesis import HealthCheck, settings  # noqa: E402 (after the BLAS settings, on purpose)

settings.register_profile(
    "ci", derandomize=True, max_examples=25, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev", max_examples=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

import pytest  # noqa: E402

from tinygrad_edu import autograd  # noqa: E402


@pytest.fixture
def gradient_records():
    """The backward records drawings read (`Function.grad_output`, `grads_to_inputs`), on for one test."""
    previous = autograd.record_gradients(True)
    yield
    autograd.record_gradients(previous)


@pytest.fixture(autouse=True, scope="session")
def _verify_exact_rules():
    """Every backward in the suite checks the gradients of rules declared exact too (`Function.exact_rule`)
    and raises if one is not in its input's shape and dtype; the walk skips that check otherwise."""
    previous, autograd._verify_exact_rules = autograd._verify_exact_rules, True
    yield
    autograd._verify_exact_rules = previous
