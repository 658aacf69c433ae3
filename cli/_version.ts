/**
 * prism's version for the CLI (kept in `core/version.ts`, which saved states use too).
 *
 * @module
 */

export { PRISM } from "../core/version.ts";
