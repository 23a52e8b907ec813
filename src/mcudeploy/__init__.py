"""mcudeploy: put neural networks on Arm Cortex-M microcontrollers, with numbers you can trust."""

__version__ = "0.1.0"
