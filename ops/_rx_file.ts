/**
 * Reading and writing fitted RX models (`ops/rx.ts`) as JSON or HDF5, atomically.
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { formatOfPath } from "../io/format.ts";
import { readHdf5Dataset, readHdf5Tree, writeHdf5 } from "../io/hdf5.ts";
import type { RobustFitSummary } from "./_robust_fit.ts";

/** The JSON form of a fitted detector (`RxDetector.toJSON()` in `./rx.ts`). */
export interface RxJson {
  /** Always `"prism.rx"`. */
  format: "prism.rx";
  /** Format version, 1. */
  version: 1;
  /** Pixels the statistics came from. */
  count: number;
  /** Bands C. */
  bands: number;
  /** The diagonal regularisation of the inverse. */
  eps: number;
  /** Pixels skipped for NaN or infinity. */
  skipped: number;
  /** The `bands` means. */
  mean: number[];
  /** Row-major `bands × bands`. */
  covariance: number[];
  /** How the robust fit went, when the fit was robust (`RxDetector.fit({ robust })`). */
  robust?: RobustFitSummary;
}

const FORMATS = { json: "json", h5: "h5", hdf5: "h5" } as const;

function formatOf(path: string): "json" | "h5" {
  return formatOfPath(path, FORMATS);
}

/**
 * Writes a model to `path` (`.json`, `.h5`, `.hdf5`) through a temporary file: its `json` form,
 * and (HDF5 only, as an attribute) the `rank` of its inverse.
 */
export async function writeRxFile(
  path: string,
  model: { json: RxJson; rank: number },
): Promise<void> {
  const { json, rank } = model;
  if (formatOf(path) === "json") {
    await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(json)));
    return;
  }
  await writeHdf5(path, {
    attrs: {
      format: json.format,
      version: json.version,
      eps: json.eps,
      count: json.count,
      bands: json.bands,
      rank,
      skipped: json.skipped,
      // The robust fit's summary as one JSON attribute (absent for a plain fit).
      ...json.robust === undefined ? {} : { robust: JSON.stringify(json.robust) },
    },
    datasets: [
      { path: "mean", data: Float64Array.from(json.mean), shape: [json.bands] },
      {
        path: "covariance",
        data: Float64Array.from(json.covariance),
        shape: [json.bands, json.bands],
      },
    ],
  });
}

/** Reads a model written by {@linkcode writeRxFile}; corrupt files give InvalidDataError. */
export async function readRxFile(path: string): Promise<RxJson> {
  if (formatOf(path) === "json") {
    const text = await Deno.readTextFile(path);
    try {
      return JSON.parse(text) as RxJson;
    } catch (e) {
      throw new InvalidDataError(`${path} is not valid JSON (${(e as Error).message})`, {
        cause: e,
      });
    }
  }
  const tree = await readHdf5Tree(path);
  const a = tree.attrs;
  if (a.format !== "prism.rx") {
    throw new InvalidDataError(`${path} is not a prism RX model (no format="prism.rx" attribute)`);
  }
  const mean = await readHdf5Dataset(path, "mean");
  const cov = await readHdf5Dataset(path, "covariance");
  return {
    format: "prism.rx",
    version: a.version as 1,
    count: Number(a.count),
    bands: Number(a.bands),
    eps: Number(a.eps),
    skipped: Number(a.skipped ?? 0),
    mean: Array.from(mean.data as Float64Array, Number),
    covariance: Array.from(cov.data as Float64Array, Number),
    ...a.robust === undefined ? {} : { robust: parseRobust(path, a.robust) },
  };
}

/** The robust summary attribute, parsed (checked later by `fromJSON`). */
function parseRobust(path: string, value: unknown): RobustFitSummary {
  try {
    return JSON.parse(String(value)) as RobustFitSummary;
  } catch (e) {
    throw new InvalidDataError(`${path}: its robust attribute is not valid JSON`, { cause: e });
  }
}
