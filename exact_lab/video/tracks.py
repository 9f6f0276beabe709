"""Copy to a frame, and linear interpolation of a box between two keyframes.

An interpolated box at frame f between keyframes a (frame fa) and b (frame fb) has each edge at
``edge_a + (edge_b - edge_a) * (f - fa) / (fb - fa)``; the new boxes remember both keyframes in
their meta (``interpolated_from``), so a later edit of a keyframe can redo them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from shapely.geometry import box

from ..errors import InvalidValueError


def copy_to_frame(project, uuids, frame=None, offset: int = 1) -> list[str]:
    """Copies of the annotations on ``frame`` (default each one's own frame + ``offset``)."""
    rows = project.annotations(uuids=list(uuids))
    if rows.empty:
        raise InvalidValueError("no annotations to copy")
    frames = rows["frame"].fillna(0).astype(int) + offset if frame is None else pd.Series(int(frame), index=rows.index)
    check_frames(project, rows, frames)
    copies = pd.DataFrame({
        "image_id": rows["image_id"], "type": rows["type"], "geometry": rows["geometry"], "frame": frames,
        "description": rows["description"], "meta": [dict(m or {}, copied_from=u) for m, u in zip(rows["meta"], rows["uuid"])],
    })
    return project.add_annotations(copies)


def interpolate(first: pd.Series, last: pd.Series) -> pd.DataFrame:
    """Boxes for every frame strictly between two keyframe boxes (rows of ``annotations()``)."""
    if first["image_id"] != last["image_id"] or first["type"] != last["type"]:
        raise InvalidValueError(f"keyframes {first['uuid']} and {last['uuid']} must be of one image and one type")
    fa, fb = int(first["frame"] or 0), int(last["frame"] or 0)
    if fa == fb:
        raise InvalidValueError(f"keyframes {first['uuid']} and {last['uuid']} are on the same frame {fa}")
    if fa > fb:
        first, last, fa, fb = last, first, fb, fa
    a = np.array([first["xmin"], first["ymin"], first["xmax"], first["ymax"]], dtype=float)
    b = np.array([last["xmin"], last["ymin"], last["xmax"], last["ymax"]], dtype=float)
    frames = np.arange(fa + 1, fb)
    t = ((frames - fa) / (fb - fa))[:, None]
    edges = a + (b - a) * t
    return pd.DataFrame({
        "image_id": first["image_id"], "type": first["type"], "frame": frames,
        "geometry": [box(*e) for e in edges],
        "meta": [{"interpolated_from": [first["uuid"], last["uuid"]]} for _ in frames],
    })


def interpolate_boxes(project, first_uuid, last_uuid) -> list[str]:
    rows = project.annotations(uuids=[first_uuid, last_uuid]).set_index("uuid", drop=False)
    for uuid in (first_uuid, last_uuid):
        if uuid not in rows.index:
            raise InvalidValueError(f"no annotation {uuid}")
    new = interpolate(rows.loc[first_uuid], rows.loc[last_uuid])
    return project.add_annotations(new) if len(new) else []


def check_frames(project, rows, frames) -> None:
    counts = project.images(ids=rows["image_id"].unique().tolist()).set_index("image_id")["frames"].fillna(1)
    limit = rows["image_id"].map(counts).to_numpy()
    bad = (frames.to_numpy() < 0) | (frames.to_numpy() >= limit)
    if bad.any():
        k = int(np.nonzero(bad)[0][0])
        raise InvalidValueError(f"annotation {rows['uuid'].iloc[k]}: frame {int(frames.iloc[k])} outside "
                                f"0..{int(limit[k]) - 1} of image {rows['image_id'].iloc[k]}")


# -- tracks: boxes linked by copy and interpolation ----------------------------------------------

def track_of(rows: pd.DataFrame, uuid: str) -> pd.DataFrame:
    """The rows linked to ``uuid`` through ``copied_from`` and ``interpolated_from`` (both ways,
    transitively): one object followed through the frames."""
    links: dict[str, set[str]] = {u: set() for u in rows["uuid"]}
    for u, meta in zip(rows["uuid"], rows["meta"]):
        meta = meta or {}
        sources = [meta.get("copied_from")] + list(meta.get("interpolated_from") or [])
        for source in sources:
            if source in links:
                links[u].add(source)
                links[source].add(u)
    seen, todo = {uuid}, [uuid]
    while todo:
        for other in links.get(todo.pop(), ()):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return rows[rows["uuid"].isin(seen)]


def keyframes(rows: pd.DataFrame, track: pd.DataFrame) -> pd.DataFrame:
    """The boxes of ``track`` a person set, as CVAT's keyframes: not deleted, not interpolated, and
    either not a copy or a copy moved since it was made (edited, and no longer where the box it was
    copied from is). ``rows`` holds the image's boxes, deleted ones too, to find those sources."""
    boxes = rows.set_index("uuid")[["xmin", "ymin", "xmax", "ymax"]]
    keep = []
    for row in track.itertuples():
        meta = row.meta or {}
        if row.deleted or meta.get("interpolated_from"):
            keep.append(False)
            continue
        source = meta.get("copied_from")
        if source is None or source not in boxes.index:
            keep.append(True)
            continue
        edited = pd.notna(row.updated_at) and pd.notna(row.created_at) and row.updated_at > row.created_at
        moved = not np.isclose(boxes.loc[source].to_numpy(dtype=float),
                               np.array([row.xmin, row.ymin, row.xmax, row.ymax], dtype=float)).all()
        keep.append(edited and moved)
    return track[np.array(keep, dtype=bool)]


def keyframe_partner(project, uuid: str) -> str | None:
    """The keyframe a box interpolates towards: the nearest of its track's ``keyframes`` on a later
    frame, else on an earlier one. The track is followed through deleted boxes too, so deleting a
    keyframe leaves its neighbours one track and the next Shift+T spans the gap, as CVAT
    re-interpolates. None when there is none."""
    me = _one_box(project, uuid)
    rows = project.annotations(image=int(me["image_id"]), include_deleted=True)
    track = track_of(rows, uuid)
    frame = int(me["frame"] or 0)
    candidates = keyframes(rows, track[track["uuid"] != uuid])
    frames = candidates["frame"].fillna(0).astype(int)
    candidates = candidates[(frames != frame).to_numpy()]
    if candidates.empty:
        return None
    cand_frames = candidates["frame"].fillna(0).astype(int)
    later = candidates[cand_frames > frame]
    pick = later if len(later) else candidates
    distance = (pick["frame"].fillna(0).astype(int) - frame).abs()
    return str(pick.loc[distance.idxmin(), "uuid"])


def interpolate_track(project, uuid: str) -> list[str]:
    """Interpolate a box towards its keyframe partner (``keyframe_partner``): the track's boxes
    strictly between the two frames (unmoved copies, earlier interpolations) are deleted and
    replaced by interpolated ones. Returns the new uuids."""
    partner = keyframe_partner(project, uuid)
    if partner is None:
        raise InvalidValueError(f"box {uuid} has no keyframe partner: copy it to a later frame, move the copy, "
                                "then interpolate")
    rows = project.annotations(image=int(_one_box(project, uuid)["image_id"]), include_deleted=True)
    track = track_of(rows, uuid)
    track = track[~track["deleted"].fillna(False).astype(bool).to_numpy()]
    ends = track.set_index("uuid").loc[[uuid, partner], "frame"].fillna(0).astype(int)
    lo, hi = sorted(ends.tolist())
    frames = track["frame"].fillna(0).astype(int)
    between = track[(frames > lo).to_numpy() & (frames < hi).to_numpy()]
    if len(between):
        project.delete_annotations(between["uuid"].tolist())
    return interpolate_boxes(project, uuid, partner)


def _one_box(project, uuid: str) -> pd.Series:
    rows = project.annotations(uuids=[uuid])
    if rows.empty:
        raise InvalidValueError(f"no annotation {uuid}")
    row = rows.iloc[0]
    if row["vector_type"] not in ("box", "fixed_box"):
        raise InvalidValueError(f"annotation {uuid} is a {row['vector_type']} ({row['type']!r}); only boxes interpolate")
    return row
