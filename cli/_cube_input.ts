/**
 * Opening the `--input` of a command that reads a cube file (`CUBE_FILE_OPTIONS`, and
 * `PIXEL_SELECTION_OPTIONS`): the options passed through, the layout checked, and an assumed
 * layout reported on stderr.
 *
 * @module
 */

import { UsageError } from "./_command.ts";
import { pixelSelectionOf } from "./_args.ts";
import { type CubeSource, openCubeSource } from "../io/cube_source.ts";
import { CUBE_LAYOUTS, type CubeLayout } from "../io/layout.ts";

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

/**
 * Opens `values.input`; prints the source's layout notice (what it assumed from the shape and
 * how to change it) on stderr.
 *
 * @param command The command's name, for the notice.
 * @param values The parsed options.
 * @returns The open source.
 * @throws {UsageError} When `--layout` is not a layout name, or a selection flag is malformed.
 */
export async function openCubeInput(
  command: string,
  values: CubeInputValues,
): Promise<CubeSource> {
  const layout = values.layout;
  if (layout !== undefined && !CUBE_LAYOUTS.includes(layout as CubeLayout)) {
    throw new UsageError(`--layout must be ${CUBE_LAYOUTS.join(", ")}, got "${layout}"`);
  }
  const source = await openCubeSource(values.input, {
    dataset: values.dataset,
    allowExternal: values["allow-external"],
    layout: layout as CubeLayout | undefined,
    ...pixelSelectionOf(values),
  });
  if (source.layoutNotice !== undefined) {
    console.error(`prism ${command}: note: ${source.layoutNotice}`);
  }
  return source;
}
