"""Labelling: texts worth a person's time out (`label export`, Label Studio files), labels back in
as a new version of the training data (`label import`). No labelling server is a dependency."""
