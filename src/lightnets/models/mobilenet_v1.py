"""mobilenet_v1 (in progress)."""
