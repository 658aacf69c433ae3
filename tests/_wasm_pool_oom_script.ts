// Used by tests/wasm_pool_untrusted_test.ts, run with a small V8 heap: a job that exhausts its
// worker's JavaScript heap. Prints "survived" if the process outlives it.
import { WorkerPool } from "../wasm/pool.ts";

const pool = new WorkerPool({
  size: 1,
  workerUrl: new URL("./_wasm_untrusted_worker.ts", import.meta.url),
});
try {
  await pool.run("untrusted_js_heap", null);
} catch (e) {
  console.log(`survived: ${e}`);
} finally {
  pool.close();
}
