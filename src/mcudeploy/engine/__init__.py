"""The reference engine: numpy kernels bit-exact with TensorFlow Lite Micro's reference kernels."""

from mcudeploy.engine.interpreter import RunResult, check_supported, run

__all__ = ["RunResult", "check_supported", "run"]
