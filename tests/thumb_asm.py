"""Assembly test programs: the preamble that declares Thumb functions with FUNCTION/END macros."""

PREAMBLE = r"""
    .syntax unified
    .thumb
    .text
    .macro FUNCTION name
    .global \name
    .type \name, %function
    .thumb_func
    .align 2
\name:
    .endm
    .macro END name
    .size \name, . - \name
    .endm
"""
