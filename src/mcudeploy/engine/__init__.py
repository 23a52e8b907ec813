"""The reference engine: numpy kernels bit-exact with TensorFlow Lite Micro's reference kernels."""

from mcudeploy.engine.interpreter import Engine, RunResult, check_supported, run

__all__ = ["Engine", "RunResult", "check_supported", "run"]
