/**
 * Columnar storage of one layer's rows: 40 bytes per measurement, in fixed blocks so that
 * growing never copies what is already stored.
 *
 * Layout of one block of `BLOCK_ROWS` rows, one ArrayBuffer:
 *
 * | bytes per row | type    | columns                                                         |
 * | ------------- | ------- | --------------------------------------------------------------- |
 * | 3 × 4         | uint32  | step, cumulative_90, numerical_rank                             |
 * | 7 × 4         | float32 | loss, grad_norm, stable_rank, participation_ratio,              |
 * |               |         | nuclear_norm_ratio, spectral_entropy, condition_number          |
 *
 * = 40 bytes (the cap is 64). Why float32 suffices: the activations are float32, so their
 * singular values, and every metric of them, carry about 7 significant digits at best; the
 * loss and gradient norm of a float32 model are float32 too. Float32 also halves what the HDF5
 * export has to compress. Values beyond float32's range (±3.4028235e38) are stored saturated.
 * `effective_rank` is `exp(spectral_entropy)`, recomputed on read. A missing loss or gradient
 * norm is stored as NaN (the tracker rejects non-finite values, so NaN is free).
 *
 * @module
 */

import { COLUMN_SPECS, columnsStoredAs, type TrackRow } from "./row.ts";

/** Rows per block: a block is 20 KiB, the most a layer ever holds unused. */
export const BLOCK_ROWS = 512;

/** Bytes stored per measurement. */
export const BYTES_PER_ROW = 40;

const MAX_F32 = 3.4028234663852886e38;

// Stored columns by kind, in file order: the block layout below follows these lists.
const U32 = columnsStoredAs("u32");
const F32 = columnsStoredAs("f32");
const NULLABLE = new Set<string>(COLUMN_SPECS.filter((c) => c.nullable).map((c) => c.name));

interface Block {
  readonly u32: Uint32Array;
  readonly f32: Float32Array;
}

/** One layer's rows. */
export class LayerStore {
  #blocks: Block[] = [];
  #length = 0;

  /** Number of rows stored. */
  get length(): number {
    return this.#length;
  }

  /** Bytes held by the typed arrays (whole blocks). */
  get byteLength(): number {
    return this.#blocks.length * BLOCK_ROWS * BYTES_PER_ROW;
  }

  /** Appends a row (values as given; the caller validated them). */
  push(row: TrackRow): void {
    const i = this.#length % BLOCK_ROWS;
    if (i === 0) this.#blocks.push(newBlock());
    const b = this.#blocks[this.#blocks.length - 1];
    for (let c = 0; c < U32.length; c++) b.u32[c * BLOCK_ROWS + i] = row[U32[c]] as number;
    // Math.min/max keep NaN, so a missing loss or gradient norm stays missing.
    for (let c = 0; c < F32.length; c++) b.f32[c * BLOCK_ROWS + i] = clamp(row[F32[c]] ?? NaN);
    this.#length++;
  }

  /** The step of the last row, or -1 when there is none. */
  lastStep(): number {
    if (this.#length === 0) return -1;
    const i = this.#length - 1;
    return this.#blocks[Math.floor(i / BLOCK_ROWS)].u32[i % BLOCK_ROWS];
  }

  /** Row `index` as a plain object. */
  row(index: number): TrackRow {
    const b = this.#blocks[Math.floor(index / BLOCK_ROWS)];
    const i = index % BLOCK_ROWS;
    const row: Record<string, number | null> = {};
    for (let c = 0; c < U32.length; c++) row[U32[c]] = b.u32[c * BLOCK_ROWS + i];
    for (let c = 0; c < F32.length; c++) {
      const v = b.f32[c * BLOCK_ROWS + i];
      row[F32[c]] = Number.isNaN(v) && NULLABLE.has(F32[c]) ? null : v; // NaN marks "missing"
    }
    row.effective_rank = Math.exp(row.spectral_entropy as number);
    return row as unknown as TrackRow;
  }

  /** Every row as plain objects, in insertion order. */
  rows(): TrackRow[] {
    const out = new Array<TrackRow>(this.#length);
    for (let i = 0; i < this.#length; i++) out[i] = this.row(i);
    return out;
  }

  /** One column as a new Float64Array (for jump detection and column-wise export). */
  column(name: keyof TrackRow): Float64Array {
    const out = new Float64Array(this.#length);
    if (name === "effective_rank") {
      const entropy = this.column("spectral_entropy");
      for (let i = 0; i < out.length; i++) out[i] = Math.exp(entropy[i]);
      return out;
    }
    const [kind, slot] = locate(name);
    for (let i = 0; i < this.#length; i++) {
      const b = this.#blocks[Math.floor(i / BLOCK_ROWS)];
      out[i] = b[kind][slot * BLOCK_ROWS + (i % BLOCK_ROWS)];
    }
    return out;
  }
}

function locate(name: string): ["u32" | "f32", number] {
  const u = (U32 as readonly string[]).indexOf(name);
  if (u >= 0) return ["u32", u];
  const f = (F32 as readonly string[]).indexOf(name);
  if (f >= 0) return ["f32", f];
  throw new RangeError(`unknown column ${name}`);
}

function clamp(value: number): number {
  return Math.min(MAX_F32, Math.max(-MAX_F32, value));
}

function newBlock(): Block {
  const buffer = new ArrayBuffer(BLOCK_ROWS * BYTES_PER_ROW);
  return {
    u32: new Uint32Array(buffer, 0, 3 * BLOCK_ROWS),
    f32: new Float32Array(buffer, 12 * BLOCK_ROWS, 7 * BLOCK_ROWS),
  };
}
