/**
 * How the CLI reports a pixel selection (`io/pixel_selection.ts`): the fields its result files
 * record and the note its summary line prints.
 *
 * @module
 */

import type { PixelSelection } from "../io/pixel_selection.ts";

/**
 * The selection's settings for a result file: `band_indices` (when not all bands are kept),
 * `nodata`, `scale_factor` (when not 1), `masked` (when a mask applied).
 *
 * @param selection The selection in effect.
 * @returns The fields to add to a JSON object or HDF5 attributes.
 */
export function selectionFields(selection: PixelSelection): Record<string, number | number[]> {
  const out: Record<string, number | number[]> = {};
  if (selection.bandIndices !== null) out.band_indices = [...selection.bandIndices];
  if (selection.nodata !== undefined) out.nodata = selection.nodata;
  if (selection.scaleFactor !== 1) out.scale_factor = selection.scaleFactor;
  if (selection.masked) out.masked = 1;
  return out;
}

/**
 * The summary line's note: `, 150 excluded (no-data -9999, mask), bands 0-9 of 30`.
 *
 * @param excluded Pixels left out.
 * @param selection The selection in effect.
 * @returns The note, empty when the selection changes nothing.
 */
export function selectionNote(excluded: number, selection: PixelSelection): string {
  if (!selection.active) return "";
  const why = [
    ...(selection.nodata === undefined ? [] : [`no-data ${selection.nodata}`]),
    ...(selection.masked ? ["mask"] : []),
  ];
  const bands = selection.bandIndices === null ? "" : `, ${selection.bands} bands selected`;
  const scale = selection.scaleFactor === 1 ? "" : `, values / ${selection.scaleFactor}`;
  const left = why.length === 0 ? "" : `, ${excluded} excluded (${why.join(", ")})`;
  return `${left}${bands}${scale}`;
}
