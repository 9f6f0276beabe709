"""The kernel's model of one SlideViewer: which image, which layers, which ids, what the browser
was sent. Plain Python, testable without a comm or a browser: every message to the browser goes
out through ``emit(content, buffers)`` (built and checked by ``protocol.message``); the anywidget
shell (``viewer.py``) binds ``emit`` to the comm and copies the small state (``types``,
``layer_metas``) into its traits.

Edits from the browser are applied by ``edits.py``; rows the store committed are reconciled with
what the browser shows by ``reconcile.py``. Both work on this model.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from ..shared import palette_color
from . import encode, protocol
from .layers import STYLE_KEYS, Layer, LayerSet

# Vector types drawn as filled polygons when the viewer's polygon_fill is above 0.
POLYGON_TYPES = ("polygon", "mask")
NUMBER_KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"]


class ViewerModel:
    def __init__(self, backend, emit: Callable[[dict, list], None]):
        self.backend = backend
        self._emit = emit
        self.lock = threading.RLock()
        self.layers = LayerSet()
        self.source: dict = {}  # protocol.SourceMeta of the image shown
        self.frame = 0
        self.types: list[dict] = []  # protocol.TypeMeta, in number-key order
        self.gen = 0  # bumped by every full resend; the browser drops older data
        self.batch = 0
        self.selected = np.zeros(0, np.float64)  # browser ids
        # frame -> uuids to select when that frame is loaded next (copies made with `t`)
        self.select_on_frame: dict[int, list[str]] = {}
        self.sent: dict[str, tuple] = {}  # uuid -> (type_id, geometry) last sent to the store
        self.ready = False  # a view has said hello
        self.perf: dict = {}  # kernel-side preparation, and what the browser reports once drawn
        self.polygon_fill = 0.0  # fill opacity given to polygon layers of the store's types

    def send(self, name: str, buffers=None, **content) -> None:
        self._emit(protocol.message(name, **content), list(buffers or []))

    # -- loading ----------------------------------------------------------------------------------
    @property
    def l0_extent(self) -> tuple[float, float, float, float]:
        return (0, 0, self.source.get("width") or 1, self.source.get("height") or 1)

    def load(self) -> None:
        """(Re)build every type layer from the backend; user layers keep their data. The
        selection is kept by uuid: a reload gives shapes new ids, so an id kept as it was would
        select another annotation (after a frame step, the one of the new frame with that id)."""
        selected = [u for _, u in self.layers.resolve_many(self.selected)] if len(self.selected) else []
        carried = self.select_on_frame.pop(self.frame, None)
        if carried is not None:
            selected = carried
        user = self.layers.reset()
        types = self.backend.types().sort_values("sort_order", kind="stable").reset_index(drop=True)
        df = self.backend.annotations(self.frame).reset_index(drop=True)
        by_type = df.groupby("type_id").indices if len(df) else {}
        t0 = time.perf_counter()
        metas = []
        for i, row in types.iterrows():
            layer = self._type_layer(i, row, df, by_type.get(row["type_id"], np.zeros(0, np.int64)))
            self.layers.place(layer, self.l0_extent)
            metas.append({
                "index": i, "type_id": _plain(row["type_id"]), "name": str(row["name"]),
                "vector_type": row["vector_type"], "color": layer.color,
                "default_width": _num(row.get("default_width")), "default_height": _num(row.get("default_height")),
                "key": NUMBER_KEYS[i] if i < len(NUMBER_KEYS) else None, "layer": layer.key,
            })
        for layer in user:
            self.layers.place(layer, self.l0_extent)
        self.perf["prepare_s"] = time.perf_counter() - t0
        self.types = metas
        ids = self.layers.ids_of_many(selected) if selected else np.zeros(0, np.int64)
        self.selected = ids[ids >= 0].astype(np.float64)

    def _type_layer(self, index: int, row, df: pd.DataFrame, pos: np.ndarray) -> Layer:
        layer = Layer(key=f"t:{row['type_id']}", name=str(row["name"]), source="type", frame=df,
                      type_id=_plain(row["type_id"]), vector_type=row["vector_type"],
                      color=row.get("color") or palette_color(index), editable=True,
                      fill_opacity=self.polygon_fill if row["vector_type"] in POLYGON_TYPES else 0.0)
        if len(pos) and row["vector_type"] != "global":
            boxes = df[["xmin", "ymin", "xmax", "ymax"]].to_numpy()[pos] if row["vector_type"] in encode.BOX_TYPES else None
            cols = encode.geometry_columns(df["geometry"].to_numpy()[pos], row["vector_type"], boxes=boxes,
                                          extent=self.l0_extent)
            for c in cols:
                c.rows = pos[c.rows]
            layer.columns = cols
        return layer

    def layer_metas(self, previous: list[dict]) -> list[dict]:
        """The ``_layers`` trait: every layer's meta, keeping what the user changed in the browser."""
        type_index = {m["layer"]: m["index"] for m in self.types}
        old = {m["key"]: m for m in previous}
        metas = []
        for layer in self.layers:
            m = layer.meta(type_index.get(layer.key))
            prev = old.get(layer.key)
            if prev:
                for k in ("visible", "opacity", "color"):
                    m[k] = prev.get(k, m[k])
            metas.append(m)
        return metas

    def fill_polygons(self, opacity: float) -> None:
        """Give every polygon layer of the store's types this fill opacity (0: outlines only)."""
        self.polygon_fill = float(opacity)
        for layer in self.layers:
            if layer.source == "type" and layer.vector_type in POLYGON_TYPES:
                layer.fill_opacity = self.polygon_fill

    def restyle(self, metas: list[dict]) -> None:
        """The browser (or Python) changed the ``_layers`` trait: keep the layers' looks in step."""
        for m in metas:
            layer = self.layers.get(m["key"])
            if layer is not None:
                layer.visible, layer.opacity, layer.color = m["visible"], m["opacity"], m["color"]

    # -- user layers ------------------------------------------------------------------------------
    def add_user_layer(self, df, name: str, style: dict, editable: bool) -> Layer:
        key = f"u:{name}"
        style = dict(style)
        color = style.pop("color", palette_color(len(self.layers.layers) + 3))
        df = df.reset_index(drop=True) if isinstance(df, pd.DataFrame) else pd.DataFrame(df)
        layer = Layer(key=key, name=name, source="user", frame=df.copy(), color=color, editable=editable,
                      **{k: v for k, v in style.items() if k in STYLE_KEYS})
        layer.frame["_deleted"] = False
        t0 = time.perf_counter()
        with self.lock:
            if key in self.layers:
                self.remove_layer(key)
            if "geometry" in df.columns:
                layer.columns = encode.geometry_columns(df["geometry"].to_numpy(), extent=self.l0_extent)
            else:
                layer.columns = [encode.box_columns(df[["xmin", "ymin", "xmax", "ymax"]].to_numpy())]
            self.layers.place(layer, self.l0_extent)
        self.perf["prepare_s"] = time.perf_counter() - t0
        return layer

    def remove_layer(self, key: str) -> None:
        with self.lock:
            self.layers.remove(key)
            self.send("drop", gen=self.gen, layer=key)

    def user_layer(self, name: str) -> Layer:
        layer = self.layers.get(f"u:{name}")
        if layer is None or layer.source != "user":
            raise KeyError(f"no layer named {name!r}")
        return layer

    @staticmethod
    def user_rows(layer: Layer) -> pd.DataFrame:
        rows = layer.frame
        return rows[~rows["_deleted"].astype(bool)].drop(columns=["_deleted"]).reset_index(drop=True)

    # -- what the viewer shows, as rows -----------------------------------------------------------
    def annotations(self) -> pd.DataFrame:
        """The image's annotations (this frame) and every user layer, with a ``layer`` column."""
        frames = [self.backend.annotations(self.frame).assign(layer=lambda d: d["type"])]
        for layer in self.layers.user_layers():
            frames.append(self.user_rows(layer).assign(layer=layer.name))
        return _concat(frames)

    def selected_annotation_uuids(self) -> list[str]:
        """Uuids of the selected annotations of the image's type layers, read from the id map
        alone (no store read, so no flush of queued edits)."""
        with self.lock:
            found = self.layers.resolve_many(self.selected)
        return [u for key, u in found if (lay := self.layers.get(key)) is not None and lay.source == "type"]

    def selected_rows(self) -> pd.DataFrame:
        with self.lock:
            found = self.layers.resolve_many(self.selected)
        parts = []
        type_uuids = [u for key, u in found if (lay := self.layers.get(key)) is not None and lay.source == "type"]
        if type_uuids:
            rows = self.backend.rows(type_uuids)
            rows = rows[~rows["deleted"]] if "deleted" in rows.columns else rows
            parts.append(rows.assign(layer=rows["type"]))
        for key in {k for k, _ in found}:
            layer = self.layers.get(key)
            if layer is not None and layer.source == "user":
                uuids = {u for k, u in found if k == key}
                rows = self.user_rows(layer)
                ident = rows["uuid"] if "uuid" in rows.columns else rows.index.astype(str)
                parts.append(rows[ident.isin(uuids)].assign(layer=layer.name))
        return _concat(parts)

    def selected_store_uuids(self) -> list[str]:
        """The uuids of the selected annotations of the image's own (store) layers."""
        with self.lock:
            found = self.layers.resolve_many(self.selected)
            return [u for key, u in found if (lay := self.layers.get(key)) is not None and lay.source == "type"]

    def select_uuids(self, uuids: list[str]) -> None:
        with self.lock:
            ids = self.layers.ids_of_many([str(u) for u in uuids])
            self.selected = ids[ids >= 0].astype(np.float64)
        self.send("select", [memoryview(self.selected)], gen=self.gen)

    # -- sending ----------------------------------------------------------------------------------
    def send_all(self) -> None:
        """Everything, as a new generation: the browser drops what it had."""
        with self.lock:
            self.gen += 1
            self.send("reset", gen=self.gen)
            self.send_layers(list(self.layers))
            if len(self.selected):
                self.send("select", [memoryview(self.selected)], gen=self.gen)

    def send_layers(self, layers: list[Layer]) -> None:
        self.batch += 1
        self.perf = {"prepare_s": self.perf.get("prepare_s"), "batch": self.batch, "sent_at": time.perf_counter()}
        for layer in layers:
            k = 0
            id_start = layer.id_start
            for c in layer.columns:
                for head, buffers in encode.chunk_payloads(c, id_start):
                    self.send("chunk", buffers, gen=self.gen, batch=self.batch, layer=layer.key, chunk=k, **head)
                    k += 1
                id_start += len(c)
        self.send("done", gen=self.gen, batch=self.batch)
        # the kernel's part of a batch (encoding and handing the chunks to the comm), against what
        # the browser reports as receive_ms: is the time in the kernel or on the way?
        self.perf["send_s"] = time.perf_counter() - self.perf["sent_at"]

    def drawn(self, msg: dict) -> None:
        """The browser reports a batch on screen: keep its timings for ``viewer.perf``."""
        if msg.get("batch") == self.batch:
            self.perf.update({k: v for k, v in msg.items() if k not in ("type", "batch")})
            self.perf["drawn_s"] = time.perf_counter() - self.perf.get("sent_at", time.perf_counter())


def empty_rows() -> pd.DataFrame:
    return pd.DataFrame(columns=["uuid", "type", "geometry", "layer"])


def _concat(frames) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else empty_rows()


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def _num(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else f
