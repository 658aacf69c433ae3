/**
 * Benchmarks of `prism_eigh_f64` (Householder + QL in wasm f64x2) by matrix order, eigenvalues
 * only and with eigenvectors, and of `prism_eigvalsh_f64` (the same reduction, root-free QL),
 * against a plain scalar TypeScript Householder + QL (`baseline`). numpy's `np.linalg.eigvalsh`
 * is timed once at start-up through python3 (when present) and printed, since a subprocess
 * cannot be timed fairly inside `Deno.bench`.
 */

import { loadKernels } from "../wasm/loader.ts";
import { uniform } from "../synth/uniform.ts";
import { QUICK } from "./_config.ts";
import { printNumpyTiming } from "./_numpy.ts";

const SIZES = QUICK ? [32, 64] : [128, 256, 512, 1024];
const kernels = await loadKernels();
const ex = kernels.exports;

/** A seeded random symmetric matrix (full storage). */
function symmetric(n: number): Float64Array {
  const next = uniform(12345, { lo: -0.5, hi: 0.5 });
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = next();
  return a;
}

/** Eigenvalues by the same algorithm in scalar float64 TypeScript (EISPACK tred1 + tql1). */
function scalarEigvals(input: Float64Array, n: number): Float64Array {
  const a = input.slice();
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k < n - 1; k++) {
    const m = n - k - 1;
    const o = k * n + k + 1;
    let xn = 0;
    for (let j = 1; j < m; j++) xn += a[o + j] * a[o + j];
    const alpha = a[o];
    d[k] = a[k * n + k];
    if (xn === 0) {
      e[k] = alpha;
      continue;
    }
    const beta = -Math.sign(alpha || 1) * Math.hypot(alpha, Math.sqrt(xn));
    const tau = (beta - alpha) / beta;
    for (let j = 1; j < m; j++) a[o + j] /= alpha - beta;
    a[o] = 1;
    e[k] = beta;
    p.fill(0, 0, m);
    for (let r = 0; r < m; r++) {
      const i = k + 1 + r;
      const vi = a[o + r];
      let s = a[i * n + i] * vi;
      for (let c = r + 1; c < m; c++) {
        const x = a[i * n + k + 1 + c];
        s += x * a[o + c];
        p[c] += x * vi;
      }
      p[r] += s;
    }
    let pv = 0;
    for (let r = 0; r < m; r++) pv += (p[r] *= tau) * a[o + r];
    for (let r = 0; r < m; r++) p[r] -= 0.5 * tau * pv * a[o + r];
    for (let r = 0; r < m; r++) {
      const i = k + 1 + r;
      for (let c = r; c < m; c++) a[i * n + k + 1 + c] -= a[o + r] * p[c] + p[r] * a[o + c];
    }
  }
  d[n - 1] = a[n * n - 1];
  e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    for (let iter = 0; iter < 30 * n; iter++) {
      let m = l;
      while (m + 1 < n && Math.abs(e[m]) > Number.EPSILON * (Math.abs(d[m]) + Math.abs(d[m + 1]))) {
        m++;
      }
      if (m === l) break;
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1, c = 1, q = 0, i = m - 1;
      for (; i >= l; i--) {
        const f = s * e[i], b = c * e[i];
        e[i + 1] = r = Math.hypot(f, g);
        if (r === 0) break;
        s = f / r;
        c = g / r;
        g = d[i + 1] - q;
        r = (d[i] - g) * s + 2 * c * b;
        q = s * r;
        d[i + 1] = g + q;
        g = c * r - b;
      }
      if (r === 0 && i >= l) {
        d[i + 1] -= q;
        e[m] = 0;
        continue;
      }
      d[l] -= q;
      e[l] = g;
      e[m] = 0;
    }
  }
  return d.sort().reverse();
}

function numpyEigvalsh(): void {
  const script = [
    "import time, numpy as np",
    `for n in ${JSON.stringify(SIZES)}:`,
    "  a = np.random.default_rng(0).standard_normal((n, n)); a = a + a.T",
    "  np.linalg.eigvalsh(a); ts = []",
    "  for _ in range(7):",
    "    t = time.perf_counter(); np.linalg.eigvalsh(a); ts.append(time.perf_counter() - t)",
    "  print(f'numpy eigvalsh n={n}: median {1e3 * sorted(ts)[3]:.2f} ms')",
  ].join("\n");
  printNumpyTiming(script);
}
numpyEigvalsh();

for (const n of SIZES) {
  const a = symmetric(n);
  const pa = kernels.alloc(n * n * 8);
  const pv = kernels.alloc(n * 8);
  const pz = kernels.alloc(n * n * 8);
  const ps = kernels.alloc(ex.prism_eigh_f64_scratch_len(n) * 8);
  const run = (vectors: boolean) => {
    kernels.f64(pa, n * n).set(a);
    kernels.check("prism_eigh_f64", ex.prism_eigh_f64(pa, n, pv, vectors ? pz : 0, ps));
  };
  const pq = kernels.alloc(ex.prism_eigvalsh_f64_scratch_len(n) * 8);
  const group = `eigh n=${n}`;
  Deno.bench(
    `scalar TypeScript eigenvalues n=${n}`,
    { group, baseline: true, n: n > 256 ? 3 : 10 },
    () => {
      scalarEigvals(a, n);
    },
  );
  Deno.bench(`wasm eigenvalues n=${n}`, { group }, () => run(false));
  Deno.bench(`wasm eigenvalues, root-free QL (prism_eigvalsh_f64) n=${n}`, { group }, () => {
    kernels.f64(pa, n * n).set(a);
    kernels.check("prism_eigvalsh_f64", ex.prism_eigvalsh_f64(pa, n, pv, pq));
  });
  Deno.bench(`wasm eigenvalues + vectors n=${n}`, { group, n: n > 256 ? 3 : 10 }, () => run(true));
}
