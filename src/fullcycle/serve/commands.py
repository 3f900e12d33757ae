"""`fullcycle package` and `fullcycle serve`: declared here (BentoML loads when they run)."""

from __future__ import annotations

import argparse


def register(add, stage, command) -> None:
    add(
        "package",
        stage("fullcycle.serve.package:package_model"),
        "store the model in BentoML, build the bento, export bentos/classifier.bento",
    )
    p = add(
        "serve",
        command("fullcycle.serve.launch:cli_serve"),
        "serve the model over HTTP from source (POST /classify, GET /metadata)",
    )
    p.add_argument("--model-dir", help="the model directory (default: serve.model_dir)")
    p.add_argument("--host", help="bind address (default: serve.host)")
    p.add_argument("--port", type=int, help="port (default: serve.port)")
    p.add_argument(
        "--capture",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="record masked requests and predictions to serve.capture_path (default: serve.capture)",
    )
