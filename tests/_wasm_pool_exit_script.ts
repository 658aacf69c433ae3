// Used by tests/wasm_pool_test.ts: runs a job on the shared pool and never calls close().
import { defaultPool } from "../wasm/pool.ts";

const data = new Float32Array([1, 2, 3, 4, 5, 6]);
const sums = await defaultPool().run<Float64Array>("column_sums", { data, rows: 2, cols: 3 });
console.log(JSON.stringify(Array.from(sums)));
