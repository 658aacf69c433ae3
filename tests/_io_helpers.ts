/**
 * Helpers of the io/ and synth/ tests: python3 cross-checks (numpy, h5py, csv), error
 * assertions, temporary folders.
 * Tests that need it are skipped (with a printed reason) when python3 or a module is missing.
 *
 * @module
 */

/**
 * Runs `python3 -c code args...` and returns its stdout; throws with stderr on failure.
 *
 * @param code The Python program.
 * @param args Values for `sys.argv[1:]`.
 * @returns What it printed.
 */
export async function python(code: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("python3", { args: ["-c", code, ...args] }).output();
  const text = new TextDecoder();
  if (!out.success) throw new Error(`python3 failed: ${text.decode(out.stderr)}`);
  return text.decode(out.stdout);
}

async function hasModules(modules: string): Promise<boolean> {
  try {
    await python(`import ${modules}`);
    return true;
  } catch (error) {
    console.log(
      `python3 with ${modules} is unavailable (${whyUnavailable(error)}): its cross-checks are ` +
        "skipped",
    );
    return false;
  }
}

/** Why python3 could not import the modules, in one line: no python3, or Python's last line. */
function whyUnavailable(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no python3 on PATH";
  const lines = String((error as Error).message ?? error).trim().split("\n");
  return lines[lines.length - 1].trim();
}

/**
 * The first Python that imports `modules`: `python3` on PATH, else Debian's `/usr/bin/python3`
 * (where apt's `python3-distributed` goes when PATH's python3 is another install). Prints why
 * not and returns undefined when neither can.
 *
 * @param modules Comma-separated module names, e.g. `"distributed, numpy"`.
 * @returns The interpreter's command, or undefined.
 */
export async function pythonWith(modules: string): Promise<string | undefined> {
  const reasons: string[] = [];
  for (const interpreter of ["python3", "/usr/bin/python3"]) {
    try {
      const out = await new Deno.Command(interpreter, { args: ["-c", `import ${modules}`] })
        .output();
      if (out.success) return interpreter;
      const lines = new TextDecoder().decode(out.stderr).trim().split("\n");
      reasons.push(`${interpreter}: ${lines[lines.length - 1].trim()}`);
    } catch (error) {
      reasons.push(`${interpreter}: ${whyUnavailable(error)}`);
    }
  }
  console.log(`no python3 with ${modules} (${reasons.join("; ")}): its tests are skipped`);
  return undefined;
}

/** Whether python3 with numpy can run. */
export const hasNumpy: boolean = await hasModules("numpy");
/** Whether python3 with numpy and h5py can run. */
export const hasH5py: boolean = await hasModules("numpy, h5py");
/** Whether python3 with numpy, h5py and torch can run (PyTorch twin cross-checks). */
export const hasTorch: boolean = await hasModules("numpy, h5py, torch");

// deno-lint-ignore no-explicit-any
type ErrorClass = new (...args: any[]) => Error;

function matches(error: unknown, Class: ErrorClass, text: string | RegExp): boolean {
  if (!(error instanceof Class)) {
    throw new Error(`expected ${Class.name}, got ${String(error)}`, { cause: error });
  }
  const ok = typeof text === "string" ? error.message.includes(text) : text.test(error.message);
  if (!ok) throw new Error(`message ${JSON.stringify(error.message)} lacks ${String(text)}`);
  return true;
}

/**
 * Asserts that `fn` rejects with an instance of `Class` whose message contains `text`.
 *
 * @param fn The async call.
 * @param Class The expected error class.
 * @param text A substring or pattern of the message.
 * @returns The error, for further checks.
 */
export async function rejectsWith(
  fn: () => Promise<unknown>,
  Class: ErrorClass,
  text: string | RegExp = "",
): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    matches(error, Class, text);
    return error as Error;
  }
  throw new Error(`expected ${Class.name} (${String(text)}) but the call resolved`);
}

/**
 * Asserts that `fn` throws an instance of `Class` whose message contains `text`.
 *
 * @param fn The call.
 * @param Class The expected error class.
 * @param text A substring or pattern of the message.
 * @returns The error.
 */
export function throwsWith(
  fn: () => unknown,
  Class: ErrorClass,
  text: string | RegExp = "",
): Error {
  try {
    fn();
  } catch (error) {
    matches(error, Class, text);
    return error as Error;
  }
  throw new Error(`expected ${Class.name} (${String(text)}) but the call returned`);
}

/**
 * Runs `fn` with a fresh temporary folder and removes it afterwards.
 *
 * @param fn The test body.
 */
export async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "prism_io_" });
  try {
    await fn(dir);
  } finally {
    await Deno.chmod(dir, 0o700).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The names in a folder, sorted (to assert that nothing, say no temporary file, was left).
 *
 * @param dir The folder.
 * @returns Its entries' names.
 */
export async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}
