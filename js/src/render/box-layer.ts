// Boxes and ellipses as quads straight from the kernel's bounds, no triangulation. The fragment
// shader draws the outline (and optional fill) in screen pixels, and keeps every box at least
// `minPixels` wide so nothing disappears when zoomed out.
//
// Not instanced: each box is six vertices of one plain draw. SwiftShader (the software WebGL of
// headless and GPU-less machines) runs an instanced draw one instance at a time, at ~15 us each,
// which made a few thousand boxes in view cost 60-150 ms a frame; as plain triangles they cost
// almost nothing. The bounds are repeated per vertex (16 floats more per box, for the slices in
// view only) and the corner comes from gl_VertexID.
import { Layer, project32, picking } from "@deck.gl/core";
import type { DefaultProps, LayerProps, UpdateParameters } from "@deck.gl/core";
import type { Buffer } from "@luma.gl/core";
import { Model } from "@luma.gl/engine";
import type { ShaderModule } from "@luma.gl/shadertools";

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
in vec4 bounds;
out vec2 vLocal;
out vec2 vHalf;
out float vTiny;

// The viewer's view is always orthographic over Cartesian level-0 pixels, so world -> common is
// one scale and offset: the general project_position() (mercator, globe, fp64 branches) costs
// several times more per vertex in a software rasteriser.
vec2 xl_common(vec2 world) {
  return (world - project.coordinateOrigin.xy) * project.commonUnitsPerWorldUnit.xy;
}

// two triangles per box: corners by the vertex's place in its six
const vec2 CORNERS[6] = vec2[6](vec2(-1.0, -1.0), vec2(1.0, -1.0), vec2(-1.0, 1.0),
                                vec2(-1.0, 1.0), vec2(1.0, -1.0), vec2(1.0, 1.0));

void main(void) {
  vec2 c0 = xl_common(bounds.xy);
  vec2 c1 = xl_common(bounds.zw);
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
  vec4 commonPos = vec4((c0 + c1) * 0.5 + corner * halfPx * commonPerPixel, 0.0, 1.0);
  geometry.position = commonPos;
  gl_Position = project_common_position_to_clipspace(commonPos);
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

const norm = (c: number[]): [number, number, number, number] => [c[0] / 255, c[1] / 255, c[2] / 255, (c[3] ?? 255) / 255];

export class BoxLayer extends Layer<Required<BoxLayerProps>> {
  static layerName = "XlBoxLayer";
  static defaultProps = defaultProps;
  declare state: { model?: Model; bounds?: Buffer };

  getShaders() {
    return super.getShaders({ vs, fs, modules: [project32, picking, boxUniforms] });
  }

  // No attribute manager: the layer keeps its one vertex buffer itself (picking is done on the CPU).
  protected _getAttributeManager(): null {
    return null;
  }

  initializeState() {}

  updateState(params: UpdateParameters<this>) {
    super.updateState(params);
    if (params.changeFlags.extensionsChanged || !this.state.model) {
      this.state.model?.destroy();
      this.state.model = this._getModel();
      this.state.bounds?.destroy();
      this.state.bounds = undefined;
    }
    if (params.changeFlags.dataChanged || !this.state.bounds) this.uploadBounds();
  }

  finalizeState(context: any) {
    super.finalizeState(context);
    this.state.bounds?.destroy();
  }

  private uploadBounds(): void {
    // boxes give xmin, ymin, xmax, ymax; points x, y (a box of no size)
    const attrs = this.props.data.attributes;
    const src = (attrs.getBounds ?? attrs.getPosition!).value;
    const k = attrs.getBounds ? 4 : 2;
    const n = this.props.data.length;
    const out = new Float32Array(n * 24);
    for (let i = 0; i < n; i++) {
      const x0 = src[k * i], y0 = src[k * i + 1], x1 = src[k * i + k - 2], y1 = src[k * i + k - 1];
      for (let v = 0, o = 24 * i; v < 6; v++, o += 4) {
        out[o] = x0; out[o + 1] = y0; out[o + 2] = x1; out[o + 3] = y1;
      }
    }
    this.state.bounds?.destroy();
    this.state.bounds = this.context.device.createBuffer({ data: out });
    const model = this.state.model!;
    model.setAttributes({ bounds: this.state.bounds });
    model.setVertexCount(6 * n);
  }

  draw() {
    const p = this.props;
    const model = this.state.model!;
    if (!this.props.data.length) return;
    model.shaderInputs.setProps({
      xlbox: {
        lineColor: norm(p.lineColor as number[]),
        fillColor: norm(p.fillColor as number[]),
        lineWidth: p.lineWidth,
        minPixels: p.minPixels,
        ellipse: p.ellipse ? 1 : 0,
        dots: p.dots ? 1 : 0,
      },
    });
    model.draw(this.context.renderPass);
  }

  protected _getModel(): Model {
    return new Model(this.context.device, {
      ...this.getShaders(),
      id: this.props.id,
      bufferLayout: [{ name: "bounds", format: "float32x4" }],
      topology: "triangle-list",
      vertexCount: 0,
    });
  }
}
