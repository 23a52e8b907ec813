"""RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR against TFLite Micro."""

from __future__ import annotations

import pytest

from mcudeploy.ir import GraphBuilder
from mcudeploy.ir.options import ResizeBilinearOptions, ResizeNearestNeighborOptions
from single_op import assert_matches_tflm, constant


def _resize(in_hw, out_hw, dtype: str, align_corners: bool, half_pixel_centers: bool, op="RESIZE_NEAREST_NEIGHBOR"):
    b = GraphBuilder("resize")
    quantization = {} if dtype == "float32" else {"scale": 0.1, "zero_point": 3}
    x = b.tensor((2, *in_hw, 3), dtype, **quantization)
    y = b.tensor((2, *out_hw, 3), dtype, **quantization)
    kind = ResizeNearestNeighborOptions if op == "RESIZE_NEAREST_NEIGHBOR" else ResizeBilinearOptions
    options = kind(align_corners=align_corners, half_pixel_centers=half_pixel_centers)
    b.op(op, [x, constant(b, list(out_hw))], [y], options)
    return b.build([x], [y])


@pytest.mark.parametrize("half_pixel_centers", [False, True])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize(
    ("in_hw", "out_hw"),
    [((4, 4), (8, 8)), ((3, 5), (7, 4)), ((6, 9), (4, 3)), ((5, 1), (1, 6)), ((3, 3), (5, 5)), ((13, 17), (29, 31))],
)
def test_resize_nearest_neighbor(in_hw, out_hw, align_corners, half_pixel_centers):
    assert_matches_tflm(_resize(in_hw, out_hw, "int8", align_corners, half_pixel_centers))


@pytest.mark.parametrize("dtype", ["int16", "float32"])
@pytest.mark.parametrize("half_pixel_centers", [False, True])
def test_resize_nearest_neighbor_types(dtype, half_pixel_centers):
    assert_matches_tflm(_resize((3, 5), (7, 4), dtype, False, half_pixel_centers), float_exact=True)


BILINEAR_SIZES = [((4, 4), (8, 8)), ((3, 5), (7, 4)), ((6, 9), (4, 3)), ((5, 1), (1, 6)), ((13, 17), (29, 31))]


@pytest.mark.parametrize(("align_corners", "half_pixel_centers"), [(False, False), (True, False), (False, True)])
@pytest.mark.parametrize(("in_hw", "out_hw"), BILINEAR_SIZES)
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_resize_bilinear(dtype, in_hw, out_hw, align_corners, half_pixel_centers):
    graph = _resize(in_hw, out_hw, dtype, align_corners, half_pixel_centers, "RESIZE_BILINEAR")
    assert_matches_tflm(graph, float_exact=True)
