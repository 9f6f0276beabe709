// What tools may use of the viewer. Keeps tools independent of the widget plumbing.
import type { Camera } from "../camera";
import type { AnnotationStore } from "../data/store";
import type { Editor } from "../data/editor";
import type { LayerMeta, Shape, TypeMeta } from "../protocol";

export const DRAW_TOOLS = ["box", "fixed_box", "point", "ellipse", "line", "polyline", "polygon"] as const;
export const MASK_TOOLS = ["brush", "fill", "superpixel"] as const;
export const TOOLS = ["pan", "select", "lasso", ...DRAW_TOOLS, ...MASK_TOOLS] as const;
export type ToolName = (typeof TOOLS)[number];

export interface Pointer {
  sx: number; // screen position inside the viewer
  sy: number;
  x: number; // level-0 image position
  y: number;
  shift: boolean;
  alt: boolean;
  ctrl: boolean;
}

export interface Draft {
  kind: "box" | "ellipse" | "point" | "path" | "polygon" | "band" | "lasso";
  coords: number[];
  /** polygon / polyline being clicked: the rubber band to the cursor */
  open?: boolean;
}

export interface ToolContext {
  camera: Camera;
  store: AnnotationStore;
  editor: Editor;
  /** layers that are shown and may be hit */
  visibleLayers(): LayerMeta[];
  layerMeta(key: string): LayerMeta | undefined;
  /** the annotation type new shapes of this tool get, or null (with a message shown) */
  typeFor(tool: ToolName): TypeMeta | null;
  editable(s: Shape): boolean;
  select(ids: number[], add: boolean): void;
  message(text: string, level?: "info" | "warn" | "error"): void;
  newUuid(): string;
  render(): void;
}

export function mintUuid(): string {
  const c = (globalThis as any).crypto;
  if (c?.randomUUID) return c.randomUUID();
  const b = new Uint8Array(16);
  if (c?.getRandomValues) c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (v) => v.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function isTool(t: unknown): t is ToolName {
  return (TOOLS as readonly unknown[]).includes(t);
}

export function isDrawTool(t: string): t is (typeof DRAW_TOOLS)[number] {
  return (DRAW_TOOLS as readonly string[]).includes(t);
}

/** The tool that draws a vector type. */
export function toolForVectorType(v: string): ToolName | null {
  return isDrawTool(v) ? v : null;
}

export function isMaskTool(t: string): t is (typeof MASK_TOOLS)[number] {
  return (MASK_TOOLS as readonly string[]).includes(t);
}
