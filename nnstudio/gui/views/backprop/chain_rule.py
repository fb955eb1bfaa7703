"""Tab “Chain rule”: ∂C/∂w = a_prev · σ′(z) · ∂C/∂a with live values, the sum over paths for earlier
layers, and the numerical derivative beside the engine's backprop."""

from __future__ import annotations

from nnstudio.components.explain import ParamRef, batch_nudges, chain_rule, fmt, layer_name, nudges
from nnstudio.gui.qt import QtWidgets, Qt
from nnstudio.gui.style import theme
from nnstudio.gui.views.backprop._common import _num, _Panel, _wrapped, as_pixels
from nnstudio.gui.views.backprop.all_neurons import NudgeDiagram


class ChainRulePanel(_Panel):
    """Tab 5: the chain rule for the selected parameter, with live values and the numerical check.

    Wide, the text stands right of the diagram and scrolls on its own; narrow, it stands under the
    diagram at its full height (the explorer scrolls)."""

    wide_at = 1000

    def __init__(self, view, parent=None):
        super().__init__(view, parent)
        self.diagram = NudgeDiagram(view, compact=True, on_click=view.select_parameter)
        self.layer_box = QtWidgets.QComboBox()
        self.layer_box.setToolTip("Weight layer: which layer the parameter feeds")
        self.row_box = QtWidgets.QSpinBox()
        self.row_box.setToolTip("The neuron it feeds")
        self.col_box = QtWidgets.QSpinBox()
        self.col_box.setMinimum(-1)
        self.col_box.setSpecialValueText("bias")
        self.col_box.setToolTip("The neuron it comes from (the lowest value is the bias)")
        for w in (self.layer_box,):
            w.currentIndexChanged.connect(self._picked)
        for w in (self.row_box, self.col_box):
            w.valueChanged.connect(self._picked)
        pick = QtWidgets.QHBoxLayout()
        pick.addWidget(QtWidgets.QLabel("Parameter: into"))
        pick.addWidget(self.layer_box)
        pick.addWidget(QtWidgets.QLabel("neuron"))
        pick.addWidget(self.row_box)
        pick.addWidget(QtWidgets.QLabel("from"))
        pick.addWidget(self.col_box)
        pick.addStretch(1)
        self.text = QtWidgets.QLabel()
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.scroll = scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setWidget(self.text)
        left = QtWidgets.QVBoxLayout()
        hint = _wrapped("Click any weight (edge), bias (neuron) or input pixel:")
        hint.setStyleSheet(f"color: {theme.MUTED};")
        left.addWidget(hint)
        left.addWidget(self.diagram, 1)
        left.addLayout(pick)
        self.flow = lay = QtWidgets.QBoxLayout(QtWidgets.QBoxLayout.Direction.LeftToRight, self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(left, 4)
        lay.addWidget(scroll, 5)
        self.result = None
        self._sizes = None
        self._updating = False

    def _arranged(self) -> None:
        self._fit_text()

    def resizeEvent(self, ev):
        super().resizeEvent(ev)
        self._fit_text()

    def _fit_text(self) -> None:
        """Stacked, the text is shown whole (no scroll bar of its own); side by side it scrolls."""
        need = 0
        if not self.wide:
            need = self.text.heightForWidth(max(1, self.scroll.viewport().width())) + 2
        if self.scroll.minimumHeight() != need:
            self.scroll.setMinimumHeight(need)

    def _sync_picker(self, sizes, ref):
        self._updating = True
        try:
            if sizes != self._sizes:
                self.layer_box.clear()
                for l in range(len(sizes) - 1):
                    self.layer_box.addItem(f"{layer_name(sizes, l + 1)}")
                self._sizes = sizes
            self.layer_box.setCurrentIndex(ref.layer)
            self.row_box.setMaximum(sizes[ref.layer + 1] - 1)
            self.col_box.setMaximum(sizes[ref.layer] - 1)
            self.row_box.setValue(ref.row)
            self.col_box.setValue(-1 if ref.col is None else ref.col)
        finally:
            self._updating = False

    def _picked(self, *_):
        if self._updating or self._sizes is None:
            return
        sizes = self._sizes
        l = max(0, self.layer_box.currentIndex())
        row = min(self.row_box.value(), sizes[l + 1] - 1)
        col = self.col_box.value()
        col = None if col < 0 else min(col, sizes[l] - 1)
        self.view.select_parameter(ParamRef(l, row, col))

    def refresh(self):
        v = self.view
        if v.network is None:
            return
        net, (x, label) = v.network, v.current_example
        ref = v.selected_parameter
        self._sync_picker(net.sizes, ref)
        nd = nudges(net, x, label)
        self.diagram.set_data(nd, as_pixels(x), net.sizes, v.class_names(), ref)
        cr = chain_rule(net, x, label, ref)
        self.result = cr
        self.text.setText(chain_rule_html(cr, net, v))
        self._fit_text()


def chain_rule_html(cr, net, view) -> str:
    ref, sizes = cr.ref, net.sizes
    L = len(sizes) - 1
    lj = ref.layer + 1  # neuron layer of the neuron it feeds
    f = "σ′" if net.layer_activation(ref.layer).name == "sigmoid" else f"{net.layer_activation(ref.layer).name}′"
    big = "font-size:15pt"
    mut = f"color:{theme.MUTED}; font-size:9pt"
    sym = "w" if not ref.is_bias else "b"
    src = ("1 (for a bias)" if ref.is_bias else
           f"a<sup style='{theme.SCRIPT}'>({ref.layer})</sup><sub style='{theme.SCRIPT}'>{ref.col}</sub>")
    src_note = ("a bias adds 1·b to z" if ref.is_bias else
                f"activation of {'pixel' if ref.layer == 0 else layer_name(sizes, ref.layer) + ' neuron'} {ref.col}")
    if cr.is_output:
        da_note = (f"2(a − y) = 2({fmt(cr.a)} − {fmt(cr.target)})" if net.cost.name == "quadratic" else
                   f"{view.formulas['dC_da']} with a = {fmt(cr.a)}, y = {fmt(cr.target)}")
    else:
        da_note = f"sum over the {len(cr.terms)} neurons of {layer_name(sizes, lj + 1)} (below)"
    fp_note = f"a(1 − a) with a = {fmt(cr.a)}" if f == "σ′" else f"at z = {fmt(cr.z)}"
    ok = cr.error <= 1e-6 * max(1.0, abs(cr.backprop))
    names = view.class_names()
    h = [
        f"<p style='font-size:11pt'><b style='color:{theme.ACCENT}'>{ref.label()}</b> — {ref.describe(sizes)}, "
        f"now {fmt(ref.value(net))}</p>",
        f"<p>For the current example (desired {names[cr.label]}; its cost C = {fmt(cr.cost)}), the chain rule "
        f"through z = w·a<sub style='{theme.SCRIPT}'>prev</sub> + b and a = {f[:-1]}(z):</p>",
        "<table cellspacing='0' cellpadding='5'>",
        f"<tr><td style='{big}'>∂C/∂{sym}</td><td style='{big}'>=</td>"
        f"<td align='center' style='{big}'>{src if not ref.is_bias else '1'}</td><td style='{big}'>·</td>"
        f"<td align='center' style='{big}'>{f}(z<sup style='font-size:15pt'>({lj})</sup><sub style='font-size:15pt'>{ref.row}</sub>)</td><td style='{big}'>·</td>"
        f"<td align='center' style='{big}'>∂C/∂a<sup style='font-size:15pt'>({lj})</sup><sub style='font-size:15pt'>{ref.row}</sub></td></tr>",
        f"<tr><td></td><td style='{big}'>=</td><td align='center' style='{big}'>{fmt(cr.a_prev)}</td>"
        f"<td style='{big}'>·</td><td align='center' style='{big}'>{fmt(cr.fprime)}</td><td style='{big}'>·</td>"
        f"<td align='center' style='{big}'>{_num(cr.dC_da)}</td></tr>",
        f"<tr><td></td><td></td><td align='center' style='{mut}'>{src_note}</td><td></td>"
        f"<td align='center' style='{mut}'>{fp_note}</td><td></td><td align='center' style='{mut}'>{da_note}</td></tr>",
        f"<tr><td></td><td style='{big}'>=</td><td colspan='5' style='{big}'><b>{_num(cr.product)}</b></td></tr>",
        "</table>",
        f"<p>Engine's backprop: <b>{_num(cr.backprop)}</b> &nbsp;·&nbsp; numerical derivative "
        f"(C(θ+ε) − C(θ−ε)) / 2ε, ε = 10<sup style='{theme.SCRIPT}'>−6</sup>: <b>{_num(cr.numerical)}</b> &nbsp;·&nbsp; "
        f"difference {fmt(cr.error, 2)} "
        + (f"<span style='color:{theme.GOOD}'>✓ they agree</span>" if ok else
           f"<span style='color:{theme.BAD}'>✗ they disagree</span>") + "</p>",
    ]
    if not cr.is_output:
        nxt = layer_name(sizes, lj + 1)
        fn = "σ′" if net.layer_activation(lj).name == "sigmoid" else f"{net.layer_activation(lj).name}′"
        h.append(f"<p style='font-size:11pt'><b>∂C/∂a<sup style='{theme.SCRIPT}'>({lj})</sup><sub style='{theme.SCRIPT}'>{ref.row}</sub> is a sum over paths</b>: "
                 f"this neuron reaches the cost through every neuron m of {nxt}:<br>"
                 f"∂C/∂a<sub style='{theme.SCRIPT}'>{ref.row}</sub> = Σ<sub style='{theme.SCRIPT}'>m</sub> w<sup style='{theme.SCRIPT}'>({lj + 1})</sup><sub style='{theme.SCRIPT}'>m,{ref.row}</sub> · "
                 f"{fn}(z<sub style='{theme.SCRIPT}'>m</sub>) · ∂C/∂a<sub style='{theme.SCRIPT}'>m</sub></p>")
        h.append("<table cellspacing='0' cellpadding='3'>"
                 f"<tr style='color:{theme.MUTED}'><td>m</td><td align='right'>w<sub style='{theme.SCRIPT}'>m,{ref.row}</sub></td>"
                 f"<td align='right'>{fn}(z<sub style='{theme.SCRIPT}'>m</sub>)</td><td align='right'>∂C/∂a<sub style='{theme.SCRIPT}'>m</sub></td>"
                 "<td align='right'>product</td></tr>")
        order = sorted(cr.terms, key=lambda t: -abs(t.product))
        shown = order[:12]
        for t in sorted(shown, key=lambda t: t.via):
            mname = names[t.via] if lj + 1 == L and t.via < len(names) else str(t.via)
            h.append(f"<tr><td>{mname}</td><td align='right'>{_num(t.weight)}</td><td align='right'>"
                     f"{fmt(t.fprime)}</td><td align='right'>{_num(t.dC_da)}</td><td align='right'>"
                     f"{_num(t.product)}</td></tr>")
        if len(order) > len(shown):
            rest = sum(t.product for t in order[len(shown):])
            h.append(f"<tr style='color:{theme.MUTED}'><td colspan='4'>… {len(order) - len(shown)} smaller terms</td>"
                     f"<td align='right'>{_num(rest)}</td></tr>")
        h.append(f"<tr><td colspan='4'><b>sum = ∂C/∂a<sub style='{theme.SCRIPT}'>{ref.row}</sub></b></td><td align='right'><b>"
                 f"{_num(sum(t.product for t in cr.terms))}</b></td></tr></table>")
        if lj + 1 < L:
            h.append(f"<p>Each ∂C/∂a<sub style='{theme.SCRIPT}'>m</sub> above is itself such a sum over the next layer. Unrolled, "
                     f"∂C/∂a<sub style='{theme.SCRIPT}'>{ref.row}</sub> is the sum over all <b>{cr.n_paths:,}</b> paths to the output "
                     f"(Π w·σ′ along the path × ∂C/∂a = {view.formulas['dC_da']} at its end)"
                     + (f" = {_num(cr.paths_sum)}. The largest:</p>" if cr.paths_sum is not None else ".</p>"))
            if cr.top_paths:
                h.append("<p>" + "<br>".join(
                    f"{ref.row} → " + " → ".join(
                        (names[n] if k == len(path) - 1 and n < len(names) else str(n)) for k, n in enumerate(path))
                    + f": {_num(val)}" for path, val in cr.top_paths) + "</p>")
    if view.batch is not None:
        X, y, _ = view.batch
        bn = batch_nudges(net, X, y, ref)
        h.append(f"<p style='color:{theme.MUTED}'>Over the {len(y)} examples of the mini-batch, ∂C/∂{sym} of the mean "
                 f"cost is the average of each example's: {fmt(-bn.average)} (tab “All examples”).</p>")
    return "\n".join(h)
