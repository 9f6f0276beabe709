"""A viewer on an analysis map (annotation, density or cluster map): what is edited on the map
reaches the source annotations, and ``o`` opens the source of a patch.

The viewer learns that its image is a map from the analysis room (``project.map_of``) and uses
only the map object's public API: ``sync`` after each commit of map annotations (so a number key
on a box or lasso selection, a deletion, a moved vertex all flow back), ``verify`` for ``f``, and
``locate`` for ``o``. Viewers open on the source image then update through the store's own watch,
like for any other commit.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from . import sync

log = logging.getLogger(__name__)


class MapLink:
    """The map a viewer shows, and the three things the viewer asks of it."""

    def __init__(self, amap):
        self.map = amap
        self.mapped = set(amap.mapping["map_uuid"].astype(str))

    @classmethod
    def of(cls, backend) -> MapLink | None:
        """The link for a project backend's image, or None when the image is not a map."""
        project = getattr(backend, "project", None)
        if project is None or not hasattr(project, "map_of"):
            return None
        amap = project.map_of(backend.image_id)
        return None if amap is None else cls(amap)

    def committed(self, rows: pd.DataFrame):
        """Map annotations were committed: pass what changed to their sources (``m.sync``).
        Returns the sync report, or None when none of the rows is a patch's annotation."""
        uuids = [u for u in rows["uuid"].astype(str) if u in self.mapped]
        if not uuids:
            return None
        return self.map.sync(uuids=uuids)

    def verify(self, uuids, verified: bool = True):
        """``f`` on map annotations: the verdict on them and, as the same user's, on their sources."""
        chosen = [u for u in map(str, uuids) if u in self.mapped]
        return self.map.verify(uuids=chosen, verified=verified) if chosen else None

    def locate(self, uuids, l0_xy) -> dict:
        """Where the source is: of the first selected patch annotation, else of the patch under
        ``l0_xy`` (map pixels); ``m.locate``'s answer."""
        chosen = [u for u in map(str, uuids) if u in self.mapped]
        return self.map.locate(chosen[0] if chosen else tuple(l0_xy))


class MapViewerMixin:
    """The SlideViewer's part for maps: ``source_map``, ``on_open_source`` and the handler of ``o``."""

    @property
    def source_map(self):
        """The map object when this viewer shows an analysis map (``proj.map_of``), else None."""
        return None if self._map_link is None else self._map_link.map

    def on_open_source(self, callback) -> None:
        """Call ``callback(where)`` when ``o`` is pressed on a map, instead of moving a viewer;
        ``where`` is ``m.locate``'s answer (image_id, uuid, map_uuid, x, y, zoom, bbox)."""
        self._open_source_callbacks.append(callback)

    def _link_map(self) -> None:
        self._map_link = MapLink.of(self._model.backend)

    def _map_committed(self, rows: pd.DataFrame) -> None:
        if self._map_link is None or rows is None or rows.empty:
            return
        try:
            report = self._map_link.committed(rows)
        except Exception as exc:  # the source refused (say a type that cannot hold the shape)
            log.exception("exact-lab: passing map edits to the sources failed")
            self._notice(f"map edits did not reach the sources: {type(exc).__name__}: {exc}", "error")
            return
        if report is not None and any(report.counts().values()):
            done = ", ".join(f"{n} {what}" for what, n in report.counts().items() if n)
            self._notice(f"sources updated: {done}")

    def _map_verify(self, selected: pd.DataFrame) -> bool:
        """``f`` on a map without verify callbacks: True when the map took it."""
        if self._map_link is None or selected.empty:
            return False
        report = self._map_link.verify(selected["uuid"])
        if report is not None:
            self._notice(f"verified {len(report.verified)} source annotation(s)")
        return report is not None

    def _on_open_source(self, msg, buffers) -> None:
        if self._map_link is None:
            self._notice("o opens the source of a patch: this image is not a map", "warn")
            return
        if buffers:
            self._model.selected = np.frombuffer(bytes(buffers[0]), dtype=np.float64)
        selected = self.selected
        uuids = list(selected["uuid"]) if "uuid" in selected.columns else []
        where = self._map_link.locate(uuids, (msg["x"], msg["y"]))
        if self._open_source_callbacks:
            for cb in self._open_source_callbacks:
                cb(where)
            return
        # a viewer of the source already open in this kernel is moved there; else this one goes
        others = [v for v in sync.viewers_of(self._model.backend.project, where["image_id"]) if v is not self]
        for v in others or [self]:
            if v is self:
                self.image = where["image_id"]
            v.goto(where["x"], where["y"], zoom=where["zoom"])
            v.selected = [where["uuid"]]
        self._notice(f"source: image {where['image_id']} at ({where['x']:.0f}, {where['y']:.0f})")
