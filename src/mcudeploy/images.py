"""Model inputs from images (.bmp, .png) with a stated preprocessing: how pixels become float inputs.

For an NHWC float input of 1 or 3 channels; the image must have the input's height and width
(no resizing: a resize would be a preprocessing the user did not state). Colour images feed a
1-channel input as their luma, grey images a 3-channel input as three equal channels.
"""

from __future__ import annotations

import io
from enum import StrEnum
from pathlib import Path

import numpy as np

from mcudeploy.errors import McuDeployError
from mcudeploy.files import read_regular
from mcudeploy.inputs import MAX_INPUT_BYTES
from mcudeploy.ir import Graph

IMAGE_SUFFIXES = (".bmp", ".png")


class Preprocess(StrEnum):
    """Pixels 0..255 → the model's float input."""

    UNIT = "0..1"
    BYTE = "0..255"
    SIGNED = "-1..1"
    CENTERED = "-128..127"

    def apply(self, pixels: np.ndarray) -> np.ndarray:
        p = pixels.astype(np.float32)
        if self is Preprocess.UNIT:
            return p / np.float32(255)
        if self is Preprocess.SIGNED:
            return p / np.float32(127.5) - np.float32(1)
        return p - np.float32(128) if self is Preprocess.CENTERED else p


def image_files(path: str | Path) -> list[Path]:
    """The image files `path` names (itself, or a folder's, sorted); empty when it holds none."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    return [path] if path.suffix.lower() in IMAGE_SUFFIXES else []


def load_image_sets(path: str | Path, graph: Graph, preprocess: Preprocess | None) -> list[list[np.ndarray]]:
    """One input set per image of `path`."""
    files = image_files(path)
    if not files:
        raise McuDeployError(str(path), f"holds no images ({', '.join(IMAGE_SUFFIXES)})")
    if preprocess is None:
        choices = ", ".join(p.value for p in Preprocess)
        raise McuDeployError(str(path), f"images need a stated preprocessing: --preprocess ({choices})")
    if len(graph.inputs) != 1:
        raise McuDeployError(str(path), f"the model takes {len(graph.inputs)} inputs; images feed one")
    tensor = graph.graph_inputs[0]
    if len(tensor.shape) != 4 or tensor.shape[3] not in (1, 3) or not tensor.dtype.is_float:
        raise McuDeployError(
            str(path), f"input '{tensor.name}' {list(tensor.shape)} {tensor.dtype} is not a float NHWC image"
        )
    return [[preprocess.apply(_pixels(file, tensor.shape))] for file in files]


def _pixels(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError  # a dependency of matplotlib, which mcudeploy requires

    _, height, width, channels = shape
    try:
        with Image.open(io.BytesIO(read_regular(path, MAX_INPUT_BYTES))) as image:
            pixels = np.asarray(image.convert("L" if channels == 1 else "RGB"))
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise McuDeployError(str(path), f"cannot read the image: {error}") from None
    if pixels.shape[:2] != (height, width):
        raise McuDeployError(
            str(path), f"the image is {pixels.shape[1]}x{pixels.shape[0]}, the model takes {width}x{height}"
        )
    return pixels.reshape(shape)
