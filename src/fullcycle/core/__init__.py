"""The layer every step stands on and that imports no step: errors, params, paths, data
files, the model, evidence, provenance. See ARCHITECTURE.md."""
