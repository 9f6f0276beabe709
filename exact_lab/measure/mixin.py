"""The measure room's part of ``Project``."""

from __future__ import annotations

from .fov import HPF10_MM2


class MeasureMixin:
    def measure_view(self, image, bounds, *, frame: int | None = 0, types=None, hpf10_mm2: float = HPF10_MM2) -> dict:
        """Field of view in mm² and, per type, counts (annotations whose centre is inside), per
        mm² and per 10 high-power fields (``hpf10_mm2``, default 2.37 mm²) for level-0
        ``bounds=(x0, y0, x1, y1)``."""
        from .fov import measure_view

        return measure_view(self, image, bounds, frame=frame, types=types, hpf10_mm2=hpf10_mm2)

    def count_in_area(self, image, bounds, *, frame: int | None = 0, types=None):
        """Annotations per type whose centre lies in level-0 ``bounds=(x0, y0, x1, y1)`` (left and
        top edges inside, right and bottom outside): a Series by type name."""
        from .fov import count_in

        return count_in(self, image, bounds, frame=frame, types=types)

    def square_side(self, image, area_mm2: float = HPF10_MM2) -> float:
        """The side, in level-0 pixels, of a square of ``area_mm2`` on ``image`` (needs its
        microns per pixel)."""
        import math

        from .fov import mm2_per_pixel

        record = self.image(image)
        return math.sqrt(float(area_mm2) / mm2_per_pixel(record["mpp"], image))

    def densest_area(self, image, types=None, area_mm2: float = HPF10_MM2, *, frame: int | None = 0, version=None) -> dict:
        """The square of ``area_mm2`` (default 10 HPF = 2.37 mm²) holding the most annotation
        centres of ``types``: ``{"bounds", "side", "count", "counts", ...}``."""
        from .densest import densest_area

        return densest_area(self, image, types, area_mm2, frame=frame, version=version)
