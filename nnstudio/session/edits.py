"""Editing one neuron by hand: shift its bias, scale its incoming weights, switch it off.

The neuron inspector's controls are commands on the session (:meth:`Session.edit_neuron`,
:meth:`Session.reset_neuron_edit`); this module holds their logic, Qt-free.

* An edit is relative to **the network as it was when the edit began** (its *base*): a bias
  shift Δb adds Δb to the neuron's bias, so its weighted sum z = w·a + b moves by exactly Δb for
  every input; a weight scale s multiplies its incoming weights (z − b becomes s·(z − b)); **off**
  sets its outgoing weights to 0 (:func:`nnstudio.components.ablation.switch_off`: the next layer
  then gets nothing from it, exactly as if its activation were 0; its own z and a are unchanged).
  Dragging a slider sends many edits: each one recomputes the parameters from the base, so
  dragging back to 0 gives back the base bit for bit.
* Each change goes to the training process like any other outside change (``Session.adopt``):
  the network on screen, the saved file and the next mini-batch all use the edited weights
  ("keep training from here" is just Play).  Editing a running network pauses it first.
* **Undo**: each use of a control (a whole drag of the bias slider, a click of off) pushes one
  entry on the session's undo list (Training ▸ Undo), holding the parameters from before it, so
  undo is bit-identical.  **Reset** puts the base back and drops the edit's undo entries.
* The edit ends (and the next one starts from the network as it is then) when training goes on
  (Play, Batch, Epoch), when the weights change some other way (an undo, an explorer step, a new
  run), or when another neuron is edited.  Training lets the outgoing weights of a neuron that
  was switched off grow back: off is a change of the weights, not a lock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from nnstudio.components.ablation import hidden_layer, switch_off
from nnstudio.components.diagram import describe_neuron
from nnstudio.core import Network

#: the bias slider's reach either side of the base (a sigmoid is flat beyond |z| ≈ 10)
BIAS_SHIFT_RANGE = 10.0
#: the weight scale's range (0: the neuron ignores its inputs; 1: as trained)
WEIGHT_SCALE_RANGE = (0.0, 3.0)
FIELDS = ("bias_shift", "weight_scale", "off")


class EditError(ValueError):
    """An edit that cannot be made; the message is one line for the user."""


@dataclass(frozen=True)
class NeuronEdit:
    """One neuron's edit, relative to the base network.  ``layer`` counts as the diagram does
    (0 = input, 1 = first hidden layer, len(sizes) - 1 = output)."""

    layer: int
    index: int
    bias_shift: float = 0.0
    weight_scale: float = 1.0
    off: bool = False

    @property
    def neutral(self) -> bool:
        return self.bias_shift == 0.0 and self.weight_scale == 1.0 and not self.off

    def describe(self) -> str:
        """"bias +0.50, weights ×1.50, switched off" (or "no change")."""
        parts = []
        if self.bias_shift:
            parts.append(f"bias {self.bias_shift:+.2f}")
        if self.weight_scale != 1.0:
            parts.append(f"weights ×{self.weight_scale:.2f}")
        if self.off:
            parts.append("switched off")
        return ", ".join(parts) or "no change"

    def apply(self, params) -> list[np.ndarray]:
        """The parameters ``params`` (``Network.get_params()`` layout) with this edit made (copies)."""
        out = switch_off(params, self.layer, self.index) if self.off else [np.array(p, copy=True) for p in params]
        col = out[self.layer - 1][:, self.index]  # the neuron's incoming weights, then its bias (last row)
        if self.weight_scale != 1.0:
            col[:-1] *= self.weight_scale
        if self.bias_shift != 0.0:
            col[-1] += self.bias_shift
        return out


@dataclass(frozen=True)
class EditState:
    """What the session says about the edit in progress: the edit and the network it started from."""

    edit: NeuronEdit
    base: Network  # a private copy; never mutated


def check_edit(sizes, layer: int, index: int, changes: dict) -> dict:
    """The changes, checked and as numbers: raises EditError (one line) for what cannot be done."""
    sizes = tuple(sizes)
    if not 0 < layer < len(sizes) or not 0 <= index < sizes[layer]:
        raise EditError("only a neuron of a hidden layer or the output layer can be edited (the input "
                        "layer holds the image's pixels)")
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise EditError(f"unknown edit {', '.join(sorted(unknown))}")
    out = {}
    if changes.get("bias_shift") is not None:
        v = float(changes["bias_shift"])
        if not (math.isfinite(v) and abs(v) <= BIAS_SHIFT_RANGE):
            raise EditError(f"a bias shift must lie within ±{BIAS_SHIFT_RANGE:g}, not {v:g}")
        out["bias_shift"] = v
    if changes.get("weight_scale") is not None:
        v = float(changes["weight_scale"])
        lo, hi = WEIGHT_SCALE_RANGE
        if not (math.isfinite(v) and lo <= v <= hi):
            raise EditError(f"a weight scale must lie between {lo:g} and {hi:g}, not {v:g}")
        out["weight_scale"] = v
    if changes.get("off") is not None:
        off = bool(changes["off"])
        if off and not hidden_layer(sizes, layer):
            raise EditError("an output neuron cannot be switched off: it has no outgoing weights (its activation "
                            "is the network's answer); drag its bias down to silence it")
        out["off"] = off
    return out


class NeuronEditor:
    """The session's edit in progress (see the module docstring).  Owned by the session; it changes
    the weights only through the session's own ``adopt`` and undo list."""

    def __init__(self, session):
        self._s = session
        self._edit: NeuronEdit | None = None
        self._base: Network | None = None
        self._mark = None  # (generation, edits) right after the edit's last change
        self._pushed = 0  # entries this edit put on the session's undo list (the top ones)
        self._unsaved = False  # the session's unsaved flag before the edit
        self._last: tuple = ()  # the control(s) the last change moved
        self._applying = False
        session.events.network.connect(self._on_network)

    # ------------------------------------------------------------------ reading
    @property
    def state(self) -> EditState | None:
        """The edit in progress, or None."""
        if self._edit is None or self._mark != self._order():
            return None
        return EditState(self._edit, self._base)

    def current(self, layer: int, index: int) -> NeuronEdit:
        """The edit in progress of that neuron, or a neutral one."""
        st = self.state
        if st is not None and (st.edit.layer, st.edit.index) == (layer, index):
            return st.edit
        return NeuronEdit(int(layer), int(index))

    # ------------------------------------------------------------------ commands
    def set(self, layer: int, index: int, **changes) -> bool:
        s = self._s
        net = s.network
        if net is None:
            return False
        layer, index = int(layer), int(index)
        values = check_edit(net.sizes, layer, index, changes)
        st = self.state
        if st is None or (st.edit.layer, st.edit.index) != (layer, index):
            self._end()
            self._edit, self._base = NeuronEdit(layer, index), net.copy()
            self._pushed, self._unsaved = 0, s.unsaved
        new = replace(self._edit, **values)
        if new == self._edit:
            return False
        if s.running:
            s.pause()
            s._say("Paused to edit the neuron: Play keeps training from the edited network")
        moved = tuple(f for f in FIELDS if getattr(new, f) != getattr(self._edit, f))
        fresh = moved != self._last  # (a drag of one control is one undo step; another control starts the next)
        edited = self._base.copy()
        edited.set_params(new.apply(self._base.params))
        name = f"edit of {describe_neuron(layer, index, len(net.sizes))} ({new.describe()})"
        self._applying = True
        try:
            if not s.adopt(edited, name, undoable=fresh):
                return False
        finally:
            self._applying = False
        self._last = moved
        self._pushed += fresh
        self._edit = new
        self._mark = self._order()
        s.events.edit.emit(self.state)
        return True

    def reset(self) -> bool:
        """Back to the network from before the edit, bit for bit; its undo entries go."""
        st = self.state
        if st is None:
            return False
        s = self._s
        self._applying = True
        try:
            s.adopt(st.base, "reset", undoable=False)
        finally:
            self._applying = False
        del s._undo[max(0, len(s._undo) - self._pushed):]
        if not self._unsaved and s.unsaved:
            s.unsaved = False
            s.events.origin.emit(s.origin)
        self._end()
        s._say(f"Reset {describe_neuron(st.edit.layer, st.edit.index, len(st.base.sizes))}: as it was before the edit")
        return True

    def commit(self) -> None:
        """Training goes on from the edited network: the edit ends (its undo entries stay)."""
        self._end()

    def _on_network(self, _snapshot) -> None:
        """The weights changed some other way (an undo, a step, a new run): the edit has ended."""
        if not self._applying and self._edit is not None and self._mark != self._order():
            self._end()

    def _end(self) -> None:
        if self._edit is None:
            return
        self._edit = self._base = self._mark = None
        self._last = ()
        self._s.events.edit.emit(None)

    def _order(self):
        return (self._s.generation, self._s.edits)

