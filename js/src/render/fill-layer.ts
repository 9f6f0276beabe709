// Filled polygons from triangles cut in the browser (triangulate.ts): one vec2 per vertex, a plain
// triangle list, one colour for the whole layer. Not deck.gl's SolidPolygonLayer: that layer
// tessellates in its attribute manager on every data change and projects each vertex through the
// general project_position(); this one uploads the triangles as they are and projects in one
// scale and offset (see quad-layer.ts for why that matters under SwiftShader).
import { Layer, project32, picking } from "@deck.gl/core";
import type { DefaultProps, LayerProps, UpdateParameters } from "@deck.gl/core";
import type { Buffer } from "@luma.gl/core";
import { Model } from "@luma.gl/engine";
import type { ShaderModule } from "@luma.gl/shadertools";
import { norm, XL_COMMON } from "./quad-layer";

type FillUniforms = { color: [number, number, number, number] };

const uniformBlock = /* glsl */ `\
uniform xlfillUniforms {
  vec4 color;
} xlfill;
`;

const fillUniforms = {
  name: "xlfill",
  vs: uniformBlock,
  fs: uniformBlock,
  uniformTypes: { color: "vec4<f32>" },
} as const satisfies ShaderModule<FillUniforms>;

const vs = /* glsl */ `\
#version 300 es
#define SHADER_NAME xl-fill-layer-vertex-shader
in vec2 position;
${XL_COMMON}
void main(void) {
  xl_emit(xl_common(position));
}
`;

const fs = /* glsl */ `\
#version 300 es
#define SHADER_NAME xl-fill-layer-fragment-shader
precision highp float;
out vec4 fragColor;
void main(void) {
  fragColor = vec4(xlfill.color.rgb, xlfill.color.a * layer.opacity);
  DECKGL_FILTER_COLOR(fragColor, geometry);
}
`;

export type FillLayerProps = LayerProps & {
  /** Triangles: x, y of three vertices each, in level-0 pixels. */
  data: Float32Array;
  color?: [number, number, number, number];
};

const defaultProps: DefaultProps<FillLayerProps> = {
  color: { type: "color", value: [255, 0, 0, 64] },
};

export class FillLayer extends Layer<Required<FillLayerProps>> {
  static layerName = "XlFillLayer";
  static defaultProps = defaultProps;
  declare state: { model?: Model; vertices?: Buffer };

  getShaders() {
    return super.getShaders({ vs, fs, modules: [project32, picking, fillUniforms] });
  }

  protected _getAttributeManager(): null {
    return null;
  }

  initializeState() {}

  updateState(params: UpdateParameters<this>) {
    super.updateState(params);
    if (params.changeFlags.extensionsChanged || !this.state.model) {
      this.state.model?.destroy();
      this.state.model = new Model(this.context.device, {
        ...this.getShaders(),
        id: this.props.id,
        bufferLayout: [{ name: "position", format: "float32x2" }],
        topology: "triangle-list",
        vertexCount: 0,
      });
      this.state.vertices?.destroy();
      this.state.vertices = undefined;
    }
    if (params.changeFlags.dataChanged || !this.state.vertices) {
      const data = this.props.data;
      this.state.vertices?.destroy();
      this.state.vertices = this.context.device.createBuffer({ data });
      this.state.model!.setAttributes({ position: this.state.vertices });
      this.state.model!.setVertexCount(data.length / 2);
    }
  }

  finalizeState(context: any) {
    super.finalizeState(context);
    this.state.vertices?.destroy();
  }

  draw() {
    const model = this.state.model!;
    if (!model.vertexCount) return;
    model.shaderInputs.setProps({ xlfill: { color: norm(this.props.color as number[]) } } as any);
    model.draw(this.context.renderPass);
  }
}
