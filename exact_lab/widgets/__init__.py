"""Widgets: the SlideViewer (deck.gl front end in js/) and a small ipyleaflet bridge."""

from __future__ import annotations

from .viewer import SlideViewer

__all__ = ["SlideViewer", "slide_layer"]


def __getattr__(name):
    if name == "slide_layer":  # ipyleaflet is optional: import it only when asked for
        from .leaflet import slide_layer

        return slide_layer
    raise AttributeError(f"module 'exact_lab.widgets' has no attribute {name!r}")
