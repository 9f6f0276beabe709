"""Masks painted in another process reach an open viewer: its kernel side sends ``mask_changed``
for the tiles the other process's commit touched, so the browser fetches them again."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np

from exact_lab.masks.tiles import TILE

from .test_viewer_tools import Sent, send

PAINT = """
import sys, numpy as np, exact_lab as xl
location, image_id, cls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
proj = xl.open_project(location, user="bob")
proj.set_mask(image_id, np.full((200, 300), cls, np.uint8), offset=(900, 1500))   # tiles (1..2, 2..3)
proj.close()
"""


def remote_changes(sent, until, timeout=60.0):
    """The ``mask_changed`` messages of reason "remote" once ``until(messages)`` holds (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        got = [m for m, _ in sent.of("mask_changed") if m["reason"] == "remote"]
        if until(got) or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def covers(bbox, box):
    return bbox[0] <= box[0] and bbox[1] <= box[1] and bbox[2] >= box[2] and bbox[3] >= box[3]


def test_a_mask_painted_in_another_process_is_announced_to_an_open_viewer(labelled):
    proj, image_id, tumour, _ = labelled
    v = proj.viewer(image_id)
    sent = Sent(v)
    send(v, {"type": "hello"})
    # the browser asks for a tile as soon as the mask layer is drawn: that starts the mask watch
    send(v, {"type": "mask_tile", "req": 1, "level": 0, "col": 1, "row": 2, "frame": 0})
    assert sent.of("mask_tile")[-1][0]["ok"]
    painted = (900, 1500, 1200, 1700)

    subprocess.run([sys.executable, "-c", PAINT, str(proj.location), str(image_id), str(tumour)], check=True, timeout=120)

    got = remote_changes(sent, lambda ms: any(covers(m["bbox"], painted) for m in ms))
    assert any(covers(m["bbox"], painted) for m in got), f"no mask_changed covering {painted}: {got}"
    hit = next(m for m in got if covers(m["bbox"], painted))
    # exactly the four level-0 tiles the other process wrote, frame 0
    assert hit["frame"] == 0 and hit["bbox"] == (1 * TILE, 2 * TILE, 3 * TILE, 4 * TILE)
    # and a tile asked for now carries the other process's pixels
    send(v, {"type": "mask_tile", "req": 2, "level": 0, "col": 1, "row": 2, "frame": 0})
    msg, buffers = sent.of("mask_tile")[-1]
    tile = np.frombuffer(buffers[0], np.uint8).reshape(msg["height"], msg["width"])
    assert (tile == tumour).sum() == (1024 - 900) * (1536 - 1500)  # the corner of the block in tile (1, 2)
    v.close()


def test_a_closed_viewer_stops_watching_and_another_image_is_not_announced(labelled, tmp_path):
    from PIL import Image

    proj, image_id, tumour, _ = labelled
    other_png = tmp_path / "other.png"
    Image.fromarray(np.full((2000, 2000, 3), 90, np.uint8)).save(other_png)
    other = int(proj.add_images([other_png])["image_id"].iloc[0])
    v = proj.viewer(image_id)
    sent = Sent(v)
    send(v, {"type": "mask_tile", "req": 1, "level": 0, "col": 0, "row": 0, "frame": 0})
    # a commit to another image, then one to this image: only the second is announced
    subprocess.run([sys.executable, "-c", PAINT, str(proj.location), str(other), str(tumour)], check=True, timeout=120)
    subprocess.run([sys.executable, "-c", PAINT.replace("offset=(900, 1500)", "offset=(0, 0)"), str(proj.location),
                    str(image_id), str(tumour)], check=True, timeout=120)
    got = remote_changes(sent, lambda ms: any(m["bbox"] == (0, 0, TILE, TILE) for m in ms))
    assert [m["bbox"] for m in got] == [(0.0, 0.0, float(TILE), float(TILE))], got
    v.close()
    assert v._mask_tools._watch.closed
    before = len(sent.of("mask_changed"))
    proj.paint_stroke(image_id, [(10.0, 10.0)], 4.0, tumour)
    proj.flush()  # this kernel's own commit: a closed viewer is not told either
    assert len(sent.of("mask_changed")) == before
