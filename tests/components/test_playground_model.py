"""The playground's maths: analytic gradients, the stability bound, divergence, SGD as an average."""

import math

import numpy as np
import pytest

from nnstudio.components.playground import (
    PRESETS,
    REGIMES,
    DescentRun,
    PerExampleFunctions,
    _CASES,
    contour_segments,
    get_preset,
    quantile_levels,
    race,
)

KEYS = list(PRESETS)


@pytest.mark.parametrize("key", KEYS)
def test_gradient_matches_finite_differences(key):
    fn = get_preset(key)
    rng = np.random.default_rng(1)
    x0, x1, y0, y1 = fn.domain
    P = np.column_stack([rng.uniform(x0, x1, 50), rng.uniform(y0, y1, 50)])
    h = 1e-6
    num = np.column_stack([
        (fn.value(P + [h, 0]) - fn.value(P - [h, 0])) / (2 * h),
        (fn.value(P + [0, h]) - fn.value(P - [0, h])) / (2 * h),
    ])
    np.testing.assert_allclose(fn.gradient(P), num, rtol=1e-6, atol=1e-7)
    # scalar and broadcast forms agree with the batched one
    np.testing.assert_allclose(fn.gradient(P[3, 0], P[3, 1]), fn.gradient(P)[3])


@pytest.mark.parametrize("key", KEYS)
def test_minima_are_minima_and_the_bound_is_two_over_curvature(key):
    fn = get_preset(key)
    assert len(fn.minima) >= 1
    for m in fn.minima:
        assert np.linalg.norm(fn.gradient(m)) < 1e-4
        assert np.all(np.linalg.eigvalsh(fn.hessian(m)) > 0)
    assert fn.stability_bound == pytest.approx(2.0 / fn.max_curvature)
    if key == "bowl":
        assert fn.stability_bound == pytest.approx(1.0, rel=1e-6)  # C = x² + y²: curvature 2
    if key == "valley":
        assert fn.stability_bound == pytest.approx(0.5, rel=1e-6)  # curvature 2 × 2 = 4 across the valley
    assert len(fn.minima) == {"bowl": 1, "valley": 1, "minima": 3, "saddle": 2}[key]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("factor", [1.1, 1.5, 4.0, 30.0])
def test_above_the_stability_bound_the_run_diverges_and_says_so(key, factor):
    fn = get_preset(key)
    lr = factor * fn.stability_bound
    assert fn.regime(lr).key == "diverges"
    run = DescentRun(fn, fn.start, lr, max_steps=2000).run()
    assert run.status == "diverged", (key, factor, run.message)
    assert "stability bound" in run.message
    assert np.all(np.isfinite(run.path_array()))
    assert all(math.isfinite(v) for v in run.costs + run.step_lengths)
    assert run.step() is None  # a finished run stays finished, no crash


@pytest.mark.parametrize("key", KEYS)
def test_below_the_bound_it_settles_and_regimes_are_ordered(key):
    fn = get_preset(key)
    good = DescentRun(fn, fn.start, 0.3 * fn.stability_bound).run()
    assert good.status == "converged", good.message
    assert any(np.linalg.norm(good.point - m) < 1e-3 for m in fn.minima)
    # crawling takes far more steps than a good rate
    slow = DescentRun(fn, fn.start, 0.01 * fn.stability_bound, max_steps=20000).run()
    assert slow.steps_done > 10 * good.steps_done
    keys = [fn.regime(f * fn.stability_bound).key for f in (0.01, 0.2, 0.8, 1.2)]
    assert keys == list(REGIMES)


def test_steps_shrink_as_the_slope_gets_shallower():
    fn = get_preset("bowl")
    run = DescentRun(fn, (1.5, -1.0), 0.1).run(20)
    lengths = np.array(run.step_lengths)
    assert np.all(np.diff(lengths) < 0)
    np.testing.assert_allclose(lengths, 0.1 * np.array(run.slopes))
    # each step moved by exactly −η∇C
    P = run.path_array()
    np.testing.assert_allclose(P[1:], P[:-1] - 0.1 * fn.gradient(P[:-1]))


def test_bad_input_is_refused_with_a_message():
    fn = get_preset("bowl")
    for lr in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError):
            DescentRun(fn, (0, 0), lr)
    with pytest.raises(ValueError):
        DescentRun(fn, (math.nan, 0), 0.1)
    with pytest.raises(ValueError):
        get_preset("nope")


@pytest.mark.parametrize("key", KEYS)
def test_per_example_functions_average_to_the_function(key):
    fn = get_preset(key)
    ex = PerExampleFunctions(fn, 200, seed=3)
    p = np.array([0.3, -0.7])
    assert ex.value(p) == pytest.approx(float(fn.value(p)), abs=1e-12)
    np.testing.assert_allclose(ex.gradient(p), fn.gradient(p), atol=1e-12)
    # but one example or a small batch points elsewhere
    assert np.linalg.norm(ex.gradient(p, [0, 1, 2]) - fn.gradient(p)) > 1e-3


def test_sgd_counts_its_work_and_reaches_the_bottom_cheaper():
    fn = get_preset("valley")
    r = race(fn, fn.start, fn.learning_rate, batch_size=10, n_examples=200)
    assert r.careful_reached is not None and r.drunk_reached is not None
    assert r.careful.examples_seen[1] == 200 and r.drunk.examples_seen[1] == 10
    assert r.examples_to_bottom("drunk") * 5 < r.examples_to_bottom("careful")
    assert r.drunk.costs[r.drunk_reached] <= r.target
    # the drunk path really is noisier: longer for the same displacement
    D, C = r.drunk.path_array(), r.careful.path_array()
    assert np.linalg.norm(np.diff(D, axis=0), axis=1).sum() > np.linalg.norm(np.diff(C, axis=0), axis=1).sum()


def test_contour_segments_lie_on_the_level_set():
    xs = np.linspace(-2, 2, 81)
    ys = np.linspace(-2, 2, 61)
    Z = xs[None, :] ** 2 + ys[:, None] ** 2
    (segs,) = contour_segments(xs, ys, Z, [1.0])
    r = np.linalg.norm(segs.reshape(-1, 2), axis=1)
    assert len(segs) > 50
    np.testing.assert_allclose(r, 1.0, atol=0.01)
    levels = quantile_levels(Z, 10)
    assert np.all(np.diff(levels) > 0) and len(levels) == 10


def test_contour_segments_equal_marching_squares_cell_by_cell():
    """Only the crossed cells are interpolated: the segments are those of marching squares done one
    cell at a time (a cell with a non-finite corner draws nothing), in order of case, then of cell."""
    rng = np.random.default_rng(3)
    xs, ys = np.sort(rng.uniform(-1, 1, 23)), np.sort(rng.uniform(-1, 1, 17))
    Z = np.sin(3 * xs[None, :]) + np.cos(2 * ys[:, None]) + rng.normal(0, 0.1, (17, 23))
    Z[4, 6] = np.nan
    levels = [-0.5, 0.3, 1.1]

    for c, segs in zip(levels, contour_segments(xs, ys, Z, levels)):
        expected = {k: [] for k in _CASES}
        for j in range(len(ys) - 1):
            for i in range(len(xs) - 1):
                z = [Z[j, i], Z[j, i + 1], Z[j + 1, i + 1], Z[j + 1, i]]
                if not np.all(np.isfinite(z)):
                    continue
                case = sum(1 << n for n in range(4) if z[n] > c)
                if case in (0, 15):
                    continue

                def t(a, b):
                    return float(np.clip((c - a) / (b - a), 0, 1)) if b != a else 0.5

                x0, x1, y0, y1 = xs[i], xs[i + 1], ys[j], ys[j + 1]
                ends = [(x0 + t(z[0], z[1]) * (x1 - x0), y0), (x1, y0 + t(z[1], z[2]) * (y1 - y0)),
                        (x0 + t(z[3], z[2]) * (x1 - x0), y1), (x0, y0 + t(z[0], z[3]) * (y1 - y0))]
                expected[case].append([(ends[a], ends[b]) for a, b in _CASES[case]])
        # (per case: every cell's first segment, then every cell's second: as the vectorised code lists them)
        rows = [cell[n] for k in _CASES for n in range(len(_CASES[k])) for cell in expected[k]]
        np.testing.assert_allclose(segs, np.array(rows).reshape(-1, 2, 2), rtol=0, atol=1e-12)
