"""``exact-lab import`` and ``exact-lab export``: registered on the main command's subparsers by
``add_subcommands(subparsers)``."""

from __future__ import annotations

import argparse
import json
import sys
import time

from .registry import ALIASES, FORMATS


def add_subcommands(subparsers) -> None:
    names = sorted(FORMATS) + sorted(ALIASES)
    imp = subparsers.add_parser("import", help="import an annotation file or folder into a project")
    imp.add_argument("project", help="project folder (or postgresql:// URL)")
    imp.add_argument("path", help="annotation file or folder")
    imp.add_argument("--format", "-f", choices=names, help="format (sniffed from the content when omitted)")
    imp.add_argument("--image-set", "-s", help="image set to match images in (created if missing)")
    imp.add_argument("--map", action="append", default=[], metavar="CLASS=TYPE",
                     help="map a class of the file to an annotation type (repeatable)")
    imp.add_argument("--no-create-types", action="store_true", help="skip classes the project has no type for")
    imp.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                     help="reader option, e.g. -o gt=instances.json -o image=slide.svs")
    imp.add_argument("--user", help="who the annotations are attributed to")
    imp.add_argument("--json", action="store_true", help="print the report as JSON")
    imp.set_defaults(func=run_import)

    exp = subparsers.add_parser("export", help="export a project's annotations in a format")
    exp.add_argument("project", help="project folder (or postgresql:// URL)")
    exp.add_argument("path", help="output file or folder")
    exp.add_argument("--format", "-f", required=True, choices=names)
    exp.add_argument("--version", "-v", help="named version (or snapshot) to export")
    exp.add_argument("--image-set", "-s")
    exp.add_argument("--types", "-t", action="append", help="annotation type to export (repeatable)")
    exp.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                     help="writer option, e.g. -o layout=darknet -o precision=6")
    exp.add_argument("--user")
    exp.add_argument("--json", action="store_true")
    exp.set_defaults(func=run_export)


def _options(pairs) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"option {pair!r}: expected KEY=VALUE")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


class _Progress:
    """A tqdm bar over the phases of a long run (reading, storing, writing)."""

    def __init__(self, steps, desc):
        from tqdm import tqdm

        self.bar = tqdm(total=steps, desc=desc, unit="step", file=sys.stderr, disable=None)

    def step(self, text):
        self.bar.set_postfix_str(text)
        self.bar.update(1)

    def close(self):
        self.bar.close()


def run_import(args) -> int:
    from . import import_annotations

    type_map = dict(m.split("=", 1) for m in args.map)
    return _run(args, "import", "reading and storing", lambda proj: import_annotations(
        proj, args.path, format=args.format, image_set=args.image_set, type_map=type_map or None,
        create_types=not args.no_create_types, **_options(args.option)))


def run_export(args) -> int:
    from . import export_annotations

    return _run(args, "export", "reading and writing", lambda proj: export_annotations(
        proj, args.path, args.format, version=args.version, image_set=args.image_set, types=args.types,
        **_options(args.option)))


def _run(args, label: str, doing: str, work) -> int:
    """Open the project, run ``work(project)`` under a progress bar, print its report."""
    from .. import open_project

    proj = open_project(args.project, user=args.user)
    bar = _Progress(2, label)
    t0 = time.perf_counter()
    try:
        bar.step(doing)
        report = work(proj)
        bar.step("done")
    finally:
        bar.close()
        proj.close()
    report["seconds"] = round(time.perf_counter() - t0, 3)
    _print(report, args.json)
    return 0


def _print(report, as_json):
    if as_json:
        print(json.dumps(report, default=str, indent=2))
        return
    for key, value in report.items():
        if key == "warnings":
            for w in value:
                print(f"warning: {w}")
        else:
            print(f"{key}: {value}")


def main(argv=None) -> int:
    """Stand-alone entry for testing: ``python -m exact_lab.formats.cli import ...``."""
    parser = argparse.ArgumentParser(prog="exact-lab")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    from ..errors import ExactLabError

    try:
        return args.func(args)
    except ExactLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
