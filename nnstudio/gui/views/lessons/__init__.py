"""The guided lessons' panel (:class:`LessonsView`) and what sets a step up (:class:`LessonHost`)."""

from .host import LessonHost
from .view import LessonsView

__all__ = ["LessonHost", "LessonsView"]
