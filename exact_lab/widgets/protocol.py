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
    from ``id_start``. Buffers: float32 coordinates (box: xmin ymin xmax ymax; point: x y; path:
    vertices; polygon: the float32 start of each run of vertices), then for path uint32 vertex
    offsets per shape, for polygon uint32 vertex offsets per ring, uint32 ring offsets per shape
    and the int16 steps of the vertices after each ring's first (``steps.py``)."""

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


class MaskChangedMsg(TypedDict):
    """Committed pixel labels changed inside ``bbox`` (level-0) of ``frame``: mask tiles there
    are stale. ``reason``: "stroke", "fill", "undo", "redo", "clear", "remote"."""

    type: Literal["mask_changed"]
    frame: int
    bbox: tuple[float, float, float, float]
    reason: str


class SuperpixelsMsg(TypedDict):
    """Superpixels of the view: a ``width`` x ``height`` label image over ``bbox`` (level-0).
    Buffer: uint8 boundary pixels (1 on a border), row by row."""

    type: Literal["superpixels"]
    bbox: tuple[float, float, float, float]
    width: int
    height: int
    count: int
    method: str


class MaskTileReplyMsg(TypedDict):
    """Answer to a ``mask_tile`` request: the label tile at ``level`` (``width`` x ``height``
    values, fewer than 512 at the image's edge). Buffer (when ``ok``): the class indices row by
    row, ``itemsize`` 1 (uint8) or 2 (uint16, little-endian)."""

    type: Literal["mask_tile"]
    req: int
    ok: bool
    width: int
    height: int
    itemsize: int
    error: NotRequired[str]


class MediaMsg(TypedDict):
    """The media attached to the selected annotation, to play in the media panel. Buffer: the
    file's bytes (none when ``kind`` is "none": the panel is emptied)."""

    type: Literal["media"]
    uuid: str
    kind: str
    filename: str
    mime: str


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
    """w a s d (``mark``: the tile left is screened) or i j k l (move only). With a screening
    attached the kernel moves to the next tile; without, the browser moved the view by one screen
    and ``bounds`` is the view after the move."""

    type: Literal["screening"]
    dx: int
    dy: int
    mark: bool
    bounds: tuple[float, float, float, float]


class VerdictMsg(TypedDict):
    """v / r: verify (``verified``) or reject the selection. Buffer: float64 ids of the selection."""

    type: Literal["verdict"]
    verified: bool


class ReviewStepMsg(TypedDict):
    """n / p: the next or previous item of the viewer's review queue."""

    type: Literal["review_step"]
    delta: int


class VerifyMsg(TypedDict):
    """f: verify what is selected. Buffer: float64 ids of the selection."""

    type: Literal["verify"]


class MaskStrokeMsg(TypedDict):
    """A brush stroke: every pixel whose centre is within ``radius`` (level-0 pixels) of the
    polyline gets class ``type_id`` (0 erases). Buffer: float64 level-0 x, y of its points."""

    type: Literal["mask_stroke"]
    seq: int
    type_id: int
    radius: float
    frame: int


class MaskPolygonMsg(TypedDict):
    """A closed region drawn with the fill tool: every pixel whose centre is inside the outline
    gets class ``type_id`` (0 erases). Buffer: float64 level-0 x, y of the outline's points."""

    type: Literal["mask_polygon"]
    seq: int
    type_id: int
    frame: int


class MaskTileRequestMsg(TypedDict):
    """A 512 px tile of the label image at ``level`` (level-0 downsampled 2**level times)."""

    type: Literal["mask_tile"]
    req: int
    level: int
    col: int
    row: int
    frame: int


class SuperpixelRequestMsg(TypedDict):
    """Compute superpixels for the view; parameters as parallel ``names`` / ``values``."""

    type: Literal["superpixel_request"]
    method: str
    names: list[str]
    values: list[float]


class SuperpixelFillMsg(TypedDict):
    """Fill the superpixels under the points (a click or a drag) with ``type_id`` (0 erases).
    Buffer: float64 level-0 x, y."""

    type: Literal["superpixel_fill"]
    seq: int
    type_id: int
    frame: int


class MaskHistoryMsg(TypedDict):
    """Undo (``step`` -1) or redo (+1) the last mask stroke or fill of this viewer."""

    type: Literal["mask_history"]
    step: int


class MaskClearMsg(TypedDict):
    """Clear every label of the image's frame (the browser asked the user first)."""

    type: Literal["mask_clear"]
    frame: int


class FinishImageMsg(TypedDict):
    """Save and next: mark the image done for this user and open the next undone one."""

    type: Literal["finish_image"]


class OpenSourceMsg(TypedDict):
    """o: open the source of a map's patch: the selection's first annotation, else the patch under
    the pointer at (x, y) (level-0 pixels of the map). Buffer: float64 ids of the selection."""

    type: Literal["open_source"]
    x: float
    y: float


class FrameCopyMsg(TypedDict):
    """t: copy the selection to the next frame. Buffer: float64 ids of the selection."""

    type: Literal["frame_copy"]


class FrameInterpolateMsg(TypedDict):
    """Shift+T: interpolate each selected box towards its keyframe partner. Buffer: float64 ids
    of the selection."""

    type: Literal["frame_interpolate"]


TO_BROWSER: dict[str, type] = {
    "reset": ResetMsg, "chunk": ChunkMsg, "done": DoneMsg, "upsert": UpsertMsg, "remove": RemoveMsg,
    "select": SelectMsg, "drop": DropMsg, "ack": AckMsg, "saved": SavedMsg, "tile": TileReplyMsg,
    "notice": NoticeMsg, "media": MediaMsg, "mask_changed": MaskChangedMsg, "superpixels": SuperpixelsMsg,
    "mask_tile": MaskTileReplyMsg,
}
TO_KERNEL: dict[str, type] = {
    "hello": HelloMsg, "tile": TileRequestMsg, "tile_cancel": TileCancelMsg, "edits": EditsMsg,
    "selection": SelectionMsg, "drawn": DrawnMsg, "navigate": NavigateMsg, "screening": ScreeningMsg,
    "verify": VerifyMsg, "verdict": VerdictMsg, "review_step": ReviewStepMsg,
    "mask_stroke": MaskStrokeMsg, "mask_polygon": MaskPolygonMsg, "mask_tile": MaskTileRequestMsg, "superpixel_request": SuperpixelRequestMsg,
    "superpixel_fill": SuperpixelFillMsg, "mask_history": MaskHistoryMsg, "mask_clear": MaskClearMsg,
    "finish_image": FinishImageMsg,
    "open_source": OpenSourceMsg, "frame_copy": FrameCopyMsg, "frame_interpolate": FrameInterpolateMsg,
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
