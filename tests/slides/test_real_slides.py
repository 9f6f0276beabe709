"""Every slide under ../shared/data/slides/ opens with the metadata its own library reports and
serves Deep Zoom tiles whose pixels are that library's pixels (see slide_reference.py).

What the files are is in ../shared/data/PROVENANCE.md; the facts the tests rely on from it are in
``KNOWN`` below, everything else is read from OpenSlide, wsidicom or tifffile in the test.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from exact_lab.errors import UnsupportedSlideError
from exact_lab.slides import open_slide

from .slide_reference import ArrayReference, OpenSlideReference, WsiDicomReference, decode

# path under slides/ -> the reader that must open it and what PROVENANCE.md says about it
KNOWN = {
    "aperio/CMU-1-Small-Region.svs": {"reader": "openslide", "levels": 1, "associated": {"label", "macro", "thumbnail"}},
    "aperio/openslide-python_small.svs": {"reader": "openslide", "size": (16, 16)},
    "aperio/tcga-cr-7395-01a-01-ts1.svs": {"reader": "openslide", "levels": 2, "mpp": None, "objective": None},
    "dicom/highdicom_sm_image.dcm": {"reader": "openslide"},
    "dicom/wsic_CMU-1-Small-Region_dicom": {"reader": "wsidicom", "associated": {"label", "macro"}},
    "hamamatsu/test3-DAPI-2-(387).ndpi": {"reader": "openslide", "levels": 7},
    "ome_tiff/4D-series.ome.tiff": {"reader": "pyvips", "frames": {"Z", "T"}},
    "tiff/kidney-48-5.tif": {"reader": "pyvips", "converted": True},
    "tiff/wsic_CMU-1-Small-Region.jpeg.tiff": {"reader": "openslide", "mpp_suspicious": True},
}
# Mean absolute difference allowed where a tile is resampled: Lanczos over native pixels in the
# reference, levels built by 2x2 averages (stored as JPEG q90) on our side. Measured at most ~5.5.
RESAMPLED_TOLERANCE = 8.0


def slide_entries(folder: Path) -> list[str]:
    """Every slide in the folder: files, and folders of DICOM instances as one slide."""
    entries = []
    for kind in sorted(p for p in folder.iterdir() if p.is_dir()):
        for item in sorted(kind.iterdir()):
            entries.append(item.relative_to(folder).as_posix())
    return entries


@pytest.fixture(params=sorted(KNOWN), ids=lambda p: p.split("/")[-1][:28])
def entry(request, slides_dir) -> Path:
    path = slides_dir / request.param
    if not path.exists():
        pytest.skip(f"{path} is missing")
    return path


def known(path: Path) -> dict:
    return KNOWN[f"{path.parent.name}/{path.name}"]


def reference_for(path: Path, slide):
    if slide.reader == "openslide":
        return OpenSlideReference(path)
    if slide.reader == "wsidicom":
        return WsiDicomReference(path)
    return plane_reference(path, frame=0)


def plane_reference(path: Path, frame: int) -> ArrayReference:
    """tifffile's read of one plane; data that is not 8-bit is stretched from the stack's minimum
    and maximum to 0..255 (one scale for every frame), as a viewer shows it."""
    import tifffile

    stack = tifffile.imread(path)
    if stack.dtype == np.uint8:
        return ArrayReference(stack if stack.ndim in (2, 3) and frame == 0 else stack.reshape(-1, *stack.shape[-2:])[frame])
    lo, hi = float(stack.min()), float(stack.max())
    plane = stack.reshape(-1, *stack.shape[-2:])[frame].astype(float)
    return ArrayReference(np.clip((plane - lo) * 255.0 / (hi - lo), 0, 255).astype(np.uint8))


def sample_tiles(layout, level: int) -> set[tuple[int, int]]:
    cols, rows = layout.tile_counts(level)
    return {(0, 0), (cols - 1, rows - 1), (cols - 1, 0), (0, rows - 1), (cols // 2, rows // 2)}


def shifted_worse(ours: np.ndarray, expected: np.ndarray) -> bool:
    """True if moving our tile by one pixel in any direction matches no better: it is in place."""
    aligned = np.abs(ours - expected).mean()
    h, w = expected.shape[:2]
    if min(h, w) < 8:
        return True
    shifts = [(ours[:, 1:], expected[:, :-1]), (ours[:, :-1], expected[:, 1:]),
              (ours[1:], expected[:-1]), (ours[:-1], expected[1:])]
    return all(aligned <= np.abs(a - b).mean() + 0.25 for a, b in shifts)


def test_every_slide_in_the_folder_is_known(slides_dir):
    assert slide_entries(slides_dir) == sorted(KNOWN), "a slide was added or removed: describe it in KNOWN"


def test_opens_with_the_expected_reader(entry):
    slide = open_slide(entry)
    facts = known(entry)
    assert slide.reader == facts["reader"]
    if "levels" in facts:
        assert slide.level_count == facts["levels"]
    if "size" in facts:
        assert slide.dimensions == facts["size"]
    if "associated" in facts:
        assert set(slide.associated_images) == facts["associated"]
    if "mpp" in facts:
        assert slide.mpp == facts["mpp"]
    if "objective" in facts:
        assert slide.objective_power == facts["objective"]
    assert slide.mpp_suspicious == facts.get("mpp_suspicious", False)
    assert open_slide(entry) is slide, "opened slides are shared"


def test_metadata_matches_the_library(entry):
    slide = open_slide(entry)
    if slide.reader == "openslide":
        import openslide

        osr = openslide.OpenSlide(str(entry))
        props = osr.properties

        def number(name):
            return float(props[name]) if props.get(name) else None

        assert slide.level_dimensions == tuple(osr.level_dimensions)
        assert slide.level_downsamples == pytest.approx(osr.level_downsamples)
        assert (slide.mpp_x, slide.mpp_y) == (number(openslide.PROPERTY_NAME_MPP_X), number(openslide.PROPERTY_NAME_MPP_Y))
        assert slide.objective_power == number(openslide.PROPERTY_NAME_OBJECTIVE_POWER)
        assert slide.vendor == props[openslide.PROPERTY_NAME_VENDOR]
        assert list(slide.associated_images) == list(osr.associated_images)
        assert slide.properties == dict(props)
        expected_format = {"aperio": "svs", "hamamatsu": "ndpi", "dicom": "dicom", "generic-tiff": "tiff"}
        assert slide.source_format == expected_format[slide.vendor]
    elif slide.reader == "wsidicom":
        import wsidicom

        wsi = wsidicom.WsiDicom.open(str(entry))
        assert slide.level_dimensions == tuple((lv.size.width, lv.size.height) for lv in wsi.levels)
        assert slide.mpp_x == pytest.approx(float(wsi.mpp.width))
        assert slide.source_format == "dicom"
    else:
        import tifffile

        with tifffile.TiffFile(entry) as tif:
            series = tif.series[0]
            height, width = series.shape[series.axes.index("Y")], series.shape[series.axes.index("X")]
            assert slide.dimensions == (width, height)
            expected_mpp = _tiff_mpp(tif)
        assert slide.mpp == (pytest.approx(expected_mpp) if expected_mpp else None)
    info = slide.info()
    assert (info["width"], info["height"]) == slide.dimensions
    assert info["dz_levels"] == math.ceil(math.log2(max(slide.dimensions))) + 1


def _tiff_mpp(tif) -> float | None:
    """Microns per pixel as the TIFF itself records them (OME: PhysicalSizeX in µm)."""
    if tif.is_ome:
        found = re.search(r'PhysicalSizeX="([\d.eE+-]+)"', tif.ome_metadata or "")
        return float(found.group(1)) if found else None
    page = tif.pages.first
    unit, xres = page.tags.get("ResolutionUnit"), page.tags.get("XResolution")
    if unit is None or xres is None or int(unit.value) not in (2, 3):
        return None
    num, den = xres.value
    return {2: 25400.0, 3: 10000.0}[int(unit.value)] * den / num


def test_mpp_off_by_a_power_of_ten_is_flagged(slides_dir):
    path = slides_dir / "tiff" / "wsic_CMU-1-Small-Region.jpeg.tiff"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    slide = open_slide(path)
    assert slide.mpp == pytest.approx(0.00499, rel=1e-3)  # PROVENANCE: 100x off
    assert slide.mpp_suspicious and slide.info()["mpp_suspicious"]
    same_image = open_slide(slides_dir / "aperio" / "CMU-1-Small-Region.svs")
    assert not same_image.mpp_suspicious


def test_tiles_are_the_librarys_pixels(entry):
    """Every Deep Zoom level, corner, edge and middle tiles, PNG so nothing is lost in encoding:
    where a native level has the tile's scale the pixels are equal; elsewhere the tile is close to
    the reference resampled over the exact same rectangle, and in place (not shifted)."""
    slide = open_slide(entry)
    ref = reference_for(entry, slide)
    layout = slide.deepzoom()
    exact_seen = False
    for level in range(layout.level_count):
        downsample = layout.downsample(level)
        for col, row in sample_tiles(layout, level):
            x, y, w, h = layout.tile_rect(level, col, row)
            ours = decode(slide.tile(level, col, row, format="png"))
            assert ours.shape == (h, w, 3), (level, col, row)
            expected = ref.expected_tile(downsample, (x, y, w, h))
            if expected is None:
                continue
            pixels, exact = expected
            ch, cw = pixels.shape[:2]
            part = ours[:ch, :cw]
            where = f"level {level} tile {col}_{row}"
            if exact:
                exact_seen = True
                assert np.array_equal(part, pixels), f"{where}: max diff {np.abs(part - pixels).max()}"
            elif min(layout.level_dimensions[level]) >= 32:
                diff = np.abs(part - pixels).mean()
                assert diff <= RESAMPLED_TOLERANCE, f"{where}: mean diff {diff:.2f}"
                assert shifted_worse(part, pixels), f"{where}: pixels shifted"
            else:  # a few pixels for the whole slide: colours agree on average
                assert np.abs(part.mean(axis=(0, 1)) - pixels.mean(axis=(0, 1))).max() <= 12, where
    assert exact_seen, "the full-resolution level must be compared exactly"


def test_jpeg_tiles_are_the_same_pixels_encoded(entry):
    """JPEG tiles of the full-resolution level decode to what Pillow's encoder makes of the
    reference pixels at the same quality: the only loss is the encoding's."""
    import io

    slide = open_slide(entry)
    ref = reference_for(entry, slide)
    layout = slide.deepzoom()
    level = layout.level_count - 1
    for col, row in sample_tiles(layout, level):
        rect = layout.tile_rect(level, col, row)
        pixels, exact = ref.expected_tile(1, rect)
        if pixels.shape[:2] != (rect[3], rect[2]):
            continue  # a rounded-down edge: covered by the PNG test
        buffer = io.BytesIO()
        Image.fromarray(pixels.astype(np.uint8)).save(buffer, "JPEG", quality=75)
        ours = decode(slide.tile(level, col, row))
        assert np.abs(ours - decode(buffer.getvalue())).max() <= 1, (col, row)


def test_openslide_formats_match_deepzoomgenerator(entry):
    """The full-resolution Deep Zoom level is tile for tile what OpenSlide's own generator gives."""
    slide = open_slide(entry)
    if slide.reader != "openslide":
        pytest.skip("not an OpenSlide format")
    import openslide
    from openslide.deepzoom import DeepZoomGenerator

    dz = DeepZoomGenerator(openslide.OpenSlide(str(entry)), 254, 1, limit_bounds=False)
    layout = slide.deepzoom()
    assert layout.level_count == dz.level_count
    assert list(layout.level_dimensions) == list(dz.level_dimensions)
    assert [layout.tile_counts(lv) for lv in range(layout.level_count)] == list(dz.level_tiles)
    level = layout.level_count - 1
    cols, rows = layout.tile_counts(level)
    picks = sample_tiles(layout, level) | {(c, r) for c in range(0, cols, 3) for r in range(0, rows, 4)}
    for col, row in sorted(picks):
        theirs = np.asarray(dz.get_tile(level, (col, row)).convert("RGB")).astype(np.int16)
        assert np.array_equal(decode(slide.tile(level, col, row, format="png")), theirs), (col, row)


def test_associated_images_are_the_librarys(entry):
    slide = open_slide(entry)
    names = list(slide.associated_images)
    if not names:
        pytest.skip("no associated images")
    if slide.reader == "openslide":
        import openslide

        theirs = openslide.OpenSlide(str(entry)).associated_images
    else:
        import wsidicom

        wsi = wsidicom.WsiDicom.open(str(entry))
        theirs = {"label": wsi.read_label(), "macro": wsi.read_overview()}
    for name in names:
        ours = np.asarray(slide.associated_images[name]).astype(np.int16)
        expected = theirs[name]
        if expected.mode == "RGBA":
            canvas = Image.new("RGB", expected.size, (255, 255, 255))
            canvas.paste(expected, mask=expected.getchannel("A"))
            expected = canvas
        assert np.array_equal(ours, np.asarray(expected.convert("RGB")).astype(np.int16)), name


def test_thumbnail_fits_and_looks_like_the_slide(entry):
    slide = open_slide(entry)
    thumb = slide.thumbnail(128)
    width, height = slide.dimensions
    scale = max(width / 128, height / 128, 1.0)
    assert thumb.mode == "RGB"
    assert thumb.size == (max(1, round(width / scale)), max(1, round(height / scale)))
    ref = reference_for(entry, slide)
    level = max(i for i, (ds, _) in enumerate(ref.levels) if ds <= scale * 1.01)
    whole = ref.level(level).astype(float)
    assert np.abs(np.asarray(thumb).mean(axis=(0, 1)) - whole.reshape(-1, 3).mean(axis=0)).max() <= 12


def test_dicom_folder_is_the_svs_it_was_made_from(slides_dir):
    """wsic converted CMU-1-Small-Region.svs to DICOM (re-encoding its JPEG): same image."""
    folder = slides_dir / "dicom" / "wsic_CMU-1-Small-Region_dicom"
    svs = slides_dir / "aperio" / "CMU-1-Small-Region.svs"
    if not (folder.exists() and svs.exists()):
        pytest.skip("the DICOM set or the SVS is missing")
    import openslide

    with pytest.raises(openslide.OpenSlideError):  # PROVENANCE: OpenSlide 4.0 refuses YBR_FULL
        openslide.OpenSlide(str(next(folder.iterdir())))
    dicom, original = open_slide(folder), open_slide(svs)
    assert dicom.dimensions == original.dimensions
    assert dicom.mpp == pytest.approx(original.mpp)
    level = dicom.deepzoom().level_count - 1
    for col, row in [(0, 0), (4, 6), (8, 11)]:
        a = decode(dicom.tile(level, col, row, format="png"))
        b = decode(original.tile(level, col, row, format="png"))
        assert np.abs(a - b).mean() < 6, (col, row)
    for instance in sorted(folder.iterdir()):  # any instance file opens the whole set
        assert open_slide(instance).dimensions == dicom.dimensions


def test_ome_planes_become_frames(slides_dir):
    path = slides_dir / "ome_tiff" / "4D-series.ome.tiff"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    import tifffile

    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        stack = series.asarray()  # planes in the file's order, then Y, X
        axes = series.axes
    planes = stack.reshape(-1, *stack.shape[-2:])
    slide = open_slide(path)
    assert slide.frames == len(planes) == math.prod(n for a, n in zip(axes, stack.shape) if a not in "YXS")
    assert slide.frame_axes == {a: n for a, n in zip(axes, stack.shape) if a not in "YXS"}
    assert stack.dtype != np.uint8, "this stack is int8: shown stretched to 0..255"
    layout = slide.deepzoom()
    level = layout.level_count - 1
    for frame in (0, 1, len(planes) // 2, len(planes) - 1):
        ref = plane_reference(path, frame)
        for col, row in sample_tiles(layout, level):
            rect = layout.tile_rect(level, col, row)
            pixels, _ = ref.expected_tile(1, rect)
            ours = decode(slide.tile(level, col, row, frame=frame, format="png"))
            assert np.abs(ours - pixels).max() <= 1, (frame, col, row)
    first = decode(slide.tile(level, 0, 0, frame=0, format="png"))
    last = decode(slide.tile(level, 0, 0, frame=len(planes) - 1, format="png"))
    assert not np.array_equal(first, last), "frames must differ"
    with pytest.raises(IndexError):
        slide.tile(level, 0, 0, frame=len(planes))


def test_plain_tiff_is_converted_once_to_a_cached_pyramid(slides_dir, slide_cache):
    import pyvips

    path = slides_dir / "tiff" / "kidney-48-5.tif"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    slide = open_slide(path)
    converted = list((slide_cache / "pyramids").glob(f"{slide.content_hash}-*.tif"))
    assert converted, "a pyramidal copy is written into EXACT_LAB_CACHE"
    pages = pyvips.Image.new_from_file(str(converted[0])).get("n-pages")
    assert 2 ** (pages - 1) >= max(slide.dimensions) / 256, "every zoomed-out level is in the copy"
    before = converted[0].stat().st_mtime_ns
    from exact_lab.slides import forget

    forget(path)
    assert open_slide(path) is not slide
    assert converted[0].stat().st_mtime_ns == before, "reopening reuses the conversion"


def test_degenerate_16px_slide(slides_dir):
    path = slides_dir / "aperio" / "openslide-python_small.svs"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    slide = open_slide(path)
    layout = slide.deepzoom()
    assert layout.level_dimensions == ((1, 1), (2, 2), (4, 4), (8, 8), (16, 16))
    for level, (w, h) in enumerate(layout.level_dimensions):
        assert decode(slide.tile(level, 0, 0, format="png")).shape == (h, w, 3)
        with pytest.raises(IndexError):
            slide.tile(level, 1, 0)
    with pytest.raises(IndexError):
        slide.tile(layout.level_count, 0, 0)
    with pytest.raises(IndexError):
        slide.tile(-1, 0, 0)


def test_file_name_with_spaces_and_brackets(slides_dir, tmp_path):
    source = slides_dir / "hamamatsu" / "test3-DAPI-2-(387).ndpi"
    if not source.exists():
        pytest.skip(f"{source} is missing")
    odd = tmp_path / "a folder [x]" / "slide (copy) #1 %41.ndpi"
    odd.parent.mkdir()
    odd.symlink_to(source)
    slide = open_slide(odd)
    assert slide.dimensions == open_slide(source).dimensions
    assert slide.tile(slide.deepzoom().level_count - 1, 0, 0) == open_slide(source).tile(slide.deepzoom().level_count - 1, 0, 0)


def test_unsupported_files_name_the_file_and_the_reason(tmp_path):
    cases = {
        "notes.svs": b"this is not a slide\n" * 100,
        "empty.tif": b"",
        "noise.ndpi": bytes(np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8)),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(UnsupportedSlideError) as err:
            open_slide(tmp_path / name)
        assert name in str(err.value)
        assert len(str(err.value)) > len(str(tmp_path / name)) + 10, "a reason follows the name"
    with pytest.raises(UnsupportedSlideError, match="no such file"):
        open_slide(tmp_path / "missing.svs")
    (tmp_path / "folder").mkdir()
    with pytest.raises(UnsupportedSlideError, match="not a DICOM"):
        open_slide(tmp_path / "folder")
