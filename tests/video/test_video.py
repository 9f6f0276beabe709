"""Videos as images with frames (a video written here by PyAV), copy to frame, interpolated boxes."""

from __future__ import annotations

import av
import numpy as np
import pytest
from shapely.geometry import box

from exact_lab.errors import InvalidValueError
from exact_lab.slides import open_slide

FRAMES, W, H = 6, 64, 48


def frame_pixels(k):
    """Frame k: flat grey level 20 + 40 k (lossy codecs keep flat areas close), a white square
    moving right."""
    pixels = np.full((H, W, 3), 20 + 40 * k, np.uint8)
    pixels[10:20, 5 + 8 * k:15 + 8 * k] = 255
    return pixels


def write_video(path, codec, pix_fmt):
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=5)
        stream.width, stream.height, stream.pix_fmt = W, H, pix_fmt
        for k in range(FRAMES):
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame_pixels(k), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.mark.parametrize("suffix,codec,pix_fmt", [(".mp4", "mpeg4", "yuv420p"), (".avi", "mjpeg", "yuvj420p"),
                                                  (".mkv", "ffv1", "bgr0")])
def test_a_video_opens_with_its_frames_and_their_pixels(tmp_path, suffix, codec, pix_fmt):
    path = write_video(tmp_path / f"clip{suffix}", codec, pix_fmt)
    slide = open_slide(path)
    assert slide.reader == "pyav" and slide.frames == FRAMES and slide.dimensions == (W, H)
    tolerance = 0 if codec == "ffv1" else 12  # ffv1 is lossless
    for k in [3, 0, 5, 1]:  # out of order: seeking back and forth
        got = np.asarray(slide.read_region((0, 0), 0, (W, H), frame=k).convert("RGB")).astype(int)
        assert np.abs(got - frame_pixels(k)).mean() <= max(tolerance / 3, 0.01), k
        assert np.abs(got[30:, 40:] - frame_pixels(k)[30:, 40:]).max() <= tolerance
    tile = slide.tile_image(slide.deepzoom().level_count - 1, 0, 0, frame=4)
    assert tile.size == (W, H)
    with pytest.raises(IndexError):
        slide.read_region((0, 0), 0, (4, 4), frame=FRAMES)


@pytest.fixture
def video_project(project, tmp_path):
    path = write_video(tmp_path / "clip.mkv", "ffv1", "bgr0")
    image_id = int(project.add_images([path])["image_id"].iloc[0])
    project.add_annotation_type("car", "box")
    return project, image_id


def test_the_image_record_has_the_frame_count(video_project):
    proj, image_id = video_project
    assert proj.image(image_id)["frames"] == FRAMES


def test_an_interpolated_box_lies_between_its_keyframes(video_project):
    proj, image_id = video_project
    a, b = proj.add_annotations([
        {"image_id": image_id, "type": "car", "frame": 1, "geometry": box(0, 0, 10, 10)},
        {"image_id": image_id, "type": "car", "frame": 5, "geometry": box(40, 20, 60, 30)},
    ])
    new = proj.interpolate_boxes(b, a)  # either order
    rows = proj.annotations(uuids=new).sort_values("frame")
    assert rows["frame"].tolist() == [2, 3, 4]
    for row in rows.itertuples():
        t = (row.frame - 1) / 4
        assert (row.xmin, row.ymin, row.xmax, row.ymax) == pytest.approx((40 * t, 20 * t, 10 + 50 * t, 10 + 20 * t))
        assert 0 <= row.xmin <= 40 and 10 <= row.xmax <= 60 and row.meta["interpolated_from"] == [a, b]
    with pytest.raises(InvalidValueError, match="same frame"):
        proj.interpolate_boxes(a, a)


def test_copy_to_next_frame_keeps_the_shape(video_project):
    proj, image_id = video_project
    (u,) = proj.add_annotations([{"image_id": image_id, "type": "car", "frame": 2, "geometry": box(3, 4, 13, 14)}])
    (c,) = proj.copy_to_frame(u)
    copy = proj.annotations(uuids=[c]).iloc[0]
    assert copy["frame"] == 3 and copy["geometry"].equals(box(3, 4, 13, 14)) and copy["meta"]["copied_from"] == u
    with pytest.raises(InvalidValueError, match="frame 6 outside 0..5"):
        proj.copy_to_frame(u, frame=6)


def test_a_box_pairs_with_the_nearest_moved_keyframe_of_its_copies(video_project):
    proj, image_id = video_project
    (first,) = proj.add_annotations([{"image_id": image_id, "type": "car", "frame": 0, "geometry": box(0, 0, 10, 10)}])
    (still,) = proj.copy_to_frame(first)                      # frame 1, not moved
    (later,) = proj.copy_to_frame(still)                      # frame 2 ...
    (far,) = proj.copy_to_frame(later, frame=4)               # frame 4, moved below
    proj.update_annotations([{"uuid": far, "geometry": box(40, 20, 60, 30)}])
    (other,) = proj.add_annotations([{"image_id": image_id, "type": "car", "frame": 3, "geometry": box(5, 5, 9, 9)}])
    assert proj.keyframe_partner(first) == far                # unmoved copies and unlinked boxes pass
    assert proj.keyframe_partner(far) == first                # no later keyframe: the nearest earlier one,
    assert later                                              # not the unmoved copy beside it
    assert proj.keyframe_partner(other) is None


def edges(proj, image_id):
    rows = proj.annotations(image=image_id).sort_values("frame")
    return {int(r.frame): (r.xmin, r.ymin, r.xmax, r.ymax) for r in rows.itertuples()}


def test_three_keyframes_interpolate_between_consecutive_ones_and_a_deleted_one_is_spanned(video_project):
    proj, image_id = video_project
    (first,) = proj.add_annotations([{"image_id": image_id, "type": "car", "frame": 0, "geometry": box(0, 0, 10, 10)}])
    chain = [first]
    for _ in range(5):  # t and Shift+E to the last frame
        chain += proj.copy_to_frame([chain[-1]])
    proj.update_annotations([{"uuid": chain[2], "geometry": box(20, 0, 30, 10)},
                             {"uuid": chain[5], "geometry": box(50, 30, 60, 40)}])
    assert proj.keyframe_partner(chain[5]) == chain[2]        # from the last keyframe back: the middle one
    proj.interpolate_track(first)                             # frame 1, between frames 0 and 2
    proj.interpolate_track(chain[2])                          # frames 3 and 4, between frames 2 and 5
    got = edges(proj, image_id)
    assert got[1] == pytest.approx((10, 0, 20, 10))
    assert got[3] == pytest.approx((30, 10, 40, 20)) and got[4] == pytest.approx((40, 20, 50, 30))
    proj.delete_annotations([chain[2]])                       # the middle keyframe goes: frames 0 to 5 in one line
    assert proj.keyframe_partner(first) == chain[5]
    proj.interpolate_track(first)
    got = edges(proj, image_id)
    assert sorted(got) == [0, 1, 2, 3, 4, 5]
    for k in range(1, 5):
        assert got[k] == pytest.approx((10 * k, 6 * k, 10 + 10 * k, 10 + 6 * k)), k


def test_interpolating_a_track_replaces_the_boxes_between_its_keyframes(video_project):
    proj, image_id = video_project
    (first,) = proj.add_annotations([{"image_id": image_id, "type": "car", "frame": 0, "geometry": box(0, 0, 10, 10)}])
    (copy,) = proj.copy_to_frame(first)
    (far,) = proj.copy_to_frame(first, frame=4)
    proj.update_annotations([{"uuid": far, "geometry": box(40, 20, 60, 30)}])
    new = proj.interpolate_track(first)
    again = proj.interpolate_track(first)  # redone, not doubled
    rows = proj.annotations(image=image_id).sort_values("frame")
    assert copy not in set(rows["uuid"]) and not set(new) & set(rows["uuid"])
    assert rows["frame"].tolist() == [0, 1, 2, 3, 4] and set(rows["uuid"].iloc[1:4]) == set(again)
    for row in rows.iloc[1:4].itertuples():
        t = row.frame / 4
        assert (row.xmin, row.ymin, row.xmax, row.ymax) == pytest.approx((40 * t, 20 * t, 10 + 50 * t, 10 + 20 * t))
    (lonely,) = proj.add_annotations([{"image_id": image_id, "type": "car", "frame": 2, "geometry": box(1, 1, 3, 3)}])
    with pytest.raises(InvalidValueError, match="no keyframe partner"):
        proj.interpolate_track(lonely)


def test_a_frame_step_does_not_carry_the_selection_to_another_annotation(video_project):
    proj, image_id = video_project
    a, b = proj.add_annotations([
        {"image_id": image_id, "type": "car", "frame": 0, "geometry": box(0, 0, 10, 10)},
        {"image_id": image_id, "type": "car", "frame": 1, "geometry": box(20, 20, 30, 30)},  # same place in its frame's ids
    ])
    v = proj.viewer(image_id)
    v.selected = [a]
    assert v.selected["uuid"].tolist() == [a]
    v.frame = 1
    assert v.selected.empty  # not b, which took a's id on the new frame
    v.selected = [b]
    v.polygon_fill = 0.5  # a restyle keeps the selection
    v.refresh_panel()
    assert v.selected["uuid"].tolist() == [b]
    v.close()


def test_copies_made_with_t_are_selected_on_the_frame_they_went_to(video_project):
    proj, image_id = video_project
    (a,) = proj.add_annotations([{"image_id": image_id, "type": "car", "frame": 0, "geometry": box(0, 0, 10, 10)}])
    v = proj.viewer(image_id)
    v.selected = [a]
    (copy,) = v.copy_selection_to_next_frame()
    assert proj.annotations(uuids=[copy])["frame"].tolist() == [1]
    v.frame = 1
    assert v.selected["uuid"].tolist() == [copy]
    (again,) = v.copy_selection_to_next_frame()
    v.frame = 0  # another frame: nothing of it selected
    assert v.selected.empty
    v.frame = 2  # the copy's frame, reached later: its copy is selected
    assert v.selected["uuid"].tolist() == [again]
    v.close()


def test_the_hpf_frame_counts_the_frame_shown(project, tmp_path):
    """A video has no microns per pixel of its own: given at add_images, the HPF frame measures,
    and a frame step counts the boxes of the new frame where the frame rests."""
    path = write_video(tmp_path / "clip.mkv", "ffv1", "bgr0")
    with pytest.raises(InvalidValueError, match="mpp must be a positive number"):
        project.add_images([path], mpp=-1)
    image_id = int(project.add_images([path], mpp=10.0)["image_id"].iloc[0])
    assert project.image(image_id)["mpp"] == 10.0
    project.add_annotation_type("car", "box")
    project.add_annotations([{"image_id": image_id, "type": "car", "frame": f, "geometry": box(2 + 3 * k, 2, 4 + 3 * k, 4)}
                             for f, n in [(0, 1), (1, 3), (2, 0)] for k in range(n)])
    v = project.viewer(image_id)
    shown = v.show_hpf_frame(at=(0, 0), area_mm2=0.04, types=["car"])  # 20 px a side at 10 µm / px
    assert shown["side"] == pytest.approx(20) and shown["count"] == 1
    v.frame = 1
    assert v.hpf_frame["count"] == 3 and v._hpf["count"] == 3
    v.frame = 2
    assert v.hpf_frame["count"] == 0
    v.close()
