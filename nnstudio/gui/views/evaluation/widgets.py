"""Painted widgets of the evaluation view: a thumbnail gallery, the confusion matrix, bars.

They only draw what they are given (arrays, numbers, captions) and report clicks; no
maths here.  Each exposes the rectangle of its clickable parts (``item_rect``,
``cell_rect``, ``thumb_rect``) so tests can click exactly where a person would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import draw_pixels, mix, scaled_font, to_qimage
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.gui.widgets.output_bars import OutputBars

_BG = QtGui.QColor(theme.BACKGROUND)
_PANEL = QtGui.QColor(theme.PANEL)
_TEXT = QtGui.QColor(theme.TEXT)
_MUTED = QtGui.QColor(theme.MUTED)
_ACCENT = QtGui.QColor(theme.ACCENT)
_BLUE = QtGui.QColor(*theme.POSITIVE)
_RED = QtGui.QColor(*theme.NEGATIVE)


# --------------------------------------------------------------------------- gallery
@dataclass
class GalleryItem:
    image: np.ndarray  # (28, 28) grey (uint8 or 0..1) or (28, 28, 3) RGB
    caption: str = ""
    detail: str = ""
    color: str | None = None  # caption colour (e.g. theme.BAD for a mistake)
    tooltip: str = ""
    key: object = None  # whatever the owner needs to act on a click


class ThumbnailGallery(QtWidgets.QAbstractScrollArea):
    """A scrolling grid of pixel-exact thumbnails with a caption and a detail line."""

    itemClicked = Signal(int)

    def __init__(self, scale: int = 2, parent=None, lines: int = 2, min_text_width: int = 0):
        super().__init__(parent)
        self._items: list[GalleryItem] = []
        self._cache: dict[int, QtGui.QImage] = {}
        self._scale = scale
        self._lines = lines
        self._min_text_width = min_text_width
        self._hover = -1
        self._selected = -1
        self._placeholder = ""
        self._fit = False
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.viewport().setMouseTracking(True)
        self.viewport().setAutoFillBackground(False)
        self.verticalScrollBar().valueChanged.connect(self.viewport().update)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)

    # ---- data
    def set_items(self, items: list[GalleryItem], keep_scroll: bool = False) -> None:
        self._items = list(items)
        self._cache.clear()
        self._hover = -1
        self._selected = -1
        self._relayout()
        if not keep_scroll:
            self.verticalScrollBar().setValue(0)
        if self._fit:
            self.updateGeometry()
        self.viewport().update()

    def items(self) -> list[GalleryItem]:
        return list(self._items)

    def set_fit_height(self, fit: bool = True) -> None:
        """``fit``: as tall as its items need at its width, without a scroll bar of its own (the page
        around it scrolls); otherwise it scrolls within the height its layout gives it."""
        self._fit = fit
        policy = self.sizePolicy()
        policy.setVerticalPolicy(QtWidgets.QSizePolicy.Policy.Preferred if fit else
                                 QtWidgets.QSizePolicy.Policy.Expanding)
        policy.setHeightForWidth(fit)
        self.setSizePolicy(policy)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff if fit else
                                        Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.updateGeometry()

    def rows_height(self, rows: int) -> int:
        """The height that shows ``rows`` rows of thumbnails."""
        return rows * self._metrics()[2] + 8

    def hasHeightForWidth(self) -> bool:
        return self._fit

    def heightForWidth(self, w: int) -> int:
        _, cw, _, _ = self._metrics()
        return self.rows_height(max(1, -(-len(self._items) // max(1, (w - 8) // cw))))

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.viewport().update()

    def set_selected(self, index: int) -> None:
        self._selected = index
        self.viewport().update()

    # ---- geometry
    def _metrics(self):
        fm = QtGui.QFontMetrics(scaled_font(self, 0.85))
        side = 28 * self._scale
        cw = max(side, self._min_text_width) + 10
        ch = side + 8 + self._lines * fm.height() + 6
        return side, cw, ch, fm

    def _columns(self) -> int:
        _, cw, _, _ = self._metrics()
        return max(1, (self.viewport().width() - 8) // cw)

    def content_height(self) -> int:
        _, _, ch, _ = self._metrics()
        rows = -(-len(self._items) // self._columns()) if self._items else 0
        return rows * ch + 8

    def _relayout(self) -> None:
        h = self.content_height()
        sb = self.verticalScrollBar()
        sb.setRange(0, max(0, h - self.viewport().height()))
        sb.setPageStep(max(1, self.viewport().height()))
        sb.setSingleStep(self._metrics()[2] // 3)

    def resizeEvent(self, e):
        super().resizeEvent(e)
        self._relayout()

    def sizeHint(self):
        _, cw, ch, _ = self._metrics()
        if self._fit:
            return QtCore.QSize(cw * 6 + 24, self.heightForWidth(cw * 6 + 24))
        return QtCore.QSize(cw * 6 + 24, ch * 2 + 16)

    def minimumSizeHint(self):
        _, cw, ch, _ = self._metrics()
        return QtCore.QSize(cw + 24, ch + 8)

    def item_rect(self, i: int) -> QtCore.QRect:
        """The thumbnail's image rectangle of item ``i`` in viewport coordinates (after scrolling)."""
        side, cw, ch, _ = self._metrics()
        cols = self._columns()
        r, c = divmod(i, cols)
        x = 4 + c * cw + (cw - side) // 2
        y = 4 + r * ch + 4 - self.verticalScrollBar().value()
        return QtCore.QRect(x, y, side, side)

    def _cell_rect(self, i: int) -> QtCore.QRect:
        side, cw, ch, _ = self._metrics()
        cols = self._columns()
        r, c = divmod(i, cols)
        return QtCore.QRect(4 + c * cw, 4 + r * ch - self.verticalScrollBar().value(), cw, ch)

    def index_at(self, pos) -> int:
        _, cw, ch, _ = self._metrics()
        x, y = pos.x() - 4, pos.y() - 4 + self.verticalScrollBar().value()
        if x < 0 or y < 0:
            return -1
        c, r = x // cw, y // ch
        cols = self._columns()
        if c >= cols:
            return -1
        i = r * cols + c
        return i if 0 <= i < len(self._items) else -1

    def ensure_visible(self, i: int) -> None:
        rect = self._cell_rect(i)
        sb = self.verticalScrollBar()
        if rect.top() < 0:
            sb.setValue(sb.value() + rect.top())
        elif rect.bottom() > self.viewport().height():
            sb.setValue(sb.value() + rect.bottom() - self.viewport().height() + 4)

    # ---- painting
    def _image(self, i: int) -> QtGui.QImage:
        img = self._cache.get(i)
        if img is None:
            img = self._cache[i] = to_qimage(self._items[i].image)
        return img

    def paintEvent(self, e):
        p = QtGui.QPainter(self.viewport())
        p.fillRect(self.viewport().rect(), _BG)
        if not self._items:
            if self._placeholder:
                p.setPen(_MUTED)
                p.drawText(self.viewport().rect().adjusted(12, 12, -12, -12),
                           Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder)
            p.end()
            return
        side, cw, ch, fm = self._metrics()
        cols = self._columns()
        top = self.verticalScrollBar().value()
        first = max(0, (top - 4) // ch) * cols
        last = min(len(self._items), ((top + self.viewport().height()) // ch + 1) * cols)
        small = scaled_font(self, 0.85)
        p.setFont(small)
        for i in range(first, last):
            it = self._items[i]
            cell = self._cell_rect(i)
            if i == self._hover or i == self._selected:
                p.fillRect(cell.adjusted(1, 1, -1, -1), _PANEL)
            r = self.item_rect(i)
            draw_pixels(p, r, self._image(i))
            if i == self._selected or i == self._hover:
                p.setPen(QtGui.QPen(_ACCENT if i == self._selected else _MUTED, 2))
                p.drawRect(r.adjusted(-1, -1, 0, 0))
            ty = r.bottom() + 4
            tw = cell.width() - 4
            for j, (text, col) in enumerate(((it.caption, it.color or theme.TEXT), (it.detail, theme.MUTED))):
                if j >= self._lines or not text:
                    continue
                p.setPen(QtGui.QColor(col))
                p.drawText(QtCore.QRect(cell.left() + 2, ty + j * fm.height(), tw, fm.height()),
                           Qt.AlignmentFlag.AlignHCenter, fm.elidedText(text, Qt.TextElideMode.ElideRight, tw))
        p.end()

    # ---- mouse
    def mouseMoveEvent(self, e):
        i = self.index_at(e.position().toPoint())
        if i != self._hover:
            self._hover = i
            self.viewport().setCursor(Qt.CursorShape.PointingHandCursor if i >= 0 else Qt.CursorShape.ArrowCursor)
            self.viewport().update()

    def leaveEvent(self, e):
        self._hover = -1
        self.viewport().update()
        super().leaveEvent(e)

    def mousePressEvent(self, e):
        e.accept()

    def mouseReleaseEvent(self, e):
        if e.button() != Qt.MouseButton.LeftButton:
            return
        i = self.index_at(e.position().toPoint())
        if i >= 0:
            self._selected = i
            self.viewport().update()
            self.itemClicked.emit(i)

    def viewportEvent(self, e):
        if e.type() == QtCore.QEvent.Type.ToolTip:
            i = self.index_at(e.pos())
            if i >= 0 and self._items[i].tooltip:
                QtWidgets.QToolTip.showText(e.globalPos(), self._items[i].tooltip, self.viewport())
            else:
                QtWidgets.QToolTip.hideText()
            return True
        return super().viewportEvent(e)


# --------------------------------------------------------------------------- confusion matrix
class ConfusionMatrixWidget(QtWidgets.QWidget):
    """A heat map of counts: rows are the true class, columns what the network read.

    The diagonal (correct) is blue, the shade showing the fraction of the row; mistakes
    are red, the shade scaled to the worst confusion so the common ones stand out.
    """

    cellClicked = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._m: np.ndarray | None = None
        self._names: tuple[str, ...] = tuple(str(i) for i in range(10))
        self._selected: tuple[int, int] | None = None
        self._hover: tuple[int, int] | None = None
        self.setMouseTracking(True)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)

    def set_matrix(self, confusion, class_names=None) -> None:
        self._m = None if confusion is None else np.asarray(confusion, dtype=np.int64)
        if class_names is not None:
            self._names = tuple(class_names)
        self._selected = None
        self.updateGeometry()  # (its least size follows the widest count)
        self.update()

    def min_cell(self) -> int:
        """The least side of a cell: its count (and a class name) fit with a margin."""
        fm = QtGui.QFontMetrics(scaled_font(self, 0.9))
        n = len(self._names) if self._m is None else len(self._m)
        texts = [self._short(k) for k in range(n)] + ["888"]
        if self._m is not None:
            texts.append(f"{int(self._m.max()):,}")
        return max(fm.height() + 6, max(fm.horizontalAdvance(t) for t in texts) + 10)

    def minimumSizeHint(self):
        n, left, top, _ = self._geometry()
        side = n * self.min_cell()
        return QtCore.QSize(left + side + 6, top + side + 6)

    def matrix(self) -> np.ndarray | None:
        return None if self._m is None else self._m.copy()

    def cell_text(self, t: int, p: int) -> str:
        """The count drawn in cell (true t, predicted p)."""
        return "" if self._m is None else f"{int(self._m[t, p]):,}"

    def set_selected(self, cell) -> None:
        self._selected = cell
        self.update()

    def sizeHint(self):
        return QtCore.QSize(440, 440)

    def _geometry(self):
        n = len(self._names) if self._m is None else len(self._m)
        fm = QtGui.QFontMetrics(scaled_font(self, 0.9))
        left = fm.height() + 6 + max(fm.horizontalAdvance(self._short(k)) for k in range(n)) + 8
        top = fm.height() + 6 + fm.height() + 6
        size = max(10, min(self.width() - left - 6, self.height() - top - 6))
        cell = size // n
        return n, left, top, cell

    def _short(self, k: int) -> str:
        name = self._names[k] if k < len(self._names) else str(k)
        return name if len(name) <= 3 else str(k)

    def cell_rect(self, t: int, p: int) -> QtCore.QRect:
        n, left, top, cell = self._geometry()
        return QtCore.QRect(left + p * cell, top + t * cell, cell, cell)

    def cell_at(self, pos):
        if self._m is None:
            return None
        n, left, top, cell = self._geometry()
        x, y = pos.x() - left, pos.y() - top
        if x < 0 or y < 0 or cell <= 0:
            return None
        p, t = x // cell, y // cell
        return (int(t), int(p)) if t < n and p < n else None

    def paintEvent(self, e):
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
        p.fillRect(self.rect(), _BG)
        n, left, top, cell = self._geometry()
        fm_font = scaled_font(self, 0.9)
        p.setFont(fm_font)
        fm = QtGui.QFontMetrics(fm_font)
        # axis titles
        p.setPen(_MUTED)
        p.drawText(QtCore.QRect(left, 2, n * cell, fm.height()), Qt.AlignmentFlag.AlignHCenter, "read as →")
        p.save()
        p.translate(2 + fm.height(), top + n * cell / 2)
        p.rotate(-90)
        p.drawText(QtCore.QRect(-n * cell // 2, -fm.height(), n * cell, fm.height()), Qt.AlignmentFlag.AlignHCenter,
                   "true class →" if any(len(s) > 3 for s in self._names) else "true digit →")
        p.restore()
        for k in range(n):
            p.setPen(_TEXT)
            p.drawText(QtCore.QRect(left + k * cell, top - fm.height() - 4, cell, fm.height()),
                       Qt.AlignmentFlag.AlignHCenter, self._short(k))
            p.drawText(QtCore.QRect(fm.height() + 6, top + k * cell, left - fm.height() - 12, cell),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self._short(k))
        if self._m is None:
            p.setPen(_MUTED)
            p.drawText(QtCore.QRect(left, top, n * cell, n * cell), Qt.AlignmentFlag.AlignCenter, "not evaluated yet")
            p.end()
            return
        m = self._m
        rows = m.sum(axis=1).astype(float)
        frac = m / np.maximum(rows, 1)[:, None]
        off = frac.copy()
        np.fill_diagonal(off, 0)
        worst = off.max() or 1.0
        p.setFont(fm_font)  # (the counts in the axes' size: the cells are never narrower than a count)
        for t in range(n):
            for q in range(n):
                r = self.cell_rect(t, q)
                if t == q:
                    col = mix(_PANEL, _BLUE, 0.25 + 0.75 * frac[t, q])
                elif m[t, q]:
                    col = mix(_PANEL, _RED, 0.15 + 0.85 * (off[t, q] / worst))
                else:
                    col = _PANEL
                p.fillRect(r.adjusted(0, 0, -1, -1), col)
                bright = 0.299 * col.red() + 0.587 * col.green() + 0.114 * col.blue()
                p.setPen(QtGui.QColor("#0b0d10") if bright > 150 else (_MUTED if m[t, q] == 0 else _TEXT))
                p.drawText(r, Qt.AlignmentFlag.AlignCenter, self.cell_text(t, q))
        for cellpos, colour in ((self._hover, _MUTED), (self._selected, _ACCENT)):
            if cellpos is not None:
                p.setPen(QtGui.QPen(colour, 2))
                p.drawRect(self.cell_rect(*cellpos).adjusted(1, 1, -2, -2))
        p.end()

    def mouseMoveEvent(self, e):
        c = self.cell_at(e.position().toPoint())
        if c != self._hover:
            self._hover = c
            self.setCursor(Qt.CursorShape.PointingHandCursor if c else Qt.CursorShape.ArrowCursor)
            if c is not None and self._m is not None:
                t, q = c
                total = int(self._m[t].sum())
                pct = f" ({100 * self._m[t, q] / total:.1f}% of the {self._names[t]}s)" if total else ""
                what = "read correctly" if t == q else f"read as {self._names[q]}"
                self.setToolTip(f"true {self._names[t]}, {what}: {int(self._m[t, q]):,}{pct}\nclick to see them")
            self.update()

    def leaveEvent(self, e):
        self._hover = None
        self.update()
        super().leaveEvent(e)

    def mouseReleaseEvent(self, e):
        if e.button() != Qt.MouseButton.LeftButton:
            return
        c = self.cell_at(e.position().toPoint())
        if c is not None:
            self._selected = c
            self.update()
            self.cellClicked.emit(*c)


# --------------------------------------------------------------------------- per-class bars
class ClassBars(QtWidgets.QWidget):
    """Horizontal bars: the fraction of each class read correctly, with the overall accuracy marked."""

    classClicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._values: list[float | None] = []
        self._names: tuple[str, ...] = ()
        self._overall: float | None = None
        self.setMouseTracking(True)

    def value_text(self, k: int) -> str:
        v = self._values[k]
        return "–" if v is None else f"{100 * v:.1f}%"

    def _row(self, k: int) -> QtCore.QRect:
        n = max(1, len(self._values))
        h = (self.height() - 8) / n
        return QtCore.QRect(0, int(4 + k * h), self.width(), int(h))

    def sizeHint(self):
        return QtCore.QSize(300, 260).expandedTo(self.minimumSizeHint())

    def minimumSizeHint(self):
        fm = QtGui.QFontMetrics(scaled_font(self, 0.9))
        n = max(10, len(self._values))
        label = max([fm.horizontalAdvance(name) for name in self._names] + [0]) + 10
        return QtCore.QSize(label + 80 + fm.horizontalAdvance("100.0%") + 10, n * (fm.height() + 2) + 8)

    def set_values(self, values, class_names, overall=None) -> None:
        self._values = list(values)
        self._names = tuple(class_names)
        self._overall = overall
        self.updateGeometry()
        self.update()

    def paintEvent(self, e):
        p = QtGui.QPainter(self)
        p.fillRect(self.rect(), _BG)
        if not self._values:
            p.end()
            return
        f = scaled_font(self, 0.9)
        p.setFont(f)
        fm = QtGui.QFontMetrics(f)
        label_w = max(fm.horizontalAdvance(n) for n in self._names) + 10
        value_w = fm.horizontalAdvance("100.0%") + 10
        x0, x1 = label_w, self.width() - value_w
        lowest = min((v for v in self._values if v is not None), default=None)
        for k, v in enumerate(self._values):
            r = self._row(k)
            bar_h = max(4, min(r.height() - 6, 18))
            y = r.center().y() - bar_h // 2
            p.setPen(_TEXT)
            p.drawText(QtCore.QRect(0, r.top(), label_w - 8, r.height()),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self._names[k])
            p.fillRect(QtCore.QRect(x0, y, x1 - x0, bar_h), _PANEL)
            if v is not None:
                col = _RED if v == lowest and len(self._values) > 1 else _BLUE
                p.fillRect(QtCore.QRect(x0, y, int((x1 - x0) * v), bar_h), col)
            p.setPen(_TEXT)
            p.drawText(QtCore.QRect(x1 + 6, r.top(), value_w, r.height()),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.value_text(k))
        if self._overall is not None:
            x = x0 + int((x1 - x0) * self._overall)
            p.setPen(QtGui.QPen(_ACCENT, 1.5, Qt.PenStyle.DashLine))
            p.drawLine(x, 2, x, self.height() - 2)
        p.end()

    def mouseReleaseEvent(self, e):
        for k in range(len(self._values)):
            if self._row(k).contains(e.position().toPoint()):
                self.classClicked.emit(k)
                return


# --------------------------------------------------------------------------- neuron cards
@dataclass
class NeuronCard:
    title: str
    subtitle: str
    main: np.ndarray  # (28, 28) grey 0..1 or (28, 28, 3) RGB
    thumbs: list = field(default_factory=list)  # [(image (28, 28), caption)]
    main_caption: str = ""
    tooltip: str = ""


class NeuronGrid(QtWidgets.QAbstractScrollArea):
    """Cards of neurons: a big image (its weights, or the input that maximises it) and its top test images."""

    thumbClicked = Signal(int, int)  # card, slot (-1 = the big image)

    MAIN = 3  # scale of the big image
    THUMB = 2  # scale of the top images

    def __init__(self, parent=None):
        super().__init__(parent)
        self._cards: list[NeuronCard] = []
        self._cache: dict = {}
        self._hover = None
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.viewport().setMouseTracking(True)
        self.verticalScrollBar().valueChanged.connect(self.viewport().update)

    def set_cards(self, cards: list[NeuronCard], keep_scroll: bool = True) -> None:
        self._cards = list(cards)
        self._cache.clear()
        self._relayout()
        if not keep_scroll:
            self.verticalScrollBar().setValue(0)
        self.viewport().update()

    def cards(self) -> list[NeuronCard]:
        return list(self._cards)

    def _metrics(self):
        fm = QtGui.QFontMetrics(scaled_font(self, 0.85))
        main = 28 * self.MAIN
        th = 28 * self.THUMB
        k = max((len(c.thumbs) for c in self._cards), default=0)
        title_h = fm.height() + 2
        cw = 10 + main + 12 + max(k * (th + 6), fm.horizontalAdvance("M" * 18)) + 10
        ch = max(main + fm.height() + 4, title_h * 2 + th + fm.height() + 4) + 16
        return fm, main, th, cw, ch

    def _columns(self) -> int:
        return max(1, (self.viewport().width() - 8) // self._metrics()[3])

    def _relayout(self):
        _, _, _, _, ch = self._metrics()
        rows = -(-len(self._cards) // self._columns()) if self._cards else 0
        sb = self.verticalScrollBar()
        sb.setRange(0, max(0, rows * ch + 8 - self.viewport().height()))
        sb.setPageStep(max(1, self.viewport().height()))
        sb.setSingleStep(ch // 3)

    def resizeEvent(self, e):
        super().resizeEvent(e)
        self._relayout()

    def sizeHint(self):
        _, _, _, cw, ch = self._metrics()
        return QtCore.QSize(cw * 2 + 20, ch * 3)

    def _card_rect(self, i: int) -> QtCore.QRect:
        _, _, _, cw, ch = self._metrics()
        cols = self._columns()
        cw = max(cw, (self.viewport().width() - 8) // cols)  # stretch the cards to fill the row
        r, c = divmod(i, cols)
        return QtCore.QRect(4 + c * cw, 4 + r * ch - self.verticalScrollBar().value(), cw - 6, ch - 6)

    def thumb_rect(self, card: int, slot: int) -> QtCore.QRect:
        """Rectangle (viewport coordinates) of a card's big image (slot -1) or its top image ``slot``."""
        fm, main, th, _, _ = self._metrics()
        cr = self._card_rect(card)
        if slot < 0:
            return QtCore.QRect(cr.left() + 8, cr.top() + 8, main, main)
        x = cr.left() + 8 + main + 12 + slot * (th + 6)
        y = cr.top() + 8 + 2 * (fm.height() + 2) + 2
        return QtCore.QRect(x, y, th, th)

    def hit(self, pos):
        for i in range(len(self._cards)):
            if not self._card_rect(i).contains(pos):
                continue
            for slot in [-1] + list(range(len(self._cards[i].thumbs))):
                if self.thumb_rect(i, slot).contains(pos):
                    return i, slot
            return None
        return None

    def ensure_visible(self, card: int) -> None:
        r = self._card_rect(card)
        sb = self.verticalScrollBar()
        if r.top() < 0:
            sb.setValue(sb.value() + r.top() - 4)
        elif r.bottom() > self.viewport().height():
            sb.setValue(sb.value() + r.bottom() - self.viewport().height() + 4)

    def _img(self, key, arr):
        img = self._cache.get(key)
        if img is None:
            img = self._cache[key] = to_qimage(arr)
        return img

    def paintEvent(self, e):
        p = QtGui.QPainter(self.viewport())
        p.fillRect(self.viewport().rect(), _BG)
        fm, main, th, _, _ = self._metrics()
        small = scaled_font(self, 0.85)
        bold = scaled_font(self, 0.95, bold=True)
        vh = self.viewport().height()
        for i, card in enumerate(self._cards):
            cr = self._card_rect(i)
            if cr.bottom() < 0 or cr.top() > vh:
                continue
            p.fillRect(cr, _PANEL)
            mr = self.thumb_rect(i, -1)
            draw_pixels(p, mr, self._img((i, -1), card.main))
            p.setFont(small)
            if card.main_caption:
                p.setPen(_MUTED)
                p.drawText(QtCore.QRect(mr.left() - 4, mr.bottom() + 2, main + 8, fm.height()),
                           Qt.AlignmentFlag.AlignHCenter, card.main_caption)
            tx = mr.right() + 12
            p.setFont(bold)
            p.setPen(_TEXT)
            p.drawText(QtCore.QRect(tx, cr.top() + 6, cr.right() - tx - 4, fm.height() + 2),
                       Qt.AlignmentFlag.AlignLeft, card.title)
            p.setFont(small)
            p.setPen(_MUTED)
            p.drawText(QtCore.QRect(tx, cr.top() + 6 + fm.height() + 2, cr.right() - tx - 4, fm.height() + 2),
                       Qt.AlignmentFlag.AlignLeft,
                       fm.elidedText(card.subtitle, Qt.TextElideMode.ElideRight, cr.right() - tx - 4))
            for k, (arr, cap) in enumerate(card.thumbs):
                r = self.thumb_rect(i, k)
                draw_pixels(p, r, self._img((i, k), arr))
                p.setPen(_MUTED)
                p.drawText(QtCore.QRect(r.left() - 3, r.bottom() + 2, th + 6, fm.height()),
                           Qt.AlignmentFlag.AlignHCenter, cap)
            if self._hover is not None and self._hover[0] == i:
                p.setPen(QtGui.QPen(_ACCENT, 2))
                p.drawRect(self.thumb_rect(*self._hover).adjusted(-1, -1, 0, 0))
        p.end()

    def mouseMoveEvent(self, e):
        h = self.hit(e.position().toPoint())
        if h != self._hover:
            self._hover = h
            self.viewport().setCursor(Qt.CursorShape.PointingHandCursor if h else Qt.CursorShape.ArrowCursor)
            self.viewport().update()

    def leaveEvent(self, e):
        self._hover = None
        self.viewport().update()
        super().leaveEvent(e)

    def mousePressEvent(self, e):
        e.accept()

    def mouseReleaseEvent(self, e):
        if e.button() != Qt.MouseButton.LeftButton:
            return
        h = self.hit(e.position().toPoint())
        if h is not None:
            self.thumbClicked.emit(*h)

    def viewportEvent(self, e):
        if e.type() == QtCore.QEvent.Type.ToolTip:
            h = self.hit(e.pos())
            if h is not None and self._cards[h[0]].tooltip:
                QtWidgets.QToolTip.showText(e.globalPos(), self._cards[h[0]].tooltip, self.viewport())
            else:
                QtWidgets.QToolTip.hideText()
            return True
        return super().viewportEvent(e)


# --------------------------------------------------------------------------- probe cards
class CardFlow(QtWidgets.QLayout):
    """Cards of one size in as many columns as the width holds, wrapping to more rows when narrow (its
    height follows its width: ``heightForWidth``)."""

    def __init__(self, parent=None, spacing: int = 8):
        super().__init__(parent)
        self._items: list[QtWidgets.QLayoutItem] = []
        self.setSpacing(spacing)
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, i):
        return self._items[i] if 0 <= i < len(self._items) else None

    def takeAt(self, i):
        return self._items.pop(i) if 0 <= i < len(self._items) else None

    def expandingDirections(self):
        return Qt.Orientation(0)

    def _cell(self) -> QtCore.QSize:
        """A card's least width and its height."""
        shown = [it for it in self._items if not it.isEmpty()] or self._items
        return QtCore.QSize(max((it.minimumSize().width() for it in shown), default=0),
                            max((it.sizeHint().height() for it in shown), default=0))

    def columns(self, width: int) -> int:
        m, cell = self.contentsMargins(), self._cell()
        inner = width - m.left() - m.right()
        return max(1, min(len(self._items), (inner + self.spacing()) // max(1, cell.width() + self.spacing())))

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        m, cell = self.contentsMargins(), self._cell()
        rows = -(-len(self._items) // self.columns(width))
        return rows * cell.height() + (rows - 1) * self.spacing() + m.top() + m.bottom()

    def minimumSize(self) -> QtCore.QSize:
        m, cell = self.contentsMargins(), self._cell()
        return QtCore.QSize(cell.width() + m.left() + m.right(), cell.height() + m.top() + m.bottom())

    def sizeHint(self) -> QtCore.QSize:
        m, cell, n = self.contentsMargins(), self._cell(), len(self._items)
        return QtCore.QSize(n * cell.width() + (n - 1) * self.spacing() + m.left() + m.right(),
                            cell.height() + m.top() + m.bottom())

    def setGeometry(self, rect: QtCore.QRect) -> None:
        super().setGeometry(rect)
        m, cell, sp = self.contentsMargins(), self._cell(), self.spacing()
        r = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        cols = self.columns(rect.width())
        w = (r.width() - (cols - 1) * sp) / cols
        for k, it in enumerate(self._items):
            row, col = divmod(k, cols)
            it.setGeometry(QtCore.QRect(round(r.left() + col * (w + sp)), r.top() + row * (cell.height() + sp),
                                        round(w), cell.height()))


class ProbeCard(QtWidgets.QFrame):
    """One noise-test input: the image, the ten output activations and the network's answer."""

    clicked = Signal()

    def __init__(self, title: str, parent=None):
        super().__init__(parent)
        self.setObjectName("probeCard")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._title = QtWidgets.QLabel(title)
        self._title.setFont(scaled_font(self, 1.05, bold=True))
        self.image = QtWidgets.QLabel()
        self.image.setFixedSize(112, 112)
        self.bars = OutputBars(layout="columns")
        self.answer = QtWidgets.QLabel()
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.addWidget(self._title)
        lay.addWidget(self.image, 0, Qt.AlignmentFlag.AlignHCenter)
        self.bars.setMinimumSize(110, 80)
        self.bars.setMaximumHeight(150)
        lay.addWidget(self.bars, 1)
        lay.addWidget(self.answer)
        self.setToolTip("click to make this the current input (drawing pad, diagram, backprop)")

    def set_result(self, pixels, outputs, digit, confidence, class_names) -> None:
        img = to_qimage(np.asarray(pixels).reshape(28, 28))
        self.image.setPixmap(QtGui.QPixmap.fromImage(img).scaled(
            112, 112, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation))
        self.bars.set_values(outputs, class_names)
        name = class_names[digit] if digit < len(class_names) else str(digit)
        tone = theme.BAD if confidence > 0.5 else theme.MUTED
        self.answer.setText(
            f"reads <b style='color:{theme.ACCENT}'>{name}</b> · activation <b style='color:{tone}'>{confidence:.2f}</b>"
        )
        self.answer.setToolTip(f"the brightest output neuron is {name}, with activation {confidence:.3f}")

    def mouseReleaseEvent(self, e):
        if e.button() == Qt.MouseButton.LeftButton and self.rect().contains(e.position().toPoint()):
            self.clicked.emit()
