"""The server extension inside pytest-jupyter's in-process Jupyter server, with real slides copied
into its root directory."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from traitlets.config import Config

CMU = "aperio/CMU-1-Small-Region.svs"
NDPI = "hamamatsu/test3-DAPI-2-(387).ndpi"
OME = "ome_tiff/4D-series.ome.tiff"


@pytest.fixture
def jp_server_config():
    return Config({"ServerApp": {"jpserver_extensions": {"exact_lab": True}}})


@pytest.fixture(scope="session")
def slides_dir(shared_data) -> Path:
    return shared_data / "slides"


@pytest.fixture
def root_slides(jp_root_dir, slides_dir):
    """``place(name, as_name=None)`` puts a real slide into the server root; returns its path."""

    def place(name: str, as_name: str | None = None) -> Path:
        source = slides_dir / name
        if not source.exists():
            pytest.skip(f"{source} is missing")
        target = jp_root_dir / (as_name or source.name)
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)  # same bytes, no copy (a hard link is not a symlink out)
        except OSError:
            shutil.copy(source, target)
        return target

    return place


@pytest.fixture
def fetch(jp_fetch):
    """jp_fetch that returns error responses instead of raising them."""

    def get(*parts, **kw):
        kw.setdefault("raise_error", False)
        return jp_fetch(*parts, **kw)

    return get


@pytest.fixture
def raw_get(http_server_client, jp_base_url, jp_auth_header):
    """GET a path written as is (already URL-encoded): under the base URL, or from the server's
    root if it starts with "/"; ``auth=False`` sends no credentials."""

    def get(path: str, auth: bool = True, headers: dict | None = None):
        all_headers = dict(jp_auth_header if auth else {})
        all_headers.update(headers or {})
        url = path if path.startswith("/") else jp_base_url + path
        return http_server_client.fetch(url, headers=all_headers, raise_error=False, request_timeout=30)

    return get


def image(response) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(response.body)).convert("RGB")).astype(np.int16)
