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
from ..masks.superpixels import METHODS as SUPERPIXEL_METHODS
from ..review.viewing import ReviewViewerMixin
from . import protocol, source, sync
from .backend import MemoryBackend, ProjectBackend
from .edits import apply_edits
from .framekeys import FrameKeysMixin
from .hpfframe import HpfFrameMixin
from .maplink import MapViewerMixin
from .model import ViewerModel
from .reconcile import on_committed, push_rows
from .tiles import CommTileServer
from .viewpanel import ViewPanel

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent.parent / "static"
TOOLS = ("pan", "select", "lasso", "box", "fixed_box", "point", "ellipse", "line", "polyline", "polygon",
         "brush", "fill", "superpixel")


class SlideViewer(ReviewViewerMixin, MapViewerMixin, FrameKeysMixin, HpfFrameMixin, anywidget.AnyWidget):
    """A whole-slide image with annotation layers. See the module docstring."""

    _esm = STATIC / "viewer.js"

    # -- state the browser draws from (small JSON only: it may be saved in the notebook) ---------
    _source = t.Dict().tag(sync=True)  # protocol.SourceMeta
    _types = t.List().tag(sync=True)  # protocol.TypeMeta per annotation type
    _layers = t.List().tag(sync=True)  # protocol.LayerMeta per layer
    _goto = t.Dict(allow_none=True, default_value=None).tag(sync=True)
    _transport_active = t.Unicode("").tag(sync=True)
    _panel = t.Unicode("").tag(sync=True)  # HTML of the on_view panel beside the slide ("" hides it)
    _hpf = t.Dict().tag(sync=True)  # the draggable HPF frame (hpfframe.py): layer, side, bounds, count, types
    # review (review/viewing.py): the screening grid and progress, the review queue's position,
    # the image set's strip (names, progress)
    _screening = t.Dict().tag(sync=True)
    _review = t.Dict().tag(sync=True)
    _strip = t.List().tag(sync=True)

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
    mask_opacity = t.Float(0.5, min=0.0, max=1.0,
                           help="Opacity (0..1) of the pixel-label layer (mask types). Default 0.5.").tag(sync=True)
    brush_radius = t.Float(20.0, min=0.5, help="Radius of the brush tool, in brush_units. Default 20.").tag(sync=True)
    brush_units = t.Enum(["image", "screen"], default_value="image",
                         help="brush_radius in level-0 image pixels or in screen pixels (the brush then "
                              "covers more of the image zoomed out). Default 'image'.").tag(sync=True)
    _superpixel_methods = t.Dict(
        help="The superpixel methods the mask bar offers, each with its parameters' defaults "
             "(exact_lab.masks.superpixels.METHODS). Read-only.").tag(sync=True)
    polygon_fill = t.Float(0.25, help="Fill opacity (0..1) of the polygon layers of the project's types, drawn "
                                      "under their outlines in the layer's colour; 0 draws outlines only. "
                                      "A layer's own style_layer(fill_opacity=...) overrides it. Default 0.25.")

    def __init__(self, source=None, *, project=None, image=None, transport="auto", annotations=None,
                 types=None, height="600px", editable=True, polygon_fill=0.25, **kwargs):
        if not 0.0 <= float(polygon_fill) <= 1.0:
            raise InvalidValueError(f"polygon_fill must be between 0 and 1, not {polygon_fill!r}")
        if project is None and source is None:
            raise InvalidValueError("SlideViewer needs a slide: SlideViewer(path) or project.viewer(image)")
        super().__init__(transport=transport, height=height, editable=editable, polygon_fill=polygon_fill,
                         _superpixel_methods=SUPERPIXEL_METHODS, **kwargs)
        self._goto_n = 0
        self._edit_callbacks: list = []
        self._screening_callbacks: list = []
        self._verify_callbacks: list = []
        self._open_source_callbacks: list = []
        self._map_link = None
        self._group = None
        self._tiles = CommTileServer(self._send_threadsafe)
        self._view_panel = ViewPanel(self._publish_panel, self._view_annotations)
        if project is not None:
            backend = ProjectBackend(project, image if image is not None else source)
        else:
            backend = MemoryBackend(source, annotations=annotations, types=types)
        self._model = ViewerModel(backend, self._send_threadsafe)
        self._model.polygon_fill = self.polygon_fill
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
        (1.0 = full resolution, 0.25 = a quarter). Returns None; the browser moves at once."""
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
        ``on_edit`` callbacks; they are not written to the store. Returns None; read the layer
        back with ``layer(name)``."""
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
        """Call ``callback({"dx", "dy", "mark", "bounds"})`` when w a s d (mark) or i j k l move."""
        self._screening_callbacks.append(callback)

    def on_verify(self, callback) -> None:
        """Call ``callback(selected DataFrame)`` when f is pressed."""
        self._verify_callbacks.append(callback)

    def on_view(self, callback, debounce: float | None = None) -> None:
        """Call ``callback(view)`` when the view rests after panning or zooming (``debounce``
        seconds, default 0.3) and show what it returns (text, a DataFrame, a matplotlib figure)
        in a panel beside the slide. ``view``: image_id, frame, bounds (level-0 x0 y0 x1 y1),
        scale, annotations (those in view). EXACT's plugins, written in the notebook."""
        if debounce is not None:
            self._view_panel.debounce = float(debounce)
        self._view_panel.add(callback)
        self._view_moved(None)

    def off_view(self, callback) -> None:
        self._view_panel.remove(callback)
        if not self._view_panel.callbacks:
            self._panel = ""

    def show_measurements(self, types=None, hpf10_mm2: float = 2.37):
        """The built-in measurement panel: field of view in mm², counts per type in view, per
        mm² and per 10 HPF (``hpf10_mm2``). Returns its callback (for ``off_view``)."""
        from ..measure.fov import as_html, measure_view

        project = self.project
        if project is None:
            raise InvalidValueError("measurements need a project's image (proj.viewer(image))")

        def measurements(view):
            measured = measure_view(project, view["image_id"], view["bounds"], frame=view["frame"], types=types,
                                    hpf10_mm2=hpf10_mm2)
            self.last_measurement = measured
            return _Html(as_html(measured))

        self.on_view(measurements)
        return measurements

    def refresh_panel(self) -> str:
        """Run the on_view callbacks on the current view now (they run by themselves after a
        pause in panning); returns the panel's HTML."""
        self._view_moved(None)
        return self._view_panel.refresh()

    def _view_moved(self, _change) -> None:
        view = self.view or {}
        if view.get("bounds"):
            self._view_panel.view_changed({"image_id": self.image, "frame": self.frame, "bounds": tuple(view["bounds"]),
                                           "scale": view.get("scale")})

    def _view_annotations(self, bounds, frame):
        project = self.project
        if project is None:
            return None
        return project.annotations(image=self.image, bbox=bounds, frame=frame)

    def _publish_panel(self, text: str) -> None:
        self._panel = text

    # -- pixel labels (exact_lab.masks) ---------------------------------------------------------
    @property
    def mask_tools(self):
        """The pixel-labelling tools of this viewer (a project's image only)."""
        if self.project is None:
            raise InvalidValueError("pixel labels need a project's image: proj.viewer(image)")
        tools = getattr(self, "_mask_tools", None)
        if tools is None:
            from ..masks.tools import MaskTools

            tools = self._mask_tools = MaskTools(self.project, self.image, self._send_threadsafe, sync.call_soon)
        elif tools.image_id != self.image:
            tools.set_image(self.image)
        return tools

    def superpixels(self, method: str = "slic", **params):
        """Superpixels of the current view at the view's resolution ("slic": n_segments,
        compactness; "felzenszwalb": scale, sigma, min_size; "quickshift": kernel_size, max_dist,
        ratio; "watershed": markers, compactness), drawn as boundaries; click or drag with the
        superpixel tool fills them. Returns the ``Superpixels`` (labels, l0_box)."""
        return self.mask_tools.superpixels(self.view, method, self.frame, **params)

    def finish_image(self):
        """Save and next: commit every stroke, mark this image done for the current user and open
        the next image of its set not done yet. Returns that image's id (None: all done)."""
        nxt = self.mask_tools.finish_image(self.frame)
        if nxt is None:
            self._notice("every image of this set is done")
        else:
            self.image = nxt
        return nxt

    def close(self):
        if "_view_panel" not in self.__dict__:  # __init__ refused its arguments; ipywidgets' __del__ still closes
            super().close()
            return
        self._view_panel.close()
        if getattr(self, "_mask_tools", None) is not None:
            self._mask_tools.close()
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
        self._link_map()
        meta = source.describe(slide["path"], name=slide["name"], pseudonymized=slide["pseudonymized"])
        self._tiles.set_slide(slide["path"])
        with model.lock:
            model.source = meta
            self._source = meta
            self._reload()
        if model.ready:
            model.send_all()
        self._strip = self._image_strip()
        if self.screening is not None and self.screening.image_id != self.image:
            self.screening = None  # a screening belongs to one image
        if getattr(self, "_verdicts_shown", False):
            self.show_verdicts()

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

    @t.observe("view")
    def _view_trait_changed(self, change) -> None:
        self._view_moved(change)

    @t.observe("polygon_fill")
    def _polygon_fill_changed(self, change) -> None:
        if not 0.0 <= change["new"] <= 1.0:
            self.polygon_fill = change["old"]
            raise InvalidValueError(f"polygon_fill must be between 0 and 1, not {change['new']!r}")
        if hasattr(self, "_model"):
            self._model.fill_polygons(change["new"])
            self._publish_layers()

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
        self._view_moved(None)
        self._hpf_recount()

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
            self._send_media()

    def _select_ids(self, buffer) -> None:
        self._model.selected = _f64(buffer)

    def _on_drawn(self, msg, buffers) -> None:
        self._model.drawn(msg)

    def _on_navigate(self, msg, buffers) -> None:
        nxt = self._model.backend.neighbour(int(msg.get("delta", 1)))
        if nxt is None:
            self._notice("no further image in this image set")
        else:
            self.image = nxt

    def _on_verify(self, msg, buffers) -> None:
        if buffers:
            self._model.selected = _f64(buffers[0])
        if not self._verify_callbacks and not self._map_verify(self.selected):
            self._notice("no verification handler (viewer.on_verify)", "warn")
        for cb in self._verify_callbacks:
            cb(self.selected)

    def _on_mask_stroke(self, msg, buffers) -> None:
        points = _f64(buffers[0]).reshape(-1, 2) if buffers else np.zeros((0, 2))
        self.mask_tools.stroke(points, float(msg["radius"]), int(msg["type_id"]), int(msg["frame"]))

    def _on_mask_polygon(self, msg, buffers) -> None:
        points = _f64(buffers[0]).reshape(-1, 2) if buffers else np.zeros((0, 2))
        self.mask_tools.fill_region(points, int(msg["type_id"]), int(msg["frame"]))

    def _on_mask_tile(self, msg, buffers) -> None:
        reply = {"req": int(msg["req"]), "width": 0, "height": 0, "itemsize": 1}
        try:
            tile = self.mask_tools.tile(int(msg["level"]), int(msg["col"]), int(msg["row"]), int(msg["frame"]))
        except Exception as exc:  # the browser shows it on the tile's layer; the kernel keeps going
            self._send_threadsafe(protocol.message("mask_tile", ok=False, error=str(exc), **reply))
            return
        tile = np.ascontiguousarray(tile, dtype="<u2" if tile.dtype.itemsize > 1 else np.uint8)
        reply.update(width=int(tile.shape[1]), height=int(tile.shape[0]), itemsize=int(tile.dtype.itemsize))
        self._send_threadsafe(protocol.message("mask_tile", ok=True, **reply), [tile.tobytes()])

    def _on_superpixel_request(self, msg, buffers) -> None:
        self.superpixels(msg["method"], **dict(zip(msg["names"], msg["values"])))

    def _on_superpixel_fill(self, msg, buffers) -> None:
        points = _f64(buffers[0]).reshape(-1, 2) if buffers else np.zeros((0, 2))
        self.mask_tools.fill(points, int(msg["type_id"]), int(msg["frame"]))

    def _on_mask_history(self, msg, buffers) -> None:
        tools = self.mask_tools
        if not (tools.undo() if int(msg["step"]) < 0 else tools.redo()):
            self._notice("nothing to " + ("undo" if int(msg["step"]) < 0 else "redo"))

    def _on_mask_clear(self, msg, buffers) -> None:
        self.mask_tools.clear(int(msg["frame"]))

    def _on_finish_image(self, msg, buffers) -> None:
        self.finish_image()

    # -- rows from elsewhere (sync.Group) ---------------------------------------------------------
    def _committed_rows(self, rows: pd.DataFrame) -> None:
        on_committed(self._model, rows)
        self._map_committed(rows)
        self._hpf_recount(rows)

    def _remote_rows(self, rows: pd.DataFrame) -> None:
        push_rows(self._model, rows, reason="remote")
        self._hpf_recount(rows)


# The dispatch table: message type -> the handler method `_on_<type>`, one per message the browser
# may send (tests/widgets/test_protocol.py checks that each exists, so a new message without a
# handler fails there). Viewer features add their handlers in their own mixin classes.
HANDLERS = {name: f"_on_{name}" for name in protocol.TO_KERNEL}


class _Html(str):
    """Text the panel shows as HTML (the measurement table)."""

    def _repr_html_(self) -> str:
        return str(self)


def _f64(buffer) -> np.ndarray:
    b = bytes(buffer) if not isinstance(buffer, (bytes, bytearray)) else buffer
    return np.frombuffer(b, dtype=np.float64)
