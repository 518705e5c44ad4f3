"""Deployment: ONNX export checked against ONNX Runtime, conv–BN folding, channels-last.

``onnx``/``onnxruntime`` (the ``export`` extra) are imported only when an export runs.
"""

from .fuse import count_batchnorms, fuse_conv_bn, to_channels_last
from .onnx import ExportCheckError, ExportResult, export_onnx

__all__ = [
    "ExportCheckError",
    "ExportResult",
    "count_batchnorms",
    "export_onnx",
    "fuse_conv_bn",
    "to_channels_last",
]
