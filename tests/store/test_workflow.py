"""Verifications, media files and screening state."""

from __future__ import annotations

import pytest
from shapely.geometry import box

import exact_lab as xl
from exact_lab.errors import InvalidValueError, UnknownAnnotationError


@pytest.fixture
def annotated(project, small_svs):
    project.add_annotation_type("mitosis", "box")
    image_id = int(project.add_images([small_svs])["image_id"].iloc[0])
    uuids = project.add_annotations([{"image_id": image_id, "type": "mitosis", "geometry": box(i, i, i + 9, i + 9)}
                                     for i in range(3)])
    return project, image_id, uuids


def test_one_verdict_per_user_and_annotation(annotated):
    proj, image_id, uuids = annotated
    proj.verify(uuids[:2])
    proj.verify(uuids[0], verified=False)  # alice changes her mind
    bob = xl.open_project(proj.location, user="bob")
    bob.verify(uuids[0])
    table = proj.verifications(image=image_id)
    verdicts = {(r.uuid, r.username): r.verified for r in table.itertuples()}
    assert verdicts == {(uuids[0], "alice"): False, (uuids[1], "alice"): True, (uuids[0], "bob"): True}
    with pytest.raises(UnknownAnnotationError):
        proj.verify("00000000-0000-4000-8000-000000000000")
    bob.close()


def test_media_attached_to_annotations(annotated, tmp_path):
    proj, _, uuids = annotated
    clip = tmp_path / "note.wav"
    clip.write_bytes(b"RIFF....WAVE")
    proj.add_media(uuids[0], clip)
    proj.add_media(uuids[0], data=b"\x89PNG...", name="crop.png")
    media = proj.media(uuids[0])
    assert media["kind"].tolist() == ["audio", "image"]
    assert media["path"].iloc[0] == str(clip) and bytes(media["data"].iloc[1]) == b"\x89PNG..."
    with pytest.raises(InvalidValueError):
        proj.add_media(uuids[0])


def test_screening_state_is_per_user_and_image(annotated):
    proj, image_id, _ = annotated
    assert proj.screening(image_id) is None
    proj.save_screening(image_id, tile_size=(512, 512), zoom=0.5, grid=(5, 6), visited=[3, 1, 2], current=3)
    state = proj.screening(image_id)
    assert state["visited"] == [1, 2, 3] and state["current_tile"] == 3 and state["overlap"] == 0.15
    assert proj.screening(image_id, user="bob") is None
    with pytest.raises(InvalidValueError):
        proj.save_screening(image_id, overlap=1.5)
