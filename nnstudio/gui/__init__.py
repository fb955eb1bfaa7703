"""The studio's Qt views.  Each module is one view; they hold no maths (they call
``nnstudio.core`` and ``nnstudio.data``) and get their state from the main window."""
