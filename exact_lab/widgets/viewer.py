"""The SlideViewer widget: a slide with editable annotation layers, in the notebook.

    viewer = xl.SlideViewer("slides/a.svs")            # quick look, annotations kept in memory
    viewer = proj.viewer(image_id)                       # annotations of a project's image
    viewer.tool = "polygon"; viewer.selected; viewer.goto(x, y, zoom=1.0)

This module is the anywidget shell and the only place that knows about anywidget: it holds the
traits (small JSON state; the public ones are the viewer's configuration) and hands each message
from the browser to its handler through one table. What the viewer shows lives in the plain
Python model (``model.py``); browser edits are applied by ``edits.py``, committed rows are
reconciled by ``reconcile.py``, other viewers of the same image are kept current by ``sync.py``.
Every message is defined once in ``protocol.py``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import anywidget
import numpy as np
import pandas as pd
import traitlets as t

from ..errors import InvalidValueError
from . import protocol, source, sync
from .backend import MemoryBackend, ProjectBackend
from .edits import apply_edits
from .model import ViewerModel
from .reconcile import on_committed, push_rows
from .tiles import CommTileServer

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent.parent / "static"
TOOLS = ("pan", "select", "lasso", "box", "fixed_box", "point", "ellipse", "line", "polyline", "polygon")


class SlideViewer(anywidget.AnyWidget):
    """A whole-slide image with annotation layers. See the module docstring."""

    _esm = STATIC / "viewer.js"

    # -- state the browser draws from (small JSON only: it may be saved in the notebook) ---------
    _source = t.Dict().tag(sync=True)  # protocol.SourceMeta
    _types = t.List().tag(sync=True)  # protocol.TypeMeta per annotation type
    _layers = t.List().tag(sync=True)  # protocol.LayerMeta per layer
    _goto = t.Dict(allow_none=True, default_value=None).tag(sync=True)
    _transport_active = t.Unicode("").tag(sync=True)

    # -- configuration ----------------------------------------------------------------------------
    transport = t.Enum(["auto", "server", "comm"], default_value="auto",
                       help="Where tiles come from: the server extension, the widget comm, or auto "
                            "(the extension when it answers). Default 'auto'.").tag(sync=True)
    tool = t.Enum(list(TOOLS), default_value="pan", help="The active tool. Default 'pan'.").tag(sync=True)
    frame = t.Int(0, help="Frame (z-plane or time point) shown. Default 0.").tag(sync=True)
    view = t.Dict(help="The view the browser shows: x, y, scale, bounds (level-0 pixels), "
                       "width, height (screen pixels). Read-only from Python.").tag(sync=True)
    brightness = t.Float(0.0, help="Added to every channel, -1..1. Default 0.").tag(sync=True)
    contrast = t.Float(1.0, help="Multiplies around mid-grey. Default 1.").tag(sync=True)
    gamma = t.Float(1.0, help="Gamma correction. Default 1.").tag(sync=True)
    channels = t.List(t.Bool(), default_value=[True, True, True],
                      help="Red, green, blue shown. Default all.").tag(sync=True)
    annotations_visible = t.Bool(True, help="Show annotation layers (key y). Default True.").tag(sync=True)
    editable = t.Bool(True, help="Allow drawing and editing. Default True.").tag(sync=True)
    height = t.Unicode("600px", help="CSS height of the viewer. Default '600px'.").tag(sync=True)

    def __init__(self, source=None, *, project=None, image=None, transport="auto", annotations=None,
                 types=None, height="600px", editable=True, **kwargs):
        super().__init__(transport=transport, height=height, editable=editable, **kwargs)
        if project is None and source is None:
            raise InvalidValueError("SlideViewer needs a slide: SlideViewer(path) or project.viewer(image)")
        self._goto_n = 0
        self._edit_callbacks: list = []
        self._screening_callbacks: list = []
        self._verify_callbacks: list = []
        self._group = None
        self._tiles = CommTileServer(self._send_threadsafe)
        if project is not None:
            backend = ProjectBackend(project, image if image is not None else source)
        else:
            backend = MemoryBackend(source, annotations=annotations, types=types)
        self._model = ViewerModel(backend, self._send_threadsafe)
        self.on_msg(self._on_msg)
        self._load_image()

    # -- public API ------------------------------------------------------------------------------
    @property
    def project(self):
        return getattr(self._model.backend, "project", None)

    @property
    def image(self):
        """The image shown: its id in the project (a path for a quick look). Settable."""
        return self._model.backend.image_id

    @image.setter
    def image(self, value) -> None:
        backend = self._model.backend
        if isinstance(backend, ProjectBackend):
            backend.set_image(value)
        else:
            self._model.backend = MemoryBackend(value, types=backend.types())
        with self.hold_trait_notifications():
            self.frame = 0
        self._load_image()

    @property
    def transport_active(self) -> str:
        """What the browser uses for tiles: "server", "comm", "none" (or "" before display)."""
        return self._transport_active

    @property
    def perf(self) -> dict:
        """Timings: kernel-side preparation, and what the browser reports once data is drawn."""
        return self._model.perf

    @property
    def annotations(self) -> pd.DataFrame:
        """What the viewer shows: the image's annotations (this frame) and every user layer,
        with a ``layer`` column."""
        return self._model.annotations()

    @property
    def selected(self) -> pd.DataFrame:
        """The selection in the browser, as rows (store rows for annotations, user-layer rows)."""
        return self._model.selected_rows()

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
        self._model.select_uuids(uuids)

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
        layer = self._model.add_user_layer(df, name, style or {}, editable)
        self._publish_layers()
        if self._model.ready:
            self._model.send_layers([layer])

    def remove_layer(self, name: str) -> None:
        """Take a user layer away, here and in the browser."""
        self._model.remove_layer(self._model.user_layer(name).key)
        self._publish_layers()

    def layer(self, name: str) -> pd.DataFrame:
        """The current rows of a user layer (edits included)."""
        return self._model.user_rows(self._model.user_layer(name))

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
                layer = self._model.layers.get(meta["key"])
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

    # -- state ------------------------------------------------------------------------------------
    @property
    def _gen(self) -> int:  # the generation of layer data the browser holds
        return self._model.gen

    def _load_image(self) -> None:
        model = self._model
        slide = model.backend.slide()
        sync.leave(self, self._group)
        self._group = sync.join(self, model.backend)
        meta = source.describe(slide["path"], name=slide["name"], pseudonymized=slide["pseudonymized"])
        self._tiles.set_slide(slide["path"])
        with model.lock:
            model.source = meta
            self._source = meta
            self._reload()
        if model.ready:
            model.send_all()

    def _reload(self) -> None:
        self._model.frame = self.frame
        self._model.load()
        self._types = self._model.types
        self._publish_layers()

    def _publish_layers(self) -> None:
        self._layers = self._model.layer_metas(self._layers)

    @t.observe("_layers")
    def _layers_changed(self, change) -> None:
        self._model.restyle(change["new"])

    @t.observe("frame")
    def _frame_changed(self, change) -> None:
        frames = self._source.get("frames") or 1
        if not 0 <= change["new"] < frames:
            self.frame = max(0, min(frames - 1, change["new"]))
            return
        with self._model.lock:
            self._reload()
        if self._model.ready:
            self._model.send_all()

    # -- sending ---------------------------------------------------------------------------------
    def _send_threadsafe(self, content, buffers=None) -> None:
        try:
            self.send(content, buffers or [])
        except Exception as exc:  # the comm may be closed while a thread finishes
            log.debug("exact-lab: send failed: %s", exc)

    def _notice(self, text: str, level: str = "info") -> None:
        self._model.send("notice", text=text, level=level)

    # -- messages from the browser: one handler per protocol.TO_KERNEL message -------------------
    def _on_msg(self, _widget, msg, buffers) -> None:
        kind = msg.get("type") if isinstance(msg, dict) else None
        try:
            protocol.check_incoming(msg)
            getattr(self, HANDLERS[kind])(msg, buffers)
        except Exception as exc:
            log.exception("exact-lab: viewer message %s failed", kind)
            self._notice(f"{type(exc).__name__}: {exc}", "error")

    def _on_hello(self, msg, buffers) -> None:
        self._model.ready = True
        self._model.send_all()

    def _on_tile(self, msg, buffers) -> None:
        self._tiles.request(msg)

    def _on_tile_cancel(self, msg, buffers) -> None:
        self._tiles.cancel(msg["req"])

    def _on_edits(self, msg, buffers) -> None:
        applied = apply_edits(self._model, msg, _f64(buffers[0]) if buffers else np.zeros(0),
                              image=self.image, editable=self.editable)
        store_rows = [a for a in applied if a["source"] == "type"]
        if store_rows and self._group is not None:
            self._group.forward(self, pd.DataFrame(store_rows))
        if not self._model.backend.confirms_commits or not store_rows:
            self._model.send("saved", pending=0)
        for edit in applied:
            for cb in self._edit_callbacks:
                try:
                    cb({k: edit[k] for k in ("action", "uuid", "layer", "type", "geometry", "image")})
                except Exception:
                    log.exception("exact-lab: on_edit callback failed")

    def _on_selection(self, msg, buffers) -> None:
        if msg.get("gen") == self._model.gen:
            self._model.selected = _f64(buffers[0]) if buffers else np.zeros(0)

    def _on_drawn(self, msg, buffers) -> None:
        self._model.drawn(msg)

    def _on_navigate(self, msg, buffers) -> None:
        nxt = self._model.backend.neighbour(int(msg.get("delta", 1)))
        if nxt is None:
            self._notice("no further image in this image set")
        else:
            self.image = nxt

    def _on_screening(self, msg, buffers) -> None:
        for cb in self._screening_callbacks:
            cb({"dx": msg["dx"], "dy": msg["dy"], "bounds": msg["bounds"]})

    def _on_verify(self, msg, buffers) -> None:
        if buffers:
            self._model.selected = _f64(buffers[0])
        if not self._verify_callbacks:
            self._notice("no verification handler (viewer.on_verify)", "warn")
        for cb in self._verify_callbacks:
            cb(self.selected)

    # -- rows from elsewhere (sync.Group) ---------------------------------------------------------
    def _committed_rows(self, rows: pd.DataFrame) -> None:
        on_committed(self._model, rows)

    def _remote_rows(self, rows: pd.DataFrame) -> None:
        push_rows(self._model, rows, reason="remote")


# The dispatch table: message type -> the handler method `_on_<type>`, one per message the browser
# may send (tests/widgets/test_protocol.py checks that each exists, so a new message without a
# handler fails there). Viewer features add their handlers in their own mixin classes.
HANDLERS = {name: f"_on_{name}" for name in protocol.TO_KERNEL}


def _f64(buffer) -> np.ndarray:
    b = bytes(buffer) if not isinstance(buffer, (bytes, bytearray)) else buffer
    return np.frombuffer(b, dtype=np.float64)
