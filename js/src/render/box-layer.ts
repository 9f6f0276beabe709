// Boxes and ellipses as quads straight from the kernel's bounds, no triangulation. The fragment
// shader draws the outline (and optional fill) in screen pixels, and keeps every box at least
// `minPixels` wide so nothing disappears when zoomed out. Plain triangles, not instances: see
// quad-layer.ts.
import { project32, picking } from "@deck.gl/core";
import type { DefaultProps, LayerProps } from "@deck.gl/core";
import type { ShaderModule } from "@luma.gl/shadertools";
import { norm, QuadLayer, XL_COMMON } from "./quad-layer";

type BoxUniforms = {
  lineColor: [number, number, number, number];
  fillColor: [number, number, number, number];
  lineWidth: number;
  minPixels: number;
  ellipse: number;
  dots: number;
};

const uniformBlock = /* glsl */ `\
uniform xlboxUniforms {
  vec4 lineColor;
  vec4 fillColor;
  float lineWidth;
  float minPixels;
  float ellipse;
  float dots;
} xlbox;
`;

const boxUniforms = {
  name: "xlbox",
  vs: uniformBlock,
  fs: uniformBlock,
  uniformTypes: {
    lineColor: "vec4<f32>",
    fillColor: "vec4<f32>",
    lineWidth: "f32",
    minPixels: "f32",
    ellipse: "f32",
    dots: "f32",
  },
} as const satisfies ShaderModule<BoxUniforms>;

const vs = /* glsl */ `\
#version 300 es
#define SHADER_NAME xl-box-layer-vertex-shader
in vec4 quad; // xmin, ymin, xmax, ymax
out vec2 vLocal;
out vec2 vHalf;
out float vTiny;

${XL_COMMON}
// two triangles per box: corners by the vertex's place in its six
const vec2 CORNERS[6] = vec2[6](vec2(-1.0, -1.0), vec2(1.0, -1.0), vec2(-1.0, 1.0),
                                vec2(-1.0, 1.0), vec2(1.0, -1.0), vec2(1.0, 1.0));

void main(void) {
  vec2 c0 = xl_common(quad.xy);
  vec2 c1 = xl_common(quad.zw);
  float commonPerPixel = project_pixel_size(1.0);
  vec2 sizePx = abs(c1 - c0) / commonPerPixel;
  vec2 drawPx = max(sizePx, vec2(xlbox.minPixels));
  // a box smaller than its own outline is drawn as a solid dot: a quad of a few pixels instead of
  // one padded for outline and antialiasing (software rasterisers pay per fragment)
  vTiny = xlbox.dots < 0.5 && max(sizePx.x, sizePx.y) < xlbox.minPixels + xlbox.lineWidth ? 1.0 : 0.0;
  vec2 halfPx = drawPx * 0.5 + (vTiny > 0.5 ? 0.0 : xlbox.lineWidth * 0.5 + 1.0);
  vec2 corner = CORNERS[gl_VertexID % 6];
  vLocal = corner * halfPx;
  vHalf = drawPx * 0.5;
  xl_emit((c0 + c1) * 0.5 + corner * halfPx * commonPerPixel);
}
`;

const fs = /* glsl */ `\
#version 300 es
#define SHADER_NAME xl-box-layer-fragment-shader
precision highp float;
in vec2 vLocal;
in vec2 vHalf;
in float vTiny;
out vec4 fragColor;

void main(void) {
  if (vTiny > 0.5) {
    fragColor = vec4(xlbox.lineColor.rgb, xlbox.lineColor.a * layer.opacity);
    DECKGL_FILTER_COLOR(fragColor, geometry);
    return;
  }
  float lw = xlbox.lineWidth;
  float d;
  if (xlbox.ellipse > 0.5) {
    vec2 q = vLocal / max(vHalf, vec2(1e-3));
    float r = length(q);
    vec2 grad = q / max(vHalf, vec2(1e-3)) / max(r, 1e-4);
    d = (r - 1.0) / max(length(grad), 1e-6);
  } else {
    vec2 e = abs(vLocal) - vHalf;
    d = max(e.x, e.y);
  }
  if (d > lw * 0.5) discard;
  vec4 color = d > -lw * 0.5 ? xlbox.lineColor : xlbox.fillColor;
  if (color.a <= 0.0) discard;
  fragColor = vec4(color.rgb, color.a * layer.opacity);
  DECKGL_FILTER_COLOR(fragColor, geometry);
}
`;

export type BoxLayerProps = LayerProps & {
  data: { length: number; attributes: { getBounds?: { value: Float32Array; size: 4 }; getPosition?: { value: Float32Array; size: 2 } } };
  lineColor?: [number, number, number, number];
  fillColor?: [number, number, number, number];
  lineWidth?: number;
  minPixels?: number;
  ellipse?: boolean;
  /** points: `minPixels` wide circles (or squares) with outline and fill, however small the shape */
  dots?: boolean;
};

const defaultProps: DefaultProps<BoxLayerProps> = {
  lineColor: { type: "color", value: [255, 0, 0, 255] },
  fillColor: { type: "color", value: [0, 0, 0, 0] },
  lineWidth: { type: "number", value: 1.5 },
  minPixels: { type: "number", value: 2 },
  ellipse: false,
  dots: false,
};

export class BoxLayer extends QuadLayer<Required<BoxLayerProps>> {
  static layerName = "XlBoxLayer";
  static defaultProps = defaultProps;

  getShaders() {
    return super.getShaders({ vs, fs, modules: [project32, picking, boxUniforms] });
  }

  protected quads(): Float32Array {
    // boxes give xmin, ymin, xmax, ymax; points x, y (a box of no size)
    const attrs = this.props.data.attributes;
    if (attrs.getBounds) return attrs.getBounds.value.subarray(0, 4 * this.props.data.length);
    const xy = attrs.getPosition!.value;
    const out = new Float32Array(4 * this.props.data.length);
    for (let i = 0; i < out.length / 4; i++) {
      out[4 * i] = out[4 * i + 2] = xy[2 * i];
      out[4 * i + 1] = out[4 * i + 3] = xy[2 * i + 1];
    }
    return out;
  }

  protected uniforms() {
    const p = this.props;
    return {
      xlbox: {
        lineColor: norm(p.lineColor as number[]),
        fillColor: norm(p.fillColor as number[]),
        lineWidth: p.lineWidth,
        minPixels: p.minPixels,
        ellipse: p.ellipse ? 1 : 0,
        dots: p.dots ? 1 : 0,
      },
    };
  }
}
