"""Analysis in the kernel: annotation maps, density maps, features, clustering and inference.

    m = proj.annotation_map(types="mitotic figure")     # a virtual slide of crops
    m.relabel("tumor cell", box=(0, 0, 500, 500))         # edits flow back to the sources
    run = proj.infer(model, image=image_id, kind="detection", name="nuclei", version="1")

Importing ``exact_lab`` loads only ``mixin``; the rest (pyvips, scikit-learn, umap, dask) loads
when a method is first called.
"""

from __future__ import annotations

_PUBLIC = {
    "AnnotationMap": "maps", "DensityMap": "maps", "ClusterMap": "maps", "open_map": "maps", "find_map": "maps",
    "SyncReport": "sync",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'exact_lab.analysis' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)
