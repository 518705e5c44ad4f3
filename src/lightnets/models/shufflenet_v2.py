"""shufflenet_v2 (in progress)."""
