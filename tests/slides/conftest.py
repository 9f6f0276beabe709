"""Fixtures for the slide tests: the real slides and damaged copies (the run's own cache folder
is set up in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from exact_lab.slides import forget


@pytest.fixture(scope="session")
def slides_dir(shared_data) -> Path:
    folder = shared_data / "slides"
    if not folder.is_dir():
        pytest.skip(f"{folder} is missing")
    return folder


@pytest.fixture
def fresh_slides():
    """Slides opened by the test are not shared with other tests (and vice versa)."""
    forget()
    yield
    forget()


@pytest.fixture
def damaged_copy(tmp_path):
    """``damaged_copy(source, name, keep=..., zero_tiles_after=...)``: a copy of ``source`` in
    ``tmp_path`` cut to ``keep`` bytes, or with the compressed tiles of its first TIFF page after
    index ``zero_tiles_after`` overwritten with zeros (header and first tiles stay readable)."""

    def make(source: Path, name: str, *, keep: int | None = None, zero_tiles_after: int | None = None) -> Path:
        data = bytearray(source.read_bytes())
        if keep is not None:
            data = data[:keep]
        if zero_tiles_after is not None:
            import tifffile

            with tifffile.TiffFile(source) as tif:
                page = tif.pages[0]
                for offset, count in list(zip(page.dataoffsets, page.databytecounts))[zero_tiles_after:]:
                    data[offset:offset + count] = bytes(count)
        target = tmp_path / name
        target.write_bytes(bytes(data))
        return target

    return make
