"""``exact-lab team init`` and ``exact-lab team check``."""

from __future__ import annotations

import os
import sys

from .checks import check_team


def add_subcommands(subparsers) -> None:
    team = subparsers.add_parser("team", help="set up or check a team deployment (PostgreSQL catalog, shared data)",
                                 description="A team shares one catalog in PostgreSQL and the data files on storage "
                                             "every member's server can write.")
    sub = team.add_subparsers(dest="team_command", metavar="TEAM_COMMAND", required=True)

    init = sub.add_parser("init", help="create the catalog, the first team and its admin",
                          description="Create the catalog's database when missing, check that the data path is "
                                      "writable and open to the other members, and create the project's tables, a "
                                      "first team and its admin.")
    init.add_argument("catalog", help="postgresql://user@host:port/database")
    init.add_argument("--data", required=True, help="the shared folder (or object-store URL) for the data files")
    init.add_argument("--team", default="team", help="the first team's name (default: team)")
    init.add_argument("--admin", help="the first admin (default: JUPYTERHUB_USER or the OS user)")
    init.set_defaults(func=cmd_init)

    check = sub.add_parser("check", help="check the catalog, the data path and the extensions, in words",
                           description="Reach the catalog, write to the data path, load DuckDB's extensions and "
                                       "find the Jupyter server extension; say what is wrong and how to fix it. "
                                       "Exit status 1 when something is.")
    check.add_argument("catalog", nargs="?", help="postgresql:// URL (default: $EXACT_LAB_CATALOG)")
    check.add_argument("--data", help="the shared data path (default: $EXACT_LAB_DATA)")
    check.set_defaults(func=cmd_check)


def cmd_init(args) -> int:
    from ..errors import TeamSetupError
    from .setup import init_team

    try:
        findings = init_team(args.catalog, args.data, team=args.team, admin=args.admin)
    except TeamSetupError as exc:
        for finding in (exc.args[1] if len(exc.args) > 1 else []):
            print(finding.line())
        print(f"exact-lab: team init stopped: {exc.args[0]}", file=sys.stderr)
        return 2
    for finding in findings:
        print(finding.line())
    return 0


def cmd_check(args) -> int:
    catalog = args.catalog or os.environ.get("EXACT_LAB_CATALOG")
    if not catalog:
        print("exact-lab: give the catalog's postgresql:// URL (or set EXACT_LAB_CATALOG)", file=sys.stderr)
        return 2
    findings = check_team(catalog, args.data or os.environ.get("EXACT_LAB_DATA"))
    for finding in findings:
        print(finding.line())
    bad = [f for f in findings if not f.ok]
    print(f"\n{len(bad)} problem(s) found" if bad else "\nthe team set-up works")
    return 1 if bad else 0
