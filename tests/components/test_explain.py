"""The Backprop explorer's numbers (nnstudio.components.explain) on a tiny hand-set 4-3-3-2 network.

Every number is checked against the engine's backprop, a central finite difference, or a
hand computation in plain Python floats, to 1e-6 or better.
"""

import math

import numpy as np
import pytest

from nnstudio.core import Network
from nnstudio.components.explain import (
    ParamRef, batch_nudges, chain_rule, default_batch_indices, example_cost, fmt, layer_grid, layer_name, nudges,
    parameter_nudges, sgd_step, three_ways,
)
from nnstudio.core.gradcheck import numerical_derivative

TOL = 1e-6

W1 = [[0.5, -0.3, 0.8, 0.1], [-0.6, 0.4, 0.2, -0.9], [0.7, 0.7, -0.5, 0.3]]
B1 = [0.1, -0.2, 0.05]
W2 = [[0.9, -0.4, 0.6], [-0.7, 0.8, 0.3], [0.2, 0.5, -1.1]]
B2 = [-0.3, 0.2, 0.1]
W3 = [[1.2, -0.8, 0.5], [-0.6, 0.9, -1.3]]
B3 = [0.25, -0.15]
X = np.array([
    [0.0, 0.5, 1.0, 0.25], [0.9, 0.1, 0.3, 0.7], [0.2, 0.8, 0.6, 0.0], [1.0, 1.0, 0.0, 0.5], [0.3, 0.3, 0.9, 0.9],
])
LABELS = np.array([1, 0, 1, 0, 1])


def sig(z):
    return 1.0 / (1.0 + math.exp(-z))


@pytest.fixture
def net():
    n = Network((4, 3, 3, 2), seed=0)
    n.set_parameters([W1, W2, W3], [B1, B2, B3])
    return n


def all_refs(sizes):
    for l in range(len(sizes) - 1):
        for r in range(sizes[l + 1]):
            for c in [*range(sizes[l]), None]:
                yield ParamRef(l, r, c)


def hand_forward(x):
    """Plain-Python forward pass of the fixture network: [(z, a) per layer]."""
    out, a = [], list(x)
    for W, B in ((W1, B1), (W2, B2), (W3, B3)):
        z = [sum(w * ai for w, ai in zip(row, a)) + b for row, b in zip(W, B)]
        a = [sig(v) for v in z]
        out.append((z, a))
    return out


# ---------------------------------------------------------------------------- helpers
def test_fmt_uses_sig_digits_and_true_minus():
    assert fmt(-0.0123456) == "−0.01235"
    assert fmt(0.5) == "0.5"
    assert fmt(0.0) == "0"
    assert fmt(2.5e-7) == "2.5×10⁻⁷"
    assert fmt(-4.8391e-5, 3) == "−4.84×10⁻⁵"
    assert fmt(0.25, plus=True) == "+0.25"
    assert fmt(float("nan")) == "nan"


def test_layer_names():
    assert [layer_name((784, 16, 16, 10), i) for i in range(4)] == ["input", "hidden 1", "hidden 2", "output"]


def test_param_ref_flat_index_round_trip_matches_flat_parameters(net):
    flat = net.flat_parameters()
    seen = set()
    for ref in all_refs(net.sizes):
        i = ref.flat_index(net.sizes)
        seen.add(i)
        assert ParamRef.from_flat(net.sizes, i) == ref
        assert flat[i] == ref.value(net)
    assert seen == set(range(net.n_params))
    with pytest.raises(ValueError):
        ParamRef(3, 0, 0).check(net.sizes)
    with pytest.raises(ValueError):
        ParamRef.from_flat(net.sizes, net.n_params)
    assert ParamRef(1, 2, 0).label() == "w(2)[2,0]" and ParamRef(0, 1).label() == "b(1)[1]"
    assert ParamRef(0, 1, 3).describe(net.sizes) == "weight from pixel 3 to hidden 1 neuron 1"


def test_default_batch_is_fixed_and_distinct():
    a, b = default_batch_indices(4000), default_batch_indices(4000)
    assert np.array_equal(a, b) and len(set(a.tolist())) == 10
    assert len(default_batch_indices(3)) == 3


# ---------------------------------------------------------------------------- one example, one neuron
def test_example_cost_term_by_term_by_hand(net):
    x = X[0]
    a = hand_forward(x)[-1][1]
    ec = example_cost(net, x, 1)
    y = [0.0, 1.0]
    np.testing.assert_allclose(ec.activations, a, atol=1e-12)
    np.testing.assert_allclose(ec.targets, y)
    np.testing.assert_allclose(ec.terms, [(ai - yi) ** 2 for ai, yi in zip(a, y)], atol=1e-12)
    assert ec.cost == pytest.approx(sum((ai - yi) ** 2 for ai, yi in zip(a, y)), abs=1e-12)
    assert ec.cost == pytest.approx(float(ec.terms.sum()), abs=1e-15)
    assert ec.cost == pytest.approx(net.cost_of(x[None], [1]), abs=1e-12)
    np.testing.assert_allclose(ec.desired, [-2 * (ai - yi) for ai, yi in zip(a, y)], atol=1e-12)
    assert ec.desired[1] > 0 and ec.desired[0] < 0  # up for the true digit, down for the other
    assert ec.guess == int(np.argmax(a))


def test_three_ways_magnitudes_match_their_formulas(net):
    x, label = X[1], 0
    fw = hand_forward(x)
    a_prev, (z, a) = fw[1][1], (fw[2][0][label], fw[2][1][label])
    tw = three_ways(net, x, label)
    assert (tw.layer, tw.neuron) == (3, label)
    sp = a * (1 - a)  # σ'(z)
    assert tw.a == pytest.approx(a, abs=1e-12) and tw.z == pytest.approx(z, abs=1e-12)
    assert tw.fprime == pytest.approx(sp, abs=1e-12)
    assert tw.da_db == pytest.approx(sp, abs=1e-12)
    np.testing.assert_allclose(tw.da_dw, [sp * ak for ak in a_prev], atol=1e-12)  # ∝ previous activations
    np.testing.assert_allclose(tw.da_dprev, [sp * w for w in W3[label]], atol=1e-12)  # ∝ weights
    assert tw.mag_bias == pytest.approx(sp)
    assert tw.mag_weights == pytest.approx(sp * math.sqrt(sum(ak * ak for ak in a_prev)), abs=1e-12)
    assert tw.mag_prev == pytest.approx(sp * math.sqrt(sum(w * w for w in W3[label])), abs=1e-12)
    desired = -2 * (a - 1.0)
    assert tw.desired == pytest.approx(desired, abs=1e-12) and tw.desired > 0
    # this example's desired changes are −∂C/∂θ from the engine (bias and weights) ...
    gw, gb = net.backprop(x[None], [label])
    assert tw.want_bias == pytest.approx(-gb[2][label], abs=TOL)
    np.testing.assert_allclose(tw.want_weights, -gw[2][label], atol=TOL)
    # ... and for the previous activations, this neuron's share of their desired nudge
    np.testing.assert_allclose(tw.want_prev, desired * sp * np.array(W3[label]), atol=1e-12)
    np.testing.assert_allclose(tw.want_prev, nudges(net, x, label).contributions[1][label], atol=1e-12)


def test_three_ways_sensitivities_agree_with_finite_differences(net):
    x, label, eps = X[2], 1, 1e-6
    tw = three_ways(net, x, label)
    a_prev = np.array(hand_forward(x)[1][1])
    w, b = np.array(W3[label]), B3[label]

    def out(ap=a_prev, ww=w, bb=b):
        return sig(float(ww @ ap) + bb)

    assert (out(bb=b + eps) - out(bb=b - eps)) / (2 * eps) == pytest.approx(tw.da_db, abs=TOL)
    for k in range(3):
        e = np.zeros(3)
        e[k] = eps
        assert (out(ww=w + e) - out(ww=w - e)) / (2 * eps) == pytest.approx(tw.da_dw[k], abs=TOL)
        assert (out(ap=a_prev + e) - out(ap=a_prev - e)) / (2 * eps) == pytest.approx(tw.da_dprev[k], abs=TOL)


def test_three_ways_of_a_hidden_neuron(net):
    tw = three_ways(net, X[0], 1, neuron=2, layer=1)
    assert (tw.layer, tw.neuron) == (1, 2)
    np.testing.assert_allclose(tw.prev_activations, X[0])
    gw, gb = net.backprop(X[0][None], [1])
    assert tw.want_bias == pytest.approx(-gb[0][2], abs=1e-12)
    with pytest.raises(ValueError):
        three_ways(net, X[0], 1, layer=0)


# ---------------------------------------------------------------------------- one example, all neurons
def test_propagated_desires_are_the_weighted_sum_of_the_layer_after(net):
    for x, label in zip(X, LABELS):
        nd = nudges(net, x, label)
        d = net.backprop_details(x[None], [label])
        assert len(nd.desired) == 3 and len(nd.contributions) == 2
        for k in range(3):
            np.testing.assert_allclose(nd.desired[k], -d.dC_da[k][0], atol=1e-12)
        a = nd.activations[-1]
        np.testing.assert_allclose(nd.desired[-1], -2 * (a - np.eye(2)[label]), atol=1e-12)
        Ws = [np.array(W1), np.array(W2), np.array(W3)]
        for k in range(2):
            # the sum over the next layer's neurons j of w_ji · σ'(z_j) · desire_j
            by_hand = (Ws[k + 1] * (nd.fprimes[k + 1] * nd.desired[k + 1])[:, None]).sum(axis=0)
            np.testing.assert_allclose(nd.desired[k], by_hand, atol=1e-12)
            np.testing.assert_allclose(nd.contributions[k].sum(axis=0), nd.desired[k], atol=1e-12)
        np.testing.assert_allclose(nd.fprimes[1], nd.activations[2] * (1 - nd.activations[2]), atol=1e-12)


def test_hidden_desires_equal_a_finite_difference_of_the_cost(net):
    """−∂C/∂a of a hidden neuron, by nudging that activation and running the rest of the network."""
    x, label, eps = X[3], 0, 1e-6
    nd = nudges(net, x, label)

    def cost_from_h2(h2):
        a = [sig(sum(w * hi for w, hi in zip(row, h2)) + b) for row, b in zip(W3, B3)]
        return sum((ai - yi) ** 2 for ai, yi in zip(a, np.eye(2)[label]))

    h2 = list(nd.activations[2])
    for i in range(3):
        up, dn = h2.copy(), h2.copy()
        up[i] += eps
        dn[i] -= eps
        assert -(cost_from_h2(up) - cost_from_h2(dn)) / (2 * eps) == pytest.approx(nd.desired[1][i], abs=TOL)


# ---------------------------------------------------------------------------- all examples
def test_batch_average_is_the_mini_batch_gradient(net):
    gw, gb = net.backprop(X, LABELS)
    pw, pb = net.per_example_gradients(X, LABELS)
    d = net.backprop_details(X, LABELS)
    for ref in all_refs(net.sizes):
        bn = batch_nudges(net, X, LABELS, ref)
        per = pb[ref.layer][:, ref.row] if ref.is_bias else pw[ref.layer][:, ref.row, ref.col]
        np.testing.assert_allclose(bn.changes, -per, atol=1e-12)
        assert bn.average == pytest.approx(-ref.of(gw, gb), abs=1e-12)
        assert bn.average == pytest.approx(float(bn.changes.sum()) / len(X), abs=1e-15)
        assert bn.value == ref.value(net)
    np.testing.assert_allclose(bn.costs, d.costs)
    assert bn.mean_cost == pytest.approx(net.cost_of(X, LABELS))
    np.testing.assert_array_equal(bn.guesses, net.predict(X))


def test_each_examples_desired_change_matches_its_own_finite_difference(net):
    ref = ParamRef(0, 2, 1)
    bn = batch_nudges(net, X, LABELS, ref)
    for i in range(len(X)):
        num = numerical_derivative(net, X[i:i + 1], LABELS[i:i + 1], 0, 2, 1)
        assert bn.changes[i] == pytest.approx(-num, abs=TOL)
    mean_num = numerical_derivative(net, X, LABELS, 0, 2, 1)
    assert bn.average == pytest.approx(-mean_num, abs=TOL)


def test_parameter_vector_beside_the_negative_gradient(net):
    pn = parameter_nudges(net, X, LABELS, top=5)
    gw, gb = net.backprop(X, LABELS)
    np.testing.assert_allclose(pn.neg_grad, -net.flat_gradient(gw, gb), atol=1e-15)
    np.testing.assert_array_equal(pn.params, net.flat_parameters())
    assert len(pn.top) == 5 and len(set(pn.top.tolist())) == 5
    mags = np.abs(pn.neg_grad)
    assert np.all(np.diff(mags[pn.top]) <= 0)
    assert mags[pn.top[-1]] >= np.sort(mags)[-5]
    assert 0 < pn.top_share <= 1
    assert pn.top_share == pytest.approx(float((mags[pn.top] ** 2).sum() / (mags ** 2).sum()))
    assert pn.layer_slices == [(0, 15), (15, 27), (27, 35)]
    for ref, i in zip(pn.refs(net.sizes), pn.top):
        assert ref.flat_index(net.sizes) == i
    grid = layer_grid(net.sizes, pn.params, 1)
    np.testing.assert_array_equal(grid, np.column_stack([W2, B2]))
    np.testing.assert_allclose(layer_grid(net.sizes, pn.neg_grad, 2), -np.column_stack([gw[2], gb[2]]))


# ---------------------------------------------------------------------------- chain rule
def test_chain_rule_product_equals_backprop_and_finite_difference_for_every_parameter(net):
    for i, (x, label) in enumerate(zip(X[:3], LABELS[:3])):
        gw, gb = net.backprop(x[None], [label])
        for ref in all_refs(net.sizes):
            cr = chain_rule(net, x, label, ref)
            assert cr.product == pytest.approx(cr.backprop, abs=1e-12)
            assert cr.backprop == pytest.approx(ref.of(gw, gb), abs=1e-15)
            assert cr.numerical == pytest.approx(cr.backprop, abs=TOL)
            assert cr.error < TOL
            assert cr.product == pytest.approx(cr.a_prev * cr.fprime * cr.dC_da, abs=1e-15)
            assert cr.fprime == pytest.approx(cr.a * (1 - cr.a), abs=1e-12)
            if ref.is_bias:
                assert cr.a_prev == 1.0
            else:
                assert cr.a_prev == pytest.approx(net.forward(x[None]).activations[ref.layer][0, ref.col])


def test_chain_rule_output_weight_by_hand(net):
    x, label = X[0], 1
    fw = hand_forward(x)
    a_prev, a = fw[1][1][2], fw[2][1][0]  # weight from hidden-2 neuron 2 into output 0 (desired 0)
    cr = chain_rule(net, x, label, ParamRef(2, 0, 2))
    assert cr.is_output and cr.target == 0.0 and not cr.terms and cr.n_paths == 1
    assert cr.a_prev == pytest.approx(a_prev, abs=1e-12)
    assert cr.fprime == pytest.approx(a * (1 - a), abs=1e-12)
    assert cr.dC_da == pytest.approx(2 * (a - 0.0), abs=1e-12)
    assert cr.product == pytest.approx(a_prev * a * (1 - a) * 2 * a, abs=1e-12)


def test_chain_rule_sum_over_paths_in_earlier_layers(net):
    x, label = X[4], 1
    # a weight into hidden 2: ∂C/∂a sums over the 2 output neurons
    cr = chain_rule(net, x, label, ParamRef(1, 1, 0))
    assert not cr.is_output and len(cr.terms) == 2 and cr.n_paths == 2
    assert sum(t.product for t in cr.terms) == pytest.approx(cr.dC_da, abs=1e-12)
    for t in cr.terms:
        assert t.weight == W3[t.via][1]
        assert t.product == pytest.approx(t.weight * t.fprime * t.dC_da, abs=1e-15)
    # a weight into hidden 1: 3 × 2 = 6 full paths to the output, which add up to ∂C/∂a
    cr = chain_rule(net, x, label, ParamRef(0, 2, 3), top_paths=6)
    assert cr.n_paths == 6 and len(cr.terms) == 3 and len(cr.top_paths) == 6
    assert cr.paths_sum == pytest.approx(cr.dC_da, abs=1e-12)
    assert sum(v for _, v in cr.top_paths) == pytest.approx(cr.dC_da, abs=1e-12)
    assert sum(t.product for t in cr.terms) == pytest.approx(cr.dC_da, abs=1e-12)
    assert [abs(v) for _, v in cr.top_paths] == sorted((abs(v) for _, v in cr.top_paths), reverse=True)
    # one path by hand: hidden-1 neuron 2 → hidden-2 neuron m → output o
    fw = hand_forward(x)
    (m, o), v = cr.top_paths[0]
    h2, out = fw[1][1], fw[2][1]
    by_hand = (W2[m][2] * h2[m] * (1 - h2[m])) * (W3[o][m] * out[o] * (1 - out[o])) * 2 * (out[o] - (o == label))
    assert v == pytest.approx(by_hand, abs=1e-12)


def test_chain_rule_on_the_classic_network_matches_finite_differences():
    net = Network((784, 16, 16, 10), seed=3)
    x = np.random.default_rng(1).random(784)
    for ref in (ParamRef(0, 5, 300), ParamRef(0, 9, None), ParamRef(1, 3, 7), ParamRef(2, 6, 11)):
        cr = chain_rule(net, x, 6, ref)
        assert cr.product == pytest.approx(cr.backprop, abs=1e-12)
        assert cr.numerical == pytest.approx(cr.backprop, abs=TOL)
    assert cr.is_output
    cr = chain_rule(net, x, 6, ParamRef(0, 5, 300))
    assert cr.n_paths == 160 and cr.paths_sum == pytest.approx(cr.dC_da, abs=1e-12)


# ---------------------------------------------------------------------------- step
def test_step_changes_parameters_by_exactly_minus_eta_times_the_average(net):
    before = net.flat_parameters()
    eta = 0.75
    res = sgd_step(net, X, LABELS, eta, example=(X[0], LABELS[0]))
    np.testing.assert_array_equal(net.flat_parameters(), before)  # the input network is untouched
    avg = np.zeros(net.n_params)
    for ref in all_refs(net.sizes):
        avg[ref.flat_index(net.sizes)] = batch_nudges(net, X, LABELS, ref).average  # −∂C/∂θ
    np.testing.assert_allclose(res.network.flat_parameters() - before, eta * avg, atol=1e-12)
    np.testing.assert_allclose(res.change, eta * avg, atol=1e-12)
    np.testing.assert_allclose(res.mean_gradient, -avg, atol=1e-15)
    assert res.learning_rate == eta
    assert res.batch_cost_before == pytest.approx(net.cost_of(X, LABELS))
    assert res.batch_cost_after == pytest.approx(res.network.cost_of(X, LABELS))
    assert res.batch_cost_after < res.batch_cost_before
    assert res.example_cost_before == pytest.approx(example_cost(net, X[0], LABELS[0]).cost)
    assert res.example_cost_after == pytest.approx(example_cost(res.network, X[0], LABELS[0]).cost)


def test_step_rejects_bad_input(net):
    with pytest.raises(ValueError, match="learning rate"):
        sgd_step(net, X, LABELS, 0.0)
    with pytest.raises(ValueError, match="empty"):
        sgd_step(net, X[:0], LABELS[:0], 1.0)


def test_explaining_another_cost_changes_only_the_cost(net):
    from nnstudio.components.explain import cost_formulas, explained

    ce = explained(net, "cross-entropy")
    assert ce.cost.name == "cross-entropy" and net.cost.name == "quadratic"
    np.testing.assert_array_equal(ce.flat_parameters(), net.flat_parameters())
    assert explained(ce, None).cost.name == "cross-entropy"
    assert cost_formulas(net.cost)["dC_da"] == "2(a − y)" and "ln" in cost_formulas("cross-entropy")["sum"]
    for ref in (ParamRef(2, 1, 0), ParamRef(0, 2, 3), ParamRef(1, 0, None)):
        cr = chain_rule(ce, X[1], 0, ref)
        assert cr.product == pytest.approx(ref.of(*ce.backprop(X[1][None], [0])), abs=1e-12)
        assert cr.numerical == pytest.approx(cr.product, abs=TOL)
    assert example_cost(ce, X[1], 0).cost == pytest.approx(ce.cost_of(X[1][None], [0]))
