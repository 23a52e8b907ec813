"""Operator parameters: everything a kernel needs, derived from the IR once per operator.

One module per operator family; each `prepare(op, graph)` returns a frozen record whose
fields are those of the C struct the kernel library takes (`record.struct_fields`), with
whatever the kernel gets beside the struct (flash arrays, call arguments) as extra fields.
The reference engine computes with these records, the code generator serialises them, the
kernel contracts and the memory budget read them: a parameter is derived in one place, as
TFLite Micro's kernels compute their OpData once in Prepare for the reference and the
CMSIS-NN kernels alike.
"""
