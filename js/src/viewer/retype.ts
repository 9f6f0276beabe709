// A number key with a selection: the selected shapes take the annotation type the key picks,
// where that type's vector type can hold their geometry.
import { cloneShape } from "../geometry";
import type { Change } from "../data/editor";
import type { LayerMeta, Shape, TypeMeta } from "../protocol";

/** The shape kinds each vector type can hold (a box becomes a four-vertex polygon). */
const HOLDS: Record<string, Shape["kind"][]> = {
  box: ["box"], fixed_box: ["box"], ellipse: ["box"], point: ["point"],
  line: ["path"], polyline: ["path"], polygon: ["polygon", "box"],
};

export interface Retyping {
  /** the edits to apply, one undo step */
  changes: Change[];
  /** how many shapes cannot take the type (not editable, or the wrong geometry) */
  refused: number;
}

export function retype(shapes: Shape[], type: TypeMeta, layerMeta: (key: string) => LayerMeta | undefined): Retyping {
  const changes: Change[] = [];
  let refused = 0;
  for (const shape of shapes) {
    const meta = layerMeta(shape.layer);
    if (!meta || meta.source !== "type" || !meta.editable || !HOLDS[type.vector_type]?.includes(shape.kind)) {
      refused++;
      continue;
    }
    let after: Shape = { ...cloneShape(shape), layer: type.layer };
    if (type.vector_type === "polygon" && shape.kind === "box") {
      const [x0, y0, x1, y1] = shape.coords;
      after = { ...after, kind: "polygon", coords: [x0, y0, x1, y0, x1, y1, x0, y1] };
    }
    if (type.vector_type === "line" && after.coords.length !== 4) {
      refused++;
      continue;
    }
    if (after.layer !== shape.layer || after.kind !== shape.kind) changes.push({ id: shape.id, before: shape, after });
  }
  return { changes, refused };
}
