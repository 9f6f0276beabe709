"""The video room's part of ``Project``: frame-by-frame annotation helpers."""

from __future__ import annotations


class VideoMixin:
    def copy_to_frame(self, uuids, frame: int | None = None, offset: int = 1) -> list[str]:
        """Copy annotations to ``frame`` (default: the next frame of each); returns the new uuids."""
        from .tracks import copy_to_frame

        return copy_to_frame(self, [uuids] if isinstance(uuids, str) else uuids, frame, offset)

    def interpolate_boxes(self, first, last) -> list[str]:
        """Boxes on every frame between two keyframe boxes (uuids), edges moved linearly; returns
        the new uuids (their meta names the keyframes)."""
        from .tracks import interpolate_boxes

        return interpolate_boxes(self, first, last)

    def keyframe_partner(self, uuid: str) -> str | None:
        """The keyframe box ``uuid`` interpolates towards: the nearest later (else earlier) keyframe
        of its track (linked by copies and interpolations, through deleted boxes too): a box that
        is neither interpolated nor a copy left unmoved since it was made; None when there is none."""
        from .tracks import keyframe_partner

        return keyframe_partner(self, uuid)

    def interpolate_track(self, uuid: str) -> list[str]:
        """Interpolate box ``uuid`` towards its keyframe partner, replacing the track's boxes in
        between; returns the new uuids."""
        from .tracks import interpolate_track

        return interpolate_track(self, uuid)
