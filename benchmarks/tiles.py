"""Benchmark (a script, not a test): Deep Zoom tiles per second and latency on the real slides in
``../shared/data/slides/``, for four systems measured in the same run:

- raw      OpenSlide's own ``DeepZoomGenerator.get_tile`` plus JPEG encoding, in this process
           (8 "clients" = 8 threads). The limit the others are compared with.
- peer     the simplest tile server: ``ThreadingHTTPServer`` around ``DeepZoomGenerator`` (below).
- large-image  large-image's OpenSlide tile source (``getTile``) behind the same tiny server.
- ours     exact-lab's Jupyter server extension: a real ``jupyter server`` with a token.

    python benchmarks/tiles.py [--slides DIR] [--clients 8] [--sets all,deepest] [--rounds 3]

Cold: a fresh process (fresh OpenSlide handles, empty memory caches), every tile requested once.
Warm: the same tiles again from the same process. Sequential = one client; concurrent = N clients
on persistent HTTP/1.1 connections sharing one list of tiles. All systems encode JPEG quality 75.
Tile sets: "all" = every tile of every Deep Zoom level (a viewer zooming through the pyramid),
"deepest" = only the full-resolution level (no zoomed-out levels, where exact-lab reads levels it
built once into its cache while DeepZoomGenerator reads level 0 of single-level slides).
Each figure is the best of ``--rounds`` rounds; in a round every system runs once, in turn, so a
burst of other work on a shared machine does not decide the comparison (the spread is printed).

The client is a small socket client (not http.client, whose header parsing costs more than a warm
tile); its own ceiling is measured against a static asyncio server and printed first. Client and
servers share this machine's cores, so every HTTP figure includes the client's CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_SLIDES = (ROOT / ".." / "shared" / "data" / "slides").resolve()
QUALITY = 75
RAW = "raw (DeepZoomGenerator in process)"
OURS = "exact-lab server extension"
TILE, OVERLAP = 254, 1


# -- slides ------------------------------------------------------------------------------------
def openslide_slides(folder: Path) -> list[Path]:
    """Every slide OpenSlide opens (the peers are built on it; the rest is exact-lab only)."""
    import openslide

    found = []
    for path in sorted(folder.rglob("*")):
        if not (path.is_file() and openslide.OpenSlide.detect_format(str(path))):
            continue
        try:  # detected is not opened: OpenSlide 4.0 refuses YBR_FULL DICOM, for one
            openslide.OpenSlide(str(path)).close()
        except openslide.OpenSlideError:
            continue
        found.append(path)
    return found


def dz_tiles(path: Path, which: str) -> list[tuple[int, int, int]]:
    import openslide
    from openslide.deepzoom import DeepZoomGenerator

    with openslide.OpenSlide(str(path)) as osr:
        dz = DeepZoomGenerator(osr, TILE, OVERLAP, limit_bounds=False)
        levels = range(dz.level_count) if which == "all" else [dz.level_count - 1]
        return [(lv, c, r) for lv in levels for r in range(dz.level_tiles[lv][1]) for c in range(dz.level_tiles[lv][0])]


def large_image_tiles(path: Path, which: str) -> list[tuple[int, int, int]]:
    import large_image

    source = large_image.open(str(path))
    levels = range(source.levels) if which == "all" else [source.levels - 1]
    out = []
    for z in levels:
        scale = 2 ** (source.levels - 1 - z)
        cols = -(-source.sizeX // (scale * source.tileWidth))
        rows = -(-source.sizeY // (scale * source.tileHeight))
        out += [(z, x, y) for y in range(rows) for x in range(cols)]
    return out


# -- statistics ------------------------------------------------------------------------------
class Run:
    def __init__(self, count: int, seconds: float, latencies: list[float], errors: int = 0):
        self.count, self.seconds, self.errors = count, seconds, errors
        lat = sorted(latencies)
        self.p50 = lat[len(lat) // 2] * 1e3 if lat else float("nan")
        self.p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))] * 1e3 if lat else float("nan")

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else float("nan")

    def text(self) -> str:
        bad = f" ({self.errors} errors!)" if self.errors else ""
        return f"{self.rate:8.0f}/s  p50 {self.p50:6.2f} ms  p95 {self.p95:6.2f} ms{bad}"


def run_jobs(jobs: list, clients: int, work) -> Run:
    """Run ``work(client_state, job)`` over ``jobs`` with ``clients`` threads sharing one queue."""
    counter = itertools.count()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client():
        state: dict = {}
        mine = []
        while (i := next(counter)) < len(jobs):
            t0 = time.perf_counter()
            try:
                work(state, jobs[i])
            except Exception:
                with lock:
                    errors[0] += 1
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)
        if "close" in state:
            state["close"]()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Run(len(jobs), time.perf_counter() - start, latencies, errors[0])


# -- HTTP client ---------------------------------------------------------------------------
class Connection:
    """A persistent HTTP/1.1 connection that sends GETs and reads Content-Length bodies."""

    def __init__(self, port: int, headers: dict):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.port = port
        self.buffer = b""

    def get(self, path: str) -> bytes:
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n{self.extra}\r\n".encode())
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._recv()
        head, self.buffer = self.buffer[:end], self.buffer[end + 4:]
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(self.buffer) < length:
            self._recv()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        if status != 200:
            raise RuntimeError(f"{status} for {path}: {body[:200]!r}")
        return body

    def _recv(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("closed")
        self.buffer += chunk

    def close(self):
        self.sock.close()


def http_work(port: int, headers: dict):
    def work(state, path):
        conn = state.get("conn")
        if conn is None:
            conn = state["conn"] = Connection(port, headers)
            state["close"] = conn.close
        conn.get(path)
    return work


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port: int, path: str, headers: dict, timeout: float = 60.0, alive=lambda: True) -> None:
    """Wait until the server answers ``path`` with any status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            conn = Connection(port, headers)
            try:
                conn.get(path)
            except RuntimeError:
                pass  # an error status is an answer
            conn.close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not answer {path}")


# -- the peers' servers (run in a child process: ``tiles.py --serve peer|large-image``) -------
def serve(kind: str, port: int, slides: list[str]) -> None:
    import openslide
    from openslide.deepzoom import DeepZoomGenerator

    if kind == "peer":
        generators = [DeepZoomGenerator(openslide.OpenSlide(p), TILE, OVERLAP, limit_bounds=False) for p in slides]

        def tile(index, level, col, row):
            buffer = io.BytesIO()
            generators[index].get_tile(level, (col, row)).save(buffer, "JPEG", quality=QUALITY)
            return buffer.getvalue()
    else:
        import large_image

        sources = [large_image.open(p, encoding="JPEG", jpegQuality=QUALITY) for p in slides]

        def tile(index, level, col, row):
            return sources[index].getTile(col, row, level)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as browsers use
        # Without this, headers and body leave in two writes and Nagle's algorithm meets the
        # client's delayed ACK: every response waits ~40 ms (measured: 22 tiles/s sequential).
        disable_nagle_algorithm = True

        def do_GET(self):
            try:
                _, index, level, name = self.path.split("/")
                col, row = name.split(".")[0].split("_")
                body, status = tile(int(index), int(level), int(col), int(row)), 200
            except Exception as exc:
                body, status = str(exc).encode(), 404
            self.send_response(status)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


def serve_static(port: int) -> None:
    """A fixed 12 kB body from asyncio: what the client itself can do."""
    body = b"x" * 12_000
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(body) + body

    async def handle(reader, writer):
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(reply)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class Child:
    """A server in a child process, stopped on exit."""

    def __init__(self, args: list[str], port: int, probe: str, headers: dict | None = None, env=None, cwd=None):
        self.port, self.headers = port, headers or {}
        self.proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)
        try:
            wait_http(port, probe, self.headers, alive=lambda: self.proc.poll() is None)
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"{args[:4]} did not start: {self.proc.stderr.read().decode()[-2000:]}") from None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- systems -------------------------------------------------------------------------------
def measure_raw(slides: list[Path], which: str, clients: int) -> tuple[Run, Run]:
    import openslide
    from openslide.deepzoom import DeepZoomGenerator

    generators = [DeepZoomGenerator(openslide.OpenSlide(str(p)), TILE, OVERLAP, limit_bounds=False) for p in slides]
    jobs = [(i, t) for i, p in enumerate(slides) for t in dz_tiles(p, which)]

    def work(state, job):
        i, (level, col, row) = job
        buffer = io.BytesIO()
        generators[i].get_tile(level, (col, row)).save(buffer, "JPEG", quality=QUALITY)

    return run_jobs(jobs, clients, work), run_jobs(jobs, clients, work)


def measure_peer(kind: str, slides: list[Path], which: str, clients: int) -> tuple[Run, Run]:
    port = free_port()
    tiles = dz_tiles if kind == "peer" else large_image_tiles
    jobs = [f"/{i}/{lv}/{c}_{r}.jpeg" for i, p in enumerate(slides) for lv, c, r in tiles(p, which)]
    # the start-up probe names no slide (404): it must not warm any measured tile
    child = Child([sys.executable, __file__, "--serve", kind, "--port", str(port), *map(str, slides)], port, "/probe")
    try:
        work = http_work(port, {})
        return run_jobs(jobs, clients, work), run_jobs(jobs, clients, work)
    finally:
        child.stop()


class OurServer:
    """A real ``jupyter server`` with the exact-lab extension, a token, and the slides copied into
    its root (the extension refuses symlinks that lead out of the root)."""

    def __init__(self, root: Path, cache: Path):
        self.root, self.cache = root, cache
        self.token = "bench-" + os.urandom(8).hex()
        self.headers = {"Authorization": f"token {self.token}"}

    def start(self) -> Child:
        port = free_port()
        env = dict(os.environ, EXACT_LAB_CACHE=str(self.cache), JUPYTER_RUNTIME_DIR=str(self.cache / "runtime"))
        args = [sys.executable, "-m", "jupyter_server", "--allow-root", "--no-browser", f"--port={port}",
                "--ip=127.0.0.1", f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
                '--ServerApp.jpserver_extensions={"exact_lab": True}', "--ServerApp.log_level=WARN"]
        return Child(args, port, "/api/status", self.headers, env=env, cwd=self.root)

    def urls(self, slides: list[Path], which: str) -> list[str]:
        from exact_lab.slides import content_hash

        out = []
        for p in slides:
            copy = self.root / p.name
            version = content_hash(copy)
            out += [f"/exact-lab/dz/{quote(p.name)}_files/{lv}/{c}_{r}.jpeg?v={version}" for lv, c, r in dz_tiles(copy, which)]
        return out


def measure_ours(server: OurServer, slides: list[Path], which: str, clients: int) -> tuple[Run, Run]:
    jobs = server.urls(slides, which)
    child = server.start()
    try:
        work = http_work(child.port, server.headers)
        return run_jobs(jobs, clients, work), run_jobs(jobs, clients, work)
    finally:
        child.stop()


def measure_client_ceiling(clients: int, count: int = 4000) -> Run:
    port = free_port()
    child = Child([sys.executable, __file__, "--serve-static", "--port", str(port)], port, "/")
    try:
        return run_jobs(["/"] * count, clients, http_work(port, {}))
    finally:
        child.stop()


# -- report --------------------------------------------------------------------------------
def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--slides", type=Path, default=DEFAULT_SLIDES)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--sets", default="all,deepest")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--systems", default="raw,peer,large-image,ours", help="a subset, for quick comparisons")
    ap.add_argument("--serve", choices=["peer", "large-image"], help=argparse.SUPPRESS)
    ap.add_argument("--serve-static", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        return serve(args.serve, args.port, args.paths)
    if args.serve_static:
        return serve_static(args.port)

    if not args.slides.is_dir():
        sys.exit(f"no slides at {args.slides} (see ../shared/data/PROVENANCE.md)")
    slides = openslide_slides(args.slides)
    work = Path(tempfile.mkdtemp(prefix="exact-lab-tiles-bench-"))
    try:
        report(slides, work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(slides: list[Path], work: Path, args) -> None:
    from exact_lab.slides import forget, open_slide

    for p in slides:  # every system starts with the files in the OS page cache
        p.read_bytes()
    root, cache = work / "root", work / "cache"
    root.mkdir()
    for p in slides:
        shutil.copy2(p, root / p.name)
    os.environ["EXACT_LAB_CACHE"] = str(cache)
    print(f"{len(slides)} slides OpenSlide reads (peers need it): {', '.join(p.name for p in slides)}")
    print(f"{os.cpu_count()} cores, shared by clients and servers; load average {os.getloadavg()[0]:.1f}")
    t0 = time.perf_counter()
    for p in slides:  # exact-lab builds missing zoomed-out levels once per slide content
        slide = open_slide(root / p.name)
        slide.tile(0, 0, 0)
    forget()
    print(f"exact-lab one-time preparation (content hash, built levels into the cache): {time.perf_counter() - t0:.2f} s")
    ceiling = measure_client_ceiling(args.clients)
    print(f"client ceiling ({args.clients} clients, static asyncio server, 12 kB body): {ceiling.text()}\n")

    ours = OurServer(root, cache)
    systems = {
        RAW: lambda which, clients: measure_raw(slides, which, clients),
        "peer (ThreadingHTTPServer + DZG)": lambda which, clients: measure_peer("peer", slides, which, clients),
        "large-image (getTile, 256 px)": lambda which, clients: measure_peer("large-image", slides, which, clients),
        OURS: lambda which, clients: measure_ours(ours, slides, which, clients),
    }
    wanted = {"raw": RAW, "peer": "peer (ThreadingHTTPServer + DZG)", "large-image": "large-image (getTile, 256 px)",
              "ours": OURS}
    keep = {wanted[k] for k in args.systems.split(",")} | {RAW}  # raw: the reference of every ratio
    systems = {name: run for name, run in systems.items() if name in keep}
    print(f"best of {args.rounds} rounds; in each round every system runs once, in turn "
          "(other work on the machine comes and goes: the best round is the least disturbed)\n")
    results = {}
    for which in args.sets.split(","):
        count = sum(len(dz_tiles(p, which)) for p in slides)
        print(f"== tile set '{which}': {count} Deep Zoom tiles ({TILE}+{OVERLAP}), JPEG q{QUALITY}")
        for clients in (1, args.clients):
            mode = "sequential" if clients == 1 else f"{clients} clients"
            runs: dict[str, list] = {name: [] for name in systems}
            for round_ in range(args.rounds):
                names = list(systems)
                names = names[round_ % len(names):] + names[:round_ % len(names)]  # rotate the order
                for name in names:
                    runs[name].append(systems[name](which, clients))
            best = {name: (max((c for c, _ in r), key=lambda x: x.rate), max((w for _, w in r), key=lambda x: x.rate))
                    for name, r in runs.items()}
            raw_cold, raw_warm = best[RAW]
            print(f"  -- {mode}")
            for name, (cold, warm) in best.items():
                def spread(kind):
                    return "/".join(f"{run[kind].rate:.0f}" for run in
                                                               ({"cold": c, "warm": w} for c, w in runs[name]))
                print(f"  {name:<36} cold {cold.text()}  x{cold.rate / raw_cold.rate:4.2f} raw   [rounds {spread('cold')}]")
                print(f"  {'':<36} warm {warm.text()}  x{warm.rate / raw_warm.rate:4.2f} raw   [rounds {spread('warm')}]")
                results[(which, mode, name)] = {"cold": cold.__dict__ | {"rate": cold.rate},
                                                "warm": warm.__dict__ | {"rate": warm.rate}}
        print()
    ext = {k: v for k, v in results.items() if k[2] == OURS}
    for (which, mode, _), r in ext.items():
        raw = results[(which, mode, RAW)]
        print(f"goal check [{which}, {mode}]: cold {r['cold']['rate'] / raw['cold']['rate']:.0%} of raw (goal >= 90%); "
              f"warm {r['warm']['rate']:.0f}/s, p50 {r['warm']['p50']:.2f} ms (goal >= 5000/s, p50 <= 2 ms with 8 clients)")
    if os.environ.get("EXACT_LAB_BENCH_JSON"):
        Path(os.environ["EXACT_LAB_BENCH_JSON"]).write_text(json.dumps({" | ".join(k): v for k, v in results.items()}, indent=1))


if __name__ == "__main__":
    main()
