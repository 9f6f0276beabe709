"""exact-lab: a Jupyter-native annotation environment for whole-slide and ordinary images.

    import exact_lab as xl
    proj = xl.open_project("my-project", user="alice")
"""

from __future__ import annotations

from .errors import *  # noqa: F401,F403 - the exceptions are part of the public API
from .project import Project, open_project
from .slides import open_slide

__version__ = "0.1.0"

__all__ = ["Project", "open_project", "open_slide", "SlideViewer", "__version__"]


def __getattr__(name):
    # The widget pulls in anywidget and traitlets; import it only when asked for.
    if name == "SlideViewer":
        from .widgets import SlideViewer

        return SlideViewer
    raise AttributeError(f"module 'exact_lab' has no attribute {name!r}")


def _jupyter_server_extension_points():
    return [{"module": "exact_lab.server"}]
