"""Where a viewer's annotations come from and its edits go: a project's store (through its
buffered edit session), or plain memory for a quick look at a bare file."""

from __future__ import annotations

import os
import uuid as _uuid
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from ..errors import InvalidValueError, UnknownImageError
from ..shared import palette_color

SCRATCH_TYPES = ["box", "fixed_box", "point", "ellipse", "line", "polyline", "polygon"]
SHOWN_COLUMNS = ["uuid", "image_id", "type", "type_id", "vector_type", "geometry", "frame",
                      "xmin", "ymin", "xmax", "ymax", "deleted"]


class ProjectBackend:
    """Annotations of one image of a project; edits go through ``project.session``."""

    confirms_commits = True  # the store answers each edit with the rows it committed

    def __init__(self, project, image):
        self.project = project
        self.set_image(image)

    def set_image(self, image) -> None:
        row = self.project.image(image)
        self.image_id = int(row["image_id"])
        self.record = row

    @property
    def key(self):
        return ("project", id(self.project), self.image_id)

    @property
    def label(self):
        return self.image_id

    def slide(self) -> dict:
        r = self.record
        return {"path": r["path"], "name": r.get("public_name") or r["name"],
                "pseudonymized": bool(r.get("pseudonymized")), "frames": int(r.get("frames") or 1)}

    def types(self) -> pd.DataFrame:
        return self.project.annotation_types()

    def annotations(self, frame: int) -> pd.DataFrame:
        frames = int(self.record.get("frames") or 1)
        return self.project.annotations(image=self.image_id, frame=frame if frames > 1 else None)

    def rows(self, uuids) -> pd.DataFrame:
        return self.project.annotations(image=self.image_id, uuids=list(uuids), include_deleted=True)

    # edits: checked by the session now (a bad one raises), committed about once a second
    def add(self, rows: list[dict]) -> list[str]:
        frame = pd.DataFrame(rows)
        frame["image_id"] = self.image_id
        return self.project.session.add(frame)

    def update(self, uuid: str, **fields) -> None:
        self.project.session.update(uuid, **fields)

    def delete(self, uuids) -> None:
        self.project.session.delete(list(uuids))

    def undelete(self, uuids) -> None:
        self.project.session.undelete(list(uuids))

    def pending(self) -> int:
        return self.project.session.pending

    def is_pending(self, uuid: str) -> bool:
        return self.project.session.is_pending(uuid)

    def neighbour(self, delta: int):
        """The image ``delta`` steps away in the same image set (None at either end)."""
        images = self.project.images(image_set=self.record.get("image_set_id"))
        ids = [int(i) for i in images["image_id"]]
        if self.image_id not in ids:
            return None
        k = ids.index(self.image_id) + delta
        return ids[k] if 0 <= k < len(ids) else None


class MemoryBackend:
    """A bare file with annotations kept in this kernel (quick look, no project)."""

    confirms_commits = False

    def __init__(self, path, annotations: pd.DataFrame | None = None, types=None):
        self.path = Path(os.path.abspath(Path(path).expanduser()))
        if not self.path.exists():
            raise UnknownImageError(f"no such file: {self.path}")
        self._types = _scratch_types() if types is None else _types_frame(types)
        self._frame = pd.DataFrame(columns=SHOWN_COLUMNS)
        if annotations is not None and len(annotations):
            self._frame = self._normalize(annotations)

    @property
    def key(self):
        return ("memory", id(self))

    @property
    def label(self):
        return str(self.path)

    @property
    def image_id(self):
        return str(self.path)

    def slide(self) -> dict:
        return {"path": str(self.path), "name": self.path.name, "pseudonymized": False, "frames": None}

    def types(self) -> pd.DataFrame:
        return self._types

    def _type_row(self, name_or_id):
        t = self._types
        hit = t[(t["type_id"] == name_or_id) | (t["name"] == name_or_id)]
        if hit.empty:
            raise InvalidValueError(f"unknown annotation type {name_or_id!r}; the viewer has: {', '.join(t['name'])}")
        return hit.iloc[0]

    def _normalize(self, df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        if "geometry" not in df.columns:
            df["geometry"] = shapely.box(df["xmin"], df["ymin"], df["xmax"], df["ymax"])
        if "type_id" not in df.columns:
            names = df["type"] if "type" in df.columns else pd.Series(["box"] * len(df))
            df["type_id"] = [self._type_row(n)["type_id"] for n in names]
        by_id = self._types.set_index("type_id")
        df["type"] = by_id.loc[df["type_id"], "name"].to_numpy()
        df["vector_type"] = by_id.loc[df["type_id"], "vector_type"].to_numpy()
        if "uuid" not in df.columns:
            df["uuid"] = [str(_uuid.uuid4()) for _ in range(len(df))]
        b = shapely.bounds(df["geometry"].to_numpy())
        df["xmin"], df["ymin"], df["xmax"], df["ymax"] = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
        df["frame"] = df["frame"].fillna(0).astype(int) if "frame" in df.columns else 0
        df["image_id"] = str(self.path)
        df["deleted"] = df["deleted"].astype(bool) if "deleted" in df.columns else False
        return df[SHOWN_COLUMNS + [c for c in df.columns if c not in SHOWN_COLUMNS]].reset_index(drop=True)

    def annotations(self, frame: int) -> pd.DataFrame:
        f = self._frame
        return f[(~f["deleted"]) & (f["frame"] == frame)].reset_index(drop=True)

    def all(self, include_deleted=False) -> pd.DataFrame:
        f = self._frame
        return f if include_deleted else f[~f["deleted"]].reset_index(drop=True)

    def rows(self, uuids) -> pd.DataFrame:
        return self._frame[self._frame["uuid"].isin(list(uuids))]

    def add(self, rows: list[dict]) -> list[str]:
        new = self._normalize(pd.DataFrame(rows))
        self._frame = pd.concat([self._frame, new], ignore_index=True) if len(self._frame) else new
        return list(new["uuid"])

    def update(self, uuid: str, geometry=None, type_id=None, type=None, **_) -> None:
        type_id = type if type_id is None else type_id
        hit = self._frame.index[self._frame["uuid"] == uuid]
        if not len(hit):
            raise InvalidValueError(f"no annotation {uuid}")
        i = hit[0]
        if geometry is not None:
            self._frame.at[i, "geometry"] = geometry
            for k, v in zip(("xmin", "ymin", "xmax", "ymax"), geometry.bounds):
                self._frame.at[i, k] = v
        if type_id is not None:
            t = self._type_row(type_id)
            self._frame.at[i, "type_id"] = t["type_id"]
            self._frame.at[i, "type"] = t["name"]
            self._frame.at[i, "vector_type"] = t["vector_type"]

    def delete(self, uuids) -> None:
        self._frame.loc[self._frame["uuid"].isin(list(uuids)), "deleted"] = True

    def undelete(self, uuids) -> None:
        self._frame.loc[self._frame["uuid"].isin(list(uuids)), "deleted"] = False

    def pending(self) -> int:
        return 0

    def is_pending(self, uuid: str) -> bool:
        return False

    def neighbour(self, delta: int):
        return None


def _scratch_types() -> pd.DataFrame:
    return pd.DataFrame({
        "type_id": list(range(1, len(SCRATCH_TYPES) + 1)),
        "name": SCRATCH_TYPES,
        "vector_type": SCRATCH_TYPES,
        "color": [palette_color(i) for i in range(len(SCRATCH_TYPES))],
        "default_width": [50.0] * len(SCRATCH_TYPES),
        "default_height": [50.0] * len(SCRATCH_TYPES),
        "sort_order": list(range(len(SCRATCH_TYPES))),
    })


def _types_frame(types) -> pd.DataFrame:
    """Types for a quick look: a DataFrame like ``annotation_types()`` or {name: vector_type}."""
    if isinstance(types, pd.DataFrame):
        t = types.copy()
    else:
        items = list(types.items()) if isinstance(types, dict) else [(n, n) for n in types]
        t = pd.DataFrame({"name": [n for n, _ in items], "vector_type": [v for _, v in items]})
    n = len(t)
    if "type_id" not in t.columns:
        t["type_id"] = np.arange(1, n + 1)
    if "color" not in t.columns:
        t["color"] = [palette_color(i) for i in range(n)]
    for col, default in (("default_width", 50.0), ("default_height", 50.0)):
        if col not in t.columns:
            t[col] = default
    if "sort_order" not in t.columns:
        t["sort_order"] = np.arange(n)
    return t.reset_index(drop=True)
