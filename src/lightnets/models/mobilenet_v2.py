"""mobilenet_v2 (in progress)."""
