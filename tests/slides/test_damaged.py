"""Damaged copies of real slides: refused at opening with the file's name and a reason, or (if
the damage is past what opening reads) a SlideReadError naming the file, never garbage pixels."""

from __future__ import annotations

import numpy as np
import pytest

from exact_lab.errors import ExactLabError, UnsupportedSlideError
from exact_lab.slides import SlideReadError, open_slide


@pytest.fixture
def svs(slides_dir):
    path = slides_dir / "aperio" / "CMU-1-Small-Region.svs"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    return path


def assert_right_or_read_error(copy, source):
    """A damaged copy that opened: every tile and associated image is either the original's or a
    SlideReadError naming the file. Returns how many failed."""
    slide, good = open_slide(copy), open_slide(source)
    layout = slide.deepzoom()
    failures = 0
    reads = [lambda lv=lv, c=c, r=r: (slide.tile(lv, c, r, format="png"), good.tile(lv, c, r, format="png"))
             for lv in range(layout.level_count)
             for c in range(layout.tile_counts(lv)[0]) for r in range(layout.tile_counts(lv)[1])]
    reads += [lambda n=n: (slide.associated_images[n].tobytes(), good.associated_images[n].tobytes())
              for n in slide.associated_images]
    for read in reads:
        try:
            ours, theirs = read()
        except SlideReadError as err:
            assert copy.name in str(err)
            failures += 1
            continue
        if ours != theirs:  # another reader may have opened the copy: its decoder may differ a little
            assert np.abs(_pixels(ours) - _pixels(theirs)).mean() < 2, "damaged data must not pass as pixels"
    return failures


def _pixels(data) -> np.ndarray:
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB") if data[:4] == b"\x89PNG"
                      else np.frombuffer(data, np.uint8)).astype(np.int16)


@pytest.mark.parametrize("fraction", [0.01, 0.1, 0.5, 0.9, 0.999])
def test_truncated_svs(svs, damaged_copy, fraction):
    cut = damaged_copy(svs, f"cut-{fraction}.svs", keep=int(svs.stat().st_size * fraction))
    try:
        open_slide(cut)
    except UnsupportedSlideError as err:
        assert cut.name in str(err)
        assert "openslide" in str(err).lower(), "the reason says which reader refused it"
        return
    # The cut spared the pyramid (label and macro come last in an SVS): what is gone fails on
    # reading or is not listed any more.
    failures = assert_right_or_read_error(cut, svs)
    assert failures > 0 or len(open_slide(cut).associated_images) < len(open_slide(svs).associated_images)


def test_random_bytes_named_svs(tmp_path):
    noise = tmp_path / "noise.svs"
    noise.write_bytes(np.random.default_rng(7).integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    with pytest.raises(UnsupportedSlideError, match="noise.svs"):
        open_slide(noise)


@pytest.mark.parametrize("name, cut", [("hamamatsu/test3-DAPI-2-(387).ndpi", 0.85), ("tiff/kidney-48-5.tif", 0.5),
                                       ("ome_tiff/4D-series.ome.tiff", 0.5), ("tiff/wsic_CMU-1-Small-Region.jpeg.tiff", 0.7)])
def test_other_truncated_formats(slides_dir, damaged_copy, name, cut):
    source = slides_dir / name
    if not source.exists():
        pytest.skip(f"{source} is missing")
    copy = damaged_copy(source, "cut-" + source.name, keep=int(source.stat().st_size * cut))
    try:
        open_slide(copy)
    except UnsupportedSlideError as err:
        assert copy.name in str(err)
        return
    assert assert_right_or_read_error(copy, source) > 0, "the cut-off part cannot have been read"


def test_damaged_tiles_fail_on_reading_with_the_file_name(svs, damaged_copy):
    copy = damaged_copy(svs, "zeroed.svs", zero_tiles_after=60)  # header and first tiles intact
    slide = open_slide(copy)
    layout = slide.deepzoom()
    top = layout.level_count - 1
    assert slide.tile(top, 0, 0) == open_slide(svs).tile(top, 0, 0)
    cols, rows = layout.tile_counts(top)
    with pytest.raises(SlideReadError) as err:
        slide.tile(top, cols - 1, rows - 1)
    assert isinstance(err.value, ExactLabError) and "zeroed.svs" in str(err.value)
    # OpenSlide's errors are sticky per handle: the intact tiles must stay readable after one
    assert slide.tile(top, 1, 1) == open_slide(svs).tile(top, 1, 1)
    with pytest.raises(SlideReadError):
        slide.tile(top, cols - 1, rows - 1)


def test_damage_at_the_first_tile_fails_at_opening(svs, damaged_copy):
    copy = damaged_copy(svs, "zeroed-all.svs", zero_tiles_after=0)
    with pytest.raises(UnsupportedSlideError, match="zeroed-all.svs"):
        open_slide(copy)


def test_a_changed_file_is_reopened(svs, tmp_path):
    import shutil

    copy = tmp_path / "changing.svs"
    shutil.copy(svs, copy)
    first = open_slide(copy)
    assert open_slide(copy) is first
    copy.write_bytes(b"replaced by something else")
    with pytest.raises(UnsupportedSlideError):
        open_slide(copy)
