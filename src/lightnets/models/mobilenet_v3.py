"""mobilenet_v3 (in progress)."""
