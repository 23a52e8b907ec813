"""Static analysis of a graph: compute and parameter counts (memory planning comes next to it)."""
