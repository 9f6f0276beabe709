"""The viewer's review keys, driven by the messages the browser sends (no browser here: the
browser side of these keys is tested in js/test)."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import box

import exact_lab as xl


def _press(viewer, msg, ids=None):
    buffers = [np.asarray(ids, dtype=np.float64).tobytes()] if ids is not None else []
    viewer._on_msg(viewer, msg, buffers)


@pytest.fixture
def viewer_and_proposals(review_project):
    proj, image_id = review_project
    uuids = proj.add_annotations([{"image_id": image_id, "type": "cell", "geometry": box(i * 100, 50, i * 100 + 40, 90),
                                   "score": s, "source": "detector v1", "creator": "model"}
                                  for i, s in enumerate([0.9, 0.6, 0.3])])
    viewer = proj.viewer(image_id)
    sent = []
    viewer.send = lambda content, buffers=None: sent.append((content, buffers))
    viewer._model.ready = True
    yield proj, image_id, uuids, viewer, sent
    viewer.close()


def test_screening_keys_move_the_attached_screening_and_save_it(viewer_and_proposals):
    proj, image_id, _, viewer, _ = viewer_and_proposals
    viewer.screening = proj.start_screening(image_id, tile_size=512, skip_background=False)
    first = viewer._screening["current"]
    _press(viewer, {"type": "screening", "dx": 1, "dy": 0, "mark": True, "bounds": [0, 0, 1, 1]})
    _press(viewer, {"type": "screening", "dx": 1, "dy": 0, "mark": False, "bounds": [0, 0, 1, 1]})
    state = viewer._screening
    assert state["visited"] == [first] and state["current"] == first + 2
    assert viewer._goto["bbox"] == list(viewer.screening.grid.bounds(first + 2))
    tile = viewer.layer("screening tile")["geometry"].iloc[0]
    assert tile.bounds == viewer.screening.grid.bounds(first + 2)
    again = xl.open_project(proj.location, user="alice")
    assert again.start_screening(image_id, tile_size=512, skip_background=False).current == first + 2
    again.close()


def test_v_and_r_record_verdicts_and_the_queue_moves_on(viewer_and_proposals):
    proj, _, uuids, viewer, sent = viewer_and_proposals
    queue = proj.review_queue()
    viewer.review(queue)
    assert viewer._review == {"position": 0, "total": 3, "uuid": uuids[0], "done": False}
    ids = list(viewer._model.selected)
    _press(viewer, {"type": "verdict", "verified": True}, ids)
    assert viewer.review_position == 1 and viewer._review["uuid"] == uuids[1]
    _press(viewer, {"type": "verdict", "verified": False}, list(viewer._model.selected))
    _press(viewer, {"type": "review_step", "delta": -1})
    assert viewer.review_position == 1
    verdicts = proj.verifications().set_index("uuid")["verified"].to_dict()
    assert verdicts == {uuids[0]: True, uuids[1]: False}
    assert set(viewer.layer("verified")["uuid"]) == {uuids[0]}
    assert set(viewer.layer("rejected")["uuid"]) == {uuids[1]}
    viewer.show_verdicts(False)
    assert "verified" not in set(viewer.layers["name"])


def test_selecting_an_annotation_with_audio_sends_it_to_the_media_panel(viewer_and_proposals, tmp_path):
    proj, _, uuids, viewer, sent = viewer_and_proposals
    clip = tmp_path / "call.wav"
    clip.write_bytes(b"RIFF" + bytes(40))
    proj.add_media(uuids[2], clip)
    viewer.selected = [uuids[2]]
    _press(viewer, {"type": "selection", "gen": viewer._model.gen}, list(viewer._model.selected))
    media = [(c, b) for c, b in sent if c.get("type") == "media"]
    assert media and media[-1][0]["kind"] == "audio" and media[-1][0]["mime"] == "audio/x-wav"
    assert bytes(media[-1][1][0]) == clip.read_bytes()


def test_the_image_strip_lists_the_set_with_progress(viewer_and_proposals, small_svs):
    proj, image_id, _, viewer, _ = viewer_and_proposals
    second = int(proj.add_images([small_svs], image_set="study")["image_id"].iloc[0])
    proj.start_screening(second, tile_size=1024, skip_background=False).key("d")
    viewer.image_set = "study"
    strip = {e["image_id"]: e for e in viewer._strip}
    assert set(strip) == {image_id, second} and strip[image_id]["current"]
    assert strip[second]["progress"] > 0 and strip[image_id]["progress"] is None
    assert viewer.image_set == "study"
