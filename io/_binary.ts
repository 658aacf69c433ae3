/**
 * Sample types shared by the binary formats (`.npy`, ENVI): sizes, decoding from either byte
 * order, and exact positioned reads from an open file.
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";
import { checkInteger } from "../core/validate.ts";

/**
 * The element types the readers support, in numpy's kind+size spelling (`b1` is numpy's bool:
 * one byte, 0 or 1).
 */
export type SampleType =
  | "f2"
  | "f4"
  | "f8"
  | "i1"
  | "i2"
  | "i4"
  | "i8"
  | "u1"
  | "u2"
  | "u4"
  | "u8"
  | "b1";

/** A typed array holding one of the {@linkcode SampleType}s (`b1` in a `Uint8Array`). */
export type SampleArray =
  | Float16Array
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** How samples are encoded: the element type and the byte order. */
export interface SampleLayout {
  /** The element type. */
  readonly type: SampleType;
  /** Whether the bytes are little-endian. */
  readonly littleEndian: boolean;
}

/** A byte range of a file, and the file's name for messages. */
export interface ByteRange {
  /** Byte offset of the first byte. */
  readonly position: number;
  /** Bytes to read. */
  readonly length: number;
  /** The file's name for messages. */
  readonly name: string;
}

/** Rows `start .. start + count - 1` along the first axis. */
export interface RowSlice {
  /** First row. */
  readonly start: number;
  /** Rows wanted. */
  readonly count: number;
}

/** Bytes per element of each sample type. */
export const SAMPLE_BYTES: Readonly<Record<SampleType, number>> = {
  f2: 2,
  f4: 4,
  f8: 8,
  i1: 1,
  i2: 2,
  i4: 4,
  i8: 8,
  u1: 1,
  u2: 2,
  u4: 4,
  u8: 8,
  b1: 1,
};

/** numpy's names for the sample types, used as the `dtype` the readers report. */
export const SAMPLE_NAMES: Readonly<Record<SampleType, string>> = {
  f2: "float16",
  f4: "float32",
  f8: "float64",
  i1: "int8",
  i2: "int16",
  i4: "int32",
  i8: "int64",
  u1: "uint8",
  u2: "uint16",
  u4: "uint32",
  u8: "uint64",
  b1: "bool",
};

/** Whether a sample type holds integers (bool included): what label arrays are made of. */
export function isIntegerSample(type: SampleType): boolean {
  return !type.startsWith("f");
}

// b1 shares Uint8Array with u1; it comes last so sampleTypeOf() reports a Uint8Array as u1.
const CONSTRUCTORS = {
  f2: Float16Array,
  f4: Float32Array,
  f8: Float64Array,
  i1: Int8Array,
  i2: Int16Array,
  i4: Int32Array,
  i8: BigInt64Array,
  u1: Uint8Array,
  u2: Uint16Array,
  u4: Uint32Array,
  u8: BigUint64Array,
  b1: Uint8Array,
} as const;

// Typed arrays use the host's byte order; every platform Deno runs on is little-endian, and this
// check keeps a big-endian host correct rather than silently wrong.
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Returns the sample type of a typed array, or `undefined` when it is none of them.
 *
 * @param data The array.
 * @returns Its sample type.
 */
export function sampleTypeOf(data: unknown): SampleType | undefined {
  for (const [type, ctor] of Object.entries(CONSTRUCTORS)) {
    if (data instanceof ctor) return type as SampleType;
  }
  return undefined;
}

/**
 * Decodes `bytes` into a fresh typed array of `type` (always a copy, so the result is aligned and
 * independent of the source buffer).
 *
 * @param bytes Exactly `n * SAMPLE_BYTES[type]` bytes.
 * @param layout The element `type` and the byte order (`littleEndian`) of `bytes`.
 * @returns The values.
 */
export function decodeSamples(bytes: Uint8Array, layout: SampleLayout): SampleArray {
  const { type, littleEndian } = layout;
  const size = SAMPLE_BYTES[type];
  const n = Math.floor(bytes.length / size);
  const out = new CONSTRUCTORS[type](n);
  const raw = new Uint8Array(out.buffer);
  raw.set(bytes.subarray(0, n * size));
  if (littleEndian !== HOST_LITTLE_ENDIAN && size > 1) swapBytes(raw, size);
  return out;
}

/**
 * Decodes `bytes` of any sample type into float32 (float64 and 32- and 64-bit integers are
 * rounded to nearest).
 *
 * @param bytes The encoded values.
 * @param layout The element `type` and the byte order (`littleEndian`) of `bytes`.
 * @returns The values as float32.
 */
export function decodeToFloat32(bytes: Uint8Array, layout: SampleLayout): Float32Array {
  const samples = decodeSamples(bytes, layout);
  if (samples instanceof Float32Array) return samples;
  return toFloat32(samples);
}

/**
 * Converts samples of any type to float32 (a copy; 64-bit integers through `Number`, so the
 * rounding is to nearest like every other type).
 *
 * @param samples The values.
 * @returns The values as float32.
 */
export function toFloat32(samples: SampleArray): Float32Array {
  const out = new Float32Array(samples.length);
  if (samples instanceof BigInt64Array || samples instanceof BigUint64Array) {
    for (let i = 0; i < samples.length; i++) out[i] = Number(samples[i]);
  } else out.set(samples);
  return out;
}

/**
 * Encodes a typed array as little-endian bytes (a copy).
 *
 * @param data The values.
 * @returns Their little-endian bytes.
 */
export function encodeLittleEndian(data: SampleArray): Uint8Array {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  if (!HOST_LITTLE_ENDIAN && data.BYTES_PER_ELEMENT > 1) swapBytes(raw, data.BYTES_PER_ELEMENT);
  return raw;
}

function swapBytes(raw: Uint8Array, size: number): void {
  for (let i = 0; i < raw.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = raw[a];
      raw[a] = raw[b];
      raw[b] = t;
    }
  }
}

/**
 * Reads exactly `length` bytes at `position` of an open file.
 *
 * @param file The open file.
 * @param range `position` (byte offset from the start), `length` (bytes wanted) and `name`
 *   (the file's name for messages).
 * @returns The bytes.
 * @throws {InvalidDataError} When the file ends first.
 */
export async function readExactly(file: Deno.FsFile, range: ByteRange): Promise<Uint8Array> {
  const { position, length, name } = range;
  const out = new Uint8Array(length);
  await file.seek(position, Deno.SeekMode.Start);
  let got = 0;
  while (got < length) {
    const n = await file.read(out.subarray(got));
    if (n === null) {
      throw new InvalidDataError(
        `${name} is truncated: too few bytes at offset ${position}: expected ${length} got ${got}; ` +
          `the file was cut short, write it again`,
      );
    }
    got += n;
  }
  return out;
}

/**
 * Runs async tasks one after another even when they are started together, because a file's
 * seek-then-read pair must not interleave with another.
 *
 * @returns A function that queues a task and resolves with its result.
 */
export function serialQueue(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}

/**
 * Checks a slice `[start, start + count)` along an axis of `rows` entries.
 *
 * @param slice `start` (first row) and `count` (rows wanted).
 * @param rows Rows available.
 * @throws {TypeError} When either is not a whole number.
 * @throws {RangeError} When the slice leaves `[0, rows]`.
 */
export function checkRowRange(slice: RowSlice, rows: number): void {
  const { start, count } = slice;
  checkInteger("start", start, 0, rows);
  checkInteger("count", count, 0, rows - start);
}
