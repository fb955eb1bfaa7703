"""What did it learn: evaluation, neuron probes and the noise test (Qt-free core)."""

import subprocess
import sys

import numpy as np
import pytest

from nnstudio.core import Network, Trainer
from nnstudio.components import evaluation as E
from nnstudio.data import load_dataset


@pytest.fixture(scope="module")
def data():
    return load_dataset("mnist-sample")


@pytest.fixture(scope="module")
def net(data):
    net = Network(seed=1)
    Trainer(net, data.train_x, data.train_labels, epochs=2, seed=1).run()
    return net


def test_confusion_matrix_counts_equal_a_direct_count(net, data):
    ev = E.evaluate(net, data.test_images, data.test_labels)
    pred = net.predict(data.test_x)
    direct = np.zeros((10, 10), dtype=int)
    for t, p in zip(data.test_labels, pred):
        direct[t, p] += 1
    assert (ev.confusion == direct).all()
    assert ev.confusion.sum() == data.n_test
    assert (ev.predictions == pred).all()


def test_report_numbers_agree_with_the_network_own_evaluate(net, data):
    rep = E.evaluation_report(net, data.test_images, data.test_labels, 10)
    assert set(rep) == {"accuracy", "correct", "total", "mean_cost", "per_digit", "confusion"}
    acc, cost = net.evaluate(data.test_x, data.test_labels)
    assert rep["accuracy"] == acc
    assert rep["mean_cost"] == pytest.approx(cost, rel=1e-12)
    assert rep["total"] == data.n_test
    assert rep["correct"] == int((net.predict(data.test_x) == data.test_labels).sum())
    pred = net.predict(data.test_x)
    for d in range(10):
        mask = data.test_labels == d
        assert rep["per_digit"][d] == pytest.approx((pred[mask] == d).mean())
    # plain Python numbers, JSON-ready
    assert all(type(v) is float for v in rep["per_digit"]) and type(rep["confusion"][0][0]) is int


def test_report_accepts_flat_or_square_images_and_chunks_alike(net, data):
    a = E.evaluation_report(net, data.test_images, data.test_labels)
    b = E.evaluate(net, data.test_x, data.test_labels, chunk=333).report()
    assert a["confusion"] == b["confusion"] and a["correct"] == b["correct"]
    assert a["mean_cost"] == pytest.approx(b["mean_cost"], rel=1e-12)


def test_empty_class_and_bad_inputs():
    net = Network((4, 3), seed=0)
    x = np.random.default_rng(0).random((5, 4))
    rep = E.evaluation_report(net, x, [0, 0, 1, 1, 0], 3)
    assert rep["per_digit"][2] is None and rep["total"] == 5
    with pytest.raises(ValueError, match="classes"):
        E.evaluate(net, x, [0, 0, 1, 1, 0], 10)
    with pytest.raises(ValueError, match="labels"):
        E.evaluate(net, x, [0, 0, 1], 3)
    with pytest.raises(ValueError, match="0..2"):
        E.evaluate(net, x, [0, 0, 1, 1, 7], 3)


def test_misclassified_are_exactly_the_wrong_ones_most_confident_first(net, data):
    ev = E.evaluate(net, data.test_images, data.test_labels)
    mistakes = ev.misclassified()
    wrong = np.flatnonzero(net.predict(data.test_x) != data.test_labels)
    assert sorted(m.index for m in mistakes) == wrong.tolist()
    conf = [m.confidence for m in mistakes]
    assert conf == sorted(conf, reverse=True)
    out = net.feedforward(data.test_x)
    for m in mistakes[:5]:
        assert m.label == data.test_labels[m.index] != m.predicted == out[m.index].argmax()
        assert m.confidence == out[m.index].max()
    asc = ev.misclassified_indices(descending=False)
    assert asc.tolist() == [m.index for m in mistakes][::-1] or sorted(asc) == sorted(wrong)
    by_label = ev.misclassified(order="label")
    assert [m.label for m in by_label] == sorted(m.label for m in by_label)


def test_cell_lists_the_examples_of_a_confusion_cell(net, data):
    ev = E.evaluate(net, data.test_images, data.test_labels)
    t, p = np.unravel_index(np.argmax(ev.confusion - np.diag(np.diag(ev.confusion))), ev.confusion.shape)
    idx = ev.cell(t, p)
    assert len(idx) == ev.confusion[t, p] > 0
    assert (data.test_labels[idx] == t).all() and (ev.predictions[idx] == p).all()


def test_top_activating_matches_a_brute_force_sort():
    rng = np.random.default_rng(3)
    a = rng.random((50, 7))
    top = E.top_activating(a, k=4, layer=1)
    assert top.indices.shape == (7, 4)
    for j in range(7):
        assert top.indices[j].tolist() == np.argsort(-a[:, j], kind="stable")[:4].tolist()
        assert np.allclose(top.activations[j], np.sort(a[:, j])[::-1][:4])


def test_top_activating_ranks_saturated_neurons_by_z(net, data):
    ev = E.evaluate(net, data.test_images, data.test_labels, keep_hidden=True)
    top = E.top_activating(ev.hidden[1], 5, 1, scores=ev.hidden_z[1])
    z = ev.hidden_z[1]
    for j in range(net.sizes[1]):
        assert top.indices[j].tolist() == np.argsort(-z[:, j], kind="stable")[:5].tolist()
        assert np.allclose(top.activations[j], ev.hidden[1][top.indices[j], j])


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("of", ["activation", "z"])
def test_input_gradient_matches_finite_differences(activation, of):
    net = Network((12, 6, 5, 4), activation=activation, seed=2)
    rng = np.random.default_rng(0)
    x = rng.random((3, 12))
    for layer in (1, 2, 3):
        neurons = np.array([0, 2, 3]) % net.sizes[layer]
        vals, g = E.input_gradient(net, x, layer, neurons, of=of)
        fp = net.forward(x)
        store = fp.activations[layer] if of == "activation" else fp.zs[layer - 1]
        assert np.allclose(vals, store[np.arange(3), neurons])
        h = 1e-6
        for r in range(3):
            for i in (0, 5, 11):
                xp, xm = x[r].copy(), x[r].copy()
                xp[i] += h
                xm[i] -= h
                fp_p, fp_m = net.forward(xp), net.forward(xm)
                pick = (lambda f: f.activations[layer]) if of == "activation" else (lambda f: f.zs[layer - 1])
                num = (pick(fp_p)[0, neurons[r]] - pick(fp_m)[0, neurons[r]]) / (2 * h)
                assert g[r, i] == pytest.approx(num, rel=1e-5, abs=1e-8)


def test_maximising_input_beats_a_blank_input_and_every_test_digit(net, data):
    for layer in (2, 3):
        m = E.maximise_activation(net, layer, steps=80)
        assert m.pixels.shape == (net.sizes[layer], 784)
        assert m.pixels.min() >= 0 and m.pixels.max() <= 1
        acts = net.forward(m.pixels).activations[layer][np.arange(len(m.neurons)), m.neurons]
        blank = net.forward(np.zeros((1, 784))).activations[layer][0]
        assert np.allclose(acts, m.activations) and np.allclose(blank, m.blank_activations)
        assert (acts > blank).all()
        best_digit = net.forward(data.test_x).activations[layer].max(axis=0)
        assert (acts >= best_digit[m.neurons] - 1e-9).all()


def test_maximising_a_first_layer_neuron_finds_the_box_optimum(net):
    """For a first-layer neuron z = w·x + b is linear: the best 0..1 input lights exactly the pixels with w > 0."""
    m = E.maximise_activation(net, 1, neurons=[3], steps=100)
    w, b = net.weights[0][3], net.biases[0][3]
    best = w[w > 0].sum() + b
    assert w @ m.pixels[0] + b == pytest.approx(best, rel=1e-3)


def test_maximise_rejects_bad_layers_and_neurons(net):
    with pytest.raises(ValueError, match="layer"):
        E.maximise_activation(net, 0)
    with pytest.raises(ValueError, match="neurons"):
        E.maximise_activation(net, 2, neurons=[16])


def test_noise_probes(net):
    probes = E.probe_images(seed=5)
    assert list(probes) == list(E.PROBES)
    sq = probes["solid square"].reshape(28, 28)
    assert sq[14, 14] == 1 and sq[0, 0] == 0 and sq.sum() == 144
    assert not probes["blank"].any() and probes["all white"].all()
    res = E.noise_test(net, seed=5)
    out = net.feedforward(np.stack([probes[k] for k in E.PROBES]))
    for r, o in zip(res, out):
        assert r.digit == o.argmax() and r.confidence == o.max() and np.allclose(r.outputs, o)
    dots = probes["sparse dots"]
    assert 0.05 < (dots > 0).mean() < 0.25 and dots.max() <= 1
    ex = E.noise_examples(net, n=10, seed=2)
    assert len(ex) == 10 and [r.confidence for r in ex] == sorted((r.confidence for r in ex), reverse=True)
    assert all(r.digit == net.feedforward(r.pixels).argmax() for r in ex)
    stats = E.noise_statistics(net, n=200, seed=1)
    assert stats.counts.sum() == 200 and 0 <= stats.mean_confidence <= 1


def test_average_images_and_class_indices(data):
    avg = E.average_images(data.train_images, data.train_labels, 10)
    assert avg.shape == (10, 28, 28)
    for d in (0, 7):
        idx = E.class_indices(data.train_labels, d)
        assert (data.train_labels[idx] == d).all() and len(idx) == (data.train_labels == d).sum()
        assert np.allclose(avg[d], data.train_images[idx].mean(axis=0) / 255)
    assert len(E.class_indices(data.train_labels)) == data.n_train


def test_analyse_gathers_everything_and_can_be_cancelled(net, data):
    a = E.analyse(net, data.test_images, data.test_labels, 10, top_k=3, maximise_steps=20)
    assert a.report() == E.evaluation_report(net, data.test_images, data.test_labels)
    assert set(a.top) == {1, 2, 3} and a.top[1].indices.shape == (16, 3)
    assert set(a.maximised) == {2, 3}
    assert [p.name for p in a.probes] == list(E.PROBES)
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(E.Cancelled):
        E.analyse(net, data.test_images, data.test_labels, should_stop=stop)


def test_core_evaluation_never_imports_qt():
    code = "import sys, nnstudio.components.evaluation; print(any(m.startswith(('PySide6', 'pyqtgraph')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
