"""``proj.cluster_map``: features -> 2-D embedding -> each patch on its own grid cell near its
embedded position (``gridassign``) -> a virtual slide; selecting a group relabels its sources."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InvalidValueError
from . import virtual
from .build import as_annotations, make_map
from .embedding import embed
from .gridassign import SLACK, assign, grid_shape
from .layout import grid_for
from .windows import patch_sizes, plan_windows


def cluster_map(project, annotations, features=None, method: str = "umap", *, embedding=None, model=None,
                feature_patch: int = 64, patch_size=None, context: float = 0.15, slack: float = SLACK, seed: int = 0,
                gap: int = 2, compression: str = virtual.DEFAULT_COMPRESSION, workers: int = 4, **embed_options):
    frame = as_annotations(project, annotations)
    if embedding is None:
        if features is None:
            features = project.features(frame, model=model, patch_size=feature_patch, workers=workers)
        features = np.asarray(features)
        if len(features) != len(frame):
            raise InvalidValueError(f"{len(features)} feature rows for {len(frame)} annotations")
        embedding = embed(features, method, seed=seed, **embed_options)
    embedding = np.asarray(embedding, dtype=float)
    if embedding.shape != (len(frame), 2):
        raise InvalidValueError(f"the embedding must be {len(frame)} x 2, got {embedding.shape}")
    columns, rows = grid_shape(embedding, slack)
    cells = assign(embedding, columns, rows)
    col, row = cells % columns, cells // columns
    windows = plan_windows(frame, patch_sizes(project.annotation_types(), frame, patch_size), context)
    grid = grid_for(windows, columns, rows, gap)
    extra = pd.DataFrame({"embed_x": embedding[:, 0], "embed_y": embedding[:, 1], "col": col, "row": row})
    params = {"method": method if features is not None else "given", "columns": columns, "rows": rows,
              "context": context, "seed": seed}
    return make_map(project, frame, windows, grid.origins(col, row, windows), grid.size, kind="cluster_map",
                    extra=extra, params=params, compression=compression, workers=workers)
