"""The video room's keys in the SlideViewer: ``t`` copies the selection to the next frame,
Shift+T interpolates the selected box towards its keyframe partner. A mixin of
``widgets.viewer.SlideViewer``; the work is the project's (``copy_to_frame``,
``interpolate_track``), the viewer only picks the selection and says what happened.
"""

from __future__ import annotations

from ..errors import InvalidValueError


class FrameKeysMixin:
    def copy_selection_to_next_frame(self) -> list[str]:
        """Copy the selected annotations to the next frame (shown, and selected, when you step
        there with Shift+E). Returns the new uuids."""
        uuids = self._selected_for("copying to the next frame")
        frames = self._source.get("frames") or 1
        if self.frame + 1 >= frames:
            raise InvalidValueError(f"frame {self.frame} is the last of {frames}; nothing to copy to")
        new = self.project.copy_to_frame(uuids, frame=self.frame + 1)
        # stepping there (Shift+E) selects the copies, so t can carry them on frame by frame
        self._model.select_on_frame = {self.frame + 1: new}
        self._notice(f"copied {len(new)} annotation(s) to frame {self.frame + 1}")
        return new

    def interpolate_selection(self) -> list[str]:
        """Interpolate each selected box towards its keyframe partner (``proj.keyframe_partner``:
        the nearest moved copy in its track); returns the new uuids."""
        new: list[str] = []
        for uuid in self._selected_for("interpolation"):
            new += self.project.interpolate_track(uuid)
        self._notice(f"interpolated {len(new)} box(es)")
        return new

    def _selected_for(self, what: str) -> list[str]:
        if self.project is None:
            raise InvalidValueError(f"{what} needs a project's image (proj.viewer(image))")
        uuids = self._model.selected_store_uuids()
        if not uuids:
            raise InvalidValueError(f"select annotations of the image first ({what})")
        return uuids

    def _on_frame_copy(self, msg, buffers) -> None:
        if buffers:
            self._select_ids(buffers[0])
        self.copy_selection_to_next_frame()

    def _on_frame_interpolate(self, msg, buffers) -> None:
        if buffers:
            self._select_ids(buffers[0])
        self.interpolate_selection()
