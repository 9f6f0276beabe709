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

export type TransportChoice = "auto" | "server" | "comm";

export interface ViewerTraits {
  /** set in the widget's __init__, before any view exists */
  _source: SourceMeta;
  _types: TypeMeta[];
  _layers: LayerMeta[];
  _goto: Goto | null;
  /** "" until a view has chosen, then what it uses */
  _transport_active: "" | "server" | "comm" | "none";
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
