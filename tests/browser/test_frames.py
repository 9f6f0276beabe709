"""Frame keys on a video made here (PyAV): t copies the selected box to the next frame, Shift+T
interpolates it towards its keyframe partner; stepping through frames shows the results."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

SETUP = """
import exact_lab as xl, tempfile, av, numpy as np
from shapely.geometry import box
W, H, N = 320, 240, 6
with av.open("slides/track.mkv", "w") as c:  # under the lab's root, so the server extension serves it
    s = c.add_stream("ffv1", rate=5)
    s.width, s.height, s.pix_fmt = W, H, "bgr0"
    for k in range(N):
        for p in s.encode(av.VideoFrame.from_ndarray(np.full((H, W, 3), 30 + 30 * k, np.uint8), format="rgb24")):
            c.mux(p)
    for p in s.encode():
        c.mux(p)
proj = xl.open_project(tempfile.mkdtemp() + "/p", user="tester")
iid = int(proj.add_images(["slides/track.mkv"])["image_id"][0])
car_type = proj.add_annotation_type("car", "box")
(car,) = proj.add_annotations([{"image_id": iid, "type": "car", "frame": 0, "geometry": box(40, 40, 100, 90)}])
v = proj.viewer(iid, height="500px")
def boxes(frame):
    return [[round(c, 3) for c in g.bounds] for g in proj.annotations(image=iid, frame=frame)["geometry"]]
"""


@pytest.fixture(scope="module")
def nb(notebook):
    notebook.show(SETUP)
    notebook.kernel.run("v.fit()")
    notebook.page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).tileStats.loaded > 0", timeout=30_000)
    return notebook


def shown_centres(nb) -> list[list[float]]:
    """Centres of the car boxes the browser holds for the frame it shows."""
    return nb.js("(() => { const out = []; v.session.store.forEachCenter('t:' + arg, (x, y) => out.push([x, y]));"
                 " return out; })()", nb.kernel.value("car_type"))


def select_at(nb, x, y) -> None:
    nb.page.locator(".xl-root button[data-tool='select']").last.click()
    nb.click(x, y)
    nb.page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).session.store.selection.size === 1")


def step_frame(nb, key: str, frame: int) -> None:
    """Step with the key, then wait until the browser holds the new frame's annotations (a
    newer generation of layer data, complete)."""
    gen = nb.js("v.session.store.gen")
    nb.press(key)
    assert nb.kernel.wait(f"v.frame == {frame}", timeout=30)
    nb.page.wait_for_function("([frame, gen]) => { const v = [...globalThis.__exactLabViewers].at(-1);"
                              " return v.model.frame === frame && v.session.store.gen > gen && v.session.store.complete; }",
                              arg=[frame, gen], timeout=30_000)


def test_t_copies_the_selected_box_to_the_next_frame(nb):
    k = nb.kernel
    assert k.value("boxes(1)") == []
    select_at(nb, 70, 65)
    nb.press("t")
    assert k.wait("boxes(1) == [[40, 40, 100, 90]]", timeout=30), k.value("boxes(1)")
    assert k.value("proj.annotations(image=iid, frame=1)['meta'].iloc[0]['copied_from'] == car")
    assert k.value("boxes(0)") == [[40, 40, 100, 90]]  # the original stays
    step_frame(nb, "Shift+E", 1)
    nb.page.wait_for_function("(key) => { const out = []; [...globalThis.__exactLabViewers].at(-1).session.store"
                              ".forEachCenter('t:' + key, (x, y) => out.push([x, y])); return out.length === 1; }",
                              arg=k.value("car_type"), timeout=20_000)
    assert shown_centres(nb) == [[70, 65]]
    # the copy is selected there, so t carries it on to the next frame
    copy = k.value("proj.annotations(image=iid, frame=1)['uuid'].iloc[0]")
    nb.page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).session.store.selection.size === 1")
    assert k.value("v.selected['uuid'].tolist()") == [copy]


def test_shift_t_interpolates_towards_the_moved_keyframe(nb):
    k = nb.kernel
    # the keyframe partner: the box copied on to frame 4 and moved there
    k.run("(far,) = proj.copy_to_frame(car, frame=4)\n"
          "proj.update_annotations([{'uuid': far, 'geometry': box(200, 120, 280, 200)}])")
    if k.value("v.frame") != 0:  # the test before leaves the viewer on frame 1
        step_frame(nb, "Shift+Q", 0)
    select_at(nb, 70, 65)
    nb.press("Shift+T")
    assert k.wait("len(boxes(1)) == len(boxes(2)) == len(boxes(3)) == 1 and "
                  "proj.annotations(image=iid, frame=2)['meta'].iloc[0].get('interpolated_from') == [car, far]", timeout=30)
    first, middle, last = k.value("boxes(0)")[0], k.value("boxes(2)")[0], k.value("boxes(4)")[0]
    assert first == [40, 40, 100, 90] and last == [200, 120, 280, 200]
    for a, m, b in zip(first, middle, last):
        assert a < m < b
    assert middle == pytest.approx([(a + b) / 2 for a, b in zip(first, last)])  # frame 2 of 0..4: half way
    step_frame(nb, "Shift+E", 1)
    step_frame(nb, "Shift+E", 2)
    centre = [(middle[0] + middle[2]) / 2, (middle[1] + middle[3]) / 2]
    nb.page.wait_for_function("([key, cx]) => { const out = []; [...globalThis.__exactLabViewers].at(-1).session.store"
                              ".forEachCenter('t:' + key, (x, y) => out.push(x)); return out.length === 1 && Math.abs(out[0] - cx) < 1e-3; }",
                              arg=[k.value("car_type"), centre[0]], timeout=20_000)
    assert shown_centres(nb) == [pytest.approx(centre)]
    nb.screenshot("viewer-interpolated.png")
