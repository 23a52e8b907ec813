"""Errors the user sees as one line: `mcudeploy: error: <subject>: <reason>`."""

from __future__ import annotations


class McuDeployError(Exception):
    """An error caused by the user's input, reported without a traceback (exit code 2)."""

    def __init__(self, subject: str, reason: str) -> None:
        super().__init__(f"{subject}: {reason}")
        self.subject = subject
        self.reason = reason


class InternalError(Exception):
    """Our own C (the generated code or the kernel library) failed to compile: a defect of mcudeploy, not of
    the input. Not a McuDeployError, so that no fallback which catches those (a configuration left untimed,
    an assumed stack) stands in for what the build would have measured; reported as one line, exit code 2."""

    def __init__(self, subject: str, reason: str) -> None:
        super().__init__(f"{subject}: {reason}")
        self.subject = subject
        self.reason = reason


class ModelError(McuDeployError):
    """The model file cannot be read or is not a valid model."""


class UnsupportedOperatorError(McuDeployError):
    """The model uses an operator (or a variant of one) the engine does not implement."""
