"""Video files (MP4, AVI, MKV, MOV, WebM) as images with frames, read with PyAV (whose wheels
carry FFmpeg's codecs).

On opening, the packets are listed (no decoding) to learn each frame's timestamp, since a
container's own frame count is missing or approximate for many files. A frame is read by seeking
to the keyframe before it and decoding forward; decoded frames are kept in a small LRU, so reading
the tiles of one frame decodes it once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import av
import numpy as np
from PIL import Image

from .base import Slide

# Decoded frames kept per video (a 1080p frame is 6 MB).
CACHED_FRAMES = 8


class VideoSlide(Slide):
    reader = "pyav"

    def __init__(self, path: Path):
        super().__init__(path)
        self._lock = threading.Lock()
        self._decoded: OrderedDict[int, np.ndarray] = OrderedDict()
        self._container = av.open(str(path))
        stream = self._stream = self._container.streams.video[0]
        self._pts = sorted(p.pts for p in self._container.demux(stream) if p.pts is not None and p.size)
        if not self._pts:
            raise ValueError("the file holds no video frames")
        width, height = stream.codec_context.width, stream.codec_context.height
        self.level_dimensions = ((width, height),)
        self.level_downsamples = (1.0,)
        self.frames = len(self._pts)
        self.vendor = "video"
        self.source_format = path.suffix.lower().lstrip(".")
        rate = stream.average_rate
        self.properties = {"video.codec": stream.codec_context.name, "video.fps": float(rate) if rate else None,
                           "video.frames": self.frames}

    def _read_native(self, level, x, y, w, h, frame):
        pixels = self.frame_array(frame)
        x, y = int(round(x)), int(round(y))
        return Image.fromarray(pixels[y:y + h, x:x + w])

    def frame_array(self, frame: int) -> np.ndarray:
        """Frame ``frame`` as H x W x 3 uint8."""
        self._check_frame(frame)
        with self._lock:
            cached = self._decoded.get(frame)
            if cached is not None:
                self._decoded.move_to_end(frame)
                return cached
            pixels = self._decode(frame)
            self._decoded[frame] = pixels
            while len(self._decoded) > CACHED_FRAMES:
                self._decoded.popitem(last=False)
            return pixels

    def _decode(self, frame: int) -> np.ndarray:
        wanted = self._pts[frame]
        self._container.seek(wanted, stream=self._stream, backward=True, any_frame=False)
        for decoded in self._container.decode(self._stream):
            if decoded.pts is None or decoded.pts < wanted:
                continue
            return decoded.to_ndarray(format="rgb24")
        raise ValueError(f"frame {frame} (pts {wanted}) could not be decoded")

    def close(self) -> None:
        self._container.close()
