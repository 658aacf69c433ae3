/**
 * The layer operations the network runs, gathered in one place (all from `ops/`).
 *
 * @module
 */

export {
  conv2d,
  conv2dBackward,
  type ImageLike,
  prepareConv2dWeights,
  type PreparedConv2dWeights,
} from "../../ops/conv2d.ts";
export { convTranspose2d, convTranspose2dBackward } from "../../ops/conv_transpose2d.ts";
export { batchNorm, batchNormBackward } from "../../ops/batch_norm.ts";
export { layerNorm, layerNormBackward } from "../../ops/layer_norm.ts";
export { activation, activationBackward } from "../../ops/activation.ts";
export { add } from "../../ops/add.ts";
export { upsampleBilinear, upsampleBilinearBackward } from "../../ops/upsample.ts";
