"""DICOM WSI sets read with wsidicom (for what OpenSlide refuses, such as YBR_FULL JPEG)."""

from __future__ import annotations

import threading
from pathlib import Path

from PIL import Image

from .base import Slide

# DICOM attributes worth showing; nothing that identifies the patient.
_PROPERTY_TAGS = ("Manufacturer", "ManufacturerModelName", "SoftwareVersions", "DeviceSerialNumber",
                  "ContainerIdentifier", "SeriesDescription", "ImagedVolumeWidth", "ImagedVolumeHeight",
                  "PhotometricInterpretation", "TransferSyntaxUID")


def is_dicom_file(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            handle.seek(128)
            return handle.read(4) == b"DICM"
    except OSError:
        return False


def series_files(path: Path) -> list[Path]:
    """The instance files of the series ``path`` belongs to (a folder: every DICOM file in it)."""
    import pydicom

    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and is_dicom_file(p))
    series = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SeriesInstanceUID"]).get("SeriesInstanceUID")
    same = []
    for candidate in sorted(path.parent.iterdir()):
        if candidate == path or not (candidate.is_file() and is_dicom_file(candidate)):
            continue
        uid = pydicom.dcmread(candidate, stop_before_pixels=True, specific_tags=["SeriesInstanceUID"]).get("SeriesInstanceUID")
        if uid == series:
            same.append(candidate)
    return [path] + same


class DicomSlide(Slide):
    reader = "wsidicom"

    def __init__(self, path: Path):
        import pydicom
        import wsidicom

        super().__init__(path)
        instance_files = series_files(path)
        if not instance_files:
            raise ValueError("no DICOM files in the folder")
        self._wsi = wsidicom.WsiDicom.open([str(p) for p in instance_files])
        # wsidicom reads through shared file handles; one read at a time per slide.
        self._lock = threading.Lock()
        levels = list(self._wsi.levels)
        self._levels = levels
        base = levels[0]
        self.level_dimensions = tuple((lv.size.width, lv.size.height) for lv in levels)
        self.level_downsamples = tuple(float(2 ** (lv.level - base.level)) for lv in levels)
        try:
            self.mpp_x, self.mpp_y = float(self._wsi.mpp.width), float(self._wsi.mpp.height)
        except Exception:
            self.mpp_x = self.mpp_y = None
        header = pydicom.dcmread(instance_files[0], stop_before_pixels=True)
        self.properties = {f"dicom.{tag}": str(header.get(tag)) for tag in _PROPERTY_TAGS if header.get(tag) is not None}
        self.vendor = str(header.get("Manufacturer") or "dicom")
        self.source_format = "dicom"
        self._planes = [(z, p) for p in base.optical_paths for z in base.focal_planes]
        self.frames = len(self._planes)
        self.frame_axes = {"z": len(base.focal_planes), "c": len(base.optical_paths)} if self.frames > 1 else {}
        self._read_native(len(levels) - 1, 0, 0, 1, 1, 0)  # a damaged file fails here, not mid-view

    def _read_native(self, level, x, y, w, h, frame):
        z, optical_path = self._planes[frame]
        lw, lh = self.level_dimensions[level]
        x, y = max(0, min(round(x), lw - 1)), max(0, min(round(y), lh - 1))
        w, h = max(1, min(w, lw - x)), max(1, min(h, lh - y))
        with self._lock:
            return self._wsi.read_region((x, y), self._levels[level].level, (w, h), z=z, path=optical_path)

    def _associated_names(self):
        names = []
        if self._wsi.labels is not None:
            names.append("label")
        if self._wsi.overviews is not None:
            names.append("macro")
        return names

    def _read_associated(self, name) -> Image.Image:
        with self._lock:
            if name == "label":
                return self._wsi.read_label()
            if name == "macro":
                return self._wsi.read_overview()
        raise KeyError(name)

    def close(self):
        self._wsi.close()
