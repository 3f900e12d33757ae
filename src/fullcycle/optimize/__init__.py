"""Optimisation for serving: the `optimize` stage (ONNX export, BERT fusion, dynamic int8, optional
structured head pruning), its accuracy gate, and the ONNX Runtime classifier the service runs.

Nothing heavy is imported here: `fullcycle --help` never pays for torch or ONNX Runtime.
"""
