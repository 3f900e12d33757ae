"""The `evaluate` stage: test-split metrics, a confusion-matrix plot, speed and size, the model card."""
