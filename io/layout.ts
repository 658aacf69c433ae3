/**
 * Which axis of a pixel array holds the bands: named by the caller (`layout`), by the file (an
 * HDF5 dataset's `layout`, `axes` or `DIMENSION_LABELS` attribute), or inferred from the shape by
 * one documented rule, with a notice whenever the rule had to assume.
 *
 * The rule for a 3-D array `(A, B, D)` that names no layout (for 4-D, the same rule on the axes
 * after the first, giving `nhwc` or `nchw`):
 * 1. an integer or bool 3-D array is refused: `N × H × W` labels and an `H × W × C` integer image
 *    have the same shape, so only the caller can tell them apart;
 * 2. `D` smaller than `A` and `B`, or an axis of 0 (no pixels to read): bands last (`hwc`),
 *    nothing assumed;
 * 3. `A` smaller than `B` and `D`, and `D ≥ B`: bands first (`chw`), assumed (notice);
 * 4. `A` and `D` both smaller than `B` (either could be the bands): refused, a coin toss;
 * 5. anything else (ties, the middle axis smallest): bands last (`hwc`), assumed (notice).
 *
 * HDF5 attributes on the dataset, read in this order:
 * - `layout`: one of `hwc`, `chw`, `nhwc`, `nchw` (any letter case);
 * - `axes` or `DIMENSION_LABELS` (what h5py's `dims[i].label` writes): one name per axis, either
 *   a list of strings or one string of one letter per axis (`"CHW"`). The bands axis is named
 *   `c`, `band(s)`, `channel(s)`, `spectral`, `wavelength` or `lambda`; in 4-D the first axis is
 *   the sample index. The bands axis must be first (after the samples) or last.
 *
 * @module
 */

import { InvalidDataError } from "../core/errors.ts";

/** Where the bands are: `h w c` (bands last) or `c h w` (bands first), with `n` samples first. */
export type CubeLayout = "hwc" | "chw" | "nhwc" | "nchw";

/** How the layout of a source was decided. */
export type LayoutOrigin = "option" | "attribute" | "interleave" | "shape";

/** The layout decided for a file. */
export interface LayoutChoice {
  /** The layout; `"pixels"` for a 2-D `pixels × bands` array. */
  readonly layout: CubeLayout | "pixels";
  /** What decided it. */
  readonly origin: LayoutOrigin;
  /**
   * Set when the layout was assumed from the shape: what was assumed and how to say otherwise.
   * The CLI prints it on stderr.
   */
  readonly notice?: string;
}

/** What {@linkcode chooseLayout} looks at besides the shape. */
export interface LayoutQuery {
  /** The caller's layout, if any (`--layout`). */
  readonly layout?: CubeLayout;
  /** numpy's name of the element type (`int32`, `bool`, `float32`, ...). */
  readonly dtype: string;
  /** The array's attributes (HDF5), if the format has them. */
  readonly attrs?: Readonly<Record<string, unknown>>;
  /** The file (and dataset) for messages. */
  readonly name: string;
}

/** Every layout name, for messages and checks. */
export const CUBE_LAYOUTS: readonly CubeLayout[] = ["hwc", "chw", "nhwc", "nchw"];

const BAND_NAMES = new Set([
  "c",
  "band",
  "bands",
  "channel",
  "channels",
  "spectral",
  "wavelength",
  "lambda",
]);

/**
 * Decides the layout of an array of `shape` (see the module documentation for the rule).
 *
 * @param shape The array's shape, 2 to 4 axes.
 * @param query The caller's `layout`, the `dtype`, the file's `attrs` and its `name`.
 * @returns The layout, what decided it, and a notice when it was assumed.
 * @throws {TypeError} When `layout` is not a layout name or does not fit the number of axes, a
 *   3-D integer array names no layout, the shape is a coin toss, or the caller's layout
 *   contradicts the file's attribute.
 * @throws {InvalidDataError} When a layout attribute is malformed (names the attribute).
 * @example
 * ```ts
 * import { chooseLayout } from "./layout.ts";
 * import assert from "node:assert";
 * assert.equal(chooseLayout([30, 20, 6], { dtype: "float32", name: "a.npy" }).layout, "hwc");
 * const guess = chooseLayout([6, 20, 30], { dtype: "float32", name: "b.npy" });
 * assert(guess.layout === "chw" && guess.notice?.includes("--layout"));
 * assert.throws(() => chooseLayout([6, 30, 20], { dtype: "float32", name: "c.npy" }), TypeError);
 * ```
 */
export function chooseLayout(shape: readonly number[], query: LayoutQuery): LayoutChoice {
  const { layout, dtype, attrs, name } = query;
  if (layout !== undefined && !CUBE_LAYOUTS.includes(layout)) {
    throw new TypeError(
      `layout must be one of ${CUBE_LAYOUTS.join(", ")}, got ${JSON.stringify(layout)}`,
    );
  }
  const ndim = shape.length;
  const fromFile = attrs === undefined ? undefined : layoutOfAttrs(attrs, ndim, name);
  if (ndim === 2) {
    if (layout !== undefined) {
      throw new TypeError(
        `${name} is 2-D (pixels x bands), which has no image layout; drop --layout ${layout}`,
      );
    }
    return { layout: "pixels", origin: "shape" };
  }
  if (layout !== undefined) {
    if (layout.length !== ndim) {
      throw new TypeError(
        `--layout ${layout} needs a ${layout.length}-D array, but ${name} has shape ` +
          `[${shape.join(", ")}]: use ${ndim === 3 ? "hwc or chw" : "nhwc or nchw"}`,
      );
    }
    if (fromFile !== undefined && fromFile.layout !== layout) {
      throw new TypeError(
        `${name} says its layout is ${fromFile.layout} (${fromFile.attribute} attribute), but ` +
          `--layout ${layout} was given: drop --layout, or correct the attribute`,
      );
    }
    return { layout, origin: "option" };
  }
  if (fromFile !== undefined) return { layout: fromFile.layout, origin: "attribute" };
  const [a, b, d] = shape.slice(-3);
  const n = ndim === 4 ? "n" : "";
  const dims = `[${shape.join(", ")}]`;
  if (ndim === 3 && /^(u?int|bool)/.test(dtype)) {
    throw new TypeError(
      `${name} is a 3-D ${dtype} array ${dims}: integer arrays of this shape are often ` +
        `N x H x W labels, not an image, so prism does not guess. If it is an image, pass ` +
        `--layout hwc (bands last) or --layout chw (bands first); labels are not pixel data`,
    );
  }
  if ((d < a && d < b) || shape.includes(0)) {
    return { layout: `${n}hwc` as CubeLayout, origin: "shape" };
  }
  const how = (what: string, other: string) =>
    `${name} ${dims}: assumed ${what}; if that is wrong pass --layout ${n}${other} ` +
    `(layout: "${n}${other}" in the API)`;
  if (a < b && a < d && d >= b) {
    return {
      layout: `${n}chw` as CubeLayout,
      origin: "shape",
      notice: how(`bands first (${n}chw: ${a} bands of ${b} x ${d})`, "hwc"),
    };
  }
  if (a < b && d < b) {
    throw new TypeError(
      `${name} has shape ${dims}: its ${ndim === 4 ? "second" : "first"} axis (${a}) and last ` +
        `axis (${d}) could both be the bands, so prism does not guess: pass --layout ${n}hwc ` +
        `(bands last) or --layout ${n}chw (bands first)`,
    );
  }
  return {
    layout: `${n}hwc` as CubeLayout,
    origin: "shape",
    notice: how(`bands last (${n}hwc: ${a} x ${b} pixels of ${d} bands)`, "chw"),
  };
}

/** The layout an HDF5 `layout`, `axes` or `DIMENSION_LABELS` attribute names, if any. */
function layoutOfAttrs(
  attrs: Readonly<Record<string, unknown>>,
  ndim: number,
  name: string,
): { layout: CubeLayout; attribute: string } | undefined {
  const bad = (attribute: string, what: string) =>
    new InvalidDataError(
      `${name}: its '${attribute}' attribute ${what}; expected ${
        attribute === "layout"
          ? `one of ${CUBE_LAYOUTS.join(", ")}`
          : `one name per axis (a list, or one letter per axis such as "CHW") with the bands ` +
            `axis (c, band, channel, spectral, wavelength) first or last`
      }. Correct it, or delete it and pass --layout`,
    );
  if (Object.hasOwn(attrs, "layout")) {
    const value = attrs.layout;
    const layout = typeof value === "string" ? value.trim().toLowerCase() : "";
    if (!CUBE_LAYOUTS.includes(layout as CubeLayout)) {
      throw bad("layout", `is ${JSON.stringify(value)}`);
    }
    if (layout.length !== ndim) throw bad("layout", `is ${layout} but the array is ${ndim}-D`);
    return { layout: layout as CubeLayout, attribute: "layout" };
  }
  for (const attribute of ["axes", "DIMENSION_LABELS"]) {
    if (!Object.hasOwn(attrs, attribute)) continue;
    const value = attrs[attribute];
    const labels = typeof value === "string" && value.trim().length === ndim
      ? [...value.trim()]
      : Array.isArray(value) && value.every((v) => typeof v === "string")
      ? value as string[]
      : undefined;
    if (labels === undefined || labels.length !== ndim) {
      throw bad(attribute, `is ${JSON.stringify(value)} for a ${ndim}-D array`);
    }
    const band = labels.map((l) => BAND_NAMES.has(l.trim().toLowerCase()));
    if (ndim === 2) return undefined; // a pixel list: nothing to decide
    const first = ndim - 3; // the first image axis (after the samples in 4-D)
    const n = ndim === 4 ? "n" : "";
    if (band[ndim - 1] && !band[first]) {
      return { layout: `${n}hwc` as CubeLayout, attribute };
    }
    if (band[first] && !band[ndim - 1]) {
      return { layout: `${n}chw` as CubeLayout, attribute };
    }
    throw bad(attribute, `is ${JSON.stringify(value)}: no single bands axis first or last`);
  }
  return undefined;
}
