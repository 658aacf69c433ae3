/**
 * Ctrl-C and `kill` for the command line: on SIGINT or SIGTERM the temporary files of unfinished
 * writes are removed (`io/atomic.ts` keeps their list), the command says what it removed and which
 * outputs it finished and kept, and the process exits with 130 (SIGINT) or 143 (SIGTERM), the
 * shell's codes for those signals.
 *
 * @module
 */

import { onAtomicCommit, removeLiveTempFiles } from "../io/atomic.ts";

/** The exit code for a signal: 128 + its number. */
export const SIGNAL_EXIT_CODES: Readonly<Record<"SIGINT" | "SIGTERM", number>> = {
  SIGINT: 130,
  SIGTERM: 143,
};

/**
 * Installs the SIGINT and SIGTERM handlers for `command` until the returned handle is disposed.
 *
 * @param command The command's name, for the message (`prism synth: interrupted …`).
 * @param options `exit` (default `Deno.exit`) and `print` (default `console.error`), replaceable
 *   for tests.
 * @returns A handle: `interrupt(signal)` runs the handler (what a signal does), and disposing it
 *   removes the listeners.
 * @throws Never: a signal the platform cannot listen to (SIGTERM on Windows) is skipped.
 * @example
 * ```ts
 * import { handleInterrupts } from "./_signals.ts";
 * import assert from "node:assert";
 * const codes: number[] = [];
 * const lines: string[] = [];
 * {
 *   using signals = handleInterrupts("synth", { exit: (c) => codes.push(c), print: (l) => lines.push(l) });
 *   signals.interrupt("SIGTERM");
 * }
 * assert.deepStrictEqual(codes, [143]);
 * assert(lines[0].startsWith("prism synth: interrupted by SIGTERM"));
 * ```
 */
export function handleInterrupts(
  command: string,
  options: { exit?: (code: number) => void; print?: (line: string) => void } = {},
): Disposable & { interrupt(signal: "SIGINT" | "SIGTERM"): void } {
  const exit = options.exit ?? ((code: number) => Deno.exit(code));
  const print = options.print ?? ((line: string) => console.error(line));
  const kept: string[] = [];
  const stopWatching = onAtomicCommit((path) => kept.push(path));
  const interrupt = (signal: "SIGINT" | "SIGTERM") => {
    // A command that can stop cleanly gets the first signal; the second one quits at once.
    if (graceful.size > 0) {
      for (const stop of graceful) stop.abort(new Error(`interrupted by ${signal}`));
      graceful.clear();
      print(
        `prism ${command}: ${signal}: finishing the current step and keeping what is done; ` +
          "send it again to quit now",
      );
      return;
    }
    print(interruptMessage(command, { signal, removed: removeLiveTempFiles(), kept }));
    exit(SIGNAL_EXIT_CODES[signal]);
  };
  const listeners: [Deno.Signal, () => void][] = [];
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const listener = () => interrupt(signal);
    try {
      Deno.addSignalListener(signal, listener);
      listeners.push([signal, listener]);
    } catch {
      // Not supported here (Windows has no SIGTERM): the default action stays.
    }
  }
  return {
    interrupt,
    [Symbol.dispose]() {
      stopWatching();
      for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
    },
  };
}

/** The stops of the commands that finish cleanly on a first signal (see {@linkcode stopOnInterrupt}). */
const graceful = new Set<AbortController>();

/**
 * Lets a command stop cleanly on Ctrl-C instead of exiting: while the handle lives, the first
 * SIGINT or SIGTERM (under {@linkcode handleInterrupts}) aborts its signal and is otherwise
 * ignored; a second one exits as usual. The command checks the signal between steps, keeps
 * what is done and writes its outputs.
 *
 * @returns `signal` (aborted on the first interrupt) and disposal, which stops listening.
 * @throws Never.
 * @example
 * ```ts
 * import { handleInterrupts, stopOnInterrupt } from "./_signals.ts";
 * import assert from "node:assert";
 * const codes: number[] = [];
 * using signals = handleInterrupts("stress", { exit: (c) => codes.push(c), print: () => {} });
 * using stop = stopOnInterrupt();
 * signals.interrupt("SIGINT");
 * assert(stop.signal.aborted && codes.length === 0);
 * signals.interrupt("SIGINT");
 * assert.deepStrictEqual(codes, [130]);
 * ```
 */
export function stopOnInterrupt(): Disposable & { readonly signal: AbortSignal } {
  const controller = new AbortController();
  graceful.add(controller);
  return {
    signal: controller.signal,
    [Symbol.dispose]() {
      graceful.delete(controller);
    },
  };
}

/**
 * What an interrupted command prints: the signal, the unfinished files removed (their targets
 * untouched) and the finished outputs kept.
 *
 * @param command The command's name.
 * @param state `signal`, the `removed` temporary files with their targets, the `kept` outputs.
 * @returns The message, one line per file.
 * @throws Never.
 * @example
 * ```ts
 * import { interruptMessage } from "./_signals.ts";
 * import assert from "node:assert";
 * const text = interruptMessage("synth", {
 *   signal: "SIGINT", removed: [{ tmp: ".x.h5.1.tmp", target: "x.h5" }], kept: [],
 * });
 * assert(text.includes("removed the unfinished .x.h5.1.tmp") && text.includes("kept: nothing"));
 * ```
 */
export function interruptMessage(
  command: string,
  state: {
    signal: string;
    removed: readonly { tmp: string; target: string }[];
    kept: readonly string[];
  },
): string {
  const { signal, removed, kept } = state;
  const lines = [`prism ${command}: interrupted by ${signal}`];
  for (const { tmp, target } of removed) {
    lines.push(
      `  removed the unfinished ${tmp}; ${target} was not written (a file already there keeps ` +
        `its old content)`,
    );
  }
  lines.push(
    kept.length === 0
      ? "  kept: nothing (no output was finished)"
      : `  kept (finished before the interrupt): ${kept.join(", ")}`,
  );
  return lines.join("\n");
}

/**
 * Lets pending signal handlers run. A loop whose every `await` is on an already-settled promise
 * (a generator doing CPU work, synchronous h5wasm writes) never returns to the event loop, so a
 * Ctrl-C would wait for the loop's end; long loops call this once per unit of work.
 *
 * @returns Resolves on the next turn of the event loop.
 * @throws Never.
 * @example
 * ```ts
 * import { yieldToSignals } from "./_signals.ts";
 * await yieldToSignals();
 * ```
 */
export function yieldToSignals(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
