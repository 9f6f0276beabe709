"""A slide as an ipyleaflet layer, for people who compose maps there.

    from exact_lab.widgets.leaflet import slide_layer, slide_map
    m = slide_map("slides/a.svs")              # a Map on a pixel CRS with the slide in it
    m.add(ipyleaflet.GeoJSON(...))             # coordinates: to_latlng(x, y) of level-0 pixels

Tiles come from the server extension's Deep Zoom routes, so the kernel is not involved. Leaflet's
``CRS.Simple`` is used with one map unit = 2^max_level level-0 pixels: then Leaflet zoom z is
exactly Deep Zoom level z and no tile is resampled. Deep Zoom tiles carry a 1-pixel overlap that
Leaflet cannot crop; each tile is drawn 1-2 pixels larger than its cell, which is invisible at
normal zoom but can show as a hairline when zoomed far past full resolution.
"""

from __future__ import annotations

from ..slides import slide_urls
from . import source as _source


def _meta(slide) -> dict:
    from .viewer import SlideViewer

    if isinstance(slide, SlideViewer):
        return dict(slide._source)
    return _source.describe(slide)


def _base_url(base_url: str | None) -> str:
    if base_url is not None:
        return base_url if base_url.endswith("/") else base_url + "/"
    try:
        from jupyter_server.serverapp import list_running_servers

        for s in list_running_servers():
            return s.get("base_url") or "/"
    except Exception:
        pass
    return "/"


def tile_url(slide, base_url: str | None = None) -> str:
    """Leaflet URL template ({z}/{x}_{y}) of a slide's Deep Zoom tiles."""
    meta = _meta(slide)
    if meta.get("error"):
        raise ValueError(meta["error"])
    if not meta.get("token") and not meta.get("path"):
        raise ValueError(f"{meta.get('abs_path') or meta.get('name')} is not under the Jupyter server's root "
                         "directory, so the server extension cannot serve it")
    urls = slide_urls(meta.get("path"), base_url=_base_url(base_url), token=meta.get("token"),
                      content_hash=meta.get("hash"), fmt=meta.get("format", "jpeg"))
    return urls["tiles"].replace("{level}", "{z}").replace("{col}", "{x}").replace("{row}", "{y}")


def to_latlng(x: float, y: float, max_level: int) -> tuple[float, float]:
    """Leaflet (lat, lng) of level-0 pixel (x, y) on the layer's CRS."""
    s = 2.0 ** max_level
    return (-y / s, x / s)


def slide_layer(slide, base_url: str | None = None, **kwargs):
    """An ``ipyleaflet.TileLayer`` showing the slide (a path, or a SlideViewer's slide)."""
    import ipyleaflet

    meta = _meta(slide)
    ml = int(meta["max_level"])
    options = dict(
        url=tile_url(slide, base_url),
        tile_size=int(meta["tile_size"]),
        min_zoom=0, min_native_zoom=0, max_native_zoom=ml, max_zoom=ml + 3,
        no_wrap=True,
        bounds=[to_latlng(0, meta["height"], ml), to_latlng(meta["width"], 0, ml)],
        name=meta.get("name") or "slide",
        attribution="",
    )
    options.update(kwargs)
    return ipyleaflet.TileLayer(**options)


def slide_map(slide, base_url: str | None = None, **map_kwargs):
    """An ``ipyleaflet.Map`` on a pixel CRS showing the slide, zoomed to fit."""
    import ipyleaflet

    meta = _meta(slide)
    ml = int(meta["max_level"])
    layer = slide_layer(slide, base_url)
    fit = max(0, ml - max(1, int(max(meta["width"], meta["height"]) / 512)).bit_length())
    options = dict(crs=ipyleaflet.projections.Simple, center=to_latlng(meta["width"] / 2, meta["height"] / 2, ml),
                   zoom=fit, min_zoom=0, max_zoom=ml + 3, basemap=layer, scroll_wheel_zoom=True)
    options.update(map_kwargs)
    return ipyleaflet.Map(**options)
