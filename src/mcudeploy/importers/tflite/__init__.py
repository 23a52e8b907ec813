"""TensorFlow Lite flatbuffers: the reader (an importer) and its inverse, the writer."""

from mcudeploy.importers.tflite.reader import read_tflite
from mcudeploy.importers.tflite.writer import write_tflite

__all__ = ["read_tflite", "write_tflite"]
