"""The interactive trace page in a real browser: headless Chromium driven by Selenium.

Outside CI the tests skip when Selenium or Chromium is missing; with CI=true a
missing browser is a failure (.ci/run installs it). Screenshots go to
``$TRACE_SCREENSHOTS`` (default: the test's temporary folder); docs/ holds the
committed ones (`python tests/test_viz_browser.py docs/` refreshes them).
"""
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
from tinygrad_edu import viz

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser", shutil.which("chromium") or "")
                 if p and os.path.exists(p)), None)
DRIVER = next((p for p in ("/usr/bin/chromedriver", shutil.which("chromedriver") or "") if p and os.path.exists(p)),
              None)


def _missing() -> str:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed"
    if CHROMIUM is None or DRIVER is None:
        return "chromium / chromedriver are not installed (Debian: apt-get install chromium chromium-driver)"
    return ""


def make_driver(user_data_dir, width=1280, height=900):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={user_data_dir}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(DRIVER), options=options)


@pytest.fixture(scope="module")
def driver():
    reason = _missing()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    with tempfile.TemporaryDirectory(prefix="tg-chromium-") as profile:
        browser = make_driver(profile)
        try:
            yield browser
        finally:
            browser.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = Path(os.environ.get("TRACE_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_page(driver, trace, folder):
    path = trace.save(folder / "trace.html")
    driver.get(path.resolve().as_uri())
    driver.get_log("browser")  # start each page with an empty console log
    return path


def go_to(driver, number):
    """Step to the step whose label is ``Step {number}`` with the arrow keys (as a student would)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    body = driver.find_element(By.TAG_NAME, "body")
    for _ in range(400):
        title = driver.find_element(By.ID, "title").text
        if title.startswith(f"Step {number}:"):
            return
        current = int(title.split()[1].rstrip(":"))
        body.send_keys(Keys.ARROW_RIGHT if current < int(number) else Keys.ARROW_LEFT)
    raise AssertionError(f"never reached step {number}")


def hover(driver, matrix_label, flat_index):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    mats = driver.find_elements(By.CSS_SELECTOR, ".mat")
    for box in mats:
        if box.find_element(By.CSS_SELECTOR, ".label").text == matrix_label:
            cell = box.find_element(By.CSS_SELECTOR, f'td[data-f="{flat_index}"]')
            ActionChains(driver).move_to_element(cell).perform()
            return
    raise AssertionError(f"no matrix {matrix_label!r} on this step")


def highlighted(driver, css):
    """{matrix label: sorted flat indices} of the cells with class ``css``."""
    from selenium.webdriver.common.by import By

    found: dict = {}
    for box in driver.find_elements(By.CSS_SELECTOR, ".mat"):
        label = box.find_element(By.CSS_SELECTOR, ".label").text
        cells = box.find_elements(By.CSS_SELECTOR, f"td.{css}")
        if cells:
            found[label] = sorted(int(c.get_attribute("data-f")) for c in cells)
    return found


def console_errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]


def no_horizontal_overflow(driver):
    return driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")


# ---------------------------------------------------------------- the tests

def test_stepping_changes_the_step_shown_with_buttons_and_keys(driver, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    open_page(driver, viz.tutorial_trace(), tmp_path)
    title = lambda: driver.find_element(By.ID, "title").text  # noqa: E731
    assert title().startswith("Step 0:")
    driver.find_element(By.ID, "next").click()
    assert title().startswith("Step 1:")
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
    assert title().startswith("Step 2:") and "hidden_layer_input" in title()
    driver.find_element(By.ID, "prev").click()
    assert title().startswith("Step 1:")
    assert console_errors(driver) == []


def test_hover_on_a_matmul_cell_highlights_its_row_and_column(driver, tmp_path, shots):
    open_page(driver, viz.tutorial_trace(), tmp_path)
    go_to(driver, 2)  # hidden_layer_input = X @ wh + bh, 3x4 @ 4x3 + 1x3
    hover(driver, "hidden_layer_input", 1 * 3 + 2)  # row 1, column 2
    assert highlighted(driver, "hl-out") == {"hidden_layer_input": [5]}
    assert highlighted(driver, "hl-src") == {"X": [4, 5, 6, 7],  # row 1 of X
                                             "wh": [2, 5, 8, 11],  # column 2 of wh
                                             "bh": [2]}  # the bias of column 2
    formula = driver.find_element("id", "formula").text
    assert "hidden_layer_input[1,2]" in formula and "row 1 of X times column 2 of wh" in formula
    driver.save_screenshot(str(shots / "trace_step2_matmul.png"))
    assert console_errors(driver) == []


def test_hover_on_an_elementwise_cell_highlights_the_same_position(driver, tmp_path, shots):
    trace = viz.tutorial_trace()
    open_page(driver, trace, tmp_path)
    go_to(driver, 7)  # d_output = E * slope_output_layer
    hover(driver, "d_output", 2)
    assert highlighted(driver, "hl-out") == {"d_output": [2]}
    assert highlighted(driver, "hl-src") == {"E": [2], "slope_output_layer": [2]}
    formula = driver.find_element("id", "formula").text
    e, slope = trace.value("E")[2, 0], trace.value("slope_output_layer")[2, 0]
    assert f"{round(e, 4):g}" in formula.replace("\u2212", "-") and f"{round(slope, 4):g}" in formula
    driver.save_screenshot(str(shots / "trace_step7_elementwise.png"))
    assert console_errors(driver) == []


def test_hover_on_a_broadcast_elementwise_cell_uses_the_broadcast_position(driver, tmp_path):
    w = tg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    b = tg.Tensor(np.array([[10.0, 20.0, 30.0]]), requires_grad=True)
    loss = (w + b).sum()
    open_page(driver, viz.trace(loss, names=[("w", w), ("b", b)]), tmp_path)
    hover(driver, "add_1", 4)  # row 1, column 1: w[1,1] + b[0,1]
    assert highlighted(driver, "hl-src") == {"w": [4], "b": [1]}


def test_hover_on_a_reduction_cell_highlights_the_reduced_slice(driver, tmp_path, shots):
    trace = viz.tutorial_trace()
    open_page(driver, trace, tmp_path)
    go_to(driver, 11)  # Δbh = sum(d_hiddenlayer, axis=0)
    hover(driver, "\u0394bh", 1)
    assert highlighted(driver, "hl-src") == {"d_hiddenlayer": [1, 4, 7]}  # column 1, every row
    driver.save_screenshot(str(shots / "trace_step11_reduction.png"))
    assert console_errors(driver) == []


def test_a_generic_trace_highlights_sum_over_one_axis_and_its_backward(driver, tmp_path):
    x = tg.Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    loss = (x.sum(axis=1) * tg.Tensor([1.0, 2.0, 3.0])).sum()
    open_page(driver, viz.trace(loss, names=[("x", x)]), tmp_path)
    hover(driver, "sum_1", 2)
    assert highlighted(driver, "hl-src") == {"x": [8, 9, 10, 11]}  # row 2 summed away
    go_to(driver, 6)  # backward of the first sum: each x cell gets its row's gradient
    hover(driver, "dL/dx", 5)
    assert highlighted(driver, "hl-src") == {"dL/dsum_1": [1]}
    assert console_errors(driver) == []


def test_matmul_backward_cells_come_from_the_gradient_row_and_the_other_operand(driver, tmp_path):
    a = tg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    b = tg.Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    loss = (a @ b).sum()
    trace = viz.trace(loss, names=[("A", a), ("B", b)])
    open_page(driver, trace, tmp_path)
    go_to(driver, 4)  # backward of matmul
    hover(driver, "dL/dA", 1 * 3 + 2)  # dA[1,2] = sum_j G[1,j] B[2,j]
    assert highlighted(driver, "hl-src") == {"dL/dmatmul_1": [4, 5, 6, 7], "B": [8, 9, 10, 11]}
    hover(driver, "dL/dB", 0 * 4 + 3)  # dB[0,3] = sum_i A[i,0] G[i,3]
    assert highlighted(driver, "hl-src") == {"A": [0, 3], "dL/dmatmul_1": [3, 7]}


def test_the_page_fits_1280_pixels_without_horizontal_scrolling(driver, tmp_path):
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 48), nn.Tanh(), nn.Linear(48, 10))
    x = np.random.default_rng(0).normal(size=(60, 64)).astype(np.float32)
    trace = viz.trace_model(model, (x, np.arange(60) % 10))
    open_page(driver, trace, tmp_path)
    for _ in range(len(trace)):
        scroll_width, client_width = no_horizontal_overflow(driver)
        assert scroll_width <= client_width <= 1280
        driver.find_element("id", "next").click()
    assert console_errors(driver) == []


def test_every_step_of_a_model_trace_highlights_without_console_errors(driver, tmp_path):
    from selenium.webdriver.common.by import By

    tg.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    trace = viz.trace_model(model, (np.random.default_rng(1).normal(size=(5, 3)), np.array([0, 1, 1, 0, 1])))
    open_page(driver, trace, tmp_path)
    for _ in range(len(trace)):
        cells = driver.find_elements(By.CSS_SELECTOR, ".mat.out td.c")
        if cells:
            cells[-1].click()
            assert highlighted(driver, "hl-out")
        driver.find_element(By.ID, "next").click()
    assert console_errors(driver) == []


if __name__ == "__main__":  # refresh the committed screenshots: python tests/test_viz_browser.py docs/
    os.environ["TRACE_SCREENSHOTS"] = sys.argv[1] if len(sys.argv) > 1 else "docs"
    sys.exit(pytest.main([__file__, "-q", "-p", "no:randomly", "-k", "matmul or elementwise or reduction"]))
