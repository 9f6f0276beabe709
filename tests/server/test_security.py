"""Every route needs Jupyter's authentication, and nothing outside the server root is read:
no ``..``, absolute paths, symlinks out, hidden files. Pseudonymised slides never show their name."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from exact_lab.slides import aliases, open_slide

from .conftest import CMU

ROUTES = ["exact-lab/info/{name}", "exact-lab/dz/{name}.dzi", "exact-lab/dz/{name}_files/12/0_0.jpeg",
          "exact-lab/thumbnail/{name}", "exact-lab/associated/label/{name}"]


def message(response) -> str:
    return json.loads(response.body)["message"]


@pytest.mark.parametrize("route", ROUTES)
async def test_anonymous_requests_are_refused(root_slides, raw_get, route):
    path = root_slides(CMU)
    url = route.format(name=quote(path.name))
    assert (await raw_get(url)).code == 200
    # the same request right after an accepted one, without credentials or with a wrong token
    # (the fast path remembers accepted credentials: these must not match them)
    assert (await raw_get(url, auth=False)).code == 403
    assert (await raw_get(url, auth=False, headers={"Authorization": "token wrong"})).code == 403
    assert (await raw_get(url, auth=False, headers={"Cookie": "username-127-0-0-1=forged"})).code == 403


async def test_token_in_the_query_is_jupyters_too(root_slides, raw_get, jp_serverapp):
    path = root_slides(CMU)
    token = jp_serverapp.identity_provider.token
    response = await raw_get(f"exact-lab/dz/{path.name}_files/12/0_0.jpeg?token={token}", auth=False)
    assert response.code == 200
    response = await raw_get(f"exact-lab/dz/{path.name}_files/12/0_0.jpeg?token=nope", auth=False)
    assert response.code == 403


@pytest.mark.parametrize("escape", ["%2e%2e", "..", "%2E%2E", ".%2e"])
async def test_parent_directories_are_refused(root_slides, raw_get, jp_root_dir, escape):
    root_slides(CMU)
    secret = jp_root_dir.parent / "secret.svs"
    secret.write_bytes(open_slide(root_slides(CMU)).path.read_bytes())
    for route in ROUTES:
        url = route.format(name=f"{escape}/secret.svs")
        response = await raw_get(url)
        assert response.code in (403, 404), url  # some clients fold a literal "/../" away
        if response.code == 403:
            assert "root" in message(response)


async def test_absolute_paths_are_refused(root_slides, raw_get, slides_dir):
    root_slides(CMU)
    absolute = quote(str(slides_dir / CMU))
    for url in [f"exact-lab/info/{absolute}", f"exact-lab/info/%2F{absolute.lstrip('/')}",
                f"exact-lab/dz/{absolute}_files/12/0_0.jpeg"]:
        response = await raw_get(url)
        assert response.code == 403 and "absolute" in message(response), url


async def test_symlinks_out_of_the_root_are_refused(root_slides, raw_get, jp_root_dir, slides_dir):
    (jp_root_dir / "link.svs").symlink_to(slides_dir / CMU)
    (jp_root_dir / "linked-folder").symlink_to(slides_dir / "aperio")
    for url in ["exact-lab/info/link.svs", "exact-lab/dz/link.svs_files/12/0_0.jpeg",
                "exact-lab/info/linked-folder/CMU-1-Small-Region.svs"]:
        response = await raw_get(url)
        assert response.code == 403 and "outside" in message(response), url
    # a symlink that stays inside the root is fine
    inside = root_slides(CMU)
    (jp_root_dir / "alias.svs").symlink_to(inside)
    assert (await raw_get("exact-lab/info/alias.svs")).code == 200


async def test_hidden_files_are_refused(root_slides, raw_get, jp_root_dir):
    root_slides(CMU, as_name=".secret.svs")
    root_slides(CMU, as_name=".private/slide.svs")
    (jp_root_dir / "visible.svs").symlink_to(jp_root_dir / ".secret.svs")
    for url in ["exact-lab/info/.secret.svs", "exact-lab/info/.private/slide.svs",
                "exact-lab/dz/.secret.svs_files/12/0_0.jpeg", "exact-lab/info/visible.svs"]:
        response = await raw_get(url)
        assert response.code == 403 and "hidden" in message(response), url


async def test_pseudonymised_slides_never_show_their_name(root_slides, raw_get, tmp_path):
    private = tmp_path / "outside-root" / "Doe, Jane - biopsy 17.svs"
    private.parent.mkdir()
    private.write_bytes(open_slide(root_slides(CMU)).path.read_bytes())
    token = aliases.register(private)  # a kernel of the same user did this
    info = await raw_get(f"exact-lab/info/@{token}")
    assert info.code == 200
    text = info.body.decode()
    assert "Doe" not in text and "biopsy" not in text and "outside-root" not in text
    assert "label" not in json.loads(text)["associated_images"]
    assert (await raw_get(f"exact-lab/associated/label/@{token}")).code == 404
    assert (await raw_get(f"exact-lab/associated/thumbnail/@{token}")).code == 200
    assert (await raw_get(f"exact-lab/dz/@{token}_files/12/0_0.jpeg")).code == 200
    assert (await raw_get("exact-lab/info/@not-a-token")).code == 404
    # a damaged pseudonymised file: the error names the token, not the file
    damaged = private.parent / "Roe, Richard - biopsy 18.svs"
    damaged.write_bytes(b"not a slide at all" * 100)
    other = aliases.register(damaged)
    response = await raw_get(f"exact-lab/info/@{other}")
    assert response.code == 415
    assert "Roe" not in response.body.decode() and other in message(response)
