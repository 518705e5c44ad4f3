"""Hyperspectral image classification: scenes, preprocessing, splits, engine, metrics, maps."""
