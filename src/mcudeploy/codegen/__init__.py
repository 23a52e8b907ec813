"""C code generation: the model as C99 over mcudeploy's kernel library, with the memory plan's arena."""

from mcudeploy.codegen.generator import GeneratedCode, RenderedProject, generate, render

__all__ = ["GeneratedCode", "RenderedProject", "generate", "render"]
