"""The C kernels' side of the contract: what each kernel needs and guarantees about memory."""

from mcudeploy.kernels.contracts import AccessSchedule, KernelContract, OverlapRule, kernel_contract

__all__ = ["AccessSchedule", "KernelContract", "OverlapRule", "kernel_contract"]
