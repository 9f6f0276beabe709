"""pytest-jupyter (loaded for the whole suite) gives every test an asyncio loop of its own, closed
afterwards, and a server cleanup. Folders whose tests run no Jupyter server of pytest-jupyter's
(widgets, measurements) or drive their own with Playwright's sync API (browser: its loop in this
thread must stay open) turn both off by importing these two into their conftest."""

import pytest


@pytest.fixture(autouse=True)
def jp_asyncio_loop():
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup():
    yield
