"""The PyTorch twins of prism's convolution networks, for fixtures and benchmark baselines only.

Two ways to the same networks, checked against each other by ``python3 bench/torch/prism_nets.py``:

- ``build(spec)`` builds a module from a JSON spec (``nn/specs/*.json``, format in
  ``nn/specs/README.md``): the spec, not a Python class, is the source of truth;
- ``Refiner``, ``ConvNextHead``, ``Small`` and ``Mlp`` are the same networks written by hand from
  EXPERIMENTS.md section 2, so a spec that drifts from the description is caught.

Tensors here are PyTorch's NCHW and weights OIHW (transposed convolutions IOHW); ``to_prism_layout``
turns a parameter into prism's NHWC / HWIO, and ``save_prism_h5`` / ``load_prism_h5`` write and read
prism's weights files (``nn/weights_file.ts``: HDF5, one float32 dataset per dotted name, prism
layout). Nothing in prism's TypeScript imports this file; tests never need Python or torch.
"""

import json
import math
import os
import sys
from collections import OrderedDict

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError as missing:
    if __name__ == "__main__":
        sys.exit(f"skipped: the PyTorch twin needs torch ({missing})")
    raise

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SPEC_DIR = os.path.join(REPO, "nn", "specs")
BUILT_IN = ("refiner", "convnext-head", "small", "mlp")
LAYER_TYPES = ("conv2d", "conv_transpose2d", "residual", "upsample")
ACTIVATIONS = ("none", "relu", "gelu")
CONV_FIELDS = ("name", "inChannels", "outChannels", "kernel", "stride", "padding", "groups",
               "bias", "norm", "activation")


class SpecError(ValueError):
    """A spec that cannot be built: the message names the layer and the field."""


def load_spec(name_or_path):
    """Reads a built-in spec by name (``small``) or a spec file by path."""
    path = os.path.join(SPEC_DIR, name_or_path + ".json") if name_or_path in BUILT_IN \
        else name_or_path
    if not os.path.exists(path):
        raise SpecError(f"no spec {name_or_path!r}: use one of {', '.join(BUILT_IN)} or a path")
    with open(path) as f:
        return json.load(f)


class ChannelLayerNorm(nn.Module):
    """LayerNorm over the channels of each pixel of an NCHW tensor (ConvNeXt's channels-first
    LayerNorm), with an affine weight and bias per channel."""

    def __init__(self, channels, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x):
        y = F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), self.weight, self.bias, self.eps)
        return y.permute(0, 3, 1, 2)


class ConvLayer(nn.Module):
    """conv (or transposed conv) + bias, then norm, then activation: the order every spec uses."""

    def __init__(self, layer, where):
        super().__init__()
        k, stride, pad, groups = layer["kernel"], layer["stride"], layer["padding"], layer["groups"]
        cin, cout = layer["inChannels"], layer["outChannels"]
        if groups not in (1, cin) or (groups != 1 and cout != cin):
            raise SpecError(f"{where}: groups must be 1 or inChannels ({cin}) with outChannels "
                            f"equal to inChannels, got groups {groups}, outChannels {cout}")
        top, bottom, left, right = pad
        transposed = layer["type"] == "conv_transpose2d"
        if transposed and (top != bottom or left != right):
            raise SpecError(f"{where}: a transposed convolution crops symmetrically: padding must "
                            f"be [p, p, q, q], got {pad}")
        # Asymmetric padding (TensorFlow's "same" on even sizes) is an explicit F.pad before a
        # conv with no padding of its own, which is how PyTorch writes it too.
        self.pre_pad = None if (top == bottom and left == right) else (left, right, top, bottom)
        conv_pad = (0, 0) if self.pre_pad else (top, left)
        cls = nn.ConvTranspose2d if transposed else nn.Conv2d
        self.conv = cls(cin, cout, tuple(k), stride=stride, padding=conv_pad, groups=groups,
                        bias=layer["bias"])
        norm = layer["norm"]
        if norm is None:
            self.norm = nn.Identity()
        elif norm.get("type") == "batch":
            self.norm = nn.BatchNorm2d(cout, eps=norm["eps"], momentum=norm["momentum"])
        elif norm.get("type") == "layer":
            self.norm = ChannelLayerNorm(cout, norm["eps"])
        else:
            raise SpecError(f"{where}: norm must be null, {{type: batch}} or {{type: layer}}, "
                            f"got {norm!r}")
        self.act = {"none": nn.Identity(), "relu": nn.ReLU(), "gelu": nn.GELU()}[
            layer["activation"]]

    def forward(self, x):
        if self.pre_pad:
            x = F.pad(x, self.pre_pad)
        return self.act(self.norm(self.conv(x)))


class Residual(nn.Sequential):
    """``x + layers(x)``: the layers must keep the shape."""

    def forward(self, x):
        return x + super().forward(x)


class Upsample(nn.Module):
    """Bilinear upsampling by an integer factor (align_corners false, PyTorch's default)."""

    def __init__(self, layer, where):
        super().__init__()
        if layer.get("mode") != "bilinear" or layer.get("scale") not in (2, 4):
            raise SpecError(f"{where}: upsample needs mode bilinear and scale 2 or 4")
        self.scale = layer["scale"]
        self.align_corners = layer.get("alignCorners", False)

    def forward(self, x):
        return F.interpolate(x, scale_factor=self.scale, mode="bilinear",
                             align_corners=self.align_corners)


def _build_layers(layers, prefix, cls=nn.Sequential):
    modules = OrderedDict()
    for i, layer in enumerate(layers):
        where = f"layer {prefix}{layer.get('name', i)!s}"
        kind = layer.get("type")
        if kind not in LAYER_TYPES:
            raise SpecError(f"{where}: unknown type {kind!r}, expected one of {LAYER_TYPES}")
        name = layer.get("name")
        if not isinstance(name, str) or not name or "." in name or name in modules:
            raise SpecError(f"{where}: every layer needs a unique name without dots")
        if kind == "residual":
            if not isinstance(layer.get("layers"), list) or not layer["layers"]:
                raise SpecError(f"{where}: a residual layer needs a non-empty list of layers")
            modules[name] = _build_layers(layer["layers"], f"{prefix}{name}.", Residual)
        elif kind == "upsample":
            modules[name] = Upsample(layer, where)
        else:
            missing = [f for f in CONV_FIELDS if f not in layer]
            if missing:
                raise SpecError(f"{where}: missing field(s) {', '.join(missing)}")
            if layer["activation"] not in ACTIVATIONS:
                raise SpecError(f"{where}: activation must be one of {ACTIVATIONS}")
            modules[name] = ConvLayer(layer, where)
    return cls(modules)


class SpecNet(nn.Sequential):
    """A network built from a spec; parameter names are the dotted layer names
    (``block1.depthwise.conv.weight``), which is also how prism names them."""

    def __init__(self, spec):
        if spec.get("format") != "prism-convnet" or spec.get("version") != 1:
            raise SpecError("not a prism-convnet version 1 spec (see nn/specs/README.md)")
        if not isinstance(spec.get("layers"), list) or "input" not in spec:
            raise SpecError(f"spec {spec.get('name')!r}: missing field input or layers")
        super().__init__(OrderedDict(_build_layers(spec["layers"], "")._modules))
        self.spec = spec


def build(spec_or_name):
    """Builds the PyTorch module of a spec (a dict, a built-in name or a path) and checks the
    spec's stated parameter count."""
    spec = spec_or_name if isinstance(spec_or_name, dict) else load_spec(spec_or_name)
    net = SpecNet(spec)
    count = parameter_count(net)
    if "parameters" in spec and spec["parameters"] != count:
        raise SpecError(f"spec {spec.get('name')!r} states {spec['parameters']} parameters, "
                        f"its layers have {count}")
    return net


def parameter_count(module):
    return sum(p.numel() for p in module.parameters())


def to_prism_layout(tensor, kind="conv"):
    """A parameter in prism's layout: conv weights OIHW -> HWIO; depthwise ``[c, 1, kh, kw]``
    -> ``[kh, kw, c, 1]`` and transposed-conv IOHW -> ``[kh, kw, in, out]`` of the layer itself
    (both ``kind`` ``"swap"``: axes 2, 3, 0, 1); vectors unchanged."""
    t = tensor.detach()
    if t.dim() != 4:
        return t
    return t.permute(2, 3, 0, 1) if kind == "swap" else t.permute(2, 3, 1, 0)


def _tensors(net):
    """``(name, tensor, layout kind)`` of every parameter and batch-norm running statistic."""
    for mname, module in net.named_modules():
        for pname, p in list(module.named_parameters(recurse=False)) + \
                list(module.named_buffers(recurse=False)):
            if pname != "num_batches_tracked":
                swap = isinstance(module, nn.ConvTranspose2d) or getattr(module, "groups", 1) > 1
                yield f"{mname}.{pname}", p, "swap" if swap else "conv"


def prism_state(net):
    """``{name: tensor}`` of every parameter and batch-norm running statistic, prism layout."""
    return OrderedDict((name, to_prism_layout(p, kind)) for name, p, kind in _tensors(net))


def load_prism_state(net, arrays):
    """Copies ``{name: array in prism layout}`` (numpy or torch) into ``net``: the way weights
    saved by prism (an HDF5 dataset per name) come into the PyTorch twin. Every tensor of the
    net must be given, with its shape; the error names the first that is not."""
    with torch.no_grad():
        for name, p, kind in _tensors(net):
            if name not in arrays:
                raise SpecError(f"no array for {name}: the file must hold every parameter")
            a = torch.as_tensor(arrays[name])
            want = tuple(to_prism_layout(p, kind).shape)
            if tuple(a.shape) != want:
                raise SpecError(f"{name}: shape {tuple(a.shape)}, expected {want} (prism layout)")
            back = (2, 3, 0, 1) if kind == "swap" else (3, 2, 0, 1)
            p.copy_(a.permute(*back) if a.dim() == 4 else a)


WEIGHTS_FORMAT = "prism-convnet-weights"  # the root attributes of nn/weights_file.ts
WEIGHTS_VERSION = 1


def save_prism_h5(net, path):
    """Writes ``net``'s parameters and batch-norm running statistics the way prism's
    ``saveWeights`` does: one float32 dataset per dotted name at the file's root, prism layout
    (HWIO; depthwise ``[kh, kw, c, 1]``; transposed ``[kh, kw, in, out]``), root attributes
    ``format``, ``version`` and, for a spec's network, ``spec`` (its name). ``num_batches_tracked``
    is not saved. The file is written under a temporary name and renamed into place, so a failure
    leaves ``path`` as it was."""
    import tempfile

    import h5py  # only the HDF5 functions need it

    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    os.close(fd)
    umask = os.umask(0)  # mkstemp makes the file private; a weights file is as open as any other
    os.umask(umask)
    try:
        os.chmod(tmp, 0o666 & ~umask)
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = WEIGHTS_FORMAT
            f.attrs["version"] = WEIGHTS_VERSION
            spec = getattr(net, "spec", None)
            if isinstance(spec, dict) and isinstance(spec.get("name"), str):
                f.attrs["spec"] = spec["name"]
            for name, t in prism_state(net).items():
                f.create_dataset(name, data=t.to(torch.float32).contiguous().numpy())
        os.replace(tmp, path)
    except BaseException:
        os.remove(tmp)
        raise


def load_prism_h5(net, path):
    """Loads a prism weights file (``saveWeights``, ``ConvNet.save`` or ``save_prism_h5``) into
    ``net``: every parameter and running statistic must be there with its prism-layout shape, and
    the file may hold nothing else (the error names the first name that differs)."""
    import h5py  # only the HDF5 functions need it

    with h5py.File(path, "r") as f:
        fmt = f.attrs.get("format")
        fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
        if fmt is not None and fmt != WEIGHTS_FORMAT:
            raise SpecError(f"{path} is a {fmt} file, not {WEIGHTS_FORMAT}")
        wanted = [name for name, _, _ in _tensors(net)]
        extra = sorted(set(f.keys()) - set(wanted))
        if extra:
            raise SpecError(f"{path} holds {extra[0]}, which the network has no tensor for "
                            f"({len(extra)} such names); was it saved from another spec?")
        load_prism_state(net, {name: f[name][()] for name in wanted if name in f})


load_hdf5 = load_prism_h5  # the earlier name


# --- The same networks written by hand, to hold the specs to EXPERIMENTS.md section 2 ---------

def _cbr(cin, cout, k, s, p, act, transposed=False):
    conv = (nn.ConvTranspose2d if transposed else nn.Conv2d)(cin, cout, k, s, p)
    return [conv, nn.BatchNorm2d(cout), act()]


class Refiner(nn.Sequential):
    """Encoder conv 4->64 (k7 s2 p3) + BN + ReLU; three blocks [k3 s2 p1, k1, k3 p1] each + BN +
    ReLU; head k3 512->256->128->64 each + BN + GELU; conv-transpose k4 s2 p1 64->32->16 + BN +
    ReLU; conv k1 16->4. Every conv has a bias and every BN is affine: 6,600,532 parameters."""

    def __init__(self):
        layers = _cbr(4, 64, 7, 2, 3, nn.ReLU)
        for cin, cout in ((64, 128), (128, 256), (256, 512)):
            layers += _cbr(cin, cout, 3, 2, 1, nn.ReLU) + _cbr(cout, cout, 1, 1, 0, nn.ReLU) + \
                _cbr(cout, cout, 3, 1, 1, nn.ReLU)
        for cin, cout in ((512, 256), (256, 128), (128, 64)):
            layers += _cbr(cin, cout, 3, 1, 1, nn.GELU)
        layers += _cbr(64, 32, 4, 2, 1, nn.ReLU, True) + _cbr(32, 16, 4, 2, 1, nn.ReLU, True)
        super().__init__(*layers, nn.Conv2d(16, 4, 1))


class _NextBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c, c, 7, padding=3, groups=c),
                                  ChannelLayerNorm(c, 1e-6), nn.Conv2d(c, 4 * c, 1), nn.GELU(),
                                  nn.Conv2d(4 * c, c, 1))

    def forward(self, x):
        return x + self.body(x)


class ConvNextHead(nn.Sequential):
    """1x1 stem 4->64, two ConvNeXt blocks at width 64, 1x1 out 64->4."""

    def __init__(self):
        super().__init__(nn.Conv2d(4, 64, 1), _NextBlock(64), _NextBlock(64), nn.Conv2d(64, 4, 1))


class Small(nn.Sequential):
    """6->32->32->6, 3x3, same padding, bias, ReLU between."""

    def __init__(self):
        super().__init__(nn.Conv2d(6, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1),
                         nn.ReLU(), nn.Conv2d(32, 6, 3, padding=1))


class Mlp(nn.Sequential):
    """784-256-128-10 with ReLU between: dense layers as 1x1 convolutions on a 1x1 image."""

    def __init__(self):
        super().__init__(nn.Conv2d(784, 256, 1), nn.ReLU(), nn.Conv2d(256, 128, 1), nn.ReLU(),
                         nn.Conv2d(128, 10, 1))


HAND_WRITTEN = {"refiner": Refiner, "convnext-head": ConvNextHead, "small": Small, "mlp": Mlp}


def check(name, size=32):
    """Builds a spec and its hand-written twin, copies the twin's weights into the spec's
    network in order, and compares parameter counts and outputs (eval mode)."""
    torch.manual_seed(0)
    spec_net, hand = build(name), HAND_WRITTEN[name]()
    a, b = list(spec_net.state_dict().items()), list(hand.state_dict().items())
    assert len(a) == len(b), f"{name}: {len(a)} tensors in the spec's state, {len(b)} by hand"
    for (ka, va), (kb, vb) in zip(a, b):
        assert va.shape == vb.shape, f"{name}: {ka} {tuple(va.shape)} vs {kb} {tuple(vb.shape)}"
    spec_net.load_state_dict(OrderedDict((ka, vb) for (ka, _), (_, vb) in zip(a, b)))
    count = parameter_count(spec_net)
    assert count == parameter_count(hand) == spec_net.spec["parameters"], name
    spec_net.eval(), hand.eval()
    inp = spec_net.spec["input"]
    x = torch.randn(2, inp["channels"], inp.get("height", size), inp.get("width", size))
    with torch.no_grad():
        ya, yb = spec_net(x), hand(x)
    assert torch.equal(ya, yb), f"{name}: outputs differ by {(ya - yb).abs().max()}"
    scale = spec_net.spec["output"]["scale"]
    assert ya.shape[2] == math.floor(x.shape[2] * scale), f"{name}: output {tuple(ya.shape)}"
    return count, tuple(ya.shape)


if __name__ == "__main__":
    for net_name in BUILT_IN:
        n, shape = check(net_name)
        print(f"{net_name}: {n:,} parameters ({n * 4 / 2**20:.2f} MB float32), spec == "
              f"hand-written, output {shape} for 32x32 input")
    assert parameter_count(build("refiner")) == 6_600_532
    for net_name in ("convnext-head", "refiner"):  # depthwise and transposed layouts
        src, dst = build(net_name).eval(), build(net_name).eval()
        load_prism_state(dst, {k: v.numpy() for k, v in prism_state(src).items()})
        probe = torch.randn(1, 4, 32, 32)
        assert torch.equal(src(probe), dst(probe)), f"{net_name}: prism layout round trip"
    print("prism layout round trip: refiner, convnext-head")
    try:
        import tempfile

        import h5py
        with tempfile.TemporaryDirectory() as tmp:
            for net_name, shape in (("small", (1, 6, 8, 8)), ("convnext-head", (1, 4, 9, 7)),
                                    ("refiner", (1, 4, 32, 32))):
                path = os.path.join(tmp, net_name + ".h5")
                src, dst = build(net_name), build(net_name)
                for m in src.modules():  # non-default running statistics travel too
                    if isinstance(m, nn.BatchNorm2d):
                        m.running_mean.uniform_(-1, 1), m.running_var.uniform_(0.5, 2)
                src.eval(), dst.eval()
                save_prism_h5(src, path)
                with h5py.File(path, "r") as f:
                    assert f.attrs["spec"] == net_name and f.attrs["format"] == WEIGHTS_FORMAT
                    assert not any(k.endswith("num_batches_tracked") for k in f.keys())
                    assert all(f[k].dtype == "float32" for k in f.keys())
                load_prism_h5(dst, path)
                probe = torch.randn(*shape)
                assert torch.equal(src(probe), dst(probe)), f"{net_name}: HDF5 round trip"
        print("HDF5 round trip (save_prism_h5 / load_prism_h5): small, convnext-head, refiner")
    except ImportError:
        print("HDF5 round trip skipped: h5py is not installed")
    up = {"format": "prism-convnet", "version": 1, "name": "up", "input": {"channels": 1}, "layers": [
        {"type": "upsample", "name": "up", "scale": 2, "mode": "bilinear"}]}
    assert build(up)(torch.ones(1, 1, 3, 5)).shape == (1, 1, 6, 10)
    try:
        build({**up, "layers": [{"type": "pool", "name": "p"}]})
        raise AssertionError("an unknown layer type was accepted")
    except SpecError as e:
        print(f"bad spec refused: {e}")
    sys.exit(0)
