/**
 * Reads the memory a module imports (`env.memory`: its page limits and whether it is shared)
 * from the module's bytes, so the loader creates a memory that fits without a second copy of
 * the linker's settings.
 *
 * @module
 */

/** The limits of an imported memory, in 64 KiB pages. */
export interface MemoryImport {
  /** The module and field names, e.g. `"env"` and `"memory"`. */
  readonly module: string;
  readonly name: string;
  /** Pages the memory must have at instantiation. */
  readonly initial: number;
  /** Pages it may grow to, when declared. */
  readonly maximum?: number;
  /** Whether the module expects a shared memory (threads). */
  readonly shared: boolean;
}

const IMPORT_SECTION = 2;

/**
 * Finds the memory import of a WebAssembly module.
 *
 * @param bytes The module's bytes.
 * @returns The import, or `undefined` when the module defines its own memory.
 * @throws {TypeError} When the bytes are not a well-formed module.
 * @example
 * ```ts
 * import { memoryImport } from "./_memory_import.ts";
 * import assert from "node:assert";
 * const bytes = await Deno.readFile(new URL("./prism.wasm", import.meta.url));
 * const memory = memoryImport(bytes);
 * assert(memory !== undefined && memory.shared);
 * ```
 */
export function memoryImport(bytes: Uint8Array): MemoryImport | undefined {
  const reader = new Reader(bytes);
  if (bytes.length < 8 || reader.u32le() !== 0x6d736100) {
    throw new TypeError("not a WebAssembly module: the bytes do not start with \\0asm");
  }
  reader.u32le(); // version
  while (!reader.done()) {
    const id = reader.byte();
    const size = reader.leb();
    const end = reader.at + size;
    if (id === IMPORT_SECTION) return readImports(reader);
    reader.at = end;
  }
  return undefined;
}

function readImports(reader: Reader): MemoryImport | undefined {
  const count = reader.leb();
  for (let i = 0; i < count; i++) {
    const module = reader.name();
    const name = reader.name();
    const kind = reader.byte();
    if (kind === 0) reader.leb(); // function: type index
    else if (kind === 1) { // table: element type, limits
      reader.byte();
      reader.limits();
    } else if (kind === 2) return { module, name, ...reader.limits() };
    else if (kind === 3) { // global: value type, mutability
      reader.byte();
      reader.byte();
    } else throw new TypeError(`unknown import kind ${kind} in the module's import section`);
  }
  return undefined;
}

/** A cursor over a module's bytes (also used by `scripts/_wasm_signatures.ts`). */
export class Reader {
  at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  done(): boolean {
    return this.at >= this.bytes.length;
  }
  byte(): number {
    if (this.at >= this.bytes.length) throw new TypeError("the module ends in mid-section");
    return this.bytes[this.at++];
  }
  u32le(): number {
    return (this.byte() | this.byte() << 8 | this.byte() << 16 | this.byte() << 24) >>> 0;
  }
  leb(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
    throw new TypeError(`malformed LEB128 number at byte ${this.at} of the module`);
  }
  name(): string {
    const length = this.leb();
    const text = new TextDecoder().decode(this.bytes.subarray(this.at, this.at + length));
    this.at += length;
    return text;
  }
  limits(): { initial: number; maximum?: number; shared: boolean } {
    const flags = this.byte();
    const initial = this.leb();
    const maximum = flags & 1 ? this.leb() : undefined;
    return { initial, maximum, shared: (flags & 2) !== 0 };
  }
}
