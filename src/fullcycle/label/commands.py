"""`fullcycle label export` / `fullcycle label import`: the sub-commands (light: no torch here)."""

from __future__ import annotations


def register(add, stage, command) -> None:
    label = add("label", None, "texts out for labelling, labels back in as data").add_subparsers(
        dest="label_command", metavar="<label command>", required=True
    )
    p = add(
        "export",
        command("fullcycle.label.export:cli_label_export"),
        "choose texts worth labelling from the versioned traffic: a Label Studio import file "
        "(with the model's predictions as pre-annotations), its labelling config and a CSV",
        label,
    )
    p.add_argument("--n", type=int, help="how many texts (default: label.export.n)")
    p.add_argument(
        "--out",
        help="the Label Studio JSON file (default: label.export.out); the labelling "
        "config (.xml) and a CSV (.csv) are written beside it",
    )
    p = add(
        "import",
        command("fullcycle.label.importer:cli_label_import"),
        "merge labelled texts (Label Studio JSON export, JSON_MIN, or CSV text,label) into the "
        "training data as a new DVC-tracked file, and commit",
        label,
    )
    p.add_argument("path", help="a Label Studio JSON / JSON_MIN export, or a CSV with text,label")
    p.add_argument(
        "--new-labels",
        action="store_true",
        help="accept labels the project does not have yet (the next release is a major version)",
    )
    p.add_argument(
        "--require-all",
        action="store_true",
        help="refuse the file when any row has no label (default: such rows are skipped and "
        "counted)",
    )
