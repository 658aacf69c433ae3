/**
 * Turns the files dropped on the viewer into a cube, in the tab: a `.npy`, an HDF5 file (the
 * user picks among several datasets) or an ENVI pair (`.hdr` and its data file). Nothing is sent
 * anywhere. A cube over the tab's limit is not loaded: the caller gets its size and offers a crop
 * (a range of lines) and a band step, which are read line block by line block.
 *
 * @module
 */

import { AbortedError, chooseLayout, type Cube, openEnviBlob, openNpyBlob } from "../mod.ts";
import { openPageHdf5, type PageHdf5 } from "./_hdf5.ts";

/**
 * The most a loaded cube may take as float32 by default: the tab must stay under about 1 GB in
 * all (the page's `?limit-mb=` changes it, for small machines and for the tests).
 */
export const TAB_LIMIT_BYTES = 512 * 2 ** 20;

/** Which part of a cube to load: lines `firstLine .. firstLine + lines - 1`, every `bandStep`-th band. */
export interface Subset {
  readonly firstLine: number;
  readonly lines: number;
  readonly bandStep: number;
}

/** What the user chose so far for these files, and the tab's limit. */
export interface LoadChoices {
  /** The most bytes the float32 cube may take (default {@linkcode TAB_LIMIT_BYTES}). */
  readonly limit?: number;
  /** The HDF5 dataset to read. */
  readonly dataset?: string;
  /** The part of a cube too large to load whole. */
  readonly subset?: Subset;
}

/** The outcome of {@linkcode loadCube}. */
export type LoadOutcome =
  | { kind: "cube"; name: string; cube: Cube; wavelengths?: number[]; bandNumbers: number[] }
  | { kind: "choose"; name: string; datasets: { path: string; shape: readonly number[] }[] }
  | { kind: "too-large"; name: string; height: number; width: number; bands: number };

/** A cube on disk (in a `File`) read a block of lines at a time, as BIP float32. */
interface LineSource {
  readonly height: number;
  readonly width: number;
  readonly bands: number;
  readonly wavelengths?: number[];
  readLines(start: number, count: number): Promise<Float32Array>;
  close(): void;
}

const HDF5_EXTENSIONS = [".h5", ".hdf5", ".he5", ".hdf", ".nc"];
const ACCEPTED = "drop a .npy file, an HDF5 file (.h5, .hdf5) or an ENVI pair (the .hdr header " +
  "together with its data file)";

/**
 * Reads the dropped files as a cube, or says what the user must choose first.
 *
 * @param files The dropped files.
 * @param context The user's choices, a progress callback (fraction done) and a cancel signal.
 * @returns The cube, the datasets to choose from, or the size of a cube too large to load.
 * @throws {Error} With a message for the page: not a cube, a header without its data, ….
 */
export async function loadCube(
  files: readonly File[],
  context: { choices: LoadChoices; progress: (fraction: number) => void; signal: AbortSignal },
): Promise<LoadOutcome> {
  if (files.length === 0) throw new Error(`no file: ${ACCEPTED}`);
  const ext = (f: File) => f.name.toLowerCase().replace(/^.*?(\.[^.]*)?$/, "$1");
  const header = files.find((f) => ext(f) === ".hdr");
  let source: LineSource;
  let name: string;
  if (header !== undefined) {
    const stem = header.name.slice(0, -4);
    const data = files.find((f) => f !== header && f.name.startsWith(stem)) ??
      files.find((f) => f !== header);
    if (data === undefined) {
      throw new Error(
        `ENVI header ${header.name} came without its data file: drop both files together ` +
          `(${header.name} and ${stem}, ${stem}.img, ${stem}.raw or the file its ` +
          `'data file' field names)`,
      );
    }
    name = `${header.name} + ${data.name}`;
    source = enviSource(openEnviBlob(await header.text(), data, header.name));
  } else if (files.length > 1) {
    throw new Error(`${files.length} files were dropped but none is an ENVI .hdr: ${ACCEPTED}`);
  } else if (ext(files[0]) === ".npy") {
    name = files[0].name;
    source = await npySource(files[0]);
  } else if (HDF5_EXTENSIONS.includes(ext(files[0]))) {
    name = files[0].name;
    const h5 = await openPageHdf5(files[0]);
    const picked = pickDataset(h5, name, context.choices.dataset);
    if (typeof picked !== "string") {
      h5.close();
      return picked;
    }
    name = `${name}:${picked}`;
    source = hdf5Source(h5, picked);
  } else {
    throw new Error(`${files[0].name} is not a cube file the viewer reads: ${ACCEPTED}`);
  }
  try {
    return await readSubset(source, { name, ...context });
  } finally {
    source.close();
  }
}

async function readSubset(
  source: LineSource,
  context: {
    name: string;
    choices: LoadChoices;
    progress: (fraction: number) => void;
    signal: AbortSignal;
  },
): Promise<LoadOutcome> {
  const { height, width, bands } = source;
  const subset = context.choices.subset ?? { firstLine: 0, lines: height, bandStep: 1 };
  const { firstLine, lines, bandStep } = checkSubset(subset, source);
  const kept = Math.ceil(bands / bandStep);
  if (lines * width * kept * 4 > (context.choices.limit ?? TAB_LIMIT_BYTES)) {
    return { kind: "too-large", name: context.name, height, width, bands };
  }
  const out = new Float32Array(lines * width * kept);
  const block = Math.max(1, Math.floor(2 ** 26 / (width * bands * 4))); // about 64 MB a read
  for (let done = 0; done < lines; done += block) {
    if (context.signal.aborted) throw new AbortedError("loading the cube");
    const count = Math.min(block, lines - done);
    const values = await source.readLines(firstLine + done, count);
    if (bandStep === 1) out.set(values, done * width * bands);
    else {
      for (let p = 0, q = done * width * kept; p < count * width; p++) {
        for (let b = 0; b < bands; b += bandStep) out[q++] = values[p * bands + b];
      }
    }
    context.progress((done + count) / lines);
  }
  const bandNumbers = Array.from({ length: kept }, (_, i) => i * bandStep);
  const wavelengths = source.wavelengths?.filter((_, i) => i % bandStep === 0);
  return {
    kind: "cube",
    name: context.name,
    cube: { data: out, height: lines, width, bands: kept },
    bandNumbers,
    ...(wavelengths === undefined ? {} : { wavelengths }),
  };
}

function checkSubset(subset: Subset, source: LineSource): Subset {
  const { firstLine, lines, bandStep } = subset;
  const whole = (n: number) => Number.isInteger(n) && n >= 0;
  if (!whole(firstLine) || firstLine >= source.height) {
    throw new Error(`the first line must be a whole number from 0 to ${source.height - 1}`);
  }
  if (!whole(lines) || lines < 1 || firstLine + lines > source.height) {
    throw new Error(
      `the lines must be from 1 to ${source.height - firstLine} from line ${firstLine}`,
    );
  }
  if (!whole(bandStep) || bandStep < 1 || bandStep > source.bands) {
    throw new Error(`the band step must be a whole number from 1 to ${source.bands}`);
  }
  return subset;
}

function enviSource(reader: ReturnType<typeof openEnviBlob>): LineSource {
  return {
    height: reader.height,
    width: reader.width,
    bands: reader.bands,
    ...(reader.header.wavelengths ? { wavelengths: reader.header.wavelengths } : {}),
    readLines: (start, count) => reader.readRows(start, count),
    close: () => reader.close(),
  };
}

async function npySource(file: File): Promise<LineSource> {
  const reader = await openNpyBlob(file, file.name);
  const [height, width, bands] = cubeShape(reader.shape, { dtype: reader.dtype, name: file.name });
  return {
    height,
    width,
    bands,
    readLines: (start, count) => reader.readRows(start, count),
    close: () => reader.close(),
  };
}

/** The dataset to read: the one chosen, the only candidate, or a question for the user. */
function pickDataset(
  h5: PageHdf5,
  name: string,
  chosen: string | undefined,
): string | LoadOutcome {
  if (h5.candidates.length === 0) {
    throw new Error(
      `${name} holds no numeric dataset with 3 axes (height, width, bands): not a cube`,
    );
  }
  if (chosen !== undefined && h5.candidates.some((c) => c.path === chosen)) return chosen;
  if (h5.candidates.length === 1) return h5.candidates[0].path;
  return {
    kind: "choose",
    name,
    datasets: h5.candidates.map((c) => ({ path: c.path, shape: c.shape })),
  };
}

function hdf5Source(h5: PageHdf5, path: string): LineSource {
  const dataset = h5.candidates.find((c) => c.path === path)!;
  const [height, width, bands] = cubeShape(dataset.shape, { dtype: "float32", name: path });
  return {
    height,
    width,
    bands,
    readLines: (start, count) => Promise.resolve(h5.readLines(path, start, count)),
    close: () => h5.close(),
  };
}

/** `(height, width, bands)` of a 3-D array stored band-last; other layouts are refused, saying why. */
function cubeShape(
  shape: readonly number[],
  query: { dtype: string; name: string },
): [number, number, number] {
  if (shape.length !== 3) {
    throw new Error(
      `${query.name} has shape (${shape.join(", ")}); the viewer needs a cube of 3 axes ` +
        `(height, width, bands)`,
    );
  }
  const { layout } = chooseLayout(shape, { dtype: query.dtype, name: query.name, layout: "hwc" });
  if (layout !== "hwc") throw new Error(`${query.name}: only (height, width, bands) is read`);
  if (shape.some((n) => n === 0)) {
    throw new Error(`${query.name} has shape (${shape.join(", ")}): an empty cube`);
  }
  return [shape[0], shape[1], shape[2]];
}

/**
 * The part of a cube to offer when it is too large: every line, and the smallest band step that
 * fits; or, when even one band in ten does not fit, the lines that fit at that step.
 *
 * @param shape The cube's size.
 * @param limit The most bytes the float32 subset may take.
 * @returns A subset that fits.
 */
export function suggestSubset(
  shape: { height: number; width: number; bands: number },
  limit: number,
): Subset {
  const { height, width, bands } = shape;
  const fits = (lines: number, step: number) =>
    lines * width * Math.ceil(bands / step) * 4 <= limit;
  for (let step = 1; step <= Math.min(bands, 10); step++) {
    if (fits(height, step)) return { firstLine: 0, lines: height, bandStep: step };
  }
  const step = Math.min(bands, 10);
  const lines = Math.max(1, Math.floor(limit / (width * Math.ceil(bands / step) * 4)));
  return { firstLine: 0, lines: Math.min(lines, height), bandStep: step };
}

/** `1.5 GiB`-style sizes for messages. */
export function formatSize(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  return bytes >= 2 ** 20 ? `${Math.round(bytes / 2 ** 20)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}
