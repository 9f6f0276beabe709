"""Every message between the SlideViewer's kernel side and its browser side, both directions.

This module is the one Python definition; ``js/src/protocol.ts`` mirrors it as a typed union of
the same names and fields, and ``tests/widgets/test_protocol.py`` fails when the two disagree.
Each message is a small JSON header (a ``TypedDict`` here, keyed by its ``type``); bulk data
travels beside it in binary buffers, described in the message's docstring. Coordinates are
level-0 pixels of the image (``l0_`` in variable names) unless a field says otherwise.

To add a message: add its ``TypedDict`` to the right section and to ``TO_BROWSER`` or
``TO_KERNEL``, the same interface to ``protocol.ts`` (and its union), a handler on the receiving
side (the kernel's dispatch table in ``shell.py``; the browser's exhaustive ``switch``), then run
the protocol test.
"""

# no `from __future__ import annotations`: TypedDict must see NotRequired[...] as a type, not text
from typing import Literal, TypedDict, get_args, get_type_hints

try:  # Python >= 3.11
    from typing import NotRequired
except ImportError:  # pragma: no cover - Python 3.10
    from typing_extensions import NotRequired

Kind = Literal["box", "point", "path", "polygon"]
Level = Literal["info", "warn", "error"]


# -- parts of messages and of widget state ------------------------------------------------------
class ShapeHeader(TypedDict):
    """One shape of an ``upsert``: its coordinates are the next ``2 * n`` floats of the buffer."""

    id: int
    layer: str
    kind: Kind
    n: int
    rings: NotRequired[list[int]]  # polygon: first vertex of each ring; absent = one ring
    uuid: NotRequired[str]


class PutOp(ShapeHeader):
    """Add or change one shape; its ``2 * n`` coordinates follow the previous op's in the buffer."""

    op: Literal["put"]


class DeleteOp(TypedDict):
    op: Literal["delete"]
    id: int


class EditError(TypedDict):
    id: int
    error: str


class SourceMeta(TypedDict):
    """The ``_source`` trait: what the browser needs to fetch and place the slide's tiles."""

    name: str
    width: int
    height: int
    max_level: int  # Deep Zoom level of full resolution
    tile_size: int
    overlap: int
    format: str
    mpp: float | None
    objective_power: float | None
    frames: int
    hash: str | None
    path: str | None  # server-root-relative path, when the kernel could work it out
    abs_path: str | None  # so the browser can make it relative to the server root itself
    token: str | None  # alias of a pseudonymised image: routes use "@token" instead of a path
    comm: bool  # the kernel can serve tiles over the comm
    error: str | None


class TypeMeta(TypedDict):
    """One entry of the ``_types`` trait: an annotation type the viewer can draw."""

    index: int
    type_id: int | str
    name: str
    vector_type: str
    color: str
    default_width: float | None
    default_height: float | None
    key: str | None  # number key that picks it, "1".."9", "0"
    layer: str  # key of the layer that holds annotations of this type


class LayerMeta(TypedDict):
    """One entry of the ``_layers`` trait: a layer's identity, look and size."""

    key: str
    name: str
    source: Literal["type", "user"]
    type_index: int | None
    vector_type: str | None
    color: str
    visible: bool
    opacity: float
    editable: bool
    line_width: float
    fill_opacity: float
    point_radius: float
    ellipse: bool
    count: int


# -- kernel to browser ---------------------------------------------------------------------------
class ResetMsg(TypedDict):
    """A new generation of layer data follows; everything of older generations is dropped."""

    type: Literal["reset"]
    gen: int


class ChunkMsg(TypedDict):
    """One slice (at most 65,536 shapes) of one layer, spatially compact; ids are consecutive
    from ``id_start``. Buffers: float32 coordinates (box: xmin ymin xmax ymax; point: x y; path
    and polygon: vertices), then for path uint32 vertex offsets per shape, for polygon uint32
    vertex offsets per ring and uint32 ring offsets per shape."""

    type: Literal["chunk"]
    gen: int
    batch: int
    layer: str
    chunk: int
    kind: Kind
    count: int
    id_start: int
    bbox: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax of the chunk


class DoneMsg(TypedDict):
    """Every chunk of ``batch`` has been sent."""

    type: Literal["done"]
    gen: int
    batch: int


class UpsertMsg(TypedDict):
    """Shapes to add or replace. Buffer: float64 coordinates of every shape, one after another."""

    type: Literal["upsert"]
    gen: int
    shapes: list[ShapeHeader]
    reason: Literal["committed", "remote"]  # the store's state after a commit / another viewer's edit


class RemoveMsg(TypedDict):
    """Shapes to take away. Buffer: float64 ids."""

    type: Literal["remove"]
    gen: int


class SelectMsg(TypedDict):
    """The selection, set from Python. Buffer: float64 ids."""

    type: Literal["select"]
    gen: int


class DropMsg(TypedDict):
    """A layer was removed: every chunk and shape of it goes."""

    type: Literal["drop"]
    gen: int
    layer: str


class AckMsg(TypedDict):
    """The kernel applied the ``edits`` message ``seq``; refused ops are listed with the reason."""

    type: Literal["ack"]
    seq: int
    errors: list[EditError]


class SavedMsg(TypedDict):
    """How many edits the store's session still has to commit (0: all saved)."""

    type: Literal["saved"]
    pending: int


class TileReplyMsg(TypedDict):
    """Answer to a ``tile`` request over the comm. Buffer (when ``ok``): the encoded image."""

    type: Literal["tile"]
    req: int
    ok: bool
    mime: NotRequired[str]
    error: NotRequired[str]


class NoticeMsg(TypedDict):
    """A line for the status bar."""

    type: Literal["notice"]
    text: str
    level: NotRequired[Level]


# -- browser to kernel ---------------------------------------------------------------------------
class HelloMsg(TypedDict):
    """A view is ready: send it everything."""

    type: Literal["hello"]


class TileRequestMsg(TypedDict):
    """A Deep Zoom tile over the comm (front ends without the server extension)."""

    type: Literal["tile"]
    req: int
    level: int
    col: int
    row: int
    frame: int
    format: str


class TileCancelMsg(TypedDict):
    """The tile left the view before it arrived."""

    type: Literal["tile_cancel"]
    req: int


class EditsMsg(TypedDict):
    """Edits made in the browser, by id. Buffer: float64 coordinates of the put ops in order."""

    type: Literal["edits"]
    seq: int
    ops: list[PutOp | DeleteOp]


class SelectionMsg(TypedDict):
    """What the user selected. Buffer: float64 ids."""

    type: Literal["selection"]
    gen: int


class DrawnMsg(TypedDict):
    """A batch of chunks is on screen: timings for ``viewer.perf`` and the benchmark."""

    type: Literal["drawn"]
    gen: int
    batch: int
    since_hello_ms: float
    receive_ms: float
    render_ms: float
    bytes: int


class NavigateMsg(TypedDict):
    """q / e: the previous or next image of the viewer's image set."""

    type: Literal["navigate"]
    delta: int


class ScreeningMsg(TypedDict):
    """w a s d moved the view by one screen; ``bounds`` is the view after the move."""

    type: Literal["screening"]
    dx: int
    dy: int
    bounds: tuple[float, float, float, float]


class VerifyMsg(TypedDict):
    """f: verify what is selected. Buffer: float64 ids of the selection."""

    type: Literal["verify"]


TO_BROWSER: dict[str, type] = {
    "reset": ResetMsg, "chunk": ChunkMsg, "done": DoneMsg, "upsert": UpsertMsg, "remove": RemoveMsg,
    "select": SelectMsg, "drop": DropMsg, "ack": AckMsg, "saved": SavedMsg, "tile": TileReplyMsg,
    "notice": NoticeMsg,
}
TO_KERNEL: dict[str, type] = {
    "hello": HelloMsg, "tile": TileRequestMsg, "tile_cancel": TileCancelMsg, "edits": EditsMsg,
    "selection": SelectionMsg, "drawn": DrawnMsg, "navigate": NavigateMsg, "screening": ScreeningMsg,
    "verify": VerifyMsg,
}
# Shapes of widget state and of message parts, mirrored in protocol.ts under the same names.
PARTS: tuple[type, ...] = (ShapeHeader, PutOp, DeleteOp, EditError, SourceMeta, TypeMeta, LayerMeta)


class ProtocolError(ValueError):
    """A message that does not match its definition here."""


def fields(definition: type) -> dict[str, tuple[object, bool]]:
    """``{field: (annotation, required)}`` of a message or part definition."""
    hints = get_type_hints(definition)
    return {name: (hint, name in definition.__required_keys__) for name, hint in hints.items()}


def message(name: str, **content) -> dict:
    """A kernel-to-browser message, checked against its definition (a typo fails here, in the
    kernel, instead of being ignored by the browser)."""
    definition = TO_BROWSER.get(name)
    if definition is None:
        raise ProtocolError(f"no message {name!r} to the browser; known: {', '.join(TO_BROWSER)}")
    _check(definition, {"type": name, **content}, f"message {name!r}")
    return {"type": name, **content}


def check_incoming(msg: dict) -> type:
    """The definition of a browser-to-kernel message, after checking its fields."""
    name = msg.get("type") if isinstance(msg, dict) else None
    definition = TO_KERNEL.get(name)
    if definition is None:
        raise ProtocolError(f"unknown message {name!r} from the browser")
    _check(definition, msg, f"message {name!r} from the browser")
    return definition


def _check(definition: type, content: dict, what: str) -> None:
    known = fields(definition)
    missing = [k for k, (_, required) in known.items() if required and k not in content]
    extra = [k for k in content if k not in known]
    if missing or extra:
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"unknown {', '.join(extra)}"] if extra else [])
        raise ProtocolError(f"{what}: {'; '.join(parts)}")
    literal = get_args(known["type"][0]) if "type" in known else ()
    if literal and content.get("type") not in literal:
        raise ProtocolError(f"{what}: type must be {literal[0]!r}")
