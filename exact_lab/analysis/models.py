"""What the room asks of a model: how to call it on a batch, and its name and version."""

from __future__ import annotations

import numpy as np

from ..errors import InvalidValueError


def call(model, batch: np.ndarray, methods: tuple[str, ...] = ("predict",)):
    """``model(batch)`` for a callable (a function, a torch module wrapped by the user); else the
    first of ``methods`` it has (scikit-learn's ``transform``, a ``predict``)."""
    if callable(model):
        return model(batch)
    for method in methods:
        if hasattr(model, method):
            return getattr(model, method)(batch)
    raise InvalidValueError(f"a model is a callable or has {' or '.join(methods)}; got {type(model).__name__}")


def identity(model, name=None, version=None) -> tuple[str, str | None]:
    """(name, version): the given ones, else the model's attributes, else its function or class
    name and no version."""
    name = name or getattr(model, "name", None) or getattr(model, "__name__", None) or type(model).__name__
    version = version if version is not None else getattr(model, "version", None)
    return str(name), None if version is None else str(version)
