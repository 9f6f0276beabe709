"""The ``exact-lab`` command."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _default_demo_dir() -> Path:
    # In a source checkout the demo lives beside the notebooks, under the server's root.
    return REPO / "demo-data" if (REPO / "notebooks").is_dir() else Path.cwd() / "exact-lab-demo"


def _quickstart() -> Path:
    return REPO / "notebooks" / "quickstart.ipynb"


def cmd_demo(args) -> int:
    from .demo import build_demo

    folder = Path(args.dir).absolute() if args.dir else _default_demo_dir()
    summary = build_demo(folder)
    notebook = _quickstart()
    env = dict(os.environ, EXACT_LAB_DEMO=str(folder))
    if args.headless:
        from .demo.run_notebook import run_notebook

        out = folder / "quickstart.executed.ipynb"
        report = run_notebook(notebook, out, env=env, cwd=notebook.parent)
        print(report.summary())
        return 0 if report.ok else 1
    root = REPO if notebook.is_relative_to(REPO) else folder
    command = [sys.executable, "-m", "jupyter", "lab", str(notebook.relative_to(root)),
               f"--ServerApp.root_dir={root}"] + (["--no-browser"] if args.no_browser else [])
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI machines often run as root
    print("starting JupyterLab:", " ".join(command))
    print(f"demo project: {summary['project']}")
    return subprocess.call(command, env=env, cwd=root)


def cmd_info(args) -> int:
    from .project import open_project

    project = open_project(args.project, data=args.data, read_only=True)
    info = project.info()
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    width = max(len(k) for k in info)
    for key, value in info.items():
        print(f"{key:<{width}}  {value}")
    types = project.annotation_types()
    if len(types):
        print("\nannotation types:")
        counts = project.sql("SELECT type_id, count(*) AS n FROM annotations WHERE NOT deleted GROUP BY type_id").df()
        counts = dict(zip(counts["type_id"], counts["n"]))
        for row in types.itertuples():
            print(f"  {row.sort_order:>2}  {row.name:<24} {row.vector_type:<10} {row.color}  {counts.get(row.type_id, 0)}")
    return 0


def cmd_versions(args) -> int:
    from .project import open_project

    project = open_project(args.project, data=args.data, read_only=True)
    versions = project.versions()
    if versions.empty:
        print("no versions yet (make one with project.commit(name))")
        return 0
    for row in versions.itertuples():
        message = row.message if isinstance(row.message, str) else ""
        print(f"{row.name:<16} snapshot {row.snapshot_id:<6} {row.created_at:%Y-%m-%d %H:%M}  {row.author:<12} {message}")
    if args.diff and len(versions) >= 2:
        a, b = versions["name"].iloc[-2], versions["name"].iloc[-1]
        counts = project.diff(a, b)["change"].value_counts().to_dict()
        print(f"\n{a} -> {b}: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) if counts else f"\n{a} -> {b}: no changes")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exact-lab",
        description="Annotate whole-slide and ordinary images from Jupyter; every data-set version a snapshot.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="build the demo project and open the quickstart notebook in JupyterLab",
                          description="Generate a demo slide with annotations and two versions in a project, "
                                      "then open notebooks/quickstart.ipynb in JupyterLab.")
    demo.add_argument("--headless", action="store_true", help="execute the notebook without a browser and report")
    demo.add_argument("--no-browser", action="store_true", help="start JupyterLab without opening a browser")
    demo.add_argument("--dir", help="where to put the demo slide and project (default: demo-data/)")
    demo.set_defaults(func=cmd_demo)

    info = sub.add_parser("info", help="summarise a project: counts, types, store location")
    info.add_argument("project", help="project folder or postgresql:// catalog")
    info.add_argument("--data", help="data path (team projects)")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=cmd_info)

    versions = sub.add_parser("versions", help="list a project's named versions")
    versions.add_argument("project", help="project folder or postgresql:// catalog")
    versions.add_argument("--data", help="data path (team projects)")
    versions.add_argument("--diff", action="store_true", help="also count what changed between the last two")
    versions.set_defaults(func=cmd_versions)

    try:
        from .formats.cli import add_subcommands
    except ImportError:  # formats not installed in this build
        pass
    else:
        add_subcommands(sub)
    from .team.cli import add_subcommands as add_team_subcommands

    add_team_subcommands(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from .errors import ExactLabError

    try:
        return int(args.func(args) or 0)
    except ExactLabError as exc:
        print(f"exact-lab: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
