"""shufflenet_v1 (in progress)."""
