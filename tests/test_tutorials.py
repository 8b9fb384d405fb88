"""The seed tutorials reproduced: tinygrad_edu's backward() gives the updates their hand-written NumPy gives.

Each test runs the tutorial's own NumPy training loop (its update rule, its loss,
its start) next to the same network built from tinygrad_edu Tensors, in float64,
and asks for the same weights to 1e-9 after training. The references below keep
the tutorials' variable names so they can be read side by side with
../shared/seeds/; where a tutorial's code has a bug, the reference is the
corrected version and the comment says what was fixed.
"""
import numpy as np
import pytest

import tinygrad_edu.nn.functional as F  # noqa: N812 (API.md's spelling, as in PyTorch)
from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.data import make_moons, seed_example, xor

WEIGHT_ATOL = 1e-9


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def derivatives_sigmoid(activation):
    """The tutorials' sigmoid slope, written in terms of the sigmoid's output."""
    return activation * (1 - activation)


# --- (a) "Neural Networks from Scratch in Python and R": 4-3-1 with biases, seed_example() ------

# The tutorial prints these outputs after training; they depend on the random start.
# The start drawn from SEED_EXAMPLE_START lands within 7e-4 of them.
TUTORIAL_OUTPUT = [0.98032096, 0.96845624, 0.04532167]
SEED_EXAMPLE_START = 4


def tutorial_start(seed):
    """wh, bh, wout, bout drawn uniform in [0, 1), as the tutorial's Python code draws them."""
    rng = np.random.default_rng(seed)
    wh = rng.uniform(size=(4, 3))
    bh = rng.uniform(size=(1, 3))
    wout = rng.uniform(size=(3, 1))
    bout = rng.uniform(size=(1, 1))
    return wh, bh, wout, bout


def tutorial_train_seed_example(X, y, wh, bh, wout, bout, epoch=5000, lr=0.1):
    """Steps 2-11 of the tutorial, full batch. d_output = E * slope with E = y - output,
    and `w += X.T @ d * lr`: gradient descent on 0.5 * sum((y - output)^2)."""
    wh, bh, wout, bout = wh.copy(), bh.copy(), wout.copy(), bout.copy()
    for _ in range(epoch):
        hiddenlayer_activations = sigmoid(X @ wh + bh)
        output = sigmoid(hiddenlayer_activations @ wout + bout)
        E = y - output
        slope_output_layer = derivatives_sigmoid(output)
        slope_hidden_layer = derivatives_sigmoid(hiddenlayer_activations)
        d_output = E * slope_output_layer
        Error_at_hidden_layer = d_output @ wout.T
        d_hiddenlayer = Error_at_hidden_layer * slope_hidden_layer
        wout += hiddenlayer_activations.T @ d_output * lr
        bout += np.sum(d_output, axis=0, keepdims=True) * lr
        wh += X.T @ d_hiddenlayer * lr
        bh += np.sum(d_hiddenlayer, axis=0, keepdims=True) * lr
    return wh, bh, wout, bout, output


def float64_linear(weight, bias):
    """An nn.Linear holding the given float64 weight (out, in) and bias (out,)."""
    layer = nn.Linear(weight.shape[1], weight.shape[0])
    layer.weight = Tensor(weight.copy(), requires_grad=True)
    layer.bias = Tensor(bias.copy(), requires_grad=True)
    return layer


@pytest.fixture(scope="module")
def seed_example_runs():
    X, y = seed_example()
    wh, bh, wout, bout = tutorial_start(SEED_EXAMPLE_START)
    reference = tutorial_train_seed_example(X, y, wh, bh, wout, bout)

    # nn.Linear keeps weight as (out, in): the tutorial's wh is its transpose.
    model = nn.Sequential(float64_linear(wh.T, bh[0]), nn.Sigmoid(),
                          float64_linear(wout.T, bout[0]), nn.Sigmoid())
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    inputs, targets = Tensor(X), Tensor(y)
    for _ in range(5000):
        output = model(inputs)
        loss = 0.5 * ((targets - output) ** 2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return reference, model, output


def test_seed_example_network_weights_match_the_tutorials_update(seed_example_runs):
    (wh, bh, wout, bout, _), model, _ = seed_example_runs
    hidden, output_layer = model[0], model[2]
    assert hidden.weight.dtype == np.float64
    np.testing.assert_allclose(hidden.weight.numpy(), wh.T, rtol=0, atol=WEIGHT_ATOL)
    np.testing.assert_allclose(hidden.bias.numpy(), bh[0], rtol=0, atol=WEIGHT_ATOL)
    np.testing.assert_allclose(output_layer.weight.numpy(), wout.T, rtol=0, atol=WEIGHT_ATOL)
    np.testing.assert_allclose(output_layer.bias.numpy(), bout[0], rtol=0, atol=WEIGHT_ATOL)


def test_seed_example_network_outputs_are_the_tutorials_printed_values(seed_example_runs):
    (_, _, _, _, reference_output), _, output = seed_example_runs
    np.testing.assert_allclose(output.numpy().ravel(), TUTORIAL_OUTPUT, atol=1e-3)
    np.testing.assert_allclose(output.numpy(), reference_output, rtol=0, atol=WEIGHT_ATOL)


def test_seed_example_first_step_gradients_are_the_tutorials_deltas():
    """One step shown matrix by matrix: -grad equals the tutorial's X.T @ d_hiddenlayer etc."""
    X, y = seed_example()
    wh, bh, wout, bout = tutorial_start(SEED_EXAMPLE_START)
    hiddenlayer_activations = sigmoid(X @ wh + bh)
    output = sigmoid(hiddenlayer_activations @ wout + bout)
    d_output = (y - output) * derivatives_sigmoid(output)
    d_hiddenlayer = d_output @ wout.T * derivatives_sigmoid(hiddenlayer_activations)

    params = [Tensor(p.copy(), requires_grad=True) for p in (wh, bh, wout, bout)]
    t_wh, t_bh, t_wout, t_bout = params
    out = ((Tensor(X) @ t_wh + t_bh).sigmoid() @ t_wout + t_bout).sigmoid()
    (0.5 * ((Tensor(y) - out) ** 2).sum()).backward()
    expected = [X.T @ d_hiddenlayer, d_hiddenlayer.sum(axis=0, keepdims=True),
                hiddenlayer_activations.T @ d_output, d_output.sum(axis=0, keepdims=True)]
    for param, delta in zip(params, expected):
        np.testing.assert_allclose(-param.grad.numpy(), delta, rtol=1e-12, atol=1e-15)


# --- (b) "How to build your own Neural Network": 3-4-1 without biases, xor() -------------------

XOR_START = 0


def tutorial_train_xor(x, y, weights1, weights2, iterations=1500):
    """NeuralNetwork.feedforward + backprop, 1500 times. The loss is sum((y - output)^2),
    its derivative brings the factor 2, and `weights += d_weights` has no learning rate:
    gradient descent with learning rate 1."""
    weights1, weights2 = weights1.copy(), weights2.copy()
    for _ in range(iterations):
        layer1 = sigmoid(x @ weights1)
        output = sigmoid(layer1 @ weights2)
        d_weights2 = layer1.T @ (2 * (y - output) * derivatives_sigmoid(output))
        d_weights1 = x.T @ ((2 * (y - output) * derivatives_sigmoid(output)) @ weights2.T
                            * derivatives_sigmoid(layer1))
        weights1 += d_weights1
        weights2 += d_weights2
    return weights1, weights2, output


@pytest.fixture(scope="module")
def xor_runs():
    X, y = xor()
    rng = np.random.default_rng(XOR_START)
    weights1 = rng.random((3, 4))  # the tutorial's np.random.rand(3, 4)
    weights2 = rng.random((4, 1))
    reference = tutorial_train_xor(X, y, weights1, weights2)

    w1 = Tensor(weights1.copy(), requires_grad=True)
    w2 = Tensor(weights2.copy(), requires_grad=True)
    inputs, targets = Tensor(X), Tensor(y)
    for _ in range(1500):
        output = (inputs @ w1).sigmoid() @ w2
        output = output.sigmoid()
        loss = ((targets - output) ** 2).sum()
        loss.backward()
        for weight in (w1, w2):  # plain gradient descent, learning rate 1, outside the graph
            weight.data -= weight.grad.data
            weight.grad = None
    return reference, (w1, w2, output)


def test_xor_network_weights_match_the_tutorials_update(xor_runs):
    (weights1, weights2, _), (w1, w2, _) = xor_runs
    np.testing.assert_allclose(w1.numpy(), weights1, rtol=0, atol=WEIGHT_ATOL)
    np.testing.assert_allclose(w2.numpy(), weights2, rtol=0, atol=WEIGHT_ATOL)


def test_xor_network_learns_xor(xor_runs):
    (_, _, reference_output), (_, _, output) = xor_runs
    np.testing.assert_allclose(output.numpy(), reference_output, rtol=0, atol=WEIGHT_ATOL)
    np.testing.assert_allclose(output.numpy().ravel(), [0, 1, 1, 0], atol=0.05)


# --- (c) the same tutorial's L-layer network with binary cross-entropy --------------------------
# Its code, corrected: forward_prop now appends each cache to `caches`, update_parameters
# reads grads['dW..'] and grads['db..'] (it read 'W..'), cost_function uses np.log for both
# terms, and sigmoid's body is indented consistently. Layout as in the tutorial: samples are
# columns, W_l has shape (layer_dims[layer], layer_dims[layer-1]).

def init_params(layer_dims, rng, scale=0.01):
    """The tutorial draws randn * 0.01; `scale` lets a deeper sigmoid net actually learn."""
    params = {}
    for layer in range(1, len(layer_dims)):
        params['W' + str(layer)] = rng.standard_normal((layer_dims[layer], layer_dims[layer - 1])) * scale
        params['b' + str(layer)] = np.zeros((layer_dims[layer], 1))
    return params


def forward_prop(X, params):
    A = X
    caches = []
    for layer in range(1, len(params) // 2 + 1):
        A_prev = A
        Z = params['W' + str(layer)] @ A_prev + params['b' + str(layer)]
        A = sigmoid(Z)
        caches.append(((A_prev, params['W' + str(layer)], params['b' + str(layer)]), Z))
    return A, caches


def cost_function(A, Y):
    m = Y.shape[1]
    return float((-1 / m) * (np.log(A) @ Y.T + np.log(1 - A) @ (1 - Y).T).item())


def one_layer_backward(dA, cache):
    (A_prev, W, _b), Z = cache
    dZ = dA * sigmoid(Z) * (1 - sigmoid(Z))
    m = A_prev.shape[1]
    dW = (1 / m) * dZ @ A_prev.T
    db = (1 / m) * np.sum(dZ, axis=1, keepdims=True)
    dA_prev = W.T @ dZ
    return dA_prev, dW, db


def backprop(AL, Y, caches):
    grads = {}
    L = len(caches)
    Y = Y.reshape(AL.shape)
    dA = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    for layer in reversed(range(L)):
        dA, grads['dW' + str(layer + 1)], grads['db' + str(layer + 1)] = one_layer_backward(dA, caches[layer])
    return grads


def update_parameters(params, grads, learning_rate):
    for layer in range(1, len(params) // 2 + 1):
        params['W' + str(layer)] = params['W' + str(layer)] - learning_rate * grads['dW' + str(layer)]
        params['b' + str(layer)] = params['b' + str(layer)] - learning_rate * grads['db' + str(layer)]
    return params


def train(X, Y, params, epochs, lr):
    cost_history = []
    for _ in range(epochs):
        Y_hat, caches = forward_prop(X, params)
        cost_history.append(cost_function(Y_hat, Y))
        params = update_parameters(params, backprop(Y_hat, Y, caches), lr)
    return params, cost_history


def train_with_tinygrad(X, Y, params, epochs, lr, use_functional_loss):
    """The same network from Tensors: forward only; backward() supplies every gradient."""
    tensors = {name: Tensor(value.copy(), requires_grad=True) for name, value in params.items()}
    inputs, targets = Tensor(X), Tensor(Y)
    m = Y.shape[1]
    cost_history = []
    for _ in range(epochs):
        A = inputs
        for layer in range(1, len(tensors) // 2 + 1):
            A = (tensors['W' + str(layer)] @ A + tensors['b' + str(layer)]).sigmoid()
        if use_functional_loss:
            cost = F.binary_cross_entropy(A, targets)
        else:
            cost = (-1 / m) * (targets * A.log() + (1 - targets) * (1 - A).log()).sum()
        cost_history.append(cost.item())
        cost.backward()
        for tensor in tensors.values():
            tensor.data -= lr * tensor.grad.data
            tensor.grad = None
    return {name: tensor.numpy() for name, tensor in tensors.items()}, cost_history


def xor_columns():
    X, y = xor()
    return X.T.copy(), y.T.copy()


def moons_columns():
    X, y = make_moons(40, noise=0.1, seed=0, dtype=np.float64)
    return X.T.copy(), y[None, :].astype(np.float64)


L_LAYER_CASES = {
    # name: (data, layer_dims, init scale, epochs, learning rate, init seed)
    # The tutorial's own init: weights of 0.01 starve a 3-layer sigmoid net of gradient.
    "xor-3-4-4-1-tutorial-init": (xor_columns, [3, 4, 4, 1], 0.01, 300, 0.5, 0),
    "xor-3-4-4-1-unit-init": (xor_columns, [3, 4, 4, 1], 1.0, 300, 2.0, 0),
    "moons-2-8-8-1-unit-init": (moons_columns, [2, 8, 8, 1], 1.0, 600, 1.0, 0),
}


def run_l_layer_case(case, use_functional_loss=False):
    make_data, layer_dims, scale, epochs, lr, seed = L_LAYER_CASES[case]
    X, Y = make_data()
    start = init_params(layer_dims, np.random.default_rng(seed), scale)
    reference = train(X, Y, dict(start), epochs, lr)
    return X, Y, reference, train_with_tinygrad(X, Y, start, epochs, lr, use_functional_loss)


@pytest.mark.parametrize("use_functional_loss", [False, True], ids=["bce-by-hand", "F.binary_cross_entropy"])
@pytest.mark.parametrize("case", sorted(L_LAYER_CASES))
def test_l_layer_network_matches_the_corrected_tutorial(case, use_functional_loss):
    _, _, (reference_params, reference_costs), (params, costs) = run_l_layer_case(case, use_functional_loss)
    np.testing.assert_allclose(costs, reference_costs, rtol=0, atol=1e-10)
    for name, value in reference_params.items():
        np.testing.assert_allclose(params[name], value, rtol=0, atol=WEIGHT_ATOL, err_msg=name)


@pytest.mark.parametrize("case", ["xor-3-4-4-1-unit-init", "moons-2-8-8-1-unit-init"])
def test_l_layer_network_learns_its_training_set(case):
    X, Y, _, (params, costs) = run_l_layer_case(case)
    assert np.all(np.diff(costs) <= 0), "cost went up"
    prediction, _ = forward_prop(X, params)
    assert np.array_equal(prediction > 0.5, Y > 0.5)


def test_l_layer_network_with_the_tutorials_init_barely_moves_from_log_2():
    _, _, _, (_, costs) = run_l_layer_case("xor-3-4-4-1-tutorial-init")
    np.testing.assert_allclose(costs, np.log(2), atol=1e-4)
