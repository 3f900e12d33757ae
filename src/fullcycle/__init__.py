"""fullcycle: a git-native, reproducible lifecycle for fine-tuned transformer text classifiers."""

import os

__version__ = "0.1.0"

# Every tool in this stack phones home by default and some hang offline until a timeout.
# setdefault keeps a user's explicit choice (e.g. HF_HUB_OFFLINE=0 where a hub is reachable).
for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "DVC_NO_ANALYTICS": "1",
    "BENTOML_DO_NOT_TRACK": "true",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(_name, _value)
