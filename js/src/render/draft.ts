// What is being drawn right now, the selection band or lasso, and edit handles.
import type { Layer } from "@deck.gl/core";
import { PathLayer, ScatterplotLayer } from "@deck.gl/layers";
import type { Draft } from "../tools/context";
import type { Handle } from "../tools/handles";
import { BoxLayer } from "./box-layer";
import { DRAFT, HANDLE_FILL, HANDLE_LINE } from "./colors";

export function draftLayers(draft: Draft | null, handles: Handle[], activeVertex: number | null): Layer[] {
  const out: Layer[] = [];
  if (draft) {
    const c = draft.coords;
    if (draft.kind === "band" || draft.kind === "box" || draft.kind === "ellipse") {
      out.push(new BoxLayer({
        id: "draft-box",
        data: { length: 1, attributes: { getBounds: { value: new Float32Array(c.slice(0, 4)), size: 4 } } } as any,
        lineColor: draft.kind === "band" ? [255, 255, 255, 230] : DRAFT,
        fillColor: draft.kind === "band" ? [120, 170, 255, 50] : [0, 255, 255, 30],
        lineWidth: 1.5,
        ellipse: draft.kind === "ellipse",
      } as any));
    } else {
      const pts: number[][] = [];
      for (let i = 0; i < c.length; i += 2) pts.push([c[i], c[i + 1]]);
      const closed = draft.kind === "lasso" || draft.kind === "polygon";
      if (closed && pts.length > 2) pts.push(pts[0]);
      out.push(new PathLayer({
        id: "draft-path",
        data: [{ path: pts }],
        getPath: (d: any) => d.path,
        getColor: draft.kind === "lasso" ? [255, 255, 255, 230] : DRAFT,
        getWidth: 1.5,
        widthUnits: "pixels",
      } as any));
      out.push(new ScatterplotLayer({
        id: "draft-vertices",
        data: pts,
        getPosition: (d: any) => d,
        getRadius: 3,
        radiusUnits: "pixels",
        getFillColor: DRAFT,
      } as any));
    }
  }
  if (handles.length) {
    out.push(new ScatterplotLayer({
      id: "handles",
      data: handles,
      getPosition: (h: Handle) => [h.x, h.y],
      getRadius: (h: Handle) => (h.kind === "mid" ? 3.5 : 5),
      radiusUnits: "pixels",
      getFillColor: (h: Handle) => (h.kind === "vertex" && h.index === activeVertex ? [255, 80, 80, 255] : h.kind === "mid" ? [255, 255, 255, 150] : HANDLE_FILL),
      getLineColor: HANDLE_LINE,
      stroked: true,
      lineWidthUnits: "pixels",
      getLineWidth: 1.5,
      updateTriggers: { getFillColor: activeVertex },
    } as any));
  }
  return out;
}
