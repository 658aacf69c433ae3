/**
 * prism: native-speed numeric kernels for Deno, on WebAssembly SIMD (every core, one shared
 * memory) and WebGPU, for hyperspectral covariance and RX anomaly detection, singular-value
 * metrics of neural-network activations tracked over training, and 2-D convolution. Device
 * tensors (`toDevice`) keep values on a backend between operations.
 *
 * ```ts
 * import { covariance, RxDetector, releaseGpu, synthCube } from "./mod.ts";
 * import assert from "node:assert";
 *
 * const { cube } = synthCube({ height: 32, width: 32, bands: 8, seed: 1 });
 * const stats = await covariance(cube); // mean and covariance in float64
 * assert(stats.count === 1024 && stats.covariance.length === 64);
 *
 * const rx = await new RxDetector().fit(cube); // streaming statistics, pseudo-inverse
 * const scores = await rx.score(cube); // squared Mahalanobis distance per pixel
 * assert(scores.length === 1024 && scores.every(Number.isFinite));
 * await releaseGpu();
 * ```
 *
 * @module
 */

// Data shapes and errors.
export * from "./core/errors.ts";
export type { Backend, Cube, Matrix, Progress, RunOptions, Tensor } from "./core/types.ts";

// What the machine offers, and backends.
export { type Capabilities, capabilities, type WasmCapabilities } from "./ops/capabilities.ts";
export type { WasmVariant } from "./wasm/_variant.ts";
export type { FamilyInfo, OperationFamily } from "./ops/families.ts";
export type { Route, RouteRequest } from "./ops/route.ts";
// The GPU context (buffer pool, pipeline cache) is backend internals: `getGpu` stays in gpu/.
export { gpuStatus, releaseGpu } from "./gpu/device.ts";
export type { GpuAdapterSummary, GpuAvailable, GpuStatus, GpuUnavailable } from "./gpu/types.ts";
export { type PoolOptions, type RunJobOptions, WorkerPool } from "./wasm/pool.ts";
export { allocMatrix, type KernelMatrix } from "./wasm/kernel_matrix.ts";
export type { WasmStorage } from "./wasm/storage.ts";
export type { KernelExports, KernelMemory, Kernels } from "./wasm/kernels.ts";

// Device tensors: values that stay on a backend between operations.
export { DeviceTensor, toDevice, type ToDeviceOptions } from "./tensor/device_tensor.ts";
export type { DeviceKind, TensorStorage } from "./core/tensor_storage.ts";
export type { MatrixLike } from "./ops/_placement.ts";
export { matmul, type MatmulOptions } from "./ops/matmul.ts";

// Convolution (NHWC images, HWIO weights): forward and gradients on both backends.
export {
  conv2d,
  conv2dBackward,
  type Conv2dBackwardOptions,
  type Conv2dGradients,
  type Conv2dOptions,
  type ImageLike,
  type PrepareConv2dOptions,
  prepareConv2dWeights,
  PreparedConv2dWeights,
} from "./ops/conv2d.ts";
export type { Padding } from "./core/conv_geometry.ts";
// Layer ops: transposed convolution, norms, activations, residual add, upsampling.
export {
  convTranspose2d,
  convTranspose2dBackward,
  type ConvTranspose2dBackwardOptions,
  type ConvTranspose2dOptions,
} from "./ops/conv_transpose2d.ts";
export {
  batchNorm,
  batchNormBackward,
  type BatchNormBackwardOptions,
  type BatchNormGradients,
  type BatchNormOptions,
  type BatchNormResult,
} from "./ops/batch_norm.ts";
export { channelAffine, type ChannelAffineOptions } from "./ops/channel_affine.ts";
export {
  layerNorm,
  layerNormBackward,
  type LayerNormBackwardOptions,
  type LayerNormGradients,
  type LayerNormOptions,
} from "./ops/layer_norm.ts";
export {
  activation,
  activationBackward,
  type ActivationBackwardOptions,
  type ActivationOptions,
} from "./ops/activation.ts";
export { add } from "./ops/add.ts";
export {
  type UpsampleBackwardOptions,
  upsampleBilinear,
  upsampleBilinearBackward,
  type UpsampleOptions,
} from "./ops/upsample.ts";
export type { LayerInput, LayerRunOptions } from "./ops/_layer_io.ts";

// Convolutional networks from specs: inference, training, gradient checks.
export {
  ConvNet,
  type ConvNetGradients,
  type ConvNetOptions,
  type ConvNetParameter,
  type ForwardOptions,
  type LayerActivations,
  type TrainStepOptions,
} from "./nn/convnet.ts";
export {
  type ActivationKind,
  BUILTIN_SPEC_NAMES,
  builtinSpec,
  type BuiltinSpecName,
  type ConvLayerSpec,
  type ConvNetSpec,
  countParameters,
  type LayerSpec,
  type NormSpec,
  parseSpec,
  type ResidualLayerSpec,
  type UpsampleLayerSpec,
} from "./nn/spec.ts";
export { Adam, type AdamOptions, type Parameter } from "./nn/adam.ts";
export {
  losses,
  type LossOptions,
  meanSquaredError,
  pixelSoftmaxCrossEntropy,
  softmaxCrossEntropy,
  type SoftmaxCrossEntropyOptions,
} from "./nn/loss.ts";
export {
  checkGradients,
  type GradientCheckOptions,
  type GradientCheckResult,
} from "./nn/gradient_check.ts";

// Seamless tiled inference of a network over images of any size.
export {
  runTiled,
  type RunTiledOptions,
  type TiledForwardOptions,
  type TiledNet,
} from "./nn/tiled.ts";
export {
  type ImageAxis,
  largestActivation,
  outputExtent,
  type Tiling,
  type TilingLayerSpec,
  tilingOf,
  type TilingSpec,
} from "./nn/tiling.ts";

// Reductions, Gram matrices, covariance.
export { columnSums, type ColumnSumsResult } from "./ops/column_sums.ts";
export { gram, type GramOptions, type GramResult } from "./ops/gram.ts";
export { covariance, type CovarianceOptions } from "./ops/covariance.ts";
export {
  type AddOptions,
  CovarianceAccumulator,
  type CovarianceAccumulatorJson,
  type CovarianceAccumulatorOptions,
  type CovarianceResult,
} from "./ops/covariance_accumulator.ts";
export {
  SHARD_OPS,
  type ShardJson,
  type ShardOp,
  type ShardProvenance,
  type ShardSource,
  ShardState,
} from "./ops/shard_state.ts";

// RX anomaly detection.
export {
  type RobustFitOptions,
  type RobustFitSummary,
  type RowSource,
  RxDetector,
  type RxFitOptions,
  type RxJson,
  type RxScoreOptions,
  type RxStatistics,
  type RxStats,
} from "./ops/rx.ts";
export { rxLocal, type RxLocalOptions } from "./ops/rx_local.ts";
export { rocAuc } from "./ops/roc_auc.ts";

// PCA and MNF: spectral transforms, fitted in one streamed pass, applied chunk by chunk.
export { pca, type PcaOptions, type PcaResult } from "./ops/pca.ts";
export {
  type LineSource,
  mnf,
  type MnfOptions,
  type MnfResult,
  type NoiseDirection,
} from "./ops/mnf.ts";
export { Projection, type TransformOptions } from "./ops/projection.ts";

// Singular values, spectrum metrics, dimensionality tracking.
export {
  type SingularValueOptions,
  singularValues,
  type Spectrum,
  spectrumOf,
} from "./ops/spectrum.ts";
export {
  SPECTRUM_EPS,
  type SpectrumMetrics,
  spectrumMetrics,
  type SpectrumMetricsOptions,
} from "./ops/spectrum_metrics.ts";
export { detectJumps, type Jump, type JumpOptions } from "./track/jumps.ts";
export {
  convAsMatrix,
  type FlatActivations,
  flattenActivations,
  sequenceAsMatrix,
} from "./track/flatten.ts";
export {
  DimensionalityTracker,
  type JumpMetric,
  type LayerRow,
  type MeasureFunction,
  type Observation,
  type ObserveExtras,
  type TrackerOptions,
  type TrackJump,
  type TrackRow,
} from "./track/tracker.ts";
export { JUMP_METRICS, type TrackedMetrics } from "./track/row.ts";
export {
  type ExperimentOptions,
  type ExperimentResult,
  type ExperimentTracker,
  type ExportMeasurement,
  type FrequencyResult,
  runTrackingExperiment,
  type TrackerFactory,
} from "./track/experiment.ts";
export type { ExportOptions, LoadOptions, TrackData, TrackLayer } from "./track/export.ts";

// Synthetic data.
export { type Cluster, synthCube, type SynthCubeOptions, type SynthSample } from "./synth/cube.ts";
export {
  datasetRows,
  type DatasetShape,
  type IndexedSample,
  type ScaleInfo,
  type ScaleName,
  SCALES,
  synthDataset,
  type SynthDatasetOptions,
} from "./synth/datasets.ts";

// Files: cubes in, results out.
export {
  type CubeSource,
  type CubeSourceOptions,
  openCubeSource,
  type PixelRange,
} from "./io/cube_source.ts";
export {
  type PixelChunk,
  type PixelDefaults,
  type PixelMask,
  PixelSelection,
  type PixelSelectionOptions,
  type PixelSelectionTarget,
  spreadOverPixels,
} from "./io/pixel_selection.ts";
export {
  chooseLayout,
  CUBE_LAYOUTS,
  type CubeLayout,
  type LayoutChoice,
  type LayoutOrigin,
  type LayoutQuery,
} from "./io/layout.ts";
export type { ArrayRowReader, RowReader } from "./io/row_reader.ts";
export {
  type FileImageSource,
  type ImageSource,
  imageSourceOf,
  openImageSource,
} from "./io/image_source.ts";
export { type RowStreamOptions, type WriteRows, writeRowsAtomic } from "./io/array_writer.ts";
export {
  encodeNpy,
  encodeNpyFloat32Header,
  type NpyArray,
  type NpyData,
  type NpyInput,
  type NpyReader,
  openNpy,
  openNpyBlob,
  readNpy,
  writeNpy,
} from "./io/npy.ts";
export {
  type EnviBlobReader,
  type EnviHeader,
  type EnviOptions,
  type EnviReader,
  openEnvi,
  openEnviBlob,
  parseEnviHeader,
  readEnvi,
  readEnviHeader,
  type SampleType,
} from "./io/envi.ts";
export {
  type Hdf5Attrs,
  type Hdf5Content,
  type Hdf5Data,
  type Hdf5DatasetInfo,
  type Hdf5DatasetReader,
  type Hdf5DatasetSpec,
  type Hdf5ReadData,
  type Hdf5ReadOptions,
  type Hdf5Tree,
  openHdf5Dataset,
  readHdf5Dataset,
  readHdf5Tree,
  writeHdf5,
} from "./io/hdf5.ts";
export { type CsvValue, formatCsv, parseCsv } from "./io/csv.ts";
export {
  type EnviFieldValue,
  type EnviFiles,
  type EnviWriteOptions,
  writeEnvi,
} from "./io/envi_write.ts";
export { formatFloat32 } from "./io/float32_text.ts";
