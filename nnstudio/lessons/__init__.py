"""The guided lessons, one Markdown file per step (package data; see ``nnstudio.lessons.parser``)."""
