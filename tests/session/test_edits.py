"""Editing a neuron by hand, headless: the bias moves that neuron's z by exactly the dragged amount,
off silences it downstream, undo and reset are bit-identical, training goes on from the edited
weights (inline and in a real training process), and the edited network is the one saved."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_session import poll_until, pump, same

from nnstudio.components.ablation import is_switched_off, switch_off
from nnstudio.core import Network, Trainer, load_model
from nnstudio.session import Session
from nnstudio.session.edits import EditError, NeuronEdit
from nnstudio.training.workers import ProcessWorker


def test_dragging_a_bias_moves_exactly_that_neurons_z_by_the_dragged_amount(session):
    s = session
    X = s.dataset.test_x[:200]
    before = s.network.copy()
    z0 = before.forward(X).zs
    for shift in (0.5, -1.25, 3.0):  # (one drag: each value is computed from the network before the edit)
        assert s.edit_neuron(1, 5, bias_shift=shift)
        fp = s.network.forward(X)
        dz = fp.zs[0] - z0[0]
        assert np.allclose(dz[:, 5], shift, rtol=0, atol=1e-12)  # every input: z moved by the shift
        assert np.array_equal(np.delete(fp.zs[0], 5, axis=1), np.delete(z0[0], 5, axis=1))  # nobody else's
        assert s.network.biases[0][5] == before.biases[0][5] + shift
    # the change reaches the layers after it only through that neuron's activation
    a1 = s.network.forward(X).activations[1]
    assert np.allclose(s.network.forward(X).zs[1], a1 @ before.weights[1].T + before.biases[1], atol=1e-12)
    # the session's network changed, and says so
    assert s.unsaved and s.network_label().endswith("•")


def test_scaling_the_incoming_weights_scales_w_dot_a(session):
    s = session
    X = s.dataset.test_x[:100]
    before = s.network.copy()
    assert s.edit_neuron(2, 3, weight_scale=0.5)
    z0, z1 = before.forward(X).zs[1][:, 3], s.network.forward(X).zs[1][:, 3]
    b = before.biases[1][3]
    assert np.allclose(z1 - b, 0.5 * (z0 - b), atol=1e-12)
    assert np.array_equal(s.network.weights[1][3], before.weights[1][3] * 0.5)


def test_switching_a_neuron_off_zeroes_its_outgoing_effect(session):
    s = session
    X = s.dataset.test_x[:300]
    before = s.network.copy()
    assert s.edit_neuron(1, 7, off=True)
    net = s.network
    assert is_switched_off(net, 1, 7) and not is_switched_off(before, 1, 7)
    assert not np.any(net.weights[1][:, 7])  # its 16 outgoing weights are 0
    fp0, fp1 = before.forward(X), net.forward(X)
    # its own z and a are unchanged (it still sees the input the same way) ...
    assert np.array_equal(fp1.activations[1], fp0.activations[1])
    # ... but the next layer gets exactly what it would get if its activation were 0
    a = fp0.activations[1].copy()
    a[:, 7] = 0.0
    assert np.array_equal(fp1.zs[1], a @ before.params[1][:-1] + before.params[1][-1])
    # and nothing else changed
    assert np.array_equal(np.delete(net.weights[1], 7, axis=1), np.delete(before.weights[1], 7, axis=1))
    assert np.array_equal(net.params[0], before.params[0]) and np.array_equal(net.params[2], before.params[2])
    # switching it on again gives back the weights bit for bit
    assert s.edit_neuron(1, 7, off=False)
    assert same(s.network, before)


def test_output_neurons_and_input_pixels_cannot_be_switched_off_and_values_are_checked(session):
    s = session
    before = s.network.copy()
    with pytest.raises(EditError, match="output neuron cannot be switched off"):
        s.edit_neuron(3, 2, off=True)
    with pytest.raises(EditError, match="input layer"):
        s.edit_neuron(0, 2, bias_shift=1.0)
    with pytest.raises(EditError, match="within ±10"):
        s.edit_neuron(1, 2, bias_shift=11.0)
    with pytest.raises(EditError, match="between 0 and 3"):
        s.edit_neuron(1, 2, weight_scale=float("nan"))
    assert same(s.network, before) and not s.can_undo  # nothing half-done
    assert s.edit_neuron(3, 2, bias_shift=-2.0)  # an output neuron's bias can move


def test_undo_restores_bit_identical_parameters_one_control_at_a_time(session):
    s = session
    s.step_batch()
    pump(s)
    p0 = s.network.copy()
    for v in np.linspace(0.1, 2.0, 20):  # one drag of the bias slider: one undo step
        s.edit_neuron(1, 3, bias_shift=float(v))
    p1 = s.network.copy()
    s.edit_neuron(1, 3, off=True)  # another control: the next undo step
    p2 = s.network.copy()
    for v in (1.2, 1.7, 2.4):
        s.edit_neuron(1, 3, weight_scale=v)
    edits = []
    s.events.edit.connect(edits.append)
    assert s.undo() and same(s.network, p2)
    assert edits[-1] is None  # the edit ended: the inspector's controls start from the network as it is now
    assert s.undo() and same(s.network, p1)
    assert s.undo() and same(s.network, p0)
    assert all(np.array_equal(a, b) for a, b in zip(s.network.get_params(), p0.get_params()))
    pump(s)
    assert same(s.network, p0)  # no late message of the worker brings an edited network back


def test_reset_puts_the_network_back_as_it_was_and_drops_the_edits_undo_steps(session):
    s = session
    s.step_batch()
    pump(s)
    assert s.can_undo is False
    s.adopt(s.network.copy(), "an explorer step")  # (an older undo step, which reset keeps)
    before = s.network.copy()
    was_unsaved = s.unsaved
    s.edit_neuron(2, 1, bias_shift=-3.0)
    s.edit_neuron(2, 1, weight_scale=2.0)
    s.edit_neuron(2, 1, off=True)
    assert s.editor.state.edit == NeuronEdit(2, 1, -3.0, 2.0, True)
    assert s.reset_neuron_edit()
    assert same(s.network, before) and s.editor.state is None and s.unsaved == was_unsaved
    assert len(s._undo) == 1  # the explorer step's
    assert not s.reset_neuron_edit()  # nothing left to reset


def test_the_edit_ends_when_training_goes_on_and_the_next_one_starts_from_there(session):
    s = session
    s.step_batch()
    pump(s)
    s.edit_neuron(1, 0, bias_shift=1.0)
    assert s.editor.current(1, 0).bias_shift == 1.0
    assert s.editor.current(1, 1).neutral  # (another neuron: nothing in progress)
    s.step_batch()  # keep training from here
    pump(s)
    assert s.editor.state is None and s.editor.current(1, 0).neutral
    trained = s.network.copy()
    s.edit_neuron(1, 0, bias_shift=0.25)  # relative to the network as it is now
    assert s.network.biases[0][0] == trained.biases[0][0] + 0.25


def test_keep_training_from_here_continues_from_the_edited_weights(session):
    s = session
    s.step_batch()
    pump(s)
    start = s.network.copy()
    s.edit_neuron(1, 4, off=True)
    s.edit_neuron(1, 9, bias_shift=2.0)
    edited = s.network.copy()
    pump(s)
    assert same(s.network, edited)  # (the worker's own copy, sent back after the edit)
    s.step_batch()
    pump(s)
    # the same two steps made by hand: a Trainer like the session's, one step, the edit, one step
    ds = s.dataset
    net = Network((784, 16, 16, 10), seed=s.architecture["seed"])
    tr = Trainer(net, ds.train_x, ds.train_labels, ds.test_x, ds.test_labels, learning_rate=1.5, batch_size=10,
                 epochs=30, seed=s.architecture["seed"])
    tr.step()
    assert same(net, start)
    tr.adopt(edited.get_params())
    tr.step()
    assert same(s.network, net)


def test_the_edited_network_is_the_one_saved(session, tmp_path):
    s = session
    s.edit_neuron(1, 2, off=True, bias_shift=1.5)
    assert s.save_model(tmp_path / "edited.npz")
    assert same(load_model(tmp_path / "edited.npz"), s.network)
    assert not s.unsaved


def test_editing_a_running_network_pauses_it_first(session):
    s = session
    s.set_speed(0)
    s.play()
    s.poll()
    assert s.running
    s.edit_neuron(1, 1, bias_shift=0.5)
    pump(s)
    assert s.run_state == "paused"


def test_a_training_process_trains_on_from_the_edited_weights():
    s = Session(worker=ProcessWorker())
    try:
        s.start_worker()
        s.start("mnist-sample")
        poll_until(s, lambda: s.dataset is not None and s.network is not None)
        s.step_batch()
        poll_until(s, lambda: s.run_state == "paused" and s.snapshot.step == 1)
        s.edit_neuron(1, 3, off=True)
        s.edit_neuron(1, 3, off=True, weight_scale=0.0)
        edited = s.network.copy()
        mine = s.snapshot
        poll_until(s, lambda: s.snapshot is not mine)  # the training process's own copy, after the edit
        assert same(s.network, edited)
        s.step_batch()
        poll_until(s, lambda: s.snapshot.step == 2 and s.run_state == "paused")
        after = s.network
        # one step from the edited weights: the switched-off neuron's incoming weights (scaled to 0)
        # get no gradient (nothing downstream hears it), so they stay exactly 0
        assert not np.any(after.weights[0][3]) and not same(after, edited)
    finally:
        s.shutdown(timeout=5)


def test_switch_off_and_the_edit_agree():
    net = Network((784, 16, 16, 10), seed=3)
    p = switch_off(net.get_params(), 2, 11)
    q = NeuronEdit(2, 11, off=True).apply(net.get_params())
    assert all(np.array_equal(a, b) for a, b in zip(p, q))
    with pytest.raises(ValueError):
        switch_off(net.get_params(), 3, 0)
