// Lines, polylines and polygon outlines as their segments, each a quad a line width wide in screen
// pixels around it; the fragment shader keeps what lies within half the width of the segment,
// which also rounds the caps and fills the joins. Plain triangles, not instances: see
// quad-layer.ts (deck.gl's PathLayer draws one instance per segment).
import { project32, picking } from "@deck.gl/core";
import type { DefaultProps, LayerProps } from "@deck.gl/core";
import type { ShaderModule } from "@luma.gl/shadertools";
import { norm, QuadLayer, XL_COMMON } from "./quad-layer";

type SegmentUniforms = { color: [number, number, number, number]; width: number };

const uniformBlock = /* glsl */ `\
uniform xlsegmentUniforms {
  vec4 color;
  float width;
} xlsegment;
`;

const segmentUniforms = {
  name: "xlsegment",
  vs: uniformBlock,
  fs: uniformBlock,
  uniformTypes: { color: "vec4<f32>", width: "f32" },
} as const satisfies ShaderModule<SegmentUniforms>;

const vs = /* glsl */ `\
#version 300 es
#define SHADER_NAME xl-segment-layer-vertex-shader
in vec4 quad; // x0, y0, x1, y1
out vec2 vPos; // this corner, in screen pixels from the segment's start
out vec2 vEnd; // the segment's end, in the same frame

${XL_COMMON}
// (along: 0 = before the start, 1 = past the end; across: -1 / 1) per vertex of the two triangles
const vec2 CORNERS[6] = vec2[6](vec2(0.0, -1.0), vec2(1.0, -1.0), vec2(0.0, 1.0),
                                vec2(0.0, 1.0), vec2(1.0, -1.0), vec2(1.0, 1.0));

void main(void) {
  vec2 c0 = xl_common(quad.xy);
  float commonPerPixel = project_pixel_size(1.0);
  vec2 d = (xl_common(quad.zw) - c0) / commonPerPixel;
  float len = length(d);
  vec2 dir = len > 1e-6 ? d / len : vec2(1.0, 0.0);
  vec2 across = vec2(-dir.y, dir.x);
  float pad = xlsegment.width * 0.5 + 1.0;
  vec2 corner = CORNERS[gl_VertexID % 6];
  vPos = dir * (corner.x > 0.5 ? len + pad : -pad) + across * corner.y * pad;
  vEnd = d;
  xl_emit(c0 + vPos * commonPerPixel);
}
`;

const fs = /* glsl */ `\
#version 300 es
#define SHADER_NAME xl-segment-layer-fragment-shader
precision highp float;
in vec2 vPos;
in vec2 vEnd;
out vec4 fragColor;

void main(void) {
  float t = clamp(dot(vPos, vEnd) / max(dot(vEnd, vEnd), 1e-6), 0.0, 1.0);
  if (length(vPos - vEnd * t) > xlsegment.width * 0.5) discard;
  fragColor = vec4(xlsegment.color.rgb, xlsegment.color.a * layer.opacity);
  DECKGL_FILTER_COLOR(fragColor, geometry);
}
`;

export type SegmentLayerProps = LayerProps & {
  /** Paths as deck.gl's binary PathLayer takes them: vertices (x, y) and where each path starts. */
  data: { length: number; startIndices: Uint32Array; attributes: { getPath: { value: Float32Array; size: 2 } } };
  /** Closed rings (polygon outlines): a segment from the last vertex back to the first. */
  loop?: boolean;
  color?: [number, number, number, number];
  width?: number;
};

const defaultProps: DefaultProps<SegmentLayerProps> = {
  loop: false,
  color: { type: "color", value: [255, 0, 0, 255] },
  width: { type: "number", value: 1.5 },
};

export class SegmentLayer extends QuadLayer<Required<SegmentLayerProps>> {
  static layerName = "XlSegmentLayer";
  static defaultProps = defaultProps;

  getShaders() {
    return super.getShaders({ vs, fs, modules: [project32, picking, segmentUniforms] });
  }

  protected quads(): Float32Array {
    const { length, startIndices, attributes } = this.props.data;
    const xy = attributes.getPath.value;
    const nv = xy.length / 2;
    const loop = this.props.loop;
    const out: number[] = [];
    for (let p = 0; p < length; p++) {
      const a = startIndices[p], b = p + 1 < length ? startIndices[p + 1] : nv;
      for (let v = a; v + 1 < b; v++) out.push(xy[2 * v], xy[2 * v + 1], xy[2 * v + 2], xy[2 * v + 3]);
      // close a ring unless its last vertex already repeats the first
      if (loop && b - a > 2 && (xy[2 * a] !== xy[2 * b - 2] || xy[2 * a + 1] !== xy[2 * b - 1]))
        out.push(xy[2 * b - 2], xy[2 * b - 1], xy[2 * a], xy[2 * a + 1]);
    }
    return Float32Array.from(out);
  }

  protected uniforms() {
    return { xlsegment: { color: norm(this.props.color as number[]), width: this.props.width } };
  }
}
