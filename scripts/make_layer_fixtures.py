"""Writes tests/fixtures/layers/: PyTorch's outputs and gradients for the layer-op cases the conv
fixtures (scripts/make_conv_fixtures.py) do not cover: transposed convolutions other than k4 s2 p1
(stride 2 on odd sizes, 7x7 kernels on 5x5, one output channel) and bilinear upsampling x4 and on
1x1 images. Same conventions, seeding and manifest as the conv fixtures.

    python3 scripts/make_layer_fixtures.py       # needs torch (CPU wheel) and numpy
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_conv_fixtures import (  # noqa: E402  (the shared case machinery)
    REPO, Case, F, nhwc, transposed_case, write_fixtures)

OUT = os.path.join(REPO, "tests", "fixtures", "layers")


def upsample_case(name, n, h, w, c, scale):
    case = Case(name, "upsample_bilinear",
                f"bilinear upsampling x{scale}, align_corners=False, {n}x{h}x{w}x{c}",
                {"scale": scale, "alignCorners": False})
    x = case.randn(n, c, h, w)
    y = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
    dy = case.randn(*y.shape)
    (y * dy).sum().backward()
    case.save("x", nhwc(x), "input, NHWC")
    case.save("y", nhwc(y), "output, NHWC")
    case.save("dy", nhwc(dy), "output gradient")
    case.save("dx", nhwc(x.grad), "input gradient")
    return case


def cases():
    yield transposed_case("conv_transpose_k3_s2_p1_odd", 2, 4, 3, 3, 13, k=3, stride=2, pad=1)
    yield transposed_case("conv_transpose_k7_s1_p3_5x5", 1, 5, 5, 13, 1, k=7, stride=1, pad=3)
    yield transposed_case("conv_transpose_k3_s2_p0_1x1_image", 1, 1, 1, 1, 3, k=3, stride=2, pad=0)
    yield upsample_case("upsample_bilinear_x4_odd", 2, 3, 5, 3, 4)
    yield upsample_case("upsample_bilinear_x4_1x1_image", 1, 1, 1, 13, 4)
    yield upsample_case("upsample_bilinear_x2_1x1_image", 1, 1, 1, 1, 2)


def main():
    write_fixtures(OUT, cases, "scripts/make_layer_fixtures.py")


if __name__ == "__main__":
    main()
