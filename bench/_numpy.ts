/**
 * The numpy reference timings the benchmarks print beside Deno's table: a python3 subprocess
 * cannot be timed fairly inside `Deno.bench`, so its script times itself once at start-up.
 *
 * @module
 */

/**
 * Runs `python3 -c script` and prints what it printed, or why the numpy baseline was skipped
 * (python3 or numpy missing, or the script failed). Never throws.
 *
 * @param script A Python program that times numpy and prints its result.
 */
export function printNumpyTiming(script: string): void {
  try {
    const out = new Deno.Command("python3", { args: ["-c", script] }).outputSync();
    const text = new TextDecoder().decode(out.success ? out.stdout : out.stderr).trim();
    console.log(out.success ? text : `numpy baseline skipped: ${text.split("\n").at(-1)}`);
  } catch (e) {
    console.log(`numpy baseline skipped: python3 not runnable (${String(e)})`);
  }
}
