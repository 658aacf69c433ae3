/**
 * Opening the `--input` of a command that reads a cube file (`CUBE_FILE_OPTIONS`, and
 * `PIXEL_SELECTION_OPTIONS`): the HDF5 dataset chosen when `--dataset` is not given, the options
 * passed through, the layout checked, and an assumed layout reported as a note.
 *
 * @module
 */

import { type CommandOutput, UsageError } from "./_command.ts";
import { pixelSelectionOf } from "./_args.ts";
import { chooseDataset } from "./_dataset.ts";
import { type CubeSource, openCubeSource } from "../io/cube_source.ts";
import { CUBE_LAYOUTS, type CubeLayout } from "../io/layout.ts";

/** Pixels read per chunk when a command streams a cube file: about 13 MB at 50 float32 bands. */
export const CHUNK_ROWS = 65536;

/** The parsed `CUBE_FILE_OPTIONS` this needs. */
export interface CubeInputValues {
  input: string;
  dataset?: string;
  "allow-external"?: boolean;
  layout?: string;
  nodata?: string;
  mask?: string;
  "mask-dataset"?: string;
  bands?: string;
}

/** An open cube input and the HDF5 dataset it reads (undefined for other formats). */
export interface CubeInput {
  source: CubeSource;
  dataset: string | undefined;
}

/**
 * Opens `values.input`: for HDF5 without `--dataset`, its only candidate dataset (else the
 * candidates are listed); prints the source's layout notice (what it assumed from the shape and
 * how to change it) as a note.
 *
 * @param command The command's name, for the notice.
 * @param values The parsed options.
 * @param out Where the notice goes.
 * @returns The open source and its dataset.
 * @throws {UsageError} When `--layout` is not a layout name, a selection flag is malformed, or
 *   the HDF5 dataset is ambiguous.
 * @throws {RangeError} When the input holds no pixels (an axis of 0).
 */
export async function openCubeInput(
  command: string,
  values: CubeInputValues,
  out: CommandOutput,
): Promise<CubeInput> {
  const layout = values.layout;
  if (layout !== undefined && !CUBE_LAYOUTS.includes(layout as CubeLayout)) {
    throw new UsageError(`--layout must be ${CUBE_LAYOUTS.join(", ")}, got "${layout}"`);
  }
  const allowExternal = values["allow-external"];
  const dataset = await chooseDataset(values.input, {
    dataset: values.dataset,
    axes: [2, 4],
    allowExternal,
  });
  const source = await openCubeSource(values.input, {
    dataset,
    allowExternal,
    layout: layout as CubeLayout | undefined,
    ...pixelSelectionOf(values),
  });
  if (source.rows === 0) {
    source.close();
    throw new RangeError(
      `${values.input} holds no pixels (pixel shape [${source.pixelShape.join(", ")}], an axis ` +
        `of 0): there is nothing to compute; check the file`,
    );
  }
  if (source.layoutNotice !== undefined) out.note(`prism ${command}: note: ${source.layoutNotice}`);
  return { source, dataset };
}
