// Shapes of the messages exchanged with the kernel (exact_lab/widgets/protocol.py is the other
// half). Bulk geometry always travels in binary buffers; JSON carries only small headers.

export type Kind = "box" | "point" | "path" | "polygon";

/** One annotation in editable form: flat level-0 pixel coordinates [x0, y0, x1, y1, ...]. */
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

export interface TypeMeta {
  index: number;
  type_id: number | string;
  name: string;
  vector_type: string;
  color: string;
  default_width: number | null;
  default_height: number | null;
  key: string | null; // number key that picks it, "1".."9","0"
  layer: string; // layer key that holds annotations of this type
}

export interface SourceMeta {
  name: string;
  width: number;
  height: number;
  max_level: number; // Deep Zoom level of full resolution
  tile_size: number;
  overlap: number;
  format: string;
  mpp: number | null;
  objective_power: number | null;
  frames: number;
  hash: string | null;
  /** server-root-relative path, when the kernel could work it out */
  path: string | null;
  /** absolute path, so the browser can make it relative to the server root itself */
  abs_path: string | null;
  /** opaque alias for pseudonymised images: routes use "@token" instead of the path */
  token: string | null;
  comm: boolean; // the kernel can serve tiles over the comm
  error?: string | null;
}

/** Header of a binary chunk: one slice (<= 65536 shapes) of one layer, spatially compact. */
export interface ChunkHeader {
  type: "chunk";
  gen: number;
  layer: string;
  chunk: number;
  kind: Kind;
  count: number;
  id_start: number;
  bbox: [number, number, number, number];
}

export interface UpsertHeader {
  type: "upsert";
  gen: number;
  /** one entry per shape; coordinates are consecutive in buffers[0] (float64) */
  shapes: { id: number; layer: string; kind: Kind; n: number; rings?: number[]; uuid?: string }[];
  /** "committed": the store's state after a commit; "remote": someone else's edit */
  reason: string;
}

/** Edit operations sent to the kernel. Coordinates of `put` ops follow each other in one buffer. */
export type EditOp =
  | { op: "put"; id: number; uuid?: string; layer: string; kind: Kind; n: number; rings?: number[] }
  | { op: "delete"; id: number };
