"""RESIZE_NEAREST_NEIGHBOR against TFLite Micro."""

from __future__ import annotations

import pytest

from mcudeploy.ir import GraphBuilder
from mcudeploy.ir.options import ResizeNearestNeighborOptions
from single_op import assert_matches_tflm, constant


def _resize(in_hw, out_hw, dtype: str, align_corners: bool, half_pixel_centers: bool):
    b = GraphBuilder("resize")
    x = b.tensor((2, *in_hw, 3), dtype)
    y = b.tensor((2, *out_hw, 3), dtype)
    options = ResizeNearestNeighborOptions(align_corners=align_corners, half_pixel_centers=half_pixel_centers)
    b.op("RESIZE_NEAREST_NEIGHBOR", [x, constant(b, list(out_hw))], [y], options)
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
