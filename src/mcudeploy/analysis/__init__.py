"""The analyze step: compute and parameter counts, the generated code's measured flash, and a
model's memory on a device (`model.analyze_model`)."""
