"""Validation: generated C run on the host and on emulated cores, compared with the reference engine."""
