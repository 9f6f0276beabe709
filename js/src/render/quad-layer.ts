// The plumbing shared by the box and segment layers: one vec4 per item (a box's bounds, a
// segment's two ends), drawn as two plain triangles per item with the corner taken from
// gl_VertexID.
//
// Not instanced on purpose. SwiftShader (the software WebGL of headless and GPU-less machines)
// runs an instanced draw one instance at a time, at ~15 us each: a few thousand boxes, or the
// segments of a few hundred cell outlines, in view cost 60-700 ms a frame as deck.gl's instanced
// layers, next to nothing as plain triangles. The price is the vec4 repeated for the six vertices,
// for the slices in view only.
import { Layer } from "@deck.gl/core";
import type { UpdateParameters } from "@deck.gl/core";
import type { Buffer } from "@luma.gl/core";
import { Model } from "@luma.gl/engine";

/** World -> common space in one scale and offset (and a vertex placed there): the view is always orthographic over Cartesian
 * level-0 pixels, and the general project_position() (mercator, globe, fp64 branches) costs
 * several times more per vertex in a software rasteriser. */
export const XL_COMMON = /* glsl */ `\
vec2 xl_common(vec2 world) {
  return (world - project.coordinateOrigin.xy) * project.commonUnitsPerWorldUnit.xy;
}

// Put this vertex at a point of common space.
void xl_emit(vec2 commonXY) {
  geometry.position = vec4(commonXY, 0.0, 1.0);
  gl_Position = project_common_position_to_clipspace(geometry.position);
}
`;

export const norm = (c: number[]): [number, number, number, number] => [c[0] / 255, c[1] / 255, c[2] / 255, (c[3] ?? 255) / 255];

export abstract class QuadLayer<P extends {}> extends Layer<P> {
  declare state: { model?: Model; quads?: Buffer };

  /** Four floats per item, in drawing order. */
  protected abstract quads(): Float32Array;
  /** Shader module props set before each draw. */
  protected abstract uniforms(): Record<string, Record<string, unknown>>;

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
      this.state.quads?.destroy();
      this.state.quads = undefined;
    }
    if (params.changeFlags.dataChanged || !this.state.quads) this.upload();
  }

  finalizeState(context: any) {
    super.finalizeState(context);
    this.state.quads?.destroy();
  }

  private upload(): void {
    const src = this.quads();
    const n = src.length / 4;
    const out = new Float32Array(n * 24);
    for (let i = 0; i < n; i++) {
      const a = src[4 * i], b = src[4 * i + 1], c = src[4 * i + 2], d = src[4 * i + 3];
      for (let v = 0, o = 24 * i; v < 6; v++, o += 4) {
        out[o] = a; out[o + 1] = b; out[o + 2] = c; out[o + 3] = d;
      }
    }
    this.state.quads?.destroy();
    this.state.quads = this.context.device.createBuffer({ data: out });
    const model = this.state.model!;
    model.setAttributes({ quad: this.state.quads });
    model.setVertexCount(6 * n);
  }

  draw() {
    const model = this.state.model!;
    if (!model.vertexCount) return;
    model.shaderInputs.setProps(this.uniforms() as any);
    model.draw(this.context.renderPass);
  }

  protected _getModel(): Model {
    return new Model(this.context.device, {
      ...(this as any).getShaders(), // the subclass gives its shaders
      id: (this.props as any).id,
      bufferLayout: [{ name: "quad", format: "float32x4" }],
      topology: "triangle-list",
      vertexCount: 0,
    });
  }
}
