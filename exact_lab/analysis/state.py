"""What a map last passed on to its sources: each map annotation's type, geometry and deleted flag,
and each user's verdict on it. ``sync`` compares the map's current annotations with this to find
what was edited on the map since. Kept as Parquet beside the virtual slide."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import shapely

ANNOTATIONS = "state.parquet"
VERDICTS = "verdicts.parquet"


def _paths(stem: Path) -> tuple[Path, Path]:
    return stem.with_name(f"{stem.name}.{ANNOTATIONS}"), stem.with_name(f"{stem.name}.{VERDICTS}")


def snapshot(map_annotations: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "map_uuid": map_annotations["uuid"].astype(str).to_numpy(),
        "type": map_annotations["type"].to_numpy(),
        "geometry": shapely.to_wkb(map_annotations["geometry"].to_numpy()),
        "deleted": map_annotations["deleted"].fillna(False).astype(bool).to_numpy(),
    })


def write_initial(stem: Path, map_annotations: pd.DataFrame) -> None:
    annotations, verdicts = _paths(stem)
    snapshot(map_annotations).to_parquet(annotations, index=False)
    pd.DataFrame({"map_uuid": pd.Series(dtype=str), "username": pd.Series(dtype=str),
                  "verified": pd.Series(dtype=bool)}).to_parquet(verdicts, index=False)


def read(stem: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    annotations, verdicts = _paths(stem)
    state = pd.read_parquet(annotations)
    state["geometry"] = shapely.from_wkb(state["geometry"].to_numpy())
    return state, pd.read_parquet(verdicts)


def write(stem: Path, state: pd.DataFrame, verdicts: pd.DataFrame) -> None:
    annotations, verdicts_path = _paths(stem)
    out = state.copy()
    out["geometry"] = shapely.to_wkb(out["geometry"].to_numpy())
    for frame, path in ((out, annotations), (verdicts, verdicts_path)):
        tmp = path.with_suffix(".partial")
        frame.to_parquet(tmp, index=False)
        tmp.replace(path)
