"""The SlideViewer widget: a slide with editable annotation layers, in the notebook.

    viewer = xl.SlideViewer("slides/a.svs")            # quick look, annotations kept in memory
    viewer = proj.viewer(image_id)                       # annotations of a project's image
    viewer.tool = "polygon"; viewer.selected; viewer.goto(x, y, zoom=1.0)

Geometry goes to the browser as binary chunks (``encode.py``), edits come back as small deltas
by id (``_on_edits``) and go to the store's buffered session; ``sync.py`` keeps other viewers of
the same image current. Nothing large is kept in widget state (traits hold only small JSON).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid as _uuid
from pathlib import Path

import anywidget
import numpy as np
import pandas as pd
import shapely
import traitlets as t

from ..errors import InvalidValueError
from ..shared import palette_color
from . import encode, source, sync
from .backend import MemoryBackend, ProjectBackend
from .layers import IdMap, Layer
from .tiles import CommTileServer

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent.parent / "static"
TOOLS = ("pan", "select", "lasso", "box", "fixed_box", "point", "ellipse", "line", "polyline", "polygon")
NUMBER_KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"]


class SlideViewer(anywidget.AnyWidget):
    """A whole-slide image with annotation layers. See the module docstring."""

    _esm = STATIC / "viewer.js"

    # small JSON state only (it may be saved in the notebook)
    _source = t.Dict().tag(sync=True)
    _types = t.List().tag(sync=True)
    _layers = t.List().tag(sync=True)
    _goto = t.Dict(allow_none=True, default_value=None).tag(sync=True)
    _transport_active = t.Unicode("").tag(sync=True)
    transport = t.Enum(["auto", "server", "comm"], default_value="auto").tag(sync=True)
    tool = t.Enum(list(TOOLS), default_value="pan").tag(sync=True)
    frame = t.Int(0).tag(sync=True)
    view = t.Dict().tag(sync=True)
    brightness = t.Float(0.0).tag(sync=True)
    contrast = t.Float(1.0).tag(sync=True)
    gamma = t.Float(1.0).tag(sync=True)
    channels = t.List(t.Bool(), default_value=[True, True, True]).tag(sync=True)
    annotations_visible = t.Bool(True).tag(sync=True)
    editable = t.Bool(True).tag(sync=True)
    height = t.Unicode("600px").tag(sync=True)

    def __init__(self, source=None, *, project=None, image=None, transport="auto", annotations=None,
                 types=None, height="600px", editable=True, **kwargs):
        super().__init__(transport=transport, height=height, editable=editable, **kwargs)
        if project is None and source is None:
            raise InvalidValueError("SlideViewer needs a slide: SlideViewer(path) or project.viewer(image)")
        self._lock = threading.RLock()
        self._gen = 0
        self._batch = 0
        self._next_id = 0
        self._goto_n = 0
        self._layer_map: dict[str, Layer] = {}
        self._ids = IdMap()
        self._selected = np.zeros(0, np.float64)
        self._sent: dict[str, tuple] = {}  # uuid -> (type_id, geometry) last sent to the store
        self._edit_callbacks: list = []
        self._screening_callbacks: list = []
        self._verify_callbacks: list = []
        self._hello = False
        # timings: kernel-side preparation, and what the browser reports once data is on screen
        self.perf: dict = {}
        self._group = None
        self._tiles = CommTileServer(self._send_threadsafe)
        if project is not None:
            self._backend = ProjectBackend(project, image if image is not None else source)
        else:
            self._backend = MemoryBackend(source, annotations=annotations, types=types)
        self.on_msg(self._on_msg)
        self._load_image()

    # -- public API ------------------------------------------------------------------------------
    @property
    def project(self):
        return getattr(self._backend, "project", None)

    @property
    def image(self):
        """The image shown: its id in the project (a path for a quick look). Settable."""
        return self._backend.image_id

    @image.setter
    def image(self, value) -> None:
        if not isinstance(self._backend, ProjectBackend):
            self._backend = MemoryBackend(value, types=self._backend.types())
        else:
            self._backend.set_image(value)
        with self.hold_trait_notifications():
            self.frame = 0
        self._load_image()

    @property
    def transport_active(self) -> str:
        """What the browser uses for tiles: "server", "comm", "none" (or "" before display)."""
        return self._transport_active

    @property
    def annotations(self) -> pd.DataFrame:
        """What the viewer shows: the image's annotations (this frame) and every user layer,
        with a ``layer`` column."""
        frames = [self._backend.annotations(self.frame).assign(layer=lambda d: d["type"])]
        for layer in self._layer_map.values():
            if layer.source == "user":
                frames.append(self._user_rows(layer).assign(layer=layer.name))
        frames = [f for f in frames if len(f)]
        return pd.concat(frames, ignore_index=True) if frames else frames_empty()

    @property
    def selected(self) -> pd.DataFrame:
        """The selection in the browser, as rows (store rows for annotations, user-layer rows)."""
        with self._lock:
            found = self._resolve_many(self._selected)
        parts = []
        type_uuids = [u for key, u in found if self._layer_map.get(key) and self._layer_map[key].source == "type"]
        if type_uuids:
            rows = self._backend.rows(type_uuids)
            rows = rows[~rows["deleted"]] if "deleted" in rows.columns else rows
            parts.append(rows.assign(layer=rows["type"]))
        for key in {k for k, _ in found}:
            layer = self._layer_map.get(key)
            if layer is not None and layer.source == "user":
                uuids = {u for k, u in found if k == key}
                rows = self._user_rows(layer)
                ident = rows["uuid"] if "uuid" in rows.columns else rows.index.astype(str)
                parts.append(rows[ident.isin(uuids)].assign(layer=layer.name))
        parts = [p for p in parts if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else frames_empty()

    @selected.setter
    def selected(self, value) -> None:
        if value is None:
            uuids = []
        elif isinstance(value, pd.DataFrame):
            uuids = list(value["uuid"]) if "uuid" in value.columns else list(value.index.astype(str))
        elif isinstance(value, str):
            uuids = [value]
        else:
            uuids = list(value)
        with self._lock:
            ids = self._ids_of_many([str(u) for u in uuids])
            self._selected = ids[ids >= 0].astype(np.float64)
        self.send({"type": "select", "gen": self._gen}, [memoryview(self._selected)])

    def goto(self, x: float, y: float, zoom: float | None = None) -> None:
        """Centre the view on level-0 pixel (x, y); ``zoom`` is screen pixels per image pixel
        (1.0 = full resolution, 0.25 = a quarter)."""
        self._goto_n += 1
        self._goto = {"x": float(x), "y": float(y), "scale": None if zoom is None else float(zoom), "n": self._goto_n}

    def fit(self, bbox=None) -> None:
        """Show the box (x0, y0, x1, y1) in level-0 pixels, or the whole image."""
        if bbox is None:
            bbox = (0, 0, self._source.get("width", 1), self._source.get("height", 1))
        self._goto_n += 1
        self._goto = {"bbox": [float(v) for v in bbox], "n": self._goto_n}

    def add_layer(self, df, name: str, style: dict | None = None, editable: bool = False) -> None:
        """Show a DataFrame (``geometry`` column of shapely objects, or ``xmin ymin xmax ymax``)
        as a layer; ``style`` keys: color, opacity, line_width, fill_opacity, point_radius,
        visible. Edits of an editable layer change the viewer's copy (``layer(name)``) and call
        ``on_edit`` callbacks; they are not written to the store."""
        key = f"u:{name}"
        style = dict(style or {})
        color = style.pop("color", palette_color(len(self._layer_map) + 3))
        df = df.reset_index(drop=True) if isinstance(df, pd.DataFrame) else pd.DataFrame(df)
        layer = Layer(key=key, name=name, source="user", frame=df.copy(), color=color, editable=editable,
                      **{k: v for k, v in style.items() if k in ("visible", "opacity", "line_width", "fill_opacity", "point_radius")})
        layer.frame["_deleted"] = False
        t0 = time.perf_counter()
        with self._lock:
            if key in self._layer_map:
                self._drop(key)
            if "geometry" in df.columns:
                layer.columns = encode.geometry_columns(df["geometry"].to_numpy())
            else:
                layer.columns = [encode.box_columns(df[["xmin", "ymin", "xmax", "ymax"]].to_numpy())]
            self._place(layer)
            self._layer_map[key] = layer
        self.perf["prepare_s"] = time.perf_counter() - t0
        self._publish_layers()
        if self._hello:
            self._send_layer_batch([layer])

    def remove_layer(self, name: str) -> None:
        key = f"u:{name}"
        with self._lock:
            if key not in self._layer_map:
                raise KeyError(f"no layer named {name!r}")
            self._drop(key)
        self._publish_layers()

    def layer(self, name: str) -> pd.DataFrame:
        """The current rows of a user layer (edits included)."""
        return self._user_rows(self._layer_map[f"u:{name}"])

    @property
    def layers(self) -> pd.DataFrame:
        """Every layer with its look and count."""
        return pd.DataFrame(self._layers)

    def style_layer(self, name: str, **style) -> None:
        """Change a layer's look: visible, opacity, color, line_width, fill_opacity, point_radius."""
        out = []
        for meta in self._layers:
            if meta["name"] == name or meta["key"] == name:
                meta = {**meta, **style}
                layer = self._layer_map.get(meta["key"])
                if layer:
                    for k, v in style.items():
                        setattr(layer, k, v)
            out.append(meta)
        self._layers = out

    def on_edit(self, callback) -> None:
        """Call ``callback(edit)`` for each edit made in the browser; ``edit`` is a dict with
        action ("add", "update", "delete"), uuid, layer, type, geometry, image."""
        self._edit_callbacks.append(callback)

    def on_screening(self, callback) -> None:
        """Call ``callback({"dx", "dy", "bounds"})`` when w / a / s / d move the view."""
        self._screening_callbacks.append(callback)

    def on_verify(self, callback) -> None:
        """Call ``callback(selected DataFrame)`` when f is pressed."""
        self._verify_callbacks.append(callback)

    def close(self):
        sync.leave(self, self._group)
        self._tiles.close()
        super().close()

    # -- loading ---------------------------------------------------------------------------------
    def _load_image(self) -> None:
        b = self._backend
        slide = b.slide()
        sync.leave(self, self._group)
        self._group = sync.join(self, b)
        meta = source.describe(slide["path"], name=slide["name"], pseudonymized=slide["pseudonymized"])
        self._tiles.set_slide(slide["path"])
        with self._lock:
            self._source = meta
            self._load_annotations()
        if self._hello:
            self._send_all()

    def _load_annotations(self) -> None:
        """(Re)build every type layer from the backend; user layers keep their data."""
        user = [layer for layer in self._layer_map.values() if layer.source == "user"]
        self._layer_map = {}
        self._ids.clear()
        self._next_id = 0
        types = self._backend.types().sort_values("sort_order", kind="stable").reset_index(drop=True)
        df = self._backend.annotations(self.frame).reset_index(drop=True)
        by_type = df.groupby("type_id").indices if len(df) else {}
        t0 = time.perf_counter()
        type_meta = []
        for i, row in types.iterrows():
            key = f"t:{row['type_id']}"
            layer = Layer(key=key, name=str(row["name"]), source="type", frame=df, type_id=_plain(row["type_id"]),
                          vector_type=row["vector_type"], color=row.get("color") or palette_color(i),
                          editable=True)
            pos = by_type.get(row["type_id"], np.zeros(0, np.int64))
            if len(pos) and row["vector_type"] not in ("global",):
                boxes = df[["xmin", "ymin", "xmax", "ymax"]].to_numpy()[pos] if row["vector_type"] in encode.BOX_TYPES else None
                cols = encode.geometry_columns(df["geometry"].to_numpy()[pos], row["vector_type"], boxes=boxes)
                for c in cols:
                    c.rows = pos[c.rows]
                layer.columns = cols
            self._place(layer)
            self._layer_map[key] = layer
            type_meta.append({
                "index": i, "type_id": _plain(row["type_id"]), "name": str(row["name"]),
                "vector_type": row["vector_type"], "color": layer.color,
                "default_width": _num(row.get("default_width")), "default_height": _num(row.get("default_height")),
                "key": NUMBER_KEYS[i] if i < len(NUMBER_KEYS) else None, "layer": key,
            })
        for layer in user:
            self._place(layer)
            self._layer_map[layer.key] = layer
        self.perf["prepare_s"] = time.perf_counter() - t0
        self._types = type_meta
        self._publish_layers()

    def _place(self, layer: Layer) -> None:
        """Order each kind of shape spatially and give the layer its range of ids."""
        w, h = self._source.get("width") or 1, self._source.get("height") or 1
        cols = []
        for c in layer.columns:
            # always, not only above one chunk: the browser culls by slices of consecutive shapes,
            # which are compact only in this order (unordered, every slice spans the slide and a
            # full-resolution view drew all of them)
            if len(c) > 1:
                c = encode.reorder(c, encode.spatial_order(c.bounds, (0, 0, w, h)))
            cols.append(c)
        layer.columns = cols
        layer.id_start = self._next_id
        layer.rows = np.concatenate([c.rows for c in cols]) if cols else np.zeros(0, np.int64)
        layer._uuid_index = None
        self._next_id += len(layer.rows) + 1

    def _drop(self, key: str) -> None:
        del self._layer_map[key]
        self.send({"type": "drop", "gen": self._gen, "layer": key})

    def _publish_layers(self) -> None:
        type_index = {m["layer"]: m["index"] for m in self._types}
        old = {m["key"]: m for m in self._layers}
        metas = []
        for layer in self._layer_map.values():
            m = layer.meta(type_index.get(layer.key))
            prev = old.get(layer.key)
            if prev:  # keep what the user changed in the browser
                for k in ("visible", "opacity", "color"):
                    m[k] = prev.get(k, m[k])
            metas.append(m)
        self._layers = metas

    @t.observe("_layers")
    def _layers_changed(self, change) -> None:
        for m in change["new"]:
            layer = self._layer_map.get(m["key"])
            if layer is not None:
                layer.visible, layer.opacity, layer.color = m["visible"], m["opacity"], m["color"]

    @t.observe("frame")
    def _frame_changed(self, change) -> None:
        frames = self._source.get("frames") or 1
        if not 0 <= change["new"] < frames:
            self.frame = max(0, min(frames - 1, change["new"]))
            return
        with self._lock:
            self._load_annotations()
        if self._hello:
            self._send_all()

    # -- sending ---------------------------------------------------------------------------------
    def _send_threadsafe(self, content, buffers=None) -> None:
        try:
            self.send(content, buffers or [])
        except Exception as exc:  # the comm may be closed while a thread finishes
            log.debug("exact-lab: send failed: %s", exc)

    def _send_all(self) -> None:
        with self._lock:
            self._gen += 1
            self.send({"type": "reset", "gen": self._gen})
            self._send_layer_batch(list(self._layer_map.values()))
            if len(self._selected):
                self.send({"type": "select", "gen": self._gen}, [memoryview(self._selected)])

    def _send_layer_batch(self, layers) -> None:
        self._batch += 1
        self.perf = {"prepare_s": self.perf.get("prepare_s"), "batch": self._batch, "sent_at": time.perf_counter()}
        for layer in layers:
            k = 0
            id_start = layer.id_start
            for c in layer.columns:
                for head, buffers in encode.chunk_payloads(c, id_start):
                    self.send({"type": "chunk", "gen": self._gen, "batch": self._batch, "layer": layer.key, "chunk": k, **head}, buffers)
                    k += 1
                id_start += len(c)
        self.send({"type": "done", "gen": self._gen, "batch": self._batch})

    # -- messages from the browser ---------------------------------------------------------------
    def _on_msg(self, _widget, msg, buffers) -> None:
        kind = msg.get("type")
        try:
            if kind == "hello":
                self._hello = True
                self._send_all()
            elif kind == "tile":
                self._tiles.request(msg)
            elif kind == "tile_cancel":
                self._tiles.cancel(msg["req"])
            elif kind == "edits":
                self._on_edits(msg, buffers)
            elif kind == "selection":
                if msg.get("gen") == self._gen:
                    self._selected = _f64(buffers[0]) if buffers else np.zeros(0)
            elif kind == "drawn":
                if msg.get("batch") == self._batch:
                    self.perf.update({k: v for k, v in msg.items() if k not in ("type", "batch")})
                    self.perf["drawn_s"] = time.perf_counter() - self.perf.get("sent_at", time.perf_counter())
            elif kind == "navigate":
                nxt = self._backend.neighbour(int(msg.get("delta", 1)))
                if nxt is None:
                    self.send({"type": "notice", "text": "no further image in this image set"})
                else:
                    self.image = nxt
            elif kind == "screening":
                for cb in self._screening_callbacks:
                    cb({"dx": msg["dx"], "dy": msg["dy"], "bounds": msg["bounds"]})
            elif kind == "verify":
                self._selected = _f64(buffers[0]) if buffers else self._selected
                if not self._verify_callbacks:
                    self.send({"type": "notice", "level": "warn", "text": "no verification handler (viewer.on_verify)"})
                for cb in self._verify_callbacks:
                    cb(self.selected)
        except Exception as exc:
            log.exception("exact-lab: viewer message %s failed", kind)
            self.send({"type": "notice", "level": "error", "text": f"{type(exc).__name__}: {exc}"})

    def _on_edits(self, msg, buffers) -> None:
        coords = _f64(buffers[0]) if buffers else np.zeros(0)
        at = 0
        errors, applied = [], []
        with self._lock:
            for op in msg["ops"]:
                try:
                    if op["op"] == "put":
                        n = 2 * int(op["n"])
                        applied.append(self._apply_put(op, coords[at:at + n]))
                        at += n
                    elif op["op"] == "delete":
                        applied.append(self._apply_delete(int(op["id"])))
                except Exception as exc:
                    if op["op"] == "put":
                        at += 2 * int(op["n"])
                    errors.append({"id": op["id"], "error": f"{op['op']} refused: {exc}"})
                    self._restore(int(op["id"]))
        applied = [a for a in applied if a]
        self.send({"type": "ack", "seq": msg["seq"], "errors": errors})
        store_rows = [a for a in applied if a["source"] == "type"]
        if store_rows and self._group is not None:
            self._group.forward(self, pd.DataFrame(store_rows))
        if isinstance(self._backend, MemoryBackend) or not store_rows:
            self.send({"type": "saved", "pending": 0})
        for edit in applied:
            for cb in self._edit_callbacks:
                try:
                    cb({k: edit[k] for k in ("action", "uuid", "layer", "type", "geometry", "image")})
                except Exception:
                    log.exception("exact-lab: on_edit callback failed")

    def _apply_put(self, op, xy) -> dict | None:
        id_ = int(op["id"])
        layer = self._layer_map.get(op["layer"])
        if layer is None:
            raise InvalidValueError(f"unknown layer {op['layer']}")
        if not layer.editable or not self.editable:
            raise InvalidValueError(f"layer {layer.name!r} is not editable")
        geom = encode.geometry_of(op["kind"], xy, op.get("rings"))
        known = self._resolve(id_)
        uuid = known[1] if known else str(op.get("uuid") or _uuid.uuid4())
        action = "update" if known else "add"
        if layer.source == "user":
            self._put_user(layer, known, uuid, geom)
        elif known is None:
            self._backend.add([{"uuid": uuid, "type_id": layer.type_id, "geometry": geom, "frame": self.frame}])
        else:
            if id_ in self._ids.deleted:
                self._backend.undelete([uuid])
                action = "add"
            fields = {"geometry": geom}
            if known[0] != layer.key:
                # by name: the session's batch turns a type_id into numpy.int64, which the store's
                # type lookup does not accept (reported); names survive the round trip
                fields["type"] = layer.name
            self._backend.update(uuid, vector_type=layer.vector_type, **fields)
        self._ids.deleted.discard(id_)
        if known is None or known[0] != layer.key:
            self._ids.add(id_, layer.key, uuid)
        if layer.source == "type" and isinstance(self._backend, ProjectBackend):
            self._sent[uuid] = (layer.type_id, geom)  # to compare with what the store commits
        return {"action": action, "uuid": uuid, "layer": layer.name, "type": layer.name if layer.source == "type" else None,
                "type_id": layer.type_id, "geometry": geom, "image": self.image, "deleted": False, "frame": self.frame,
                "source": layer.source}

    def _apply_delete(self, id_: int) -> dict | None:
        known = self._resolve(id_)
        if known is None or id_ in self._ids.deleted:
            return None
        layer = self._layer_map.get(known[0])
        if layer is None or not layer.editable or not self.editable:
            raise InvalidValueError("not editable")
        if layer.source == "user":
            rows = layer.frame
            ident = rows["uuid"] if "uuid" in rows.columns else rows.index.astype(str)
            rows.loc[ident == known[1], "_deleted"] = True
        else:
            self._backend.delete([known[1]])
            self._sent.pop(known[1], None)
        self._ids.deleted.add(id_)
        return {"action": "delete", "uuid": known[1], "layer": layer.name, "type": layer.name if layer.source == "type" else None,
                "type_id": layer.type_id, "geometry": None, "image": self.image, "deleted": True, "frame": self.frame,
                "source": layer.source}

    def _put_user(self, layer: Layer, known, uuid, geom) -> None:
        rows = layer.frame
        if "uuid" not in rows.columns:
            rows["uuid"] = rows.index.astype(str)
            layer._uuid_index = None
        hit = rows.index[rows["uuid"] == uuid]
        if len(hit):
            if "geometry" not in rows.columns:
                rows["geometry"] = shapely.box(rows["xmin"], rows["ymin"], rows["xmax"], rows["ymax"])
            rows.at[hit[0], "geometry"] = geom
            rows.at[hit[0], "_deleted"] = False
            if {"xmin", "ymin", "xmax", "ymax"} <= set(rows.columns):
                for k, v in zip(("xmin", "ymin", "xmax", "ymax"), geom.bounds):
                    rows.at[hit[0], k] = v
        else:
            new = {"uuid": uuid, "geometry": geom, "_deleted": False}
            if {"xmin", "ymin", "xmax", "ymax"} <= set(rows.columns):
                new.update(dict(zip(("xmin", "ymin", "xmax", "ymax"), geom.bounds)))
            layer.frame = pd.concat([rows, pd.DataFrame([new])], ignore_index=True)

    def _user_rows(self, layer: Layer) -> pd.DataFrame:
        rows = layer.frame
        return rows[~rows["_deleted"].astype(bool)].drop(columns=["_deleted"]).reset_index(drop=True)

    def _restore(self, id_: int) -> None:
        """After a refused edit: send the browser the state the store really has."""
        known = self._resolve(id_)
        if known is None:
            self.send({"type": "remove", "gen": self._gen}, [memoryview(np.array([id_], np.float64))])
            return
        layer = self._layer_map.get(known[0])
        if layer is not None and layer.source == "type":
            self._push_rows(self._backend.rows([known[1]]), reason="committed")

    # -- ids ----------------------------------------------------------------------------------------
    def _resolve(self, id_: int):
        """(layer key, uuid) of an id, or None."""
        hit = self._ids.extra.get(id_)
        if hit is not None:
            return hit
        for layer in self._layer_map.values():
            if layer.has(id_):
                row = layer.row_of(id_)
                f = layer.frame
                uuid = f["uuid"].iat[row] if "uuid" in f.columns else str(f.index[row])
                return layer.key, str(uuid)
        return None

    def _resolve_many(self, ids) -> list[tuple[str, str]]:
        """(layer key, uuid) of many ids at once (a box selection can hold a million)."""
        ids = np.asarray(ids, dtype=np.int64)
        out = []
        rest = np.ones(len(ids), bool)
        if self._ids.extra:  # shapes added or re-typed since the layers were sent win
            extra = np.isin(ids, np.fromiter(self._ids.extra.keys(), np.int64, len(self._ids.extra)))
            out.extend(self._ids.extra[int(i)] for i in ids[extra])
            rest &= ~extra
        for layer in self._layer_map.values():
            if not layer.count:
                continue
            inside = rest & (ids >= layer.id_start) & (ids < layer.id_start + layer.count)
            if inside.any():
                uuids = layer.uuids()[ids[inside] - layer.id_start]
                out.extend((layer.key, str(u)) for u in uuids)
                rest &= ~inside
        return out

    def _ids_of_many(self, uuids: list[str]) -> np.ndarray:
        """Ids of many uuids (-1 where the viewer does not show them)."""
        out = np.full(len(uuids), -1, np.int64)
        if self._ids.by_uuid:
            hits = pd.Series(uuids, dtype=object).map(self._ids.by_uuid)
            out = np.where(hits.notna(), hits.fillna(-1), -1).astype(np.int64)
        for layer in self._layer_map.values():
            missing = out < 0
            if not missing.any():
                break
            if layer.count:
                found = layer.ids_of(np.asarray(uuids, dtype=object)[missing])
                out[np.nonzero(missing)[0]] = found
        return out

    def _id_of(self, uuid: str, allocate: bool = True):
        hit = self._ids.by_uuid.get(uuid)
        if hit is not None:
            return hit
        for layer in self._layer_map.values():
            if layer.count:
                i = int(layer.ids_of([uuid])[0])
                if i >= 0:
                    return i
        if not allocate:
            return None
        i = self._next_id
        self._next_id += 1
        return i

    # -- changes from elsewhere ------------------------------------------------------------------
    def _on_committed(self, rows: pd.DataFrame) -> None:
        """The store committed ``rows`` (this kernel or another): bring the browser in line.

        Rows this viewer edited are checked against what it sent: equal means confirmed (nothing
        to send); different means the store decided otherwise, unless a newer edit of the same
        annotation is still queued in the session (then that one will be confirmed later).
        """
        if rows is not None and not rows.empty:
            keep = np.ones(len(rows), bool)
            with self._lock:
                for i, r in enumerate(rows.itertuples(index=False)):
                    sent = self._sent.get(r.uuid)
                    if sent is None:
                        continue
                    same = (not r.deleted and _plain(r.type_id) == sent[0]
                            and shapely.equals_exact(sent[1], r.geometry, tolerance=1e-6))
                    if same:
                        self._sent.pop(r.uuid, None)
                        keep[i] = False
                    elif self._backend_pending(r.uuid):
                        keep[i] = False
                    else:
                        self._sent.pop(r.uuid, None)
            self._push_rows(rows[keep], reason="committed")
        self._send_threadsafe({"type": "saved", "pending": self._backend.pending()})

    def _backend_pending(self, uuid: str) -> bool:
        session = getattr(self.project, "session", None) if self.project is not None else None
        if session is None:
            return False
        changes = getattr(session, "_changes", {})
        adds = getattr(session, "_adds", [])
        return uuid in changes or any(uuid in set(f["uuid"]) for f in adds if "uuid" in f.columns)

    def _push_rows(self, rows: pd.DataFrame, reason: str) -> None:
        """Send these rows' current state to the browser (upserts, and removals for deleted
        rows or rows of another frame)."""
        if rows is None or rows.empty:
            return
        shapes, coords, removed = [], [], []
        with self._lock:
            for r in rows.itertuples(index=False):
                key = f"t:{_plain(r.type_id)}"
                layer = self._layer_map.get(key)
                frame = getattr(r, "frame", 0) or 0
                id_ = self._id_of(str(r.uuid))
                gone = bool(getattr(r, "deleted", False)) or layer is None or (self._source.get("frames", 1) > 1 and frame != self.frame)
                if gone:
                    self._ids.deleted.add(id_)
                    if id_ not in self._ids.extra and self._resolve(id_) is None:
                        continue
                    removed.append(id_)
                    continue
                kind_hint = "box" if layer.vector_type in encode.BOX_TYPES else None
                drawn = encode.shape_of(r.geometry, kind_hint)
                if drawn is None:
                    continue
                kind, xy, rings = drawn
                self._ids.deleted.discard(id_)
                self._ids.add(id_, key, str(r.uuid))
                shape = {"id": id_, "layer": key, "kind": kind, "n": len(xy) // 2, "uuid": str(r.uuid)}
                if rings:
                    shape["rings"] = rings
                shapes.append(shape)
                coords.extend(xy)
            gen = self._gen
        if shapes:
            self._send_threadsafe({"type": "upsert", "gen": gen, "reason": reason, "shapes": shapes},
                                  [memoryview(np.asarray(coords, np.float64))])
        if removed:
            self._send_threadsafe({"type": "remove", "gen": gen}, [memoryview(np.asarray(removed, np.float64))])


def frames_empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["uuid", "type", "geometry", "layer"])


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def _num(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else f


def _f64(buffer) -> np.ndarray:
    b = bytes(buffer) if not isinstance(buffer, (bytes, bytearray)) else buffer
    return np.frombuffer(b, dtype=np.float64)
