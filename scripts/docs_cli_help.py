"""MkDocs hook: the command-line page shows the real ``--help`` of every ``exact-lab`` command.

`docs/cli.md` holds the marker ``<!-- exact-lab help -->``; each build replaces it with the help
text argparse prints, so the page cannot drift from the parser.
"""

from __future__ import annotations

import argparse

MARKER = "<!-- exact-lab help -->"


def _commands(parser: argparse.ArgumentParser, prefix: str):
    yield prefix, parser
    for action in parser._actions:  # argparse keeps its sub-parsers here and nowhere public
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, f"{prefix} {name}")


def help_markdown() -> str:
    from exact_lab.cli import build_parser

    parts = []
    for name, parser in _commands(build_parser(), "exact-lab"):
        parser.prog = name
        level = "#" * min(2 + name.count(" "), 4)
        parts.append(f"{level} `{name}`\n\n```text\n{parser.format_help().rstrip()}\n```\n")
    return "\n".join(parts)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, help_markdown())
