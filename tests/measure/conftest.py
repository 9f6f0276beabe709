"""Widget tests run no Jupyter server: pytest-jupyter's per-test loop and server cleanup (loaded
for the whole suite) are not needed here."""

import pytest


@pytest.fixture(autouse=True)
def jp_asyncio_loop():
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup():
    yield
