"""Deployment: ONNX export checked against ONNX Runtime, INT8 quantization with calibration,
conv–BN folding, channels-last, and the latency benchmark against torchvision
(``lightnets bench``).

``onnx``/``onnxruntime`` (the ``export`` extra) are imported only when an export runs.
"""

from .fuse import count_batchnorms, fuse_conv_bn, to_channels_last
from .onnx import ExportCheckError, ExportResult, export_onnx
from .quantize import QuantizeResult, quantize_onnx

__all__ = [
    "ExportCheckError",
    "ExportResult",
    "QuantizeResult",
    "count_batchnorms",
    "export_onnx",
    "fuse_conv_bn",
    "quantize_onnx",
    "to_channels_last",
]
