"""A separate process painting stripes into one project (used by test_two_processes_painting)."""

from __future__ import annotations

import sys

import numpy as np


def main(location: str, user: str, image_id: int, cls: int, column: int) -> None:
    import exact_lab as xl

    proj = xl.open_project(location, user=user)
    proj.session.interval = 0.05
    for stripe in range(6):
        own = np.full((5, 512), cls, np.uint8)
        shared = np.full((5, 512), cls, np.uint8)
        if stripe % 2:  # queued through the session
            # rows stripe*10 .. +4 of the own tile (the caps reach into the unclaimed tiles beside it)
            x0, y = 1024, 1024 * column + stripe * 10 + 2.5
            proj.paint_stroke(image_id, [(x0 - 8, y), (x0 + 520, y)], 2.5, cls)
            proj.flush()
        else:  # one direct snapshot
            proj.set_mask(image_id, own, offset=(1024, 1024 * column + stripe * 10))
        proj.set_mask(image_id, shared, offset=(0, stripe * 20 + 10 * column))
    proj.flush()
    proj.close()


if __name__ == "__main__":
    location, user, image_id, cls, column = sys.argv[1:]
    main(location, user, int(image_id), int(cls), int(column))
