"""Widget tests run no Jupyter server (see no_jupyter_server.py)."""

from no_jupyter_server import jp_asyncio_loop, jp_server_cleanup  # noqa: F401
