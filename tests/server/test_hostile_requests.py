"""Requests built to break the server: symlink loops, levels of thousands of digits, names and
paths longer than the file system takes, URLs no route matches. Each gets a JSON 4xx (never a
500, never Jupyter's HTML page), no log line carries the token that came with it, and none of
150 crafted requests reads outside the root, answers without credentials or shows a traceback
or a server path."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import pytest

from exact_lab.slides import open_slide

from .conftest import CMU


def json_error(response) -> dict:
    assert response.headers["Content-Type"].startswith("application/json"), response.body[:200]
    data = json.loads(response.body)
    assert data["status"] == response.code
    return data


class Recorder(logging.Handler):
    """Every record of the loggers a Jupyter server writes to, formatted with its traceback."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def server_log(jp_serverapp):
    recorder = Recorder()
    loggers = [logging.getLogger(), logging.getLogger("tornado.access"), logging.getLogger("tornado.application"),
               logging.getLogger("tornado.general"), jp_serverapp.log]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(recorder)
        lg.setLevel(logging.DEBUG)
    yield recorder
    for lg, level in zip(loggers, levels):
        lg.removeHandler(recorder)
        lg.setLevel(level)


@pytest.fixture
def loop_and_long_names(jp_root_dir):
    (jp_root_dir / "loop-a.svs").symlink_to(jp_root_dir / "loop-b.svs")
    (jp_root_dir / "loop-b.svs").symlink_to(jp_root_dir / "loop-a.svs")
    (jp_root_dir / "self.svs").symlink_to(jp_root_dir / "self.svs")
    return jp_root_dir


HOSTILE = [
    "exact-lab/info/loop-a.svs",
    "exact-lab/dz/self.svs.dzi",
    "exact-lab/dz/loop-b.svs_files/12/0_0.jpeg",
    "exact-lab/thumbnail/self.svs",
    "exact-lab/associated/label/loop-a.svs",
    "exact-lab/dz/CMU-1-Small-Region.svs_files/" + "9" * 4400 + "/0_0.jpeg",
    "exact-lab/dz/CMU-1-Small-Region.svs_files/12/" + "1" * 5000 + "_0.jpeg",
    "exact-lab/dz/CMU-1-Small-Region.svs_files/12/0_0.jpeg?frame=" + "7" * 5000,
    "exact-lab/thumbnail/CMU-1-Small-Region.svs?size=" + "8" * 5000,
    "exact-lab/info/" + "a" * 300 + ".svs",
    "exact-lab/info/" + quote("é" * 200) + ".svs",
    "exact-lab/dz/" + "b" * 256 + ".dzi",
    "exact-lab/info/" + "/".join(["d" * 200] * 25) + "/x.svs",
    "exact-lab/dz/" + "/".join(["e" * 100] * 45) + "_files/12/0_0.png",
]


async def test_hostile_paths_and_numbers_get_a_json_4xx(root_slides, loop_and_long_names, raw_get):
    root_slides(CMU)
    for url in HOSTILE:
        response = await raw_get(url)
        data = json_error(response)
        assert 400 <= response.code < 500, (url[:120], response.code, data)
        assert data["message"] and "Traceback" not in data["message"]
        assert str(loop_and_long_names) not in data["message"]


async def test_no_log_line_carries_the_token(root_slides, loop_and_long_names, raw_get, jp_serverapp, server_log):
    root_slides(CMU)
    token = jp_serverapp.identity_provider.token
    codes = {}
    for url in [*HOSTILE, "exact-lab/dz/CMU-1-Small-Region.svs_files/12/0_0.gif", "exact-lab/nothing/here",
                "exact-lab/dz/CMU-1-Small-Region.svs_files/12/99_99.jpeg", "exact-lab/info/missing.svs"]:
        glue = "&" if "?" in url else "?"
        codes[url[:120]] = (await raw_get(f"{url}{glue}token={token}", auth=False)).code
    assert server_log.lines, "the requests were logged somewhere"
    leaked = [line[:200] for line in server_log.lines if token in line]
    assert not leaked, leaked
    assert all(400 <= code < 500 for code in codes.values()), codes


@pytest.mark.parametrize("tail", [
    "dz/CMU-1-Small-Region.svs_files/-1/0_0.jpeg",
    "dz/CMU-1-Small-Region.svs_files/1.5/0_0.jpeg",
    "dz/CMU-1-Small-Region.svs_files/12/0_0.gif",
    "dz/CMU-1-Small-Region.svs_files/12/0_0.jpeg.bak",
    "dz/CMU-1-Small-Region.svs_files/12/x_0.jpeg",
    "dz/CMU-1-Small-Region.svs_files/12/",
    "dz/CMU-1-Small-Region.svs",
    "dz/",
    "nothing/here",
    "",
])
async def test_urls_no_route_matches_get_a_json_404(root_slides, raw_get, tail):
    root_slides(CMU)
    response = await raw_get(f"exact-lab/{tail}")
    data = json_error(response)
    assert response.code == 404 and "dz/{path}_files/{level}/{col}_{row}" in data["message"]
    # the catch-all is a route like the others: no answer without credentials
    assert (await raw_get(f"exact-lab/{tail}", auth=False)).code == 403


def crafted_requests(secret_name: str) -> list[str]:
    """150 URLs that try to read outside the root, confuse the parser or overflow a number."""
    escapes = ["..", "%2e%2e", "%2E%2E", ".%2e", "%2e.", "..%2f..", "%2e%2e%2f%2e%2e", "..%5c..", "....//",
               "%252e%252e", "..%00", "%c0%ae%c0%ae"]
    routes = ["info/{p}", "dz/{p}.dzi", "dz/{p}_files/12/0_0.jpeg", "thumbnail/{p}", "associated/label/{p}"]
    urls = [("exact-lab/" + r).format(p=f"{e}/{secret_name}") for e in escapes for r in routes]  # 60
    absolute = ["/etc/passwd", "%2Fetc%2Fpasswd", "//etc/passwd", "C:%5Cwindows", "%5C%5Cserver%5Cshare",
                "file:%2F%2F%2Fetc%2Fpasswd", "~root/x.svs", "%7Eroot"]
    urls += [("exact-lab/" + r).format(p=a) for a in absolute for r in routes[:3]]  # 24 -> 84
    odd = ["a%00b.svs", ".hidden.svs", "sub/.git/config", "%2e/CMU-1-Small-Region.svs", "./CMU-1-Small-Region.svs",
           "CMU-1-Small-Region.svs%00.txt", "CMU-1-Small-Region.svs/", "CMU-1-Small-Region.svs%2f", "%ff%fe.svs",
           "@", "@..", "@%2e%2e%2fsecret", "@" + "A" * 300, "a" * 5000, "%" * 10, "%%32%65", "CMU-1-Small-Region.svs;x",
           "CMU-1-Small-Region.svs?v=../../x", "CMU-1-Small-Region.svs#frag", "\u202e.svs"]
    urls += [f"exact-lab/info/{quote(o, safe='%/@?;#')}" for o in odd]  # 20 -> 104
    numbers = ["-1", "+1", "1e3", "0x10", "١٢", "99999999999999999999", "", " 1", "1.0", "NaN", "inf"]
    urls += [f"exact-lab/dz/CMU-1-Small-Region.svs_files/{quote(n)}/0_0.jpeg" for n in numbers]  # 11 -> 115
    urls += [f"exact-lab/dz/CMU-1-Small-Region.svs_files/12/0_0.jpeg?frame={quote(n)}" for n in numbers]  # 126
    urls += [f"exact-lab/thumbnail/CMU-1-Small-Region.svs?size={quote(n)}" for n in numbers]  # 137
    formats = ["gif", "JPEG", "jpeg%00", "png.exe", "tiff", "svg", "bmp", "avif", "webp%2f", "", "jpeg/",
               "jpeg?format=../x", "jp"]
    urls += [f"exact-lab/dz/CMU-1-Small-Region.svs_files/12/0_0.{f}" for f in formats]  # 150
    return urls


async def test_crafted_requests_stay_in_the_root_and_need_credentials(root_slides, raw_get, jp_root_dir):
    root_slides(CMU)
    secret = jp_root_dir.parent / "secret.svs"
    secret.write_bytes(open_slide(root_slides(CMU)).path.read_bytes())
    urls = crafted_requests(secret.name)
    assert len(urls) == 150
    served = []
    for url in urls:
        response = await raw_get(url)
        body = response.body.decode("utf-8", errors="replace")
        assert response.code != 500 and response.code < 600, (url[:120], response.code, body[:200])
        assert "Traceback" not in body and str(jp_root_dir) not in body and str(secret) not in body, url[:120]
        if response.code == 200:
            served.append(url)
        else:
            json_error(response)
        anonymous = await raw_get(url, auth=False)
        assert anonymous.code == 403, (url[:120], anonymous.code)
    # only requests that name the slide inside the root were answered (none named the secret)
    assert all("secret" not in url for url in served), served
