// Every message between the browser and the kernel, both directions: the mirror of
// exact_lab/widgets/protocol.py, with the same interface names and fields
// (tests/widgets/test_protocol.py compares the two). JSON headers only: bulk data travels in the
// binary buffers each message's comment describes. Coordinates are level-0 image pixels.
//
// Keep each field on one line as `name: type;` or `name?: type;`: the agreement test reads them.

export type Kind = "box" | "point" | "path" | "polygon";
export type Level = "info" | "warn" | "error";

// -- parts of messages and of widget state --------------------------------------------------------

/** One shape of an `upsert`: its coordinates are the next 2 * n floats of the buffer. */
export interface ShapeHeader {
  id: number;
  layer: string;
  kind: Kind;
  n: number;
  rings?: number[];
  uuid?: string;
}

/** Add or change one shape; its 2 * n coordinates follow the previous op's in the buffer. */
export interface PutOp extends ShapeHeader {
  op: "put";
}

export interface DeleteOp {
  op: "delete";
  id: number;
}

export interface EditError {
  id: number;
  error: string;
}

/** The `_source` trait: what the browser needs to fetch and place the slide's tiles. */
export interface SourceMeta {
  name: string;
  width: number;
  height: number;
  max_level: number;
  tile_size: number;
  overlap: number;
  format: string;
  mpp: number | null;
  objective_power: number | null;
  frames: number;
  hash: string | null;
  path: string | null;
  abs_path: string | null;
  token: string | null;
  comm: boolean;
  error: string | null;
}

/** One entry of the `_types` trait: an annotation type the viewer can draw. */
export interface TypeMeta {
  index: number;
  type_id: number | string;
  name: string;
  vector_type: string;
  color: string;
  default_width: number | null;
  default_height: number | null;
  key: string | null;
  layer: string;
}

/** One entry of the `_layers` trait: a layer's identity, look and size. */
export interface LayerMeta {
  key: string;
  name: string;
  source: "type" | "user";
  type_index: number | null;
  vector_type: string | null;
  color: string;
  visible: boolean;
  opacity: number;
  editable: boolean;
  line_width: number;
  fill_opacity: number;
  point_radius: number;
  ellipse: boolean;
  count: number;
}

// -- kernel to browser ----------------------------------------------------------------------------

/** A new generation of layer data follows; everything of older generations is dropped. */
export interface ResetMsg {
  type: "reset";
  gen: number;
}

/** One slice (<= 65,536 shapes) of one layer; ids consecutive from id_start. Buffers: float32
 * coordinates (polygon: the start of each run of vertices), then path: uint32 vertex offsets per
 * shape; polygon: uint32 vertex offsets per ring, uint32 ring offsets per shape and the int16
 * steps of the vertices after each ring's first (data/steps.ts). */
export interface ChunkMsg {
  type: "chunk";
  gen: number;
  batch: number;
  layer: string;
  chunk: number;
  kind: Kind;
  count: number;
  id_start: number;
  bbox: [number, number, number, number];
}

/** Every chunk of `batch` has been sent. */
export interface DoneMsg {
  type: "done";
  gen: number;
  batch: number;
}

/** Shapes to add or replace. Buffer: float64 coordinates of every shape, one after another. */
export interface UpsertMsg {
  type: "upsert";
  gen: number;
  shapes: ShapeHeader[];
  reason: "committed" | "remote";
}

/** Shapes to take away. Buffer: float64 ids. */
export interface RemoveMsg {
  type: "remove";
  gen: number;
}

/** The selection, set from Python. Buffer: float64 ids. */
export interface SelectMsg {
  type: "select";
  gen: number;
}

/** A layer was removed: every chunk and shape of it goes. */
export interface DropMsg {
  type: "drop";
  gen: number;
  layer: string;
}

/** The kernel applied the `edits` message `seq`; refused ops are listed with the reason. */
export interface AckMsg {
  type: "ack";
  seq: number;
  errors: EditError[];
}

/** How many edits the store's session still has to commit (0: all saved). */
export interface SavedMsg {
  type: "saved";
  pending: number;
}

/** Answer to a `tile` request over the comm. Buffer (when ok): the encoded image. */
export interface TileReplyMsg {
  type: "tile";
  req: number;
  ok: boolean;
  mime?: string;
  error?: string;
}

/** A line for the status bar. */
export interface NoticeMsg {
  type: "notice";
  text: string;
  level?: Level;
}

/** Committed pixel labels changed inside `bbox` (level-0) of `frame`: mask tiles there are stale. */
export interface MaskChangedMsg {
  type: "mask_changed";
  frame: number;
  bbox: [number, number, number, number];
  reason: string;
}

/** Superpixels of the view: a width x height label image over `bbox`. Buffer: uint8 boundaries. */
export interface SuperpixelsMsg {
  type: "superpixels";
  bbox: [number, number, number, number];
  width: number;
  height: number;
  count: number;
  method: string;
}

/** Answer to a `mask_tile` request: `width` x `height` class indices at `level` (fewer than 512
 * at the image's edge). Buffer (when `ok`): row by row, `itemsize` 1 (uint8) or 2 (uint16). */
export interface MaskTileReplyMsg {
  type: "mask_tile";
  req: number;
  ok: boolean;
  width: number;
  height: number;
  itemsize: number;
  error?: string;
}

export type ToBrowser =
  | ResetMsg
  | ChunkMsg
  | DoneMsg
  | UpsertMsg
  | RemoveMsg
  | SelectMsg
  | DropMsg
  | AckMsg
  | SavedMsg
  | TileReplyMsg
  | NoticeMsg
  | MaskChangedMsg
  | SuperpixelsMsg
  | MaskTileReplyMsg
  | MediaMsg;

/** The media of the selected annotation. Buffer: the file's bytes (none when kind is "none"). */
export interface MediaMsg {
  type: "media";
  uuid: string;
  kind: string;
  filename: string;
  mime: string;
}

// -- browser to kernel ----------------------------------------------------------------------------

/** A view is ready: send it everything. */
export interface HelloMsg {
  type: "hello";
}

/** A Deep Zoom tile over the comm (front ends without the server extension). */
export interface TileRequestMsg {
  type: "tile";
  req: number;
  level: number;
  col: number;
  row: number;
  frame: number;
  format: string;
}

/** The tile left the view before it arrived. */
export interface TileCancelMsg {
  type: "tile_cancel";
  req: number;
}

/** Edits made in the browser, by id. Buffer: float64 coordinates of the put ops in order. */
export interface EditsMsg {
  type: "edits";
  seq: number;
  ops: (PutOp | DeleteOp)[];
}

/** What the user selected. Buffer: float64 ids. */
export interface SelectionMsg {
  type: "selection";
  gen: number;
}

/** A batch of chunks is on screen: timings for viewer.perf and the benchmark. */
export interface DrawnMsg {
  type: "drawn";
  gen: number;
  batch: number;
  since_hello_ms: number;
  receive_ms: number;
  render_ms: number;
  bytes: number;
}

/** q / e: the previous or next image of the viewer's image set. */
export interface NavigateMsg {
  type: "navigate";
  delta: number;
}

/** w a s d moved the view by one screen; `bounds` is the view after the move. */
export interface ScreeningMsg {
  type: "screening";
  dx: number;
  dy: number;
  mark: boolean;
  bounds: [number, number, number, number];
}

/** v / r: verify or reject the selection. Buffer: float64 ids of the selection. */
export interface VerdictMsg {
  type: "verdict";
  verified: boolean;
}

/** n / p: the next or previous item of the review queue. */
export interface ReviewStepMsg {
  type: "review_step";
  delta: number;
}

/** f: verify what is selected. Buffer: float64 ids of the selection. */
export interface VerifyMsg {
  type: "verify";
}

/** A brush stroke (class `type_id`, 0 erases). Buffer: float64 level-0 x, y of its points. */
export interface MaskStrokeMsg {
  type: "mask_stroke";
  seq: number;
  type_id: number;
  radius: number;
  frame: number;
}

/** A closed region of the fill tool (class `type_id`, 0 erases): every pixel whose centre is inside.
 * Buffer: float64 level-0 x, y of the outline's points. */
export interface MaskPolygonMsg {
  type: "mask_polygon";
  seq: number;
  type_id: number;
  frame: number;
}

/** A 512 px tile of the label image at `level` (level-0 downsampled 2**level times). */
export interface MaskTileRequestMsg {
  type: "mask_tile";
  req: number;
  level: number;
  col: number;
  row: number;
  frame: number;
}

/** Compute superpixels for the view; parameters as parallel `names` / `values`. */
export interface SuperpixelRequestMsg {
  type: "superpixel_request";
  method: string;
  names: string[];
  values: number[];
}

/** Fill the superpixels under the points with `type_id` (0 erases). Buffer: float64 level-0 x, y. */
export interface SuperpixelFillMsg {
  type: "superpixel_fill";
  seq: number;
  type_id: number;
  frame: number;
}

/** Undo (step -1) or redo (+1) the last mask stroke or fill of this viewer. */
export interface MaskHistoryMsg {
  type: "mask_history";
  step: number;
}

/** Clear every label of the image's frame (the browser asked the user first). */
export interface MaskClearMsg {
  type: "mask_clear";
  frame: number;
}

/** Save and next: mark the image done for this user and open the next undone one. */
export interface FinishImageMsg {
  type: "finish_image";
}

/** o: open the source of a map's patch: the selection's first annotation, else the patch under
 * the pointer at (x, y) (level-0 pixels of the map). Buffer: float64 ids of the selection. */
export interface OpenSourceMsg {
  type: "open_source";
  x: number;
  y: number;
}

/** t: copy the selection to the next frame. Buffer: float64 ids of the selection. */
export interface FrameCopyMsg {
  type: "frame_copy";
}

/** Shift+T: interpolate each selected box towards its keyframe partner. Buffer: float64 ids of the selection. */
export interface FrameInterpolateMsg {
  type: "frame_interpolate";
}

export type ToKernel =
  | HelloMsg
  | TileRequestMsg
  | TileCancelMsg
  | EditsMsg
  | SelectionMsg
  | DrawnMsg
  | NavigateMsg
  | ScreeningMsg
  | VerifyMsg
  | VerdictMsg
  | ReviewStepMsg
  | MaskStrokeMsg
  | MaskPolygonMsg
  | MaskTileRequestMsg
  | SuperpixelRequestMsg
  | SuperpixelFillMsg
  | MaskHistoryMsg
  | MaskClearMsg
  | FinishImageMsg
  | OpenSourceMsg
  | FrameCopyMsg
  | FrameInterpolateMsg;

// -- the browser's own forms ----------------------------------------------------------------------

/** One annotation in editable form: flat coordinates [x0, y0, x1, y1, ...]. */
export interface Shape {
  id: number;
  layer: string;
  kind: Kind;
  /** box: [xmin, ymin, xmax, ymax]; point: [x, y]; path/polygon: vertices (rings not closed). */
  coords: number[];
  /** polygon only: start vertex of each ring (rings[0] === 0); absent means one ring. */
  rings?: number[];
  uuid?: string;
}

export type EditOp = PutOp | DeleteOp;
