/**
 * PyTorch's fixtures (tests/fixtures/conv/, made by scripts/make_conv_fixtures.py) against the
 * float64 reference of tests/_conv_reference.ts: proves that prism's geometry (TensorFlow's "same",
 * explicit [top, bottom, left, right] padding, stride 2 on odd sizes, depthwise, the transposed
 * convolution as an input gradient) means what PyTorch means, so kernels held to the reference
 * are held to PyTorch. Needs neither Python nor torch: the fixtures are committed files.
 */

import assert from "node:assert";
import { convGeometry, type Padding } from "../core/conv_geometry.ts";
import { readNpy } from "../io/npy.ts";
import { convBackwardF64, convForwardF64, relativeError } from "./_conv_reference.ts";

const DIR = new URL("./fixtures/conv/", import.meta.url);
/** float32 PyTorch against float64 on at most 7·7·13 products per sum: at most 3e-7 seen. */
const TOL = 1e-5;

interface FileEntry {
  shape: number[];
  what: string;
}
interface CaseEntry {
  op: string;
  what: string;
  params: Record<string, unknown>;
  files: Record<string, FileEntry>;
}
interface Manifest {
  torch: string;
  layout: string;
  cases: Record<string, CaseEntry>;
}
type Arrays = Record<string, { data: Float32Array; shape: number[] }>;

const manifest: Manifest = JSON.parse(await Deno.readTextFile(new URL("MANIFEST.json", DIR)));

/** Every file of a case, checked against the manifest's shape and for float32. */
async function load(name: string): Promise<Arrays> {
  const out: Arrays = {};
  for (const [key, entry] of Object.entries(manifest.cases[name].files)) {
    const a = await readNpy(new URL(`${name}/${key}.npy`, DIR).pathname);
    assert.strictEqual(a.dtype, "float32", `${name}/${key}`);
    assert.deepStrictEqual(a.shape, entry.shape, `${name}/${key} shape`);
    out[key] = { data: a.data as Float32Array, shape: a.shape };
  }
  return out;
}

function casesOf(...ops: string[]): [string, CaseEntry][] {
  return Object.entries(manifest.cases).filter(([, c]) => ops.includes(c.op));
}

function assertClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, tol = TOL) {
  const err = relativeError(got, want);
  assert(err < tol, `${name}: relative error ${err.toExponential(2)} > ${tol}`);
}

/** `[kh, kw, a, b]` -> `[kh, kw, b, a]`. */
function swapLastAxes(w: Float32Array | Float64Array, shape: number[]): Float64Array {
  const [kh, kw, a, b] = shape;
  const out = new Float64Array(w.length);
  for (let t = 0; t < kh * kw; t++) {
    for (let i = 0; i < a; i++) {
      for (let j = 0; j < b; j++) out[(t * b + j) * a + i] = w[(t * a + i) * b + j];
    }
  }
  return out;
}

Deno.test("conv fixtures: the manifest names every file, with its shape, all finite", async () => {
  assert.match(manifest.torch, /^\d+\.\d+/);
  assert.match(manifest.layout, /NHWC/);
  for (const name of Object.keys(manifest.cases)) {
    const onDisk = [...Deno.readDirSync(new URL(`${name}/`, DIR))].map((e) => e.name).sort();
    const listed = Object.keys(manifest.cases[name].files).map((k) => `${k}.npy`).sort();
    assert.deepStrictEqual(onDisk, listed, name);
    for (const [key, a] of Object.entries(await load(name))) {
      assert(a.data.every(Number.isFinite), `${name}/${key} has a non-finite value`);
    }
  }
  const dirs = [...Deno.readDirSync(DIR)].filter((e) => e.isDirectory).map((e) => e.name);
  assert.deepStrictEqual(dirs.sort(), Object.keys(manifest.cases).sort());
});

Deno.test("conv fixtures: PyTorch's conv2d and depthwise outputs and gradients match the float64 reference", async (t) => {
  const cases = casesOf("conv2d", "depthwise2d");
  assert(cases.length >= 15, `only ${cases.length} conv cases`);
  for (const [name, c] of cases) {
    await t.step(name, async () => {
      const f = await load(name);
      const p = c.params;
      const g = convGeometry({
        input: f.x.shape as [number, number, number, number],
        kernel: p.kernel as [number, number],
        outChannels: p.outChannels as number,
        stride: p.stride as number,
        padding: p.padding as Padding,
        groups: p.groups as number,
      });
      // "same" resolved by prism must be the padding PyTorch was given explicitly.
      assert.deepStrictEqual([g.padTop, g.padBottom, g.padLeft, g.padRight], p.explicitPadding);
      assert.deepStrictEqual(f.y.shape, [g.n, g.oh, g.ow, g.oc]);
      const operands = { input: f.x.data, weights: f.w.data, bias: f.b.data };
      assertClose(`${name} y`, f.y.data, convForwardF64(g, operands));
      const back = convBackwardF64(g, operands, f.dy.data);
      assertClose(`${name} dx`, f.dx.data, back.dInput);
      assertClose(`${name} dw`, f.dw.data, back.dWeights);
      assertClose(`${name} db`, f.db.data, back.dBias);
    });
  }
});

Deno.test("conv fixtures: a transposed conv k4 s2 p1 is the input gradient of a conv with swapped weights", async (t) => {
  const cases = casesOf("conv_transpose2d");
  assert(cases.length >= 2);
  for (const [name, c] of cases) {
    await t.step(name, async () => {
      // PyTorch's conv_transpose2d(x, W, stride s, padding p) with W [kh, kw, in, out] (prism
      // layout) equals dInput of conv2d over an [n, oh, ow, out] image, outChannels in, weights
      // W with the last two axes swapped, same stride and padding, given x as dy; no flip.
      const f = await load(name);
      const [n, h, w, cin] = f.x.shape;
      const [, oh, ow, cout] = f.y.shape;
      const g = convGeometry({
        input: [n, oh, ow, cout],
        kernel: c.params.kernel as [number, number],
        outChannels: cin,
        stride: c.params.stride as number,
        padding: c.params.padding as Padding,
      });
      assert.deepStrictEqual([g.oh, g.ow], [h, w], "the conv's output is the transposed input");
      assert.deepStrictEqual([oh, ow], [2 * h, 2 * w], "k4 s2 p1 doubles the size");
      const weights = swapLastAxes(f.w.data, f.w.shape);
      const y = convBackwardF64(
        g,
        { input: new Float64Array(n * oh * ow * cout), weights },
        f.x.data,
      )
        .dInput.map((v, i) => v + f.b.data[i % cout]);
      assertClose(`${name} y`, f.y.data, y);
      // Its gradients: dx is the conv's forward of dy; dW the conv's weight gradient with dy as
      // the conv's input and x as the conv's output gradient, swapped back.
      const operands = { input: f.dy.data, weights };
      assertClose(`${name} dx`, f.dx.data, convForwardF64(g, operands));
      const dW = convBackwardF64(g, operands, f.x.data).dWeights;
      assertClose(`${name} dw`, f.dw.data, swapLastAxes(dW, [g.kh, g.kw, cout, cin]));
      const db = new Float64Array(cout);
      f.dy.data.forEach((v, i) => db[i % cout] += v);
      assertClose(`${name} db`, f.db.data, db);
    });
  }
});

Deno.test("conv fixtures: batch norm folded into the conv gives PyTorch's conv + norm (eval)", async () => {
  const { params: p } = manifest.cases.batchnorm_fold;
  const f = await load("batchnorm_fold");
  const eps = p.eps as number;
  const oc = p.outChannels as number;
  const scale = Array.from(
    { length: oc },
    (_, o) => f.gamma.data[o] / Math.sqrt(f.var.data[o] + eps),
  );
  const wFolded = Float64Array.from(f.w.data, (v, i) => v * scale[i % oc]);
  const bFolded = Array.from(
    { length: oc },
    (_, o) => (f.b.data[o] - f.mean.data[o]) * scale[o] + f.beta.data[o],
  );
  assertClose("w_folded", f.w_folded.data, wFolded, 1e-6);
  assertClose("b_folded", f.b_folded.data, bFolded, 1e-6);
  const g = convGeometry({
    input: f.x.shape as [number, number, number, number],
    kernel: p.kernel as [number, number],
    outChannels: oc,
    padding: p.padding as Padding,
  });
  assertClose(
    "y",
    f.y.data,
    convForwardF64(g, { input: f.x.data, weights: wFolded, bias: bFolded }),
  );
});

Deno.test("conv fixtures: the small net's forward, backward and Adam step follow from the reference", async () => {
  const f = await load("small_net_step");
  const { lr, eps } = manifest.cases.small_net_step.params as { lr: number; eps: number };
  const param = (l: number, k: string) => f[`param.conv${l}.conv.${k}`].data;
  const [n, h, w] = f.x.shape;
  const geoms = [[6, 32], [32, 32], [32, 6]].map(([c, oc]) =>
    convGeometry({ input: [n, h, w, c], kernel: [3, 3], outChannels: oc, padding: "same" })
  );
  // Forward: conv, ReLU, conv, ReLU, conv.
  const acts: Float64Array[] = [Float64Array.from(f.x.data)];
  for (let l = 0; l < 3; l++) {
    const z = convForwardF64(geoms[l], {
      input: acts[l],
      weights: param(l + 1, "weight"),
      bias: param(l + 1, "bias"),
    });
    acts.push(l < 2 ? z.map((v) => Math.max(v, 0)) : z);
  }
  const y = acts[3];
  assertClose("y", f.y.data, y, 1e-4);
  const diff = y.map((v, i) => v - f.target.data[i]);
  const loss = diff.reduce((s, v) => s + v * v, 0) / diff.length;
  assert(Math.abs(f.loss.data[0] - loss) < 1e-5 * loss, `loss ${f.loss.data[0]} vs ${loss}`);
  // Backward of the mean squared error through the three layers.
  let dy: Float64Array = diff.map((v) => 2 * v / diff.length);
  for (let l = 2; l >= 0; l--) {
    const back = convBackwardF64(geoms[l], { input: acts[l], weights: param(l + 1, "weight") }, dy);
    const name = `conv${l + 1}.conv`;
    assertClose(`grad ${name}.weight`, f[`grad.${name}.weight`].data, back.dWeights, 1e-4);
    assertClose(`grad ${name}.bias`, f[`grad.${name}.bias`].data, back.dBias, 1e-4);
    dy = l > 0 ? back.dInput.map((v, i) => (acts[l][i] > 0 ? v : 0)) : back.dInput;
  }
  assertClose("dx", f.dx.data, dy, 1e-4);
  // Adam's first step: m̂ = g, v̂ = g², so the update is −lr·g/(|g| + eps), from PyTorch's g.
  for (const key of Object.keys(f).filter((k) => k.startsWith("param."))) {
    const name = key.slice("param.".length);
    const g = f[`grad.${name}`].data;
    const update = Float64Array.from(f[`adam.${name}`].data, (v, i) => v - f[key].data[i]);
    const want = Float64Array.from(g, (v) => -lr * v / (Math.abs(v) + eps));
    assertClose(`adam ${name}`, update, want, 1e-4);
  }
});

Deno.test("conv fixtures: norm, GELU and upsampling fixtures have the shapes their layers need", async () => {
  // Values wait for the layer code (nothing in prism computes these yet); here only the shapes.
  const same = async (name: string, vectors: string[]) => {
    const f = await load(name);
    for (const k of ["y", "dy", "dx"]) {
      assert.deepStrictEqual(f[k].shape, f.x.shape, `${name}/${k}`);
    }
    for (const k of vectors) assert.deepStrictEqual(f[k].shape, [f.x.shape.at(-1)], `${name}/${k}`);
  };
  await same("batchnorm_train", [
    "gamma",
    "beta",
    "dgamma",
    "dbeta",
    "running_mean_after",
    "running_var_after",
  ]);
  await same("layernorm_channels", ["gamma", "beta", "dgamma", "dbeta"]);
  await same("gelu", []);
  const up = await load("upsample_bilinear");
  const [n, h, w, c] = up.x.shape;
  assert.deepStrictEqual(up.y.shape, [n, 2 * h, 2 * w, c]);
  assert.deepStrictEqual(up.dx.shape, up.x.shape);
});

/** A spec layer as far as counting parameters needs (nn/specs/README.md has the whole format). */
interface SpecLayer {
  type: string;
  inChannels?: number;
  outChannels?: number;
  kernel?: [number, number];
  groups?: number;
  bias?: boolean;
  norm?: { type: string } | null;
  layers?: SpecLayer[];
}

/** Parameters of a spec's layers, counted from the format alone (no Python). */
function specParameters(layers: SpecLayer[]): number {
  return layers.reduce((sum, l) => {
    if (l.type === "residual") return sum + specParameters(l.layers!);
    if (l.type === "upsample") return sum;
    assert(l.type === "conv2d" || l.type === "conv_transpose2d", `unknown layer type ${l.type}`);
    const [kh, kw] = l.kernel!;
    const out = l.outChannels!;
    return sum + kh * kw * (l.inChannels! / l.groups!) * out + (l.bias ? out : 0) +
      (l.norm ? 2 * out : 0);
  }, 0);
}

Deno.test("nn/specs: each built-in spec's layers give its stated parameter count (refiner 6,600,532)", async () => {
  const specs = new URL("../nn/specs/", import.meta.url);
  const want = { refiner: 6_600_532, "convnext-head": 73_412, small: 12_742, mlp: 235_146 };
  for (const [name, count] of Object.entries(want)) {
    const spec = JSON.parse(await Deno.readTextFile(new URL(`${name}.json`, specs)));
    assert.strictEqual(spec.format, "prism-convnet");
    assert.strictEqual(spec.parameters, count, name);
    assert.strictEqual(specParameters(spec.layers), count, name);
  }
});
