"""Applying the browser's edits to a viewer's model: put (add or change) and delete, by id.

A put on an annotation type's layer goes to the backend (the store's buffered session, or
memory); a put on a user layer changes the viewer's copy of that DataFrame. A refused op is
answered in the ``ack`` with its reason, and the browser is sent the state the kernel really
holds, so it never diverges silently.
"""

from __future__ import annotations

import logging
import uuid as _uuid

import numpy as np
import pandas as pd
import shapely

from ..errors import InvalidValueError
from . import encode
from .layers import Layer
from .model import ViewerModel
from .reconcile import push_rows

log = logging.getLogger(__name__)
BOX_COLUMNS = ["xmin", "ymin", "xmax", "ymax"]


def apply_edits(model: ViewerModel, msg: dict, l0_coords: np.ndarray, *, image, editable: bool) -> list[dict]:
    """Apply every op of an ``edits`` message; ack it; return the applied edits (dicts with
    action, uuid, layer, type, type_id, geometry, image, deleted, frame, source)."""
    at = 0
    errors, applied = [], []
    with model.lock:
        for op in msg["ops"]:
            try:
                if op["op"] == "put":
                    n = 2 * int(op["n"])
                    applied.append(_put(model, op, l0_coords[at:at + n], image=image, editable=editable))
                    at += n
                elif op["op"] == "delete":
                    applied.append(_delete(model, int(op["id"]), image=image, editable=editable))
            except Exception as exc:
                if op["op"] == "put":
                    at += 2 * int(op["n"])
                errors.append({"id": op["id"], "error": f"{op['op']} refused: {exc}"})
                _restore(model, int(op["id"]))
    model.send("ack", seq=msg["seq"], errors=errors)
    return [a for a in applied if a]


def _put(model: ViewerModel, op: dict, l0_xy: np.ndarray, *, image, editable: bool) -> dict:
    id_ = int(op["id"])
    layer = model.layers.get(op["layer"])
    if layer is None:
        raise InvalidValueError(f"unknown layer {op['layer']}")
    if not layer.editable or not editable:
        raise InvalidValueError(f"layer {layer.name!r} is not editable")
    geom = encode.geometry_of(op["kind"], l0_xy, op.get("rings"))
    ids = model.layers.ids
    known = model.layers.resolve(id_)
    uuid = known[1] if known else str(op.get("uuid") or _uuid.uuid4())
    action = "update" if known else "add"
    if layer.source == "user":
        _put_user(layer, uuid, geom)
    elif known is None:
        model.backend.add([{"uuid": uuid, "type_id": layer.type_id, "geometry": geom, "frame": model.frame}])
    else:
        if id_ in ids.deleted:
            model.backend.undelete([uuid])
            action = "add"
        fields = {"geometry": geom}
        if known[0] != layer.key:
            fields["type_id"] = layer.type_id
        model.backend.update(uuid, **fields)
    ids.deleted.discard(id_)
    if known is None or known[0] != layer.key:
        ids.add(id_, layer.key, uuid)
    if layer.source == "type" and model.backend.confirms_commits:
        model.sent[uuid] = (layer.type_id, geom)  # compared with what the store commits
    return _edit(action, uuid, layer, geom, image, model.frame)


def _delete(model: ViewerModel, id_: int, *, image, editable: bool) -> dict | None:
    ids = model.layers.ids
    known = model.layers.resolve(id_)
    if known is None or id_ in ids.deleted:
        return None
    layer = model.layers.get(known[0])
    if layer is None or not layer.editable or not editable:
        raise InvalidValueError("not editable")
    if layer.source == "user":
        rows = layer.frame
        ident = rows["uuid"] if "uuid" in rows.columns else rows.index.astype(str)
        rows.loc[ident == known[1], "_deleted"] = True
    else:
        model.backend.delete([known[1]])
        model.sent.pop(known[1], None)
    ids.deleted.add(id_)
    return _edit("delete", known[1], layer, None, image, model.frame)


def _edit(action: str, uuid: str, layer: Layer, geom, image, frame: int) -> dict:
    return {"action": action, "uuid": uuid, "layer": layer.name,
            "type": layer.name if layer.source == "type" else None, "type_id": layer.type_id,
            "geometry": geom, "image": image, "deleted": geom is None, "frame": frame, "source": layer.source}


def _put_user(layer: Layer, uuid: str, geom) -> None:
    rows = layer.frame
    if "uuid" not in rows.columns:
        rows["uuid"] = rows.index.astype(str)
        layer._uuid_index = None
    hit = rows.index[rows["uuid"] == uuid]
    has_boxes = set(BOX_COLUMNS) <= set(rows.columns)
    if len(hit):
        if "geometry" not in rows.columns:
            rows["geometry"] = shapely.box(rows["xmin"], rows["ymin"], rows["xmax"], rows["ymax"])
        rows.at[hit[0], "geometry"] = geom
        rows.at[hit[0], "_deleted"] = False
        if has_boxes:
            for k, v in zip(BOX_COLUMNS, geom.bounds):
                rows.at[hit[0], k] = v
    else:
        new = {"uuid": uuid, "geometry": geom, "_deleted": False}
        if has_boxes:
            new.update(dict(zip(BOX_COLUMNS, geom.bounds)))
        layer.frame = pd.concat([rows, pd.DataFrame([new])], ignore_index=True)


def _restore(model: ViewerModel, id_: int) -> None:
    """After a refused edit: send the browser the state the kernel really has."""
    known = model.layers.resolve(id_)
    if known is None:
        model.send("remove", [memoryview(np.array([id_], np.float64))], gen=model.gen)
        return
    layer = model.layers.get(known[0])
    if layer is not None and layer.source == "type":
        push_rows(model, model.backend.rows([known[1]]), reason="committed")
