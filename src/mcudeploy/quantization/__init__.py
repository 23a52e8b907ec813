"""Post-training quantization of a float graph to int8.

`quantize_graph(graph, calibration, method)` runs the float graph on the
calibration inputs, chooses each activation's range (min-max, percentile or
least squared error: calibrate.py), and rebuilds the graph in the
TFLite int8 scheme: asymmetric int8 activations, per-channel symmetric int8
convolution weights (CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV, on the output
channels), per-tensor symmetric fully connected weights, int32 biases at input
scale x weight scale, other constants (BATCH_MATMUL's constant operand) as
activations of their own range, and the fixed output scales TFLite's int8 kernels
require (SOFTMAX, LOGISTIC, TANH); an LSTM as TensorFlow's quantizer does it (rebuild.py), its int16
cell state's range recorded over every time step (calibrate.py). The inputs and outputs stay float, with a
QUANTIZE after each input and a DEQUANTIZE before each output, as the TFLite
converter writes by default. Write the result with `write_tflite`.
"""

from mcudeploy.quantization.calibrate import Method, observe_ranges
from mcudeploy.quantization.rebuild import Quantized, quantize_graph

__all__ = ["Method", "Quantized", "observe_ranges", "quantize_graph"]
