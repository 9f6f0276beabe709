"""The review room's part of the SlideViewer: screening keys, verdict keys, the review queue, the
image set and the media panel. A mixin of ``widgets.viewer.SlideViewer``; it reaches the viewer
through the viewer's public API (``image``, ``goto``, ``fit``, ``selected``, ``add_layer``) and
the traits declared there (``_screening``, ``_review``).

Verified and rejected annotations are drawn as two outline layers above the type layers
("verified" green, "rejected" red): a layer style the layer list (or ``style_layer``) toggles.
"""

from __future__ import annotations

import logging
import mimetypes

import pandas as pd
import shapely

from ..errors import InvalidValueError
from .screening import Screening

log = logging.getLogger(__name__)

VERDICT_STYLES = {
    "verified": {"color": "#22c55e", "line_width": 3, "fill_opacity": 0.0},
    "rejected": {"color": "#ef4444", "line_width": 3, "fill_opacity": 0.0},
}
TILE_LAYER = "screening tile"
REVIEW_ZOOM_MARGIN = 4.0  # the reviewed annotation fills about a quarter of the view's width


class ReviewViewerMixin:
    # -- screening --------------------------------------------------------------------------
    @property
    def screening(self) -> Screening | None:
        """The screening the keys w a s d / i j k l drive (``proj.start_screening(image)``)."""
        return getattr(self, "_screening_session", None)

    @screening.setter
    def screening(self, value: Screening | None) -> None:
        if value is not None and not isinstance(value, Screening):
            raise InvalidValueError("viewer.screening takes what proj.start_screening(image) returns")
        self._screening_session = value
        if value is not None and value.image_id != self.image:
            self.image = value.image_id
        self._show_screening()

    def _show_screening(self) -> None:
        s = self.screening
        if s is None:
            self._screening = {}
            if TILE_LAYER in self._user_layer_names():
                self.remove_layer(TILE_LAYER)
            return
        self._screening = s.describe()
        self.add_layer(pd.DataFrame({"geometry": [shapely.box(*s.bounds)]}), TILE_LAYER,
                       style={"color": "#facc15", "line_width": 3, "fill_opacity": 0.0})
        self.fit(s.bounds)

    def _on_screening(self, msg, buffers) -> None:
        s = self.screening
        if s is not None:
            s.move(int(msg["dx"]), int(msg["dy"]), mark=bool(msg["mark"]))
            self._show_screening()
        for cb in self._screening_callbacks:
            cb({"dx": msg["dx"], "dy": msg["dy"], "mark": msg["mark"], "bounds": msg["bounds"]})

    # -- verdicts ---------------------------------------------------------------------------
    def _on_verdict(self, msg, buffers) -> None:
        if buffers:
            self._select_ids(buffers[0])
        project = self.project
        if project is None:
            self._notice("verdicts are kept in a project: open the image with proj.viewer()", "warn")
            return
        rows = self.selected
        uuids = [u for u, layer in zip(rows.get("uuid", []), rows.get("layer", [])) if layer not in self._user_layer_names()]
        if not uuids:
            self._notice("select an annotation first (v verifies, r rejects)", "warn")
            return
        verified = bool(msg["verified"])
        project.verify(uuids, verified=verified)
        self._notice(f"{'verified' if verified else 'rejected'} {len(uuids)}")
        self.show_verdicts()
        queue = getattr(self, "_queue", None)
        if queue is not None and self._queue_at < len(queue) and queue["uuid"].iloc[self._queue_at] in uuids:
            self._step_review(1)

    def show_verdicts(self, visible: bool = True) -> None:
        """Draw the current user's verified and rejected annotations of this image as outline
        layers ("verified", "rejected"); ``visible=False`` hides them."""
        project = self.project
        if project is None:
            return
        self._verdicts_shown = visible
        names = set(self._user_layer_names())
        if not visible:
            for name in VERDICT_STYLES:
                if name in names:
                    self.remove_layer(name)
            return
        mine = project.verifications(user=project.user)
        mine = mine[mine["image_id"] == self.image]
        shown = self._model.backend.annotations(self.frame)
        for name, flag in (("verified", True), ("rejected", False)):
            uuids = set(mine.loc[mine["verified"] == flag, "uuid"])
            rows = shown[shown["uuid"].isin(uuids)][["uuid", "geometry"]]
            rows = rows[rows["geometry"].notna()]
            if len(rows) or name in names:
                self.add_layer(rows.reset_index(drop=True), name, style=VERDICT_STYLES[name])

    def _user_layer_names(self) -> list[str]:
        return [m["name"] for m in self._layers if str(m.get("key", "")).startswith("u:")]

    # -- the review queue -------------------------------------------------------------------
    def review(self, queue: pd.DataFrame, start: int = 0) -> None:
        """Step through a review queue (``proj.review_queue()``): n / p next / previous, v / r
        record a verdict on the item shown and move on."""
        if not isinstance(queue, pd.DataFrame) or "uuid" not in queue.columns or "image_id" not in queue.columns:
            raise InvalidValueError("viewer.review takes a DataFrame with uuid and image_id columns (proj.review_queue())")
        self._queue = queue.reset_index(drop=True)
        self._queue_at = max(0, min(int(start), len(self._queue) - 1))
        self._show_review_item()

    @property
    def review_position(self) -> int | None:
        """Index in the queue of the item shown (None without a queue)."""
        return getattr(self, "_queue_at", None) if getattr(self, "_queue", None) is not None else None

    def _on_review_step(self, msg, buffers) -> None:
        if getattr(self, "_queue", None) is None:
            self._notice("no review queue: viewer.review(proj.review_queue())", "warn")
            return
        self._step_review(int(msg["delta"]))

    def _step_review(self, delta: int) -> None:
        n = len(self._queue)
        k = self._queue_at + delta
        if not 0 <= k < n:
            self._notice("end of the review queue" if k >= n else "start of the review queue")
            self._review = {**self._review, "done": k >= n}
            return
        self._queue_at = k
        self._show_review_item()

    def _show_review_item(self) -> None:
        queue = self._queue
        if not len(queue):
            self._review = {"position": 0, "total": 0, "uuid": None, "done": True}
            self._notice("the review queue is empty")
            return
        item = queue.iloc[self._queue_at]
        if int(item["image_id"]) != self.image:
            self.image = int(item["image_id"])
        self._review = {"position": self._queue_at, "total": len(queue), "uuid": str(item["uuid"]), "done": False}
        x0, y0, x1, y1 = (float(item[c]) for c in ("xmin", "ymin", "xmax", "ymax"))
        side = max(x1 - x0, y1 - y0, 32.0) * REVIEW_ZOOM_MARGIN
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        self.fit((cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2))
        self.selected = [str(item["uuid"])]
        self._notice(f"review {self._queue_at + 1} of {len(queue)}")

    # -- image sets -------------------------------------------------------------------------
    @property
    def image_set(self):
        """The name of the image set of the image shown (q / e move within it). Setting it shows
        the set's first image."""
        project = self.project
        if project is None:
            return None
        return project.images(ids=[self.image])["image_set"].iloc[0]

    @image_set.setter
    def image_set(self, value) -> None:
        project = self.project
        if project is None:
            raise InvalidValueError("image sets belong to a project: open the viewer with proj.viewer()")
        images = project.images(image_set=value)
        if not len(images):
            raise InvalidValueError(f"image set {value!r} holds no image")
        self.image = int(images["image_id"].iloc[0])

    def _image_strip(self) -> list[dict]:
        """Thumbnail-strip entries of the image set: id, shown name (the pseudonym in a
        pseudonymised set), path for the thumbnail route, screening progress of this user."""
        project = self.project
        if project is None:
            return []
        record = project.image(self.image)
        images = project.images(image_set=record.get("image_set_id"))
        progress = project.screening_progress(user=project.user).set_index("image_id")["fraction"]
        out = []
        for row in images.itertuples():
            name = row.public_name if row.pseudonymized else row.name
            out.append({"image_id": int(row.image_id), "name": str(name),
                        "progress": float(progress.get(row.image_id, 0.0)) if row.image_id in progress.index else None,
                        "current": int(row.image_id) == self.image})
        return out

    # -- media ------------------------------------------------------------------------------
    def _send_media(self) -> None:
        """After a selection: the first media file of the one selected annotation, or an empty panel."""
        project = self.project
        if project is None or not self._model.ready:
            return
        # from the id map, not self.selected: reading the rows flushes the queued edits, and a commit
        # on every selection held back the forwarding of a fresh edit to other viewers (> 2 s)
        uuids = self._model.selected_annotation_uuids()
        found = None
        if len(uuids) == 1 and len(self._model.selected) == 1:
            media = project.media(uuids[0])
            if len(media):
                found = media.iloc[0]
        if found is None:
            if getattr(self, "_media_shown", None):
                self._model.send("media", uuid="", kind="none", filename="", mime="")
                self._media_shown = None
            return
        data = found["data"]
        if data is None:
            with open(found["path"], "rb") as handle:
                data = handle.read()
        mime = mimetypes.guess_type(found["name"] or "")[0] or f"{found['kind']}/*"
        self._model.send("media", [bytes(data)], uuid=str(found["uuid"]), kind=str(found["kind"]),
                         filename=str(found["name"]), mime=mime)
        self._media_shown = str(found["uuid"])
