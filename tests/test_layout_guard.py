"""The layout guard: NCHW graphs found in .tflite and ONNX inputs, and explained by `inspect`."""

from __future__ import annotations

import json
from dataclasses import fields

import numpy as np
import onnx
import pytest

from conftest import FLOAT_MODELS, INT8_MODELS, MODELS
from mcudeploy.analysis.findings import Finding
from mcudeploy.analysis.layout import layout_findings
from mcudeploy.importers import load_model
from mcudeploy.importers.tflite.writer import write_tflite
from mcudeploy.ir import NO_TENSOR, DType, GraphBuilder
from mcudeploy.ir.options import Conv2DOptions
from onnx_models import Net, weights
from test_cli import invoke


def _nchw_graph(leading_transpose: bool):
    """A float conv on a 1x3x8x8 image, transposed first to NHWC or (wrongly) read as NHWC."""
    b = GraphBuilder("nchw")
    x = b.tensor((1, 3, 8, 8), DType.FLOAT32, name="image")
    if leading_transpose:
        perm = b.tensor((4,), DType.INT32, data=np.array([0, 2, 3, 1], np.int32))
        nhwc = b.tensor((1, 8, 8, 3), DType.FLOAT32)
        b.op("TRANSPOSE", [x, perm], [nhwc])
        x_in, depth, out_shape = nhwc, 3, (1, 8, 8, 4)
    else:
        x_in, depth, out_shape = x, 8, (1, 3, 8, 4)
    w = b.tensor((4, 1, 1, depth), DType.FLOAT32, data=np.ones((4, 1, 1, depth), np.float32))
    y = b.tensor(out_shape, DType.FLOAT32)
    b.op("CONV_2D", [x_in, w, NO_TENSOR], [y], Conv2DOptions())
    return b.build([x], [y])


def test_a_leading_transpose_into_nhwc_is_found():
    findings = layout_findings(_nchw_graph(leading_transpose=True))
    assert [(f.check, f.layer) for f in findings] == [("leading-transpose", 0)]
    assert "768 B moved" in findings[0].cost and findings[0].fix == "feed NHWC and drop the TRANSPOSE"


def test_nchw_data_read_as_nhwc_is_found_at_the_input_and_the_convolution():
    findings = layout_findings(_nchw_graph(leading_transpose=False))
    assert [(f.check, f.layer) for f in findings] == [("channels-first-input", None), ("channels-in-height", 0)]


@pytest.mark.parametrize("name", INT8_MODELS + FLOAT_MODELS)
def test_no_finding_on_the_real_nhwc_models(name):
    assert layout_findings(load_model(MODELS / name)) == []


def test_inspect_explains_the_findings_in_text_and_json(tmp_path):
    path = tmp_path / "nchw.tflite"
    path.write_bytes(write_tflite(_nchw_graph(leading_transpose=True)))
    code, text = invoke("inspect", str(path))
    assert code == 0 and "warning: input 'image' [1, 3, 8, 8] is NCHW" in text
    code, text = invoke("inspect", str(path), "--json")
    finding = json.loads(text)["findings"][0]
    assert code == 0 and finding["check"] == "leading-transpose" and finding["severity"] == "warning"
    assert set(finding) == {f.name for f in fields(Finding)}  # the record doctor prints too


def test_onnx_findings_say_what_the_importer_converted_and_kept(tmp_path):
    report = json.loads(invoke("inspect", str(MODELS / "mlperf_tiny/onnx/vww_96_float.onnx"), "--json")[1])
    assert [f["check"] for f in report["findings"]] == ["converted-to-nhwc"]
    assert "NCHW [1, 3, 96, 96] → NHWC [1, 96, 96, 3]" in report["findings"][0]["what"]
    net = Net((1, 2, 4, 3))
    y = net.add("Conv", ["input", weights(3, 2, 1, 1)])
    path = tmp_path / "flatten.onnx"
    onnx.save(net.model(net.add("Flatten", [y])), path)
    findings = layout_findings(load_model(path))
    assert [(f.check, f.layer) for f in findings] == [("converted-to-nhwc", None), ("kept-transpose", 1)]
