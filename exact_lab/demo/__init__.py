"""The demo: a generated slide with annotations in a project store, and the quickstart notebook."""

from .build import build_demo
from .slide import make_demo_slide

__all__ = ["build_demo", "make_demo_slide"]
