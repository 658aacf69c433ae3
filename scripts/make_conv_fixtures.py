"""Writes tests/fixtures/conv/: PyTorch's outputs and gradients for fixed seeded inputs, so prism's
convolution layers are held to PyTorch's padding, transposed-convolution, norm, GELU, upsampling
and Adam conventions without the tests needing Python or torch.

    python3 scripts/make_conv_fixtures.py        # needs torch (CPU wheel) and numpy

Reproducible: every case draws from its own torch.Generator seeded from the case's name, and runs
single-threaded in float32 (the same files come out on the same torch version; other versions may
differ in the last bits, which the tests' tolerances allow). Tensors are stored as prism uses
them: images NHWC, conv weights HWIO; MANIFEST.json says what each file is.
"""

import json
import os
import re
import shutil
import sys
import zlib

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as missing:
    sys.exit(f"make_conv_fixtures.py needs numpy and torch ({missing}); the committed fixtures "
             "stay as they are. PyTorch's CPU wheel: find / -xdev -name 'torch-*+cpu-*.whl'")

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "bench", "torch"))
import prism_nets  # noqa: E402  (the spec loader; needs the path above)

OUT = os.path.join(REPO, "tests", "fixtures", "conv")
LAYOUT = ("float32 little-endian, C order. Images and activations NHWC [n, h, w, c]; conv weights "
          "HWIO [kh, kw, in, out] (PyTorch OIHW permuted (2, 3, 1, 0)); depthwise [kh, kw, c, 1] "
          "(PyTorch [c, 1, kh, kw] permuted (2, 3, 0, 1)); transposed-conv weights [kh, kw, in, out] "
          "of the transposed layer itself (PyTorch IOHW permuted (2, 3, 0, 1)); vectors as they are.")
GRADIENTS = ("Where a case has dy (a seeded random gradient of the output, shaped like y), dx, dw, "
             "db and the other d* files are autograd's gradients of sum(y * dy).")


def nhwc(t):
    return t.detach().permute(0, 2, 3, 1).contiguous()


def hwio(w, swap=False):
    """OIHW -> HWIO, or with ``swap`` (depthwise [c, 1, kh, kw], transposed IOHW) axes 2, 3, 0, 1."""
    return prism_nets.to_prism_layout(w, "swap" if swap else "conv").contiguous()


class Case:
    """One fixture folder: seeded draws, the files, and their manifest entry."""

    def __init__(self, name, op, what, params):
        self.name, self.files = name, {}
        self.entry = {"op": op, "what": what, "params": params, "files": {}}
        self.gen = torch.Generator().manual_seed(zlib.crc32(name.encode()))

    def randn(self, *shape, scale=1.0):
        return (torch.randn(*shape, generator=self.gen) * scale).requires_grad_(True)

    def save(self, key, tensor, what):
        a = np.ascontiguousarray(tensor.detach().numpy().astype("<f4"))
        assert np.isfinite(a).all(), f"{self.name}/{key} is not finite"
        self.files[key] = a
        self.entry["files"][key] = {"shape": list(a.shape), "what": what}


def tf_same(size, k, stride):
    """TensorFlow's "same": output ceil(in/stride), the odd padding pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def conv_case(name, n, h, w, c, oc, k, stride, padding, depthwise=False):
    groups = c if depthwise else 1
    if padding == "same":
        top, bottom = tf_same(h, k, stride)
        left, right = tf_same(w, k, stride)
        how = f"F.pad(x, ({left}, {right}, {top}, {bottom})) then conv2d(padding=0)"
    else:
        top = bottom = left = right = padding
        how = f"conv2d(padding={padding})"
    explicit = [top, bottom, left, right]
    params = {"kernel": [k, k], "stride": stride, "groups": groups, "outChannels": oc,
              "padding": "same" if padding == "same" else explicit, "explicitPadding": explicit,
              "torch": how}
    kind = "depthwise convolution" if depthwise else "convolution"
    case = Case(name, "depthwise2d" if depthwise else "conv2d",
                f"{kind} k{k} stride {stride} padding {params['padding']} on {n}x{h}x{w}x{c}",
                params)
    x = case.randn(n, c, h, w)
    wt = case.randn(oc, 1 if depthwise else c, k, k, scale=1 / (k * (1 if depthwise else c)) ** 0.5)
    b = case.randn(oc)
    xp = F.pad(x, (left, right, top, bottom)) if padding == "same" else x
    y = F.conv2d(xp, wt, b, stride=stride, padding=0 if padding == "same" else padding,
                 groups=groups)
    return save_conv(case, (x, wt, b, y, case.randn(*y.shape)), depthwise,
                     "weights, " + ("[kh, kw, c, 1]" if depthwise else "HWIO"))


def save_conv(case, tensors, swap, w_what):
    """The eight files of a convolution case; gradients by autograd of sum(y * dy)."""
    x, wt, b, y, dy = tensors
    (y * dy).sum().backward()
    case.save("x", nhwc(x), "input, NHWC")
    case.save("w", hwio(wt, swap), w_what)
    case.save("b", b, "bias")
    case.save("y", nhwc(y), "PyTorch's output, NHWC")
    case.save("dy", nhwc(dy), "gradient of the output (seeded random), NHWC")
    case.save("dx", nhwc(x.grad), "gradient of the input, NHWC")
    case.save("dw", hwio(wt.grad, swap), "gradient of the weights, layout of w")
    case.save("db", b.grad, "gradient of the bias")
    return case


def transposed_case(name, n, h, w, cin, cout, k=4, stride=2, pad=1):
    params = {"kernel": [k, k], "stride": stride, "padding": [pad] * 4, "outChannels": cout,
              "torch": f"conv_transpose2d(stride={stride}, padding={pad})",
              "mapping": "y is the input gradient of a conv2d with input [n, oh, ow, out], outChannels "
                         "in, the same kernel, stride and padding, weights w with its last two axes "
                         "swapped, given x as its output gradient; no spatial flip"}
    case = Case(name, "conv_transpose2d",
                f"transposed convolution k{k} s{stride} p{pad}, {n}x{h}x{w}x{cin} -> {cout}", params)
    x = case.randn(n, cin, h, w)
    wt = case.randn(cin, cout, k, k, scale=1 / (k * k * cin / 4) ** 0.5)
    b = case.randn(cout)
    y = F.conv_transpose2d(x, wt, b, stride=stride, padding=pad)
    return save_conv(case, (x, wt, b, y, case.randn(*y.shape)), True,
                     "weights [kh, kw, in, out] of the transposed layer")


def batchnorm_fold_case():
    eps = 1e-5
    case = Case("batchnorm_fold", "conv2d+batchnorm_inference",
                "conv k3 p1 then batch norm in inference mode (running statistics); w_folded, "
                "b_folded fold the norm into the conv, computed in float64: w * g/sqrt(var + eps) "
                "per output channel, (b - mean) * g/sqrt(var + eps) + beta",
                {"kernel": [3, 3], "stride": 1, "groups": 1, "outChannels": 5,
                 "padding": [1, 1, 1, 1], "eps": eps})
    x, wt, b = case.randn(2, 3, 6, 5), case.randn(5, 3, 3, 3, scale=0.2), case.randn(5)
    gamma, beta, mean = case.randn(5), case.randn(5), case.randn(5)
    var = torch.rand(5, generator=case.gen) + 0.5
    with torch.no_grad():
        y = F.batch_norm(F.conv2d(x, wt, b, padding=1), mean, var, gamma, beta, False, 0.1, eps)
    s = gamma.detach().double() / torch.sqrt(var.double() + eps)
    wf = wt.detach().double() * s[:, None, None, None]
    bf = (b.detach().double() - mean.detach().double()) * s + beta.detach().double()
    for key, t, what in [("x", nhwc(x), "input, NHWC"), ("w", hwio(wt), "conv weights, HWIO"),
                         ("b", b, "conv bias"), ("gamma", gamma, "norm weight"),
                         ("beta", beta, "norm bias"), ("mean", mean, "running mean"),
                         ("var", var, "running variance"),
                         ("y", nhwc(y), "PyTorch's output of conv then norm (eval), NHWC"),
                         ("w_folded", hwio(wf.float()), "folded conv weights, HWIO"),
                         ("b_folded", bf.float(), "folded conv bias")]:
        case.save(key, t, what)
    return case


def batchnorm_train_case():
    eps, momentum = 1e-5, 0.1
    case = Case("batchnorm_train", "batchnorm_train",
                "batch norm in training mode: normalise by the batch mean and biased variance over "
                "n, h, w; running statistics updated with momentum and the unbiased variance",
                {"eps": eps, "momentum": momentum})
    x, gamma, beta = case.randn(3, 7, 5, 4), case.randn(7), case.randn(7)
    with torch.no_grad():
        x.mul_(2).add_(0.5)
    rm = torch.randn(7, generator=case.gen)
    rv = torch.rand(7, generator=case.gen) + 0.5
    rm0, rv0 = rm.clone(), rv.clone()
    y = F.batch_norm(x, rm, rv, gamma, beta, True, momentum, eps)
    dy = case.randn(*y.shape)
    (y * dy).sum().backward()
    for key, t, what in [("x", nhwc(x), "input, NHWC"), ("gamma", gamma, "norm weight"),
                         ("beta", beta, "norm bias"), ("running_mean", rm0, "running mean before"),
                         ("running_var", rv0, "running variance before"),
                         ("y", nhwc(y), "output, NHWC"), ("dy", nhwc(dy), "output gradient"),
                         ("dx", nhwc(x.grad), "input gradient"), ("dgamma", gamma.grad, ""),
                         ("dbeta", beta.grad, ""),
                         ("running_mean_after", rm, "running mean after the step"),
                         ("running_var_after", rv, "running variance after the step")]:
        case.save(key, t, what or f"gradient of {key[1:]}")
    return case


def layernorm_case():
    eps = 1e-6
    case = Case("layernorm_channels", "layernorm_channels",
                "LayerNorm over the channels of each pixel (ConvNeXt's), affine", {"eps": eps})
    x, gamma, beta = case.randn(2, 13, 3, 5), case.randn(13), case.randn(13)
    y = prism_nets.ChannelLayerNorm(13, eps)
    with torch.no_grad():
        y.weight.copy_(gamma), y.bias.copy_(beta)
    out = y(x)
    dy = case.randn(*out.shape)
    (out * dy).sum().backward()
    for key, t, what in [("x", nhwc(x), "input, NHWC"), ("gamma", gamma, "norm weight"),
                         ("beta", beta, "norm bias"), ("y", nhwc(out), "output, NHWC"),
                         ("dy", nhwc(dy), "output gradient"), ("dx", nhwc(x.grad), "input gradient"),
                         ("dgamma", y.weight.grad, "gradient of the norm weight"),
                         ("dbeta", y.bias.grad, "gradient of the norm bias")]:
        case.save(key, t, what)
    return case


def gelu_case():
    case = Case("gelu", "gelu", "GELU, exact (x * Phi(x) with erf), elementwise",
                {"approximate": "none"})
    x = torch.linspace(-6, 6, 241).reshape(1, 1, 1, 241).clone().requires_grad_(True)
    y = F.gelu(x)
    dy = case.randn(*y.shape)
    (y * dy).sum().backward()
    case.save("x", x, "input, evenly spaced over [-6, 6], [1, 1, 1, 241]")
    case.save("y", y, "output")
    case.save("dy", dy, "output gradient")
    case.save("dx", x.grad, "input gradient")
    return case


def upsample_case():
    case = Case("upsample_bilinear", "upsample_bilinear",
                "bilinear upsampling x2, align_corners=False (PyTorch's default, half-pixel centres "
                "clamped at the border)", {"scale": 2, "alignCorners": False})
    x = case.randn(2, 3, 5, 3)
    y = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    dy = case.randn(*y.shape)
    (y * dy).sum().backward()
    case.save("x", nhwc(x), "input, NHWC")
    case.save("y", nhwc(y), "output, NHWC")
    case.save("dy", nhwc(dy), "output gradient")
    case.save("dx", nhwc(x.grad), "input gradient")
    return case


def small_net_case():
    lr = 1e-3
    case = Case("small_net_step", "small_net_step",
                "the small spec (nn/specs/small.json): forward, MSE loss (mean over every element) "
                "against a target, backward, one Adam step (lr 1e-3, betas 0.9/0.999, eps 1e-8, "
                "no weight decay) from the given weights",
                {"spec": "small", "loss": "mse_mean", "lr": lr, "betas": [0.9, 0.999], "eps": 1e-8})
    torch.manual_seed(zlib.crc32(b"small_net_step"))
    net = prism_nets.build("small")
    x, target = case.randn(2, 6, 9, 7), case.randn(2, 6, 9, 7)
    before = {k: hwio(v) if v.dim() == 4 else v.detach().clone() for k, v in net.named_parameters()}
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    y = net(x)
    loss = F.mse_loss(y, target)
    opt.zero_grad()
    loss.backward()
    case.save("x", nhwc(x), "input, NHWC")
    case.save("target", nhwc(target), "target, NHWC")
    case.save("y", nhwc(y), "output, NHWC")
    case.save("loss", loss, "mean squared error, a scalar")
    case.save("dx", nhwc(x.grad), "gradient of the loss by the input, NHWC")
    grads = {k: hwio(p.grad) if p.dim() == 4 else p.grad.clone() for k, p in net.named_parameters()}
    opt.step()
    for k, p in net.named_parameters():
        case.save(f"param.{k}", before[k], f"{k} before the step (HWIO for weights)")
        case.save(f"grad.{k}", grads[k], f"gradient of the loss by {k}")
        case.save(f"adam.{k}", hwio(p) if p.dim() == 4 else p, f"{k} after one Adam step")
    return case


def cases():
    yield conv_case("conv_k1_s1", 2, 5, 7, 3, 13, 1, 1, 0)
    yield conv_case("conv_k1_s2_odd", 1, 7, 5, 13, 3, 1, 2, 0)
    yield conv_case("conv_k3_s1_p1", 2, 7, 5, 13, 5, 3, 1, 1)
    yield conv_case("conv_k3_s2_p1_odd", 2, 9, 7, 3, 8, 3, 2, 1)
    yield conv_case("conv_k3_s2_same_even", 1, 6, 8, 3, 4, 3, 2, "same")
    yield conv_case("conv_k3_valid", 1, 5, 6, 3, 2, 3, 1, 0)
    yield conv_case("conv_k3_p1_1x1_image", 2, 1, 1, 3, 2, 3, 1, 1)
    yield conv_case("conv_k5_s1_p2", 1, 6, 5, 7, 3, 5, 1, 2)
    yield conv_case("conv_k5_s2_same_odd", 2, 8, 7, 2, 5, 5, 2, "same")
    yield conv_case("conv_k7_s1_p3_5x5", 1, 5, 5, 1, 3, 7, 1, 3)
    yield conv_case("conv_k7_s2_p3_odd", 2, 11, 9, 4, 6, 7, 2, 3)
    yield conv_case("depthwise_k3_s1_p1", 2, 6, 5, 13, 13, 3, 1, 1, depthwise=True)
    yield conv_case("depthwise_k3_s2_p1_odd", 1, 7, 7, 5, 5, 3, 2, 1, depthwise=True)
    yield conv_case("depthwise_k7_s1_p3_5x5", 1, 5, 5, 3, 3, 7, 1, 3, depthwise=True)
    yield conv_case("depthwise_k7_s2_same", 2, 9, 8, 4, 4, 7, 2, "same", depthwise=True)
    yield transposed_case("conv_transpose_k4_s2_p1", 2, 4, 3, 5, 3)
    yield transposed_case("conv_transpose_k4_s2_p1_1x1_image", 1, 1, 1, 3, 2)
    yield batchnorm_fold_case()
    yield batchnorm_train_case()
    yield layernorm_case()
    yield gelu_case()
    yield upsample_case()
    yield small_net_case()


def compact_json(obj):
    """JSON with number arrays on one line, in the shape `deno fmt` accepts unchanged."""
    text = json.dumps(obj, indent=2)
    return re.sub(r"\[\s+([-0-9.e, \n]+?)\s+\]",
                  lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]", text)


def write_fixtures(out, all_cases, generator):
    """Writes every case and MANIFEST.json to ``out``, replacing the folder at once."""
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    manifest = {
        "generator": generator,
        "torch": torch.__version__, "numpy": np.__version__,
        "layout": LAYOUT, "gradients": GRADIENTS, "cases": {},
    }
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    for case in all_cases():
        os.makedirs(os.path.join(tmp, case.name))
        for key, array in case.files.items():
            np.save(os.path.join(tmp, case.name, key + ".npy"), array)
        manifest["cases"][case.name] = case.entry
    with open(os.path.join(tmp, "MANIFEST.json"), "w") as f:
        f.write(compact_json(manifest) + "\n")
    # Replace the whole folder at once, so a failed run leaves the old fixtures.
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    print(f"wrote {len(manifest['cases'])} cases, {total / 1024:.0f} KiB, to {out}")


def main():
    write_fixtures(OUT, cases, "scripts/make_conv_fixtures.py")


if __name__ == "__main__":
    main()
