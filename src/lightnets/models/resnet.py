"""resnet (in progress)."""
