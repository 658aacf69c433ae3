/**
 * Splits a 1-D count of workgroups into a 2-D dispatch that respects the device's
 * `maxComputeWorkgroupsPerDimension`.
 *
 * @module
 */

import { checkInteger } from "../core/validate.ts";
import type { DispatchLimits, GpuDispatch } from "./types.ts";

/** A compute dispatch: `dispatchWorkgroups(x, y)`. */
export interface DispatchSize {
  /** Workgroups along x. */
  readonly x: number;
  /** Workgroups along y. */
  readonly y: number;
}

/**
 * Lays `workgroups` out as `x * y >= workgroups` with both at most `maxPerDimension`, wasting
 * fewer than `y` workgroups. The shader recovers the linear index as
 * `workgroup_id.y * num_workgroups.x + workgroup_id.x` and returns when it is `>= workgroups`.
 *
 * @param workgroups The workgroups needed (0 gives `{ x: 0, y: 0 }`, an empty dispatch).
 * @param maxPerDimension The device's `limits.maxComputeWorkgroupsPerDimension`.
 * @returns The dispatch size.
 * @throws {TypeError} When an argument is not a whole number.
 * @throws {RangeError} When `workgroups` exceeds `maxPerDimension` squared: split the work.
 * @example
 * ```ts
 * import { dispatchSize } from "./dispatch.ts";
 * import assert from "node:assert";
 * assert(dispatchSize(100, 65535).x === 100);
 * const { x, y } = dispatchSize(70000, 65535);
 * assert(y === 2 && x === 35000);
 * ```
 */
export function dispatchSize(workgroups: number, maxPerDimension: number): DispatchSize {
  checkInteger("workgroups", workgroups);
  checkInteger("maxPerDimension", maxPerDimension, 1);
  if (workgroups === 0) return { x: 0, y: 0 };
  const y = Math.ceil(workgroups / maxPerDimension);
  if (y > maxPerDimension) {
    throw new RangeError(
      `Cannot dispatch ${workgroups} workgroups: at most ${maxPerDimension} x ` +
        `${maxPerDimension} fit in two dimensions; split the work into smaller dispatches`,
    );
  }
  return { x: Math.ceil(workgroups / y), y };
}

/**
 * The dispatch of a program whose shader linearises `workgroup_id` as above: `workgroups`
 * laid out within `limits.maxComputeWorkgroupsPerDimension`.
 *
 * @param workgroups The workgroups that carry work.
 * @param limits The device's limits.
 * @returns `{ workgroups, x, y }`.
 * @throws {RangeError} When even two dimensions cannot hold them: split the work.
 * @example
 * ```ts
 * import { linearDispatch } from "./dispatch.ts";
 * import assert from "node:assert";
 * const d = linearDispatch(70000, { maxComputeWorkgroupsPerDimension: 65535 });
 * assert(d.workgroups === 70000 && d.x === 35000 && d.y === 2);
 * ```
 */
export function linearDispatch(workgroups: number, limits: DispatchLimits): GpuDispatch {
  return { workgroups, ...dispatchSize(workgroups, limits.maxComputeWorkgroupsPerDimension) };
}
