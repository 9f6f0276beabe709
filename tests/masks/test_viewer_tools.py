"""The viewer's pixel tools on the kernel side, driven by the messages the browser sends: a
stroke is stored exactly as its polyline and radius say, undo / redo, superpixel fill and erase,
clear, and save-and-next."""

from __future__ import annotations

import numpy as np
import pytest

from exact_lab.masks.tiles import stroke_mask


class Sent:
    def __init__(self, viewer):
        self.messages = []
        viewer.send = lambda content, buffers=None: self.messages.append((content, [bytes(b) for b in (buffers or [])]))

    def of(self, kind):
        return [(m, b) for m, b in self.messages if m.get("type") == kind]


def send(viewer, msg, points=None):
    buffers = [memoryview(np.asarray(points, np.float64).ravel())] if points is not None else []
    viewer._on_msg(viewer, msg, buffers)


@pytest.fixture
def viewer(labelled):
    proj, image_id, tumour, stroma = labelled
    v = proj.viewer(image_id)
    sent = Sent(v)
    v._on_msg(v, {"type": "hello"}, [])
    v.view = {"x": 600, "y": 600, "scale": 0.5, "bounds": [200, 300, 1000, 900], "width": 400, "height": 300}
    return proj, v, sent, image_id, tumour, stroma


def test_a_browser_stroke_is_stored_exactly_and_undo_redo_follow(viewer):
    proj, v, sent, image_id, tumour, _ = viewer
    points = [(100.25, 120.5), (180.75, 160.0), (260.0, 130.5)]
    send(v, {"type": "mask_stroke", "seq": 1, "type_id": tumour, "radius": 12.5, "frame": 0}, points)
    proj.flush()
    (x0, y0), expected = stroke_mask(points, 12.5)
    got = proj.mask(image_id, region=(x0, y0, x0 + expected.shape[1], y0 + expected.shape[0]))
    assert np.array_equal(got == tumour, expected)
    assert proj.mask_stats()["pixels"].sum() == expected.sum()  # nothing outside the radius
    assert sent.of("mask_changed")[-1][0]["reason"] == "stroke"

    send(v, {"type": "mask_stroke", "seq": 2, "type_id": 0, "radius": 5.0, "frame": 0}, [(180.75, 160.0)])  # erase
    send(v, {"type": "mask_history", "step": -1})  # undo the erase
    proj.flush()
    assert np.array_equal(proj.mask(image_id, region=(x0, y0, x0 + expected.shape[1], y0 + expected.shape[0])) == tumour, expected)
    send(v, {"type": "mask_history", "step": -1})  # undo the stroke
    assert proj.mask(image_id, region=(0, 0, 400, 400)).max() == 0
    send(v, {"type": "mask_history", "step": 1})  # redo it
    assert (proj.mask(image_id, region=(0, 0, 400, 400)) == tumour).sum() == expected.sum()


def test_superpixels_of_the_view_fill_with_a_click_and_erase_with_a_right_click(viewer):
    proj, v, sent, image_id, tumour, _ = viewer
    sp = send(v, {"type": "superpixel_request", "method": "slic", "names": ["n_segments"], "values": [60]})
    msg, buffers = sent.of("superpixels")[-1]
    assert (msg["width"], msg["height"]) == (400, 300) and msg["bbox"] == (200, 300, 1000, 900)
    edges = np.frombuffer(buffers[0], np.uint8).reshape(300, 400)
    sp = v.mask_tools.current
    assert np.array_equal(edges.astype(bool), sp.boundaries())
    a, b = sp.label_at((400, 500)), sp.label_at((800, 700))
    send(v, {"type": "superpixel_fill", "seq": 1, "type_id": tumour, "frame": 0}, [(400, 500), (800, 700)])
    got = proj.mask(image_id, region=(200, 300, 1000, 900)) == tumour
    assert np.array_equal(got, np.isin(sp.labels, [a, b]).repeat(2, 0).repeat(2, 1))
    send(v, {"type": "superpixel_fill", "seq": 2, "type_id": 0, "frame": 0}, [(400, 500)])  # right click
    got = proj.mask(image_id, region=(200, 300, 1000, 900)) == tumour
    assert np.array_equal(got, (sp.labels == b).repeat(2, 0).repeat(2, 1))


def test_clear_removes_every_label_of_the_image(viewer):
    proj, v, sent, image_id, tumour, _ = viewer
    proj.set_mask(image_id, np.full((50, 50), tumour, np.uint8), offset=(10, 10))
    send(v, {"type": "mask_clear", "frame": 0})
    assert proj.mask_stats().empty
    assert sent.of("mask_changed")[-1][0]["reason"] == "clear"


def test_finish_image_marks_it_done_and_opens_the_next_undone(labelled, small_svs, tmp_path):
    from PIL import Image

    proj, image_id, tumour, _ = labelled
    other = tmp_path / "other.png"
    Image.fromarray(np.full((100, 100, 3), 90, np.uint8)).save(other)
    set_id = proj.image(image_id)["image_set_id"]
    set_name = proj.image_sets().set_index("image_set_id").loc[set_id, "name"]
    second = int(proj.add_images([other], image_set=set_name)["image_id"].iloc[0])
    v = proj.viewer(image_id)
    Sent(v)
    send(v, {"type": "mask_stroke", "seq": 1, "type_id": tumour, "radius": 4.0, "frame": 0}, [(30.0, 30.0)])
    send(v, {"type": "finish_image"})
    assert v.image == second
    assert proj.done_images() == [image_id]
    assert proj.mask_stats(image=image_id)["pixels"].sum() > 0  # the stroke was saved with it
    assert v.finish_image() is None  # all done: stays


def test_mask_tiles_are_sent_at_every_level_with_what_was_painted(viewer):
    proj, v, sent, image_id, tumour, _ = viewer
    labels = np.zeros((40, 600), np.uint8)
    labels[:, :] = tumour
    proj.set_mask(image_id, labels, offset=(300, 520))
    width, height = (int(x) for x in proj.images(ids=[image_id]).iloc[0][["width", "height"]])
    send(v, {"type": "mask_tile", "req": 7, "level": 0, "col": 1, "row": 1, "frame": 0})
    msg, buffers = sent.of("mask_tile")[-1]
    assert msg["ok"] and msg["req"] == 7 and msg["itemsize"] == 1
    tile = np.frombuffer(buffers[0], np.uint8).reshape(msg["height"], msg["width"])
    assert (msg["width"], msg["height"]) == (min(512, width - 512), min(512, height - 512))
    # level-0 tile (1, 1) starts at (512, 512): rows 520..560 and columns 512..900 of the image
    expected = np.zeros_like(tile)
    expected[8:48, :900 - 512] = tumour
    assert np.array_equal(tile, expected)
    send(v, {"type": "mask_tile", "req": 8, "level": 1, "col": 0, "row": 0, "frame": 0})
    msg, buffers = sent.of("mask_tile")[-1]
    tile = np.frombuffer(buffers[0], np.uint8).reshape(msg["height"], msg["width"])
    assert np.array_equal(tile, proj.mask(image_id, region=(0, 0, min(1024, width), min(1024, height)), level=1))
    assert (tile == tumour).sum() == 20 * 300
    send(v, {"type": "mask_tile", "req": 9, "level": 0, "col": 99, "row": 0, "frame": 0})
    msg, _ = sent.of("mask_tile")[-1]
    assert not msg["ok"] and "outside" in msg["error"] and str(image_id) in msg["error"]
