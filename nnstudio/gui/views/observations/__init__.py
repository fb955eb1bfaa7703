"""The run explains itself: the feed of plain-language observations (:mod:`.feed`)."""

from nnstudio.gui.views.observations.feed import ObservationsFeed

__all__ = ["ObservationsFeed"]
