"""The HPF frame of the SlideViewer: a square of fixed area (10 HPF = 2.37 mm² by default) the
user drags to where the count is densest. A mixin of ``widgets.viewer.SlideViewer``.

The frame is an editable user layer of one box, so the browser's select-and-drag moves it like
any shape; the ``_hpf`` trait tells the browser which layer it is, its side and which type layers
it counts, so the browser can show the count live while the frame moves (from the shapes it
holds). When a move reaches the kernel, the frame keeps its size (a resize snaps back) and the
count is the store's (``proj.count_in_area``), published in ``_hpf`` and ``viewer.hpf_frame``,
and counted again after a frame step and after commits that touch the image.
"""

from __future__ import annotations

import threading

import pandas as pd

from ..errors import InvalidValueError

# one at a time across viewers: a recount is a small query, and ordering them keeps the last one stored
_RECOUNT = threading.RLock()
FRAME_STYLE = {"color": "#ffe119", "fill_opacity": 0.0, "line_width": 3}


class HpfFrameMixin:
    @property
    def hpf_frame(self) -> dict | None:
        """The HPF frame as it is now: name, bounds (level-0 x0 y0 x1 y1), side, area_mm2, types,
        count (annotations of ``types`` whose centre is inside); None when none is shown."""
        state = self.__dict__.get("_hpf_state")
        return None if state is None else dict(state)

    def show_hpf_frame(self, at=None, area_mm2: float = 2.37, types=None, name: str = "10 HPF") -> dict:
        """Show a draggable square of ``area_mm2`` counting ``types`` (None: every type): at
        ``at`` — a level-0 corner (x0, y0), bounds, or a ``proj.densest_area`` result — or, by
        default, where those annotations are densest. Returns ``hpf_frame``."""
        project = self.project
        if project is None:
            raise InvalidValueError("an HPF frame needs a project's image (proj.viewer(image))")
        side = project.square_side(self.image, area_mm2)
        if at is None:
            at = project.densest_area(self.image, types=types, area_mm2=area_mm2, frame=self.frame)
        previous = self.__dict__.get("_hpf_state")
        if previous is not None and previous["name"] != name and previous["name"] in self._layer_names():
            self.remove_layer(previous["name"])
        self._hpf_state = {"name": name, "side": side, "area_mm2": float(area_mm2),
                           "types": None if types is None else ([types] if isinstance(types, str) else list(types)),
                           "bounds": None, "count": 0}
        if not self.__dict__.get("_hpf_listening"):
            self.on_edit(self._hpf_edited)
            self._hpf_listening = True
        return self.place_hpf_frame(at)

    def place_hpf_frame(self, at) -> dict:
        """Move the HPF frame to ``at``: a level-0 corner (x0, y0), bounds (only their corner
        counts: the frame keeps its size), or a ``proj.densest_area`` result. Returns ``hpf_frame``."""
        state = self.__dict__.get("_hpf_state")
        if state is None:
            raise InvalidValueError("no HPF frame shown: viewer.show_hpf_frame() first")
        x0, y0 = _corner(at)
        side = state["side"]
        frame = pd.DataFrame({"xmin": [x0], "ymin": [y0], "xmax": [x0 + side], "ymax": [y0 + side], "label": [state["name"]]})
        if state["name"] in self._layer_names():
            self.remove_layer(state["name"])
        self.add_layer(frame, state["name"], style=FRAME_STYLE, editable=True)
        self._hpf_moved((x0, y0))
        return self.hpf_frame

    def hide_hpf_frame(self) -> None:
        state = self.__dict__.pop("_hpf_state", None)
        if state is not None and state["name"] in self._layer_names():
            self.remove_layer(state["name"])
        self._hpf = {}

    def _layer_names(self) -> set[str]:
        return {m["name"] for m in self._layers}

    def _hpf_moved(self, corner) -> None:
        # The count is read and stored under one lock: a recount from the change poller's thread
        # that read before this kernel's delete and stored after the delete's own recount left the
        # frame one count stale (seen in CI: 34 where the store held 33).
        with _RECOUNT:
            self._hpf_count_at(corner)

    def _hpf_count_at(self, corner) -> None:
        state = self._hpf_state
        x0, y0 = (float(v) for v in corner)
        bounds = (x0, y0, x0 + state["side"], y0 + state["side"])
        counts = self.project.count_in_area(self.image, bounds, frame=self.frame, types=state["types"])
        state.update(bounds=bounds, count=int(counts.sum()))
        # the type layers the browser counts live (every type layer when types is None)
        keys = [t["layer"] for t in self._model.types if state["types"] is None or t["name"] in state["types"]]
        self._hpf = {"layer": f"u:{state['name']}", "name": state["name"], "side": state["side"],
                     "area_mm2": state["area_mm2"], "bounds": list(bounds), "count": state["count"],
                     "types": keys, "all_types": state["types"] is None}

    def _hpf_recount(self, rows: pd.DataFrame | None = None) -> None:
        """Count again where the frame is: after a frame step (``rows`` None), or when committed
        rows (this kernel's or another's) touch this image, so the store's count never goes stale
        while the frame stays put (the browser shows the kernel's count once the frame rests)."""
        state = self.__dict__.get("_hpf_state")
        if state is None or state["bounds"] is None:
            return
        if rows is not None and "image_id" in rows.columns and not (rows["image_id"] == self.image).any():
            return
        self._hpf_moved(state["bounds"][:2])

    def _hpf_edited(self, edit: dict) -> None:
        state = self.__dict__.get("_hpf_state")
        if state is None or edit["layer"] != state["name"]:
            return
        if edit["action"] == "delete":
            self.hide_hpf_frame()
            return
        x0, y0, x1, y1 = edit["geometry"].bounds
        side = state["side"]
        if abs((x1 - x0) - side) > 1e-3 * side or abs((y1 - y0) - side) > 1e-3 * side:
            self.place_hpf_frame((x0, y0))  # resized: back to its area, at the new corner
        else:
            self._hpf_moved((x0, y0))


def _corner(at) -> tuple[float, float]:
    if isinstance(at, dict):
        if "bounds" not in at:
            raise InvalidValueError(f"an HPF frame position needs 'bounds' (a densest_area result), got keys {sorted(at)}")
        at = at["bounds"]
    try:
        values = [float(v) for v in at]
    except (TypeError, ValueError):
        raise InvalidValueError(f"an HPF frame goes at (x0, y0) or (x0, y0, x1, y1) in level-0 pixels, not {at!r}") from None
    if len(values) not in (2, 4):
        raise InvalidValueError(f"an HPF frame goes at (x0, y0) or (x0, y0, x1, y1) in level-0 pixels, not {at!r}")
    return values[0], values[1]
