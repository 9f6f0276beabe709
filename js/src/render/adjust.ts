// Brightness, contrast, gamma and channel mask applied to slide tiles in the fragment shader, so
// moving a slider never re-fetches or re-decodes a tile.
import { LayerExtension } from "@deck.gl/core";
import type { Layer } from "@deck.gl/core";
import type { ShaderModule } from "@luma.gl/shadertools";

export type Adjustments = { brightness: number; contrast: number; gamma: number; channels: [boolean, boolean, boolean] };

type AdjustUniforms = { brightness: number; contrast: number; gamma: number; channels: [number, number, number] };

const adjustModule = {
  name: "xladjust",
  fs: /* glsl */ `\
uniform xladjustUniforms {
  float brightness;
  float contrast;
  float gamma;
  vec3 channels;
} xladjust;
`,
  uniformTypes: { brightness: "f32", contrast: "f32", gamma: "f32", channels: "vec3<f32>" },
} as const satisfies ShaderModule<AdjustUniforms>;

export class AdjustExtension extends LayerExtension {
  static extensionName = "XlAdjustExtension";
  static defaultProps = { adjustments: { brightness: 0, contrast: 1, gamma: 1, channels: [true, true, true] } };

  getShaders() {
    return {
      modules: [adjustModule],
      inject: {
        "fs:DECKGL_FILTER_COLOR": /* glsl */ `
  vec3 rgb = color.rgb * xladjust.channels;
  rgb = (rgb - 0.5) * xladjust.contrast + 0.5 + xladjust.brightness;
  rgb = pow(clamp(rgb, 0.0, 1.0), vec3(1.0 / max(xladjust.gamma, 0.01)));
  color.rgb = rgb;
`,
      },
    };
  }

  draw(this: Layer<{ adjustments: Adjustments }>) {
    const a = this.props.adjustments;
    this.setShaderModuleProps({
      xladjust: {
        brightness: a.brightness,
        contrast: a.contrast,
        gamma: a.gamma,
        channels: a.channels.map((c) => (c ? 1 : 0)) as [number, number, number],
      },
    });
  }
}
