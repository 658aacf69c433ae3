/**
 * Reads and appends WebAssembly custom sections without compiling the module.
 *
 * @module
 */

const MAGIC = [0x00, 0x61, 0x73, 0x6d];

function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function readLeb128(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (at >= bytes.length || shift > 28) {
      throw new TypeError(`malformed LEB128 number at byte ${at} of the module`);
    }
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

function checkHeader(module: Uint8Array): void {
  if (module.length < 8 || MAGIC.some((b, i) => module[i] !== b)) {
    throw new TypeError("not a WebAssembly module: the file does not start with \\0asm");
  }
}

/**
 * Returns a copy of `module` with a custom section appended at the end.
 *
 * @param module The module's bytes.
 * @param name The section name.
 * @param payload The section contents.
 * @returns The new module bytes.
 * @throws {TypeError} When `module` does not start with the WebAssembly magic number.
 * @example
 * ```ts
 * import { appendCustomSection, readCustomSection } from "./_custom_section.ts";
 * import assert from "node:assert";
 * const empty = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
 * const out = appendCustomSection(empty, "note", new TextEncoder().encode("hi"));
 * assert(WebAssembly.validate(out));
 * assert(new TextDecoder().decode(readCustomSection(out, "note")) === "hi");
 * ```
 */
export function appendCustomSection(
  module: Uint8Array,
  name: string,
  payload: Uint8Array,
): Uint8Array<ArrayBuffer> {
  checkHeader(module);
  const nameBytes = new TextEncoder().encode(name);
  const body = [...leb128(nameBytes.length), ...nameBytes];
  const size = leb128(body.length + payload.length);
  const out = new Uint8Array(module.length + 1 + size.length + body.length + payload.length);
  out.set(module, 0);
  let at = module.length;
  out[at++] = 0;
  out.set(size, at);
  at += size.length;
  out.set(body, at);
  out.set(payload, at + body.length);
  return out;
}

/**
 * Finds the first custom section called `name`.
 *
 * @param module The module's bytes.
 * @param name The section name.
 * @returns The section's payload (a view into `module`), or `undefined` when there is none.
 * @throws {TypeError} When the bytes are not a well-formed sequence of WebAssembly sections.
 * @example
 * ```ts
 * import { readCustomSection } from "./_custom_section.ts";
 * import assert from "node:assert";
 * const empty = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
 * assert(readCustomSection(empty, "note") === undefined);
 * ```
 */
export function readCustomSection(module: Uint8Array, name: string): Uint8Array | undefined {
  checkHeader(module);
  const decoder = new TextDecoder();
  let at = 8;
  while (at < module.length) {
    const id = module[at];
    const [size, start] = readLeb128(module, at + 1);
    const end = start + size;
    if (end > module.length) {
      throw new TypeError(`section ${id} at byte ${at} runs past the end of the module`);
    }
    if (id === 0) {
      const [nameLength, nameStart] = readLeb128(module, start);
      const sectionName = decoder.decode(module.subarray(nameStart, nameStart + nameLength));
      if (sectionName === name) return module.subarray(nameStart + nameLength, end);
    }
    at = end;
  }
  return undefined;
}
