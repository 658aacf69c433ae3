/**
 * The WGSL entry every program shares: `main` with its workgroup builtins, the linear index of
 * its workgroup in a dispatch laid out by `linearDispatch()` (`../dispatch.ts`), and the early
 * return of the workgroups the layout rounds up.
 *
 * @module
 */

/**
 * The entry's opening up to and including the early return; the program's body and closing
 * brace follow. Defines `group` (the linear workgroup index) and `local` (the thread in the
 * workgroup); the program's uniform `params` needs a `workgroups: u32` field.
 *
 * @param workgroupSize The `@workgroup_size` arguments, e.g. `"TILE, TILE"`.
 * @returns WGSL text.
 * @example
 * ```ts
 * import { linearEntry } from "./_entry.ts";
 * import assert from "node:assert";
 * assert(linearEntry("WG").startsWith("@compute @workgroup_size(WG)"));
 * ```
 */
export function linearEntry(workgroupSize: string): string {
  return `@compute @workgroup_size(${workgroupSize})
fn main(
  @builtin(workgroup_id) group_id: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_id) local: vec3u,
) {
  // Uniform per workgroup, so barriers after this return stay in uniform control flow.
  let group = group_id.y * groups.x + group_id.x;
  if (group >= params.workgroups) {
    return;
  }`;
}
