/**
 * Performance records: one JSON document per run with everything needed to judge a figure later
 * (total time, samples/s, peak process RSS, WASM and GPU-pool memory, device and adapter, the
 * WASM binary's variant, the model's parameters and size when a model ran, prism's version and
 * git commit, timestamp, machine), plus a short text report. `stress` writes one; other commands
 * (the main job's run folder, benchmark sweeps) build theirs with {@linkcode buildRecord} and
 * {@linkcode writeRecord}, and `compare` reads two back with {@linkcode parseRecord}.
 *
 * @module
 */

import { capabilities } from "../ops/capabilities.ts";
import { releaseGpu } from "../gpu/device.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { gitCommit, type MachineInfo, machineInfo } from "./machine.ts";
import { type BackendMemory, backendMemory, type RssFigures } from "./memory.ts";

/** The `format` field of every record. */
export const RECORD_FORMAT = "prism-performance-record";
/** The record layout this module writes and reads. */
export const RECORD_VERSION = 1;

/** Which way a metric improves. */
export type Better = "lower" | "higher";

/** One named figure of a run. */
export interface RecordMetric {
  /** The value, in `unit`. */
  readonly value: number;
  /** Its unit (`ms`, `samples/s`, `bytes`, `1` for a ratio). */
  readonly unit: string;
  /** Whether a lower or a higher value is the better one. */
  readonly better: Better;
  /**
   * True for a figure that depends on the machine (a time, a rate, memory); false for one
   * that does not (a ratio of two times of the same run, a detection AUC), which `compare`
   * still compares across machines.
   */
  readonly absolute: boolean;
}

/** The model a run trained or ran, when there was one. */
export interface RecordModel {
  /** Its name (a built-in spec's, a file's). */
  readonly name: string;
  /** Trainable parameters. */
  readonly parameters: number;
  /** Parameters × 4 bytes (float32), in MB (10⁶ bytes). */
  readonly sizeMb: number;
}

/** A run's performance record. */
export interface PerformanceRecord {
  /** Always {@linkcode RECORD_FORMAT}. */
  readonly format: typeof RECORD_FORMAT;
  /** Always {@linkcode RECORD_VERSION}. */
  readonly version: number;
  /** What ran, e.g. `"stress --scale medium"`. */
  readonly command: string;
  /** When the run started, ISO 8601 (UTC). */
  readonly timestamp: string;
  /** Wall time of the whole run, seconds. */
  readonly totalSeconds: number;
  /** Samples processed (0 when the run has no samples). */
  readonly samples: number;
  /** Samples per second over the run's sample work, or `null` when it had none. */
  readonly samplesPerSecond: number | null;
  /** Process and backend memory, bytes. */
  readonly memory: BackendMemory & {
    /** The largest process RSS seen during the run. */
    readonly peakRssBytes: number;
    /** RSS at the end minus at the start. */
    readonly rssDeltaBytes: number;
  };
  /** Where the run's work went. */
  readonly device: {
    /** The backend asked for (`auto`, `wasm`, `webgpu`). */
    readonly backend: string;
    /** The WebGPU adapter's description, or `"none: <reason>"`. */
    readonly adapter: string;
    /** Whether the adapter is a CPU emulation (llvmpipe…); false when there is none. */
    readonly softwareAdapter: boolean;
  };
  /** The WASM kernel binary that ran. */
  readonly binary: {
    /** `wasm-simd128`, with `+threads` when workers share memory. */
    readonly variant: string;
    /** SHA-256 of the Rust sources it was built from, or `"unknown"`. */
    readonly sourceHash: string;
    /** Workers in the kernel pool. */
    readonly workers: number;
  };
  /** The model, or `null` when none ran. */
  readonly model: RecordModel | null;
  /** prism itself. */
  readonly prism: {
    /** Package version (`deno.json`). */
    readonly version: string;
    /** Git commit of the checkout (`+dirty` with local changes), or `"unknown"`. */
    readonly commit: string;
  };
  /** The machine. */
  readonly machine: MachineInfo;
  /** The run's own figures, by name. */
  readonly metrics: Readonly<Record<string, RecordMetric>>;
  /** The command's own results in full (a stress run's sections), when it gives them. */
  readonly details?: unknown;
}

/** What a command knows about its run; {@linkcode buildRecord} adds the rest. */
export interface RecordInput {
  /** What ran, e.g. `"stress --scale medium"`. */
  readonly command: string;
  /** When the run started. */
  readonly startedAt: Date;
  /** Wall time of the whole run, seconds. */
  readonly totalSeconds: number;
  /** Samples processed (default 0). */
  readonly samples?: number;
  /** Seconds the samples took, for samples/s (default `totalSeconds`). */
  readonly sampleSeconds?: number;
  /** The backend asked for (default `"auto"`). */
  readonly backend?: string;
  /** Whether work may have run on the GPU (the pool is read only then, when an adapter exists). */
  readonly gpuUsed?: boolean;
  /** The RSS figures from an `RssWatch` over the run. */
  readonly rss: RssFigures;
  /** The model that ran, if any. */
  readonly model?: RecordModel;
  /** The run's own figures. */
  readonly metrics?: Readonly<Record<string, RecordMetric>>;
  /** The command's own results in full, kept in the record as they are. */
  readonly details?: unknown;
}

/**
 * Builds a run's record: the caller's figures plus the backends' memory, the device, the binary,
 * prism's version and commit and the machine. Never fails for what it cannot find out (no git,
 * no GPU): those fields say `"unknown"` or `"none: …"`.
 *
 * @param input What the command measured.
 * @returns The record.
 * @throws {RangeError} When `totalSeconds` or `sampleSeconds` is negative or not finite, or
 *   `samples` is not a whole number ≥ 0.
 * @throws {WasmLoadError} When the kernel module cannot be loaded.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { buildRecord } from "./record.ts";
 * import { RssWatch } from "./memory.ts";
 * using watch = new RssWatch();
 * const record = await buildRecord({
 *   command: "demo", startedAt: new Date(), totalSeconds: 2, samples: 10, rss: watch.figures(),
 * });
 * assert.strictEqual(record.samplesPerSecond, 5);
 * assert(record.binary.variant.startsWith("wasm-simd128") && record.machine.cores >= 1);
 * ```
 */
export async function buildRecord(input: RecordInput): Promise<PerformanceRecord> {
  const samples = input.samples ?? 0;
  if (!Number.isInteger(samples) || samples < 0) {
    throw new RangeError(`samples must be a whole number ≥ 0, got ${samples}`);
  }
  const sampleSeconds = input.sampleSeconds ?? input.totalSeconds;
  for (
    const [name, v] of [["totalSeconds", input.totalSeconds], ["sampleSeconds", sampleSeconds]]
  ) {
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new RangeError(`${name} must be a finite number of seconds ≥ 0, got ${v}`);
    }
  }
  const gpuUsed = input.gpuUsed ?? false;
  const memory = await backendMemory(gpuUsed);
  const [caps, machine, commit] = await Promise.all([capabilities(), machineInfo(), gitCommit()]);
  // capabilities() probes the adapter; a run that did not use the GPU should not keep it open.
  if (!gpuUsed) await releaseGpu();
  const gpu = caps.gpu;
  return {
    format: RECORD_FORMAT,
    version: RECORD_VERSION,
    command: input.command,
    timestamp: input.startedAt.toISOString(),
    totalSeconds: input.totalSeconds,
    samples,
    samplesPerSecond: samples > 0 && sampleSeconds > 0 ? samples / sampleSeconds : null,
    memory: {
      peakRssBytes: input.rss.peakBytes,
      rssDeltaBytes: input.rss.deltaBytes,
      ...memory,
    },
    device: {
      backend: input.backend ?? "auto",
      adapter: gpu.available
        ? gpu.adapter.description || gpu.adapter.device
        : `none: ${gpu.reason}`,
      softwareAdapter: gpu.available && gpu.adapter.isSoftware,
    },
    binary: {
      variant: `wasm${caps.wasm.simd ? "-simd128" : ""}${caps.wasm.sharedMemory ? "+threads" : ""}`,
      sourceHash: caps.wasm.source?.hash ?? "unknown",
      workers: caps.wasm.workers,
    },
    model: input.model ?? null,
    prism: { version: caps.version, commit },
    machine,
    metrics: input.metrics ?? {},
    ...(input.details === undefined ? {} : { details: input.details }),
  };
}

const MB = 1e6;

/**
 * The short text report of a record: what ran, where, how fast, how much memory.
 *
 * @param record The record.
 * @returns Lines joined with `\n`, ending in a newline.
 * @throws Never.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { buildRecord, recordText } from "./record.ts";
 * import { RssWatch } from "./memory.ts";
 * using watch = new RssWatch();
 * const r = await buildRecord({ command: "demo", startedAt: new Date(), totalSeconds: 1, rss: watch.figures() });
 * assert(recordText(r).includes("peak RSS"));
 * ```
 */
export function recordText(record: PerformanceRecord): string {
  const m = record.memory;
  const mb = (b: number | null) => b === null ? "not used" : `${(b / MB).toFixed(1)} MB`;
  const lines = [
    `prism ${record.prism.version} (commit ${record.prism.commit}): ${record.command}`,
    `started ${record.timestamp}, ${record.totalSeconds.toFixed(2)} s in all`,
    `machine: ${record.machine.cpu}, ${record.machine.cores} logical CPUs, ` +
    `${record.machine.os}/${record.machine.arch}, Deno ${record.machine.deno}`,
    `backend ${record.device.backend}; adapter ${record.device.adapter}` +
    (record.device.softwareAdapter ? " (software)" : ""),
    `binary ${record.binary.variant}, ${record.binary.workers} workers, source ` +
    record.binary.sourceHash.slice(0, 12),
    `samples ${record.samples}` +
    (record.samplesPerSecond === null ? "" : `, ${record.samplesPerSecond.toFixed(3)} samples/s`),
    `memory: peak RSS ${mb(m.peakRssBytes)} (delta ${mb(m.rssDeltaBytes)}), WASM heap ` +
    `${mb(m.wasmHeapBytes)} (peak in use ${mb(m.wasmPeakBytes)}), GPU pool ${mb(m.gpuPoolBytes)}` +
    (m.gpuPoolPeakBytes === null ? "" : ` (peak ${mb(m.gpuPoolPeakBytes)})`),
  ];
  if (record.model !== null) {
    lines.push(
      `model ${record.model.name}: ${record.model.parameters.toLocaleString("en")} parameters, ` +
        `${record.model.sizeMb.toFixed(2)} MB`,
    );
  }
  for (const [name, metric] of Object.entries(record.metrics)) {
    lines.push(
      `  ${name} = ${formatValue(metric.value)} ${metric.unit} (${metric.better} is better)`,
    );
  }
  return lines.join("\n") + "\n";
}

function formatValue(v: number): string {
  return Math.abs(v) >= 1000 || Number.isInteger(v)
    ? String(Math.round(v * 1000) / 1000)
    : v.toPrecision(4);
}

/**
 * The text report's path beside a record's: `x.json` → `x.txt` (any other name gets `.txt` added).
 *
 * @param jsonPath The record's path.
 * @returns The text report's path.
 * @throws Never.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { textPathOf } from "./record.ts";
 * assert.strictEqual(textPathOf("out/record.json"), "out/record.txt");
 * ```
 */
export function textPathOf(jsonPath: string): string {
  return jsonPath.toLowerCase().endsWith(".json")
    ? `${jsonPath.slice(0, -5)}.txt`
    : `${jsonPath}.txt`;
}

/**
 * Writes a record as JSON at `path` and its text report beside it (see {@linkcode textPathOf}),
 * each atomically, so a failure leaves neither half-written.
 *
 * @param path The JSON file.
 * @param record The record.
 * @param extraText More text for the report, after the record's lines (a command's tables).
 * @returns The two paths written.
 * @throws {Deno.errors.NotFound} When the folder does not exist.
 * @throws {Deno.errors.PermissionDenied} When it cannot be written.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { buildRecord, writeRecord } from "./record.ts";
 * import { RssWatch } from "./memory.ts";
 * using watch = new RssWatch();
 * const r = await buildRecord({ command: "demo", startedAt: new Date(), totalSeconds: 1, rss: watch.figures() });
 * const dir = await Deno.makeTempDir();
 * const { json, text } = await writeRecord(`${dir}/record.json`, r);
 * assert.strictEqual(JSON.parse(await Deno.readTextFile(json)).format, "prism-performance-record");
 * assert((await Deno.readTextFile(text)).startsWith("prism "));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeRecord(
  path: string,
  record: PerformanceRecord,
  extraText = "",
): Promise<{ json: string; text: string }> {
  const encoder = new TextEncoder();
  const text = textPathOf(path);
  await writeFileAtomic(path, encoder.encode(JSON.stringify(record, null, 2) + "\n"));
  await writeFileAtomic(
    text,
    encoder.encode(recordText(record) + (extraText ? `\n${extraText}` : "")),
  );
  return { json: path, text };
}

/** The fields `parseRecord` requires, with the type each must have. */
const REQUIRED: readonly (readonly [string, string])[] = [
  ["format", "string"],
  ["version", "number"],
  ["command", "string"],
  ["timestamp", "string"],
  ["totalSeconds", "number"],
  ["samples", "number"],
  ["memory.peakRssBytes", "number"],
  ["device.adapter", "string"],
  ["binary.variant", "string"],
  ["prism.version", "string"],
  ["machine.cpu", "string"],
  ["machine.cores", "number"],
  ["metrics", "object"],
];

/**
 * Checks that a parsed JSON document is a performance record this version reads.
 *
 * @param value The parsed JSON.
 * @param source Where it came from, for messages (a file name).
 * @returns The record.
 * @throws {TypeError} When it is not a record: names every missing or mistyped field, and says
 *   when it is another format or version.
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseRecord } from "./record.ts";
 * assert.throws(() => parseRecord({ rows: [] }, "other.json"), /missing or mistyped: format/);
 * ```
 */
export function parseRecord(value: unknown, source: string): PerformanceRecord {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${source} is not a performance record: its JSON is not an object`);
  }
  const doc = value as Record<string, unknown>;
  if (doc.format !== undefined && doc.format !== RECORD_FORMAT) {
    throw new TypeError(
      `${source} is a "${String(doc.format)}" document, not a ${RECORD_FORMAT}; give a record ` +
        "written by `stress` (or another command's record.json)",
    );
  }
  const bad = REQUIRED.filter(([path, type]) => {
    const v = path.split(".").reduce<unknown>(
      (
        o,
        k,
      ) => (typeof o === "object" && o !== null ? (o as Record<string, unknown>)[k] : undefined),
      doc,
    );
    return typeof v !== type || v === null;
  }).map(([path, type]) => `${path} (${type})`);
  if (bad.length > 0) {
    throw new TypeError(
      `${source} is not a performance record: missing or mistyped: ${bad.join(", ")}`,
    );
  }
  if (doc.version !== RECORD_VERSION) {
    throw new TypeError(
      `${source} is a record of version ${doc.version}; this prism reads version ${RECORD_VERSION}`,
    );
  }
  return doc as unknown as PerformanceRecord;
}
