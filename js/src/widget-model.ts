// The anywidget model of a SlideViewer, typed by trait name the way anywidget's `AnyModel<T>` is
// (get("tool") is a ToolName, get("_layers") a LayerMeta[]), with the traits of
// exact_lab/widgets/viewer.py. Custom messages are typed by the protocol: the kernel sends
// `ToBrowser`, `send` takes `ToKernel`.
import type { LayerMeta, SourceMeta, ToBrowser, ToKernel, TypeMeta } from "./protocol";
import type { ToolName } from "./tools/context";

/** The `_goto` trait: a point (and scale) or a box to show; `n` makes every call a change. */
export type Goto = { x: number; y: number; scale: number | null; n: number } | { bbox: [number, number, number, number]; n: number };

/** The `view` trait, written by the browser: the camera of the last view that moved. */
export interface CameraView {
  x: number;
  y: number;
  scale: number;
  bounds: [number, number, number, number];
  width: number;
  height: number;
}

/** The `_screening` trait (review/screening.py describe()): {} without a screening. */
export interface ScreeningState {
  width: number;
  height: number;
  tile_width: number;
  tile_height: number;
  step_x: number;
  step_y: number;
  cols: number;
  rows: number;
  /** the tiles in play (background left out), in reading order */
  tiles: number[];
  visited: number[];
  current: number;
  zoom: number;
  status: string;
}

/** The `_review` trait: where the viewer is in its review queue ({} without one). */
export interface ReviewState {
  position: number;
  total: number;
  uuid: string | null;
  done: boolean;
}

/** One entry of the `_strip` trait: an image of the viewer's image set. */
export interface StripEntry {
  image_id: number;
  name: string;
  /** this user's screened fraction, null when not screened */
  progress: number | null;
  current: boolean;
}

/** The `_hpf` trait: the draggable HPF frame ({} without one). The kernel's count is the store's
 * for `bounds`; while the frame moves the browser counts the centres it holds in `types`. */
export interface HpfFrameState {
  /** key of the user layer holding the frame's box */
  layer: string;
  name: string;
  /** side in level-0 pixels (the frame keeps it) */
  side: number;
  area_mm2: number;
  bounds: [number, number, number, number];
  count: number;
  /** keys of the type layers counted */
  types: string[];
}

export type TransportChoice = "auto" | "server" | "comm";

export interface ViewerTraits {
  /** set in the widget's __init__, before any view exists */
  _source: SourceMeta;
  _types: TypeMeta[];
  _layers: LayerMeta[];
  _goto: Goto | null;
  /** "" until a view has chosen, then what it uses */
  _transport_active: "" | "server" | "comm" | "none";
  _screening: ScreeningState | Record<string, never>;
  _review: ReviewState | Record<string, never>;
  _strip: StripEntry[];
  /** HTML of the on_view panel beside the slide; "" hides it */
  _panel: string;
  _hpf: HpfFrameState | Record<string, never>;
  transport: TransportChoice;
  tool: ToolName;
  frame: number;
  /** {} until a view reports its camera */
  view: CameraView | Record<string, never>;
  brightness: number;
  contrast: number;
  gamma: number;
  channels: boolean[];
  annotations_visible: boolean;
  editable: boolean;
  height: string;
  /** opacity of the pixel-label layer, 0..1 */
  mask_opacity: number;
  brush_radius: number;
  brush_units: "image" | "screen";
  /** superpixel method -> its parameters' defaults (the mask bar's choice) */
  _superpixel_methods: Record<string, Record<string, number>>;
}

/** What the widget hands a custom message's buffers as (DataViews in JupyterLab). */
export type WireBuffer = DataView | ArrayBuffer | ArrayBufferView;

export type ChangeEvent<T> = `change:${keyof T & string}`;

/** The part of anywidget's model the viewer uses, typed by trait name. */
export interface WidgetModel<T> {
  get<K extends keyof T>(key: K): T[K];
  set<K extends keyof T>(key: K, value: T[K]): void;
  save_changes(): void;
  on(event: "msg:custom", callback: (msg: ToBrowser, buffers?: WireBuffer[]) => void): void;
  on(event: ChangeEvent<T>, callback: () => void): void;
  off(event: ChangeEvent<T>, callback: () => void): void;
  send(content: ToKernel, callbacks?: undefined, buffers?: ArrayBuffer[]): void;
}

export type ViewerWidgetModel = WidgetModel<ViewerTraits>;
