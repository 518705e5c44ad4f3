"""Parameters, multiply-adds, activation memory and measured latency of a network.

MACs follow the papers' convention: multiply-accumulates of convolutions and linear layers
only, per sample; FLOPs = 2 × MACs. Counting runs on the ``meta`` device through
:class:`torch.utils.flop_counter.FlopCounterMode`; latency is measured on real weights.
"""

from .api import Comparison, compare, expand, profile
from .counting import CONVENTION, LayerStats, count_macs, count_parameters, meta_copy
from .latency import LatencyResult, measure_interleaved, measure_latency
from .report import ProfileResult, comparison_table

__all__ = [
    "CONVENTION",
    "Comparison",
    "LatencyResult",
    "LayerStats",
    "ProfileResult",
    "compare",
    "comparison_table",
    "count_macs",
    "count_parameters",
    "expand",
    "measure_interleaved",
    "measure_latency",
    "meta_copy",
    "profile",
]
