"""Viewer benchmark: 10,000 / 100,000 / 1,000,000 boxes on one slide in a real JupyterLab and a
headless Chromium with software WebGL, exact-lab's SlideViewer beside ipyleaflet's GeoJSON layer
given the same boxes in the same run; and filled cell polygons (16 vertices each) measured the
same way, beside the boxes of the same count and the same cells drawn as outlines only.

    python benchmarks/viewer.py [--sizes 10000 100000 1000000] [--cells 1000000] [--leaflet-timeout 180]

For each size it prints
- kernel-side preparation (ours: encoding into binary chunks; ipyleaflet: building the GeoJSON),
- time until drawn (from the call in the kernel until the browser has the shapes on screen),
- frame time while panning with the mouse (mean interval of requestAnimationFrame during a 3 s
  drag, after a warm-up drag), at the whole-slide view and at full resolution.

The browser is driven through a plain DevTools-protocol client (no Playwright: its driver copies
every websocket frame into debugger events and dies on huge payloads). ipyleaflet gets a timeout;
where it does not finish, the table says so.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from labserver import CHROMIUM, CHROMIUM_ARGS, Lab, _free_port, notebook_json  # noqa: E402

SLIDE_SIZE = (16384, 12288)  # the generated demo slide: big enough for a million cells

SETUP = """
import time, numpy as np, pandas as pd, shapely, exact_lab as xl
SLIDE = {slide!r}
W, H = {w}, {h}
def boxes(n, seed=0):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, W - 30, n), rng.uniform(0, H - 30, n)
    s = rng.uniform(8, 24, n)
    return pd.DataFrame({{"xmin": x, "ymin": y, "xmax": x + s, "ymax": y + s}})
def cells(n, seed=0):
    # round cells of 5-12 px radius, 16 vertices (quad_segs=4), as segmentation output
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(15, W - 15, n), rng.uniform(15, H - 15, n)
    return pd.DataFrame({{"geometry": shapely.buffer(shapely.points(x, y), rng.uniform(5, 12, n), quad_segs=4)}})
"""

OURS = """
v = xl.SlideViewer(SLIDE, height="700px")
"""

OURS_ADD = """
df = {make}({n})
_t0 = time.perf_counter()
v.add_layer(df, "shapes", style={{"color": "#00e5ff", "fill_opacity": {fill}}})
_call_s = time.perf_counter() - _t0
"""

LEAFLET = """
import ipyleaflet
from exact_lab.widgets import leaflet as xll
df = boxes({n})
_t0 = time.perf_counter()
s = 2.0 ** {max_level}
x0, y0, x1, y1 = (df[c].to_numpy() / s for c in ("xmin", "ymin", "xmax", "ymax"))
fc = {{"type": "FeatureCollection", "features": [
    {{"type": "Feature", "properties": {{}}, "geometry": {{"type": "Polygon", "coordinates": [[[a, -b], [c, -b], [c, -d], [a, -d], [a, -b]]]}}}}
    for a, b, c, d in zip(x0.tolist(), y0.tolist(), x1.tolist(), y1.tolist())]}}
layer = ipyleaflet.GeoJSON(data=fc, style={{"color": "#00e5ff", "weight": 1, "fill": False}})
try:
    base = xll.slide_layer(SLIDE)
except Exception:
    base = ipyleaflet.TileLayer(url="data:,", name="none")  # no network, no tiles: only the boxes matter
v = ipyleaflet.Map(crs=ipyleaflet.projections.Simple, center=xll.to_latlng(W / 2, H / 2, {max_level}), zoom={fit_zoom},
                   min_zoom=0, max_zoom={max_level} + 2, basemap=base, prefer_canvas=True, layout={{"height": "700px"}})
v.add(layer)
_prep_s = time.perf_counter() - _t0
"""


class DevTools:
    """Just enough of the Chrome DevTools protocol: evaluate, navigate, mouse and keys."""

    def __init__(self, ws_url: str):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=600)
        self.next_id = 0

    def call(self, method: str, timeout: float = 600, **params):
        import websocket

        self.next_id += 1
        mid = self.next_id
        self.ws.settimeout(timeout)
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                # the page is busy; a late answer to this call is skipped by id later
                raise TimeoutError(f"{method}: no answer in {timeout:.0f} s") from None
            if msg.get("method") == "Page.javascriptDialogOpening":
                # JupyterLab asks before leaving a changed notebook: leave
                self.next_id += 1
                self.ws.send(json.dumps({"id": self.next_id, "method": "Page.handleJavaScriptDialog", "params": {"accept": True}}))
                continue
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def eval(self, expr: str, timeout: float = 600):
        res = self.call("Runtime.evaluate", timeout=timeout, expression=expr, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expr[:80]}: {res['exceptionDetails'].get('exception', {}).get('description')}")
        return res.get("result", {}).get("value")

    def wait(self, expr: str, timeout: float = 120, interval: float = 0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.eval(expr, timeout=max(1.0, deadline - time.monotonic())):
                return True
            time.sleep(interval)
        return False

    def mouse(self, kind: str, x: float, y: float, buttons: int = 1):
        self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", buttons=buttons, clickCount=1)

    def key(self, key: str, code: str, key_code: int, modifiers: int = 0):
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=kind, key=key, code=code, windowsVirtualKeyCode=key_code, modifiers=modifiers)


class Chromium:
    """Headless Chromium with its DevTools port; each measurement gets a fresh tab."""

    def __init__(self, profile: Path):
        self.port = _free_port()
        self.proc = subprocess.Popen([CHROMIUM, "--headless=new", f"--remote-debugging-port={self.port}",
                                      f"--user-data-dir={profile}", "--window-size=1280,1000", *CHROMIUM_ARGS,
                                      # as a test driver would: no throttling of a tab that is not in front
                                      "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
                                      "--disable-background-timer-throttling", "--disable-ipc-flooding-protection",
                                      "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                info = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/version", timeout=2).read())
                self.browser = DevTools(info["webSocketDebuggerUrl"])
                return
            except OSError:
                time.sleep(0.2)
        self.proc.kill()
        raise RuntimeError("Chromium did not open its DevTools port")

    def open(self, url: str) -> tuple[str, DevTools]:
        target = self.browser.call("Target.createTarget", url=url)["targetId"]
        for t in json.loads(urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json", timeout=5).read()):
            if t.get("id") == target:
                page = DevTools(t["webSocketDebuggerUrl"])
                page.call("Page.enable")
                return target, page
        raise RuntimeError("the new tab has no DevTools endpoint")

    def close(self, target: str) -> None:
        try:
            self.browser.call("Target.closeTarget", timeout=60, targetId=target)
        except Exception as exc:
            print(f"  (could not close a tab: {exc})", flush=True)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def open_notebook(chromium: Chromium, lab: Lab) -> tuple[str, DevTools]:
    target, dt = chromium.open(f"{lab.url}lab/tree/bench.ipynb?token={lab.token}")
    if not dt.wait("!!document.querySelector('.jp-Notebook .jp-Cell .jp-InputArea')", timeout=180):
        raise RuntimeError("the notebook did not open")
    time.sleep(1.0)  # let the kernel connection settle
    return target, dt


def run_cell(dt: DevTools) -> None:
    """Run the notebook's only cell (it shows ``v``) the way a user does: select it, Shift+Enter."""
    rect = dt.eval("(() => { const r = document.querySelector('.jp-Notebook .jp-Cell .jp-InputArea').getBoundingClientRect();"
                   " return [r.left + 5, r.top + 5]; })()")
    dt.mouse("mousePressed", *rect)
    dt.mouse("mouseReleased", *rect, buttons=0)
    dt.key("Escape", "Escape", 27)
    dt.key("Enter", "Enter", 13, modifiers=8)


def frame_time_while_dragging(dt: DevTools, selector: str, seconds: float = 3.0) -> float:
    """Mean requestAnimationFrame interval (ms) while the mouse drags across ``selector``,
    after a first drag that warms up (tiles of the region, shaders, the viewer's resolution)."""
    _drag(dt, selector, 1.5)
    return _drag(dt, selector, seconds)


def _drag(dt: DevTools, selector: str, seconds: float) -> float:
    box = dt.eval("(() => { const el = document.querySelector(SEL); el.scrollIntoView({block: 'center'});"
                  " const s = el.getBoundingClientRect(); return [s.left, s.top, s.width, s.height]; })()"
                  .replace("SEL", json.dumps(selector)))
    x0, y0, w, h = box
    dt.eval("window.__frames = []; window.__stop = false; (function loop(t) { window.__frames.push(t);"
            " if (!window.__stop) requestAnimationFrame(loop); })(performance.now()); true")
    cx, cy = x0 + w / 2, y0 + h / 2
    dt.mouse("mousePressed", cx, cy)
    start = time.monotonic()
    k = 0
    while time.monotonic() - start < seconds:
        k += 1
        phase = (k % 120) / 120
        dx = (phase * 2 - 1 if phase < 0.5 else 1 - (phase - 0.5) * 2) * w * 0.3  # back and forth
        dt.mouse("mouseMoved", cx + dx, cy + dx * 0.4)
        time.sleep(1 / 60)
    dt.mouse("mouseReleased", cx, cy, buttons=0)
    frames = dt.eval("window.__stop = true; window.__frames")
    # mean interval = elapsed / frames drawn: what the eye gets (a median can hide long stalls
    # between bursts of short frames)
    return (frames[-1] - frames[0]) / (len(frames) - 1) if len(frames) > 1 else float("nan")


def fmt(v, unit="s"):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return f"{v * 1000:.0f} ms" if unit == "s" and v < 1 else f"{v:.2f} s" if unit == "s" else f"{v:.1f} ms"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--leaflet-timeout", type=float, default=180)
    ap.add_argument("--no-leaflet", action="store_true")
    ap.add_argument("--cells", type=int, nargs="*", default=[1_000_000],
                    help="counts of filled cell polygons, each measured filled and as outlines only")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is not installed (apt-get install chromium)")
        return 1

    base = Path(tempfile.mkdtemp(prefix="xl-bench-"))
    lab = Lab(base)
    (lab.root / "slides").mkdir(parents=True)
    slide = lab.root / "slides" / "bench.tiff"
    cached = Path(tempfile.gettempdir()) / f"exact-lab-bench-slide-{SLIDE_SIZE[0]}x{SLIDE_SIZE[1]}.tiff"
    if not cached.exists():  # generated once per machine: it takes minutes
        print(f"writing a {SLIDE_SIZE[0]} x {SLIDE_SIZE[1]} slide ...", flush=True)
        from exact_lab.demo.slide import make_demo_slide

        make_demo_slide(cached.with_suffix(".part.tiff"), width=SLIDE_SIZE[0], height=SLIDE_SIZE[1], n_nuclei=2000)
        cached.with_suffix(".part.tiff").rename(cached)
    shutil.copy(cached, slide)
    (lab.root / "bench.ipynb").write_text(notebook_json("v"))
    lab.start()
    chromium = Chromium(base / "profile")
    results, cell_results = [], []
    try:
        target, dt = open_notebook(chromium, lab)
        kernel = lab.kernel_client("bench.ipynb")
        kernel.run(SETUP.format(slide="slides/bench.tiff", w=SLIDE_SIZE[0], h=SLIDE_SIZE[1]))
        max_level = kernel.value("xl.SlideViewer(SLIDE)._source['max_level']")
        fit_zoom = max(0, max_level - 6)
        chromium.close(target)
        for n in args.sizes:
            row = {"n": n}
            target, dt = open_notebook(chromium, lab)
            try:
                measure_ours(dt, kernel, n, row)
            except Exception as exc:
                row["ours_drawn"] = f"failed: {str(exc).splitlines()[0][:60]}"
            chromium.close(target)
            if not args.no_leaflet:
                target, dt = open_notebook(chromium, lab)
                measure_leaflet(dt, kernel, n, row, args.leaflet_timeout, max_level, fit_zoom)
                chromium.close(target)
            results.append(row)
            print(json.dumps(row, default=str), flush=True)
        for n in args.cells:
            for label, fill in (("filled", 0.25), ("outlines", 0.0)):
                row = {"n": n, "shape": f"cells, {label}"}
                target, dt = open_notebook(chromium, lab)
                try:
                    measure_ours(dt, kernel, n, row, make="cells", fill=fill)
                except Exception as exc:
                    row["ours_drawn"] = f"failed: {str(exc).splitlines()[0][:60]}"
                chromium.close(target)
                cell_results.append(row)
                print(json.dumps(row, default=str), flush=True)
    finally:
        chromium.stop()
        lab.stop()
        shutil.rmtree(base, ignore_errors=True)
    report(results)
    report_cells(cell_results, results)
    return 0


def measure_ours(dt, kernel, n, row, make="boxes", fill=0.0):
    """exact-lab: add_layer in the kernel until the browser reports the shapes on screen."""
    kernel.run(OURS)
    run_cell(dt)
    dt.wait("(() => { const v = [...(globalThis.__exactLabViewers ?? [])].at(-1);"
            " return v && v.session.store.complete && v.tileStats.loaded > 0; })()", timeout=120)
    kernel.run(OURS_ADD.format(n=n, make=make, fill=fill), timeout=900)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 300 and not kernel.value("'drawn_s' in v.perf"):
        time.sleep(0.1)
    perf = kernel.value("dict(v.perf, call_s=_call_s)")
    row["ours_prep"] = perf.get("prepare_s")
    row["ours_drawn"] = (perf.get("prepare_s") or 0) + perf["drawn_s"] if "drawn_s" in perf else "no report"
    row["ours_browser_ms"] = (perf.get("receive_ms"), perf.get("render_ms"))
    row["ours_send_s"] = perf.get("send_s")  # the kernel's share of receive_ms: encoding and handing over
    row["ours_mb"] = perf.get("bytes", 0) / 1e6
    row["ours_pan_fit"] = frame_time_while_dragging(dt, ".xl-root .xl-canvas")
    row["ours_render"] = dt.eval("(() => { const v = [...globalThis.__exactLabViewers].at(-1);"
                                 " return {lowRes: v.lowRes, fullResFrameMs: v.fullResFrameMs, size: [v.camera.width, v.camera.height],"
                                 " tiles: v.source && v.source.kind}; })()")
    row["ours_density"] = dt.eval("[...globalThis.__exactLabViewers].at(-1).renderer.densityLayers.size > 0")
    kernel.run("v.goto(W / 2, H / 2, zoom=1.0)")
    time.sleep(1.0)
    row["ours_visible"] = dt.eval("(() => { const v = [...globalThis.__exactLabViewers].at(-1);"
                                  " const [x0, y0, x1, y1] = v.camera.bounds();"
                                  " return v.session.store.within([x0, y0, x1, y1], v.layers).length; })()")
    row["ours_pan_full"] = frame_time_while_dragging(dt, ".xl-root .xl-canvas")
    if os.environ.get("XL_BENCH_PROBE"):  # where does the time go at full resolution? (diagnostics)
        kernel.run("v.annotations_visible = False")
        row["probe_pan_hidden"] = frame_time_while_dragging(dt, ".xl-root .xl-canvas")
        kernel.run("v.annotations_visible = True")
        kernel.run("v.annotations_visible = True; v.remove_layer('shapes'); v.add_layer(pd.DataFrame({'geometry': shapely.points((df.xmin + df.xmax) / 2, (df.ymin + df.ymax) / 2)}), 'points')")
        time.sleep(2)
        row["probe_pan_points"] = frame_time_while_dragging(dt, ".xl-root .xl-canvas")
    kernel.run("v.close(); del df")


def measure_leaflet(dt, kernel, n, row, timeout, max_level, fit_zoom):
    """ipyleaflet: a GeoJSON layer of the same boxes on a pixel CRS, canvas renderer."""
    try:
        kernel.run(LEAFLET.format(n=n, max_level=max_level, fit_zoom=fit_zoom), timeout=timeout)
        row["leaflet_prep"] = kernel.value("_prep_s")
        t0 = time.monotonic()
        run_cell(dt)
        drawn = dt.wait(
            "(() => { const c = document.querySelector('.leaflet-overlay-pane canvas'); if (!c || !c.width) return false;"
            " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            " for (let i = 3; i < d.length; i += 4 * 97) if (d[i]) return true; return false; })()",
            timeout=timeout, interval=0.2)
        elapsed = time.monotonic() - t0
        if drawn:
            row["leaflet_drawn"] = row["leaflet_prep"] + elapsed
            row["leaflet_pan"] = frame_time_while_dragging(dt, ".leaflet-container")
        else:
            row["leaflet_drawn"] = f"gave up > {timeout:.0f} s"
    except Exception as exc:  # a kernel or page that does not come back in time
        row["leaflet_drawn"] = f"failed: {str(exc).splitlines()[0][:60]}"
    try:
        kernel.run("v.close(); del fc, layer, df", timeout=300)
    except Exception as exc:
        print(f"  (the kernel did not come back after ipyleaflet: {exc})", flush=True)


def report(results):
    print()
    print(f"{'boxes':>10} | {'prep':>8} | {'drawn':>8} | {'pan fit':>8} | {'pan 1:1':>8} || {'leaflet prep':>12} | {'leaflet drawn':>20} | {'leaflet pan':>11} | drawn ratio")
    for r in results:
        ratio = ""
        if isinstance(r.get("leaflet_drawn"), float) and isinstance(r.get("ours_drawn"), float):
            ratio = f"{r['leaflet_drawn'] / r['ours_drawn']:.1f}x"
        print(f"{r['n']:>10,} | {fmt(r.get('ours_prep')):>8} | {fmt(r.get('ours_drawn')):>8} | {fmt(r.get('ours_pan_fit'), 'ms'):>8} |"
              f" {fmt(r.get('ours_pan_full'), 'ms'):>8} || {fmt(r.get('leaflet_prep')):>12} | {fmt(r.get('leaflet_drawn')):>20} |"
              f" {fmt(r.get('leaflet_pan'), 'ms'):>11} | {ratio}")
    print("\npan = mean frame interval while dragging with the mouse (16.7 ms = 60 fps, 50 ms = 20 fps); 'pan fit' is the "
          "whole slide (a density map above 100,000 boxes in view, or 5,000 under 1.5 px), 'pan 1:1' full resolution.")
    print("goals: 1,000,000 boxes drawn <= 5 s and panning >= 20 fps; 100,000 drawn <= 1 s.")


def report_cells(cells, boxes):
    if not cells:
        return
    by_n = {r["n"]: r for r in boxes}
    print()
    print(f"{'cells':>10} | {'drawn as':>16} | {'prep':>8} | {'drawn':>8} | {'pan fit':>8} | {'pan 1:1':>8} | {'in view 1:1':>11} || boxes: {'drawn':>8} | {'pan 1:1':>8}")
    for r in cells:
        b = by_n.get(r["n"], {})
        print(f"{r['n']:>10,} | {r['shape'][7:]:>16} | {fmt(r.get('ours_prep')):>8} | {fmt(r.get('ours_drawn')):>8} |"
              f" {fmt(r.get('ours_pan_fit'), 'ms'):>8} | {fmt(r.get('ours_pan_full'), 'ms'):>8} | {r.get('ours_visible', '-')!s:>11} ||"
              f" {fmt(b.get('ours_drawn')):>15} | {fmt(b.get('ours_pan_full'), 'ms'):>8}")
    print("goal: 1,000,000 filled cells (16 vertices) drawn <= 5 s and panning >= 20 fps (<= 50 ms a frame).")


if __name__ == "__main__":
    raise SystemExit(main())
