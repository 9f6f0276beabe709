"""The annotations a review computation works on, read through the store's public query (so a
collaboration mode's visibility applies), with geometry left as WKB until a polygon needs it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InvalidValueError, UnknownTypeError
from ..store.geometry import from_wkb_array
from .matching import MATCH_KIND

# Straight from the annotations table; type and image names are mapped afterwards from the small
# type and image tables instead of joined per row.
READ_COLUMNS = ("a.uuid::VARCHAR AS uuid, a.image_id, a.frame, a.type_id, a.creator, a.min_x AS xmin, "
                "a.min_y AS ymin, a.max_x AS xmax, a.max_y AS ymax, a.created_at, a.updated_at, a.score, a.source")


def read_objects(project, image_set=None, users=None, types=None, *, geometry: bool = False,
                 known: pd.DataFrame | None = None) -> pd.DataFrame:
    """Live (not deleted) annotations with the columns review needs; ``users`` keeps those
    creators only. ``geometry`` (WKB) is read only when asked: boxes and points match on their
    bounding-box columns. ``known`` is ``project.annotation_types()`` when the caller has it."""
    known = project.annotation_types() if known is None else known
    # The store's query (so a collaboration mode's visibility applies) with only these columns:
    # annotations(as_relation=True) materialised every column, WKB and meta included, and the
    # selection was read from that copy (measured at 100,000 boxes per user: see docs/review.md).
    query = objects_query(project, image_set, types, known)
    columns = READ_COLUMNS + (", a.geometry" if geometry else "")
    frame = project.sql(*query.select(columns)).to_arrow_table().to_pandas()
    if users is not None:
        users = [users] if isinstance(users, str) else list(users)
        frame = frame[frame["creator"].isin(users)]
    frame = with_names(project, frame, known)
    frame["frame"] = frame["frame"].fillna(0).astype(np.int64)
    return frame.reset_index(drop=True)


def objects_query(project, image_set, types, known: pd.DataFrame):
    """The store's annotation query (visibility rules applied) for a set and types."""
    query = project.annotation_query(image_set=image_set)
    if types is not None:
        # as literal ids: a type_id compared with a parameter (= ? or IN unnest(?)) read the lake
        # 6-7 s for 100,000 of 300,000 rows, the same ids written in the query 0.7-1.1 s
        # (DuckDB 1.5.5 with DuckLake, this machine, load 10-17); the ids are integers of the type table
        wanted = known.loc[known["name"].isin(type_names(project, types, known)), "type_id"].astype(int)
        query.where(f"a.type_id IN ({', '.join(str(int(t)) for t in wanted)})" if len(wanted) else "false")
    return query


def with_names(project, frame: pd.DataFrame, known: pd.DataFrame) -> pd.DataFrame:
    """``image``, ``type`` and ``vector_type`` mapped in from the small image and type tables."""
    by_id = known.set_index("type_id")
    frame.insert(4, "type", frame["type_id"].map(by_id["name"]))
    frame.insert(5, "vector_type", frame["type_id"].map(by_id["vector_type"]))
    images = project.images()[["image_id", "name"]].set_index("image_id")["name"]
    frame.insert(2, "image", frame["image_id"].map(images))
    return frame


def type_names(project, types, known: pd.DataFrame | None = None) -> list[str]:
    """Names of the types asked for by name or id; an unknown one is refused by name."""
    asked = [types] if isinstance(types, (str, int, np.integer)) else list(types)
    known = project.annotation_types() if known is None else known
    by_id = dict(zip(known["type_id"].astype(int), known["name"]))
    names = set(known["name"])
    out = []
    for t in asked:
        if isinstance(t, str) and t in names:
            out.append(t)
        elif isinstance(t, (int, np.integer)) and not isinstance(t, bool) and int(t) in by_id:
            out.append(by_id[int(t)])
        else:
            raise UnknownTypeError(f"unknown annotation type {t!r} (the project has: {', '.join(sorted(names)) or 'none yet'})")
    return out


def needs_geometry(project, types, known: pd.DataFrame | None = None) -> bool:
    """Whether any type asked for (all when None) is matched on its real outline (polygons)."""
    known = project.annotation_types() if known is None else known
    if types is not None:
        known = known[known["name"].isin(type_names(project, types, known))]
    return bool((known["vector_type"].map(MATCH_KIND) == "polygon").any())


def pick_users(objects: pd.DataFrame, users) -> list[str]:
    """The annotators to compare: the ones given (at least two), else every creator present."""
    if users is None:
        found = sorted(objects["creator"].dropna().unique())
        return found
    users = [users] if isinstance(users, str) else list(users)
    if len(set(users)) < 2:
        raise InvalidValueError(f"agreement needs two or more distinct users, got {users!r}")
    return users


def check_types(project, types, radius, known: pd.DataFrame | None = None) -> None:
    """Types asked for by name that agreement cannot match (lines, global labels, masks), or
    point types without a radius, are refused by name."""
    if types is None:
        return
    asked = {str(t) for t in ([types] if isinstance(types, (str, int)) else list(types))}
    known = project.annotation_types() if known is None else known
    for name, vector_type in zip(known["name"], known["vector_type"]):
        if name not in asked and str(known.loc[known["name"] == name, "type_id"].iloc[0]) not in asked:
            continue
        kind = MATCH_KIND.get(vector_type)
        if kind is None:
            raise InvalidValueError(f"type {name!r} ({vector_type}) cannot be matched: only boxes, ellipses, "
                                    "polygons and points")
        if kind == "point" and radius is None:
            raise InvalidValueError(f"type {name!r} holds points: they are matched within radius= pixels")


def matchable(objects: pd.DataFrame, radius) -> pd.DataFrame:
    """The objects agreement can match, with a ``kind`` column (points only with a radius)."""
    kinds = objects["vector_type"].map(MATCH_KIND)
    if radius is None:
        kinds = kinds.mask(kinds == "point")
    out = objects[kinds.notna()].copy()
    out["kind"] = kinds[kinds.notna()]
    return out


def geometry_of(part: pd.DataFrame, kind: str):
    """What ``matching.match`` takes for objects of one kind."""
    if kind == "box":
        return part[["xmin", "ymin", "xmax", "ymax"]].to_numpy(dtype=float)
    if kind == "point":
        return part[["xmin", "ymin"]].to_numpy(dtype=float)
    return from_wkb_array(part["geometry"].to_numpy())
