"""Models built in code, for demos and tests that need no model file."""

from mcudeploy.examples.kws import build_demo_input, build_kws_model

__all__ = ["build_demo_input", "build_kws_model"]
