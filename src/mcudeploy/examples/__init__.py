"""Models built in code, for demos and tests that need no model file."""

from mcudeploy.examples.kws import build_demo_input, build_kws_model
from mcudeploy.examples.mobilenet import build_image_input, build_mobilenet_v2

__all__ = ["build_demo_input", "build_image_input", "build_kws_model", "build_mobilenet_v2"]
