// Polygons with their fill and outline in one indexed draw: fans from each shape's centre
// (fans.ts). The vertex shader pushes each ring vertex outwards along the ray from the centre, far
// enough that the triangle (centre, previous vertex, vertex) covers half a line width and a pixel
// beyond its edge; the fragment shader measures its distance from that edge (the triangle's flat
// outputs, from its last vertex) and is outline within half the line width, fill on the inner
// side, nothing outside. Neighbouring fans meet along the rays, so each pixel of a shape is drawn
// once; the segment distance rounds the outline's corners as the segment layer does.
//
// Why: at full resolution SwiftShader's cost is vertex work. A 16-vertex cell cost 138 vertices
// as earcut triangles (42) plus six per outline segment (96); shared by index, a fan is 17.
import { Layer, project32, picking } from "@deck.gl/core";
import type { DefaultProps, LayerProps, UpdateParameters } from "@deck.gl/core";
import type { Buffer } from "@luma.gl/core";
import { Model } from "@luma.gl/engine";
import type { ShaderModule } from "@luma.gl/shadertools";
import { norm, XL_COMMON } from "./quad-layer";
import type { Fans } from "./fans";

type FanUniforms = { lineColor: [number, number, number, number]; fillColor: [number, number, number, number]; width: number };

const uniformBlock = /* glsl */ `\
uniform xlfanUniforms {
  vec4 lineColor;
  vec4 fillColor;
  float width;
} xlfan;
`;

const fanUniforms = {
  name: "xlfan",
  vs: uniformBlock,
  fs: uniformBlock,
  uniformTypes: { lineColor: "vec4<f32>", fillColor: "vec4<f32>", width: "f32" },
} as const satisfies ShaderModule<FanUniforms>;

const vs = /* glsl */ `\
#version 300 es
#define SHADER_NAME xl-fan-layer-vertex-shader
in vec2 position;
in vec2 previous;
in vec2 centre;
in float reach; // distance of the centre from the nearer edge of this vertex, level-0 pixels (0: the centre)
out vec2 vPx; // this vertex, in screen pixels
flat out vec2 vStart; // the triangle's edge: its start and its vector, in screen pixels
flat out vec2 vEdge;
flat out float vInside; // the sign of cross(edge, point - start) on the fill's side

${XL_COMMON}

void main(void) {
  float commonPerPixel = project_pixel_size(1.0);
  vec2 p = xl_common(position) / commonPerPixel;
  vec2 c = xl_common(centre) / commonPerPixel;
  vec2 a = xl_common(previous) / commonPerPixel;
  float h = reach * project.commonUnitsPerWorldUnit.x / commonPerPixel;
  float pad = xlfan.width * 0.5 + 1.0;
  vec2 pushed = reach > 0.0 ? c + (p - c) * (1.0 + pad / max(h, 1e-6)) : p;
  vPx = pushed;
  vStart = a;
  vEdge = p - a;
  vec2 toCentre = c - a;
  vInside = sign(vEdge.x * toCentre.y - vEdge.y * toCentre.x);
  xl_emit(pushed * commonPerPixel);
}
`;

const fs = /* glsl */ `\
#version 300 es
#define SHADER_NAME xl-fan-layer-fragment-shader
precision highp float;
in vec2 vPx;
flat in vec2 vStart;
flat in vec2 vEdge;
flat in float vInside;
out vec4 fragColor;

void main(void) {
  vec2 d = vPx - vStart;
  float t = clamp(dot(d, vEdge) / max(dot(vEdge, vEdge), 1e-6), 0.0, 1.0);
  if (length(d - vEdge * t) <= xlfan.width * 0.5) {
    fragColor = xlfan.lineColor;
  } else if ((vEdge.x * d.y - vEdge.y * d.x) * vInside > 0.0 && xlfan.fillColor.a > 0.0) {
    fragColor = xlfan.fillColor;
  } else {
    discard;
  }
  fragColor.a *= layer.opacity;
  DECKGL_FILTER_COLOR(fragColor, geometry);
}
`;

export type FanLayerProps = LayerProps & {
  data: Fans;
  lineColor?: [number, number, number, number];
  fillColor?: [number, number, number, number];
  /** outline width in screen pixels */
  width?: number;
};

const defaultProps: DefaultProps<FanLayerProps> = {
  lineColor: { type: "color", value: [255, 0, 0, 255] },
  fillColor: { type: "color", value: [255, 0, 0, 64] },
  width: { type: "number", value: 1.5 },
};

export class FanLayer extends Layer<Required<FanLayerProps>> {
  static layerName = "XlFanLayer";
  static defaultProps = defaultProps;
  declare state: { model?: Model; vertices?: Buffer; indices?: Buffer };

  getShaders() {
    return super.getShaders({ vs, fs, modules: [project32, picking, fanUniforms] });
  }

  // No attribute manager: the layer keeps its buffers itself (picking is done on the CPU).
  protected _getAttributeManager(): null {
    return null;
  }

  initializeState() {}

  updateState(params: UpdateParameters<this>) {
    super.updateState(params);
    if (params.changeFlags.extensionsChanged || !this.state.model) {
      this.state.model?.destroy();
      const stride = 28;
      this.state.model = new Model(this.context.device, {
        ...this.getShaders(),
        id: this.props.id,
        bufferLayout: [{
          name: "fan", byteStride: stride, attributes: [
            { attribute: "position", format: "float32x2", byteOffset: 0 },
            { attribute: "previous", format: "float32x2", byteOffset: 8 },
            { attribute: "centre", format: "float32x2", byteOffset: 16 },
            { attribute: "reach", format: "float32", byteOffset: 24 },
          ],
        }],
        topology: "triangle-list",
        vertexCount: 0,
      });
      this.destroyBuffers();
    }
    if (params.changeFlags.dataChanged || !this.state.vertices) {
      const { vertices, indices } = this.props.data;
      const device = this.context.device;
      this.destroyBuffers();
      this.state.vertices = device.createBuffer({ data: vertices });
      this.state.indices = device.createBuffer({ usage: 0x0010 /* Buffer.INDEX */, indexType: indices instanceof Uint16Array ? "uint16" : "uint32", data: indices } as any);
      this.state.model!.setAttributes({ fan: this.state.vertices });
      this.state.model!.setIndexBuffer(this.state.indices);
      this.state.model!.setVertexCount(indices.length);
    }
  }

  private destroyBuffers(): void {
    this.state.vertices?.destroy();
    this.state.indices?.destroy();
    this.state.vertices = this.state.indices = undefined;
  }

  finalizeState(context: any) {
    super.finalizeState(context);
    this.destroyBuffers();
  }

  draw() {
    const model = this.state.model!;
    if (!model.vertexCount) return;
    const { lineColor, fillColor, width } = this.props;
    model.shaderInputs.setProps({ xlfan: { lineColor: norm(lineColor as number[]), fillColor: norm(fillColor as number[]), width } } as any);
    model.draw(this.context.renderPass);
  }
}
