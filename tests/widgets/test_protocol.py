"""The kernel's and the browser's definitions of the widget protocol agree, message by message
and field by field (exact_lab/widgets/protocol.py against js/src/protocol.ts)."""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path

import pytest

from exact_lab.widgets import protocol

PROTOCOL_TS = Path(__file__).resolve().parents[2] / "js" / "src" / "protocol.ts"


# -- reading protocol.ts ---------------------------------------------------------------------------
def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def read_ts(path: Path = PROTOCOL_TS):
    """(interfaces {name: {field: (type text, required)}}, aliases {name: type text})."""
    text = _strip_comments(path.read_text())
    interfaces = {}
    for name, parent, body in re.findall(r"export interface (\w+)(?:\s+extends\s+(\w+))?\s*\{(.*?)\}", text, flags=re.S):
        found = dict(interfaces[parent]) if parent else {}  # inherited fields first, as TypedDict has them
        for field, optional, kind in re.findall(r"(\w+)(\??):\s*([^;]+);", body):
            found[field] = (" ".join(kind.split()), not optional)
        interfaces[name] = found
    aliases = {name: " ".join(kind.split()) for name, kind in re.findall(r"export type (\w+)\s*=\s*([^;]+);", text, flags=re.S)}
    return interfaces, aliases


def ts_canonical(kind: str, aliases: dict) -> str:
    kind = kind.strip()
    if kind.startswith("|"):
        kind = kind[1:].strip()
    parts = _split_top(kind, "|")
    if len(parts) > 1:
        return " | ".join(sorted({ts_canonical(p, aliases) for p in parts}))
    if kind.startswith("[") and kind.endswith("]"):  # a tuple
        return "tuple[" + ", ".join(ts_canonical(p, aliases) for p in _split_top(kind[1:-1], ",")) + "]"
    if kind.endswith("[]"):
        inner = kind[:-2]
        if inner.startswith("(") and inner.endswith(")"):
            inner = inner[1:-1]
        return f"list[{ts_canonical(inner, aliases)}]"
    if kind in aliases and not kind.startswith(("To",)):
        return ts_canonical(aliases[kind], aliases)
    return kind


def _split_top(text: str, sep: str) -> list[str]:
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([<{":
            depth += 1
        elif ch in ")]>}":
            depth -= 1
        elif ch == sep and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
    out.append(text[start:].strip())
    return [p for p in out if p]


def py_canonical(hint) -> str:
    origin = typing.get_origin(hint)
    if hint in (int, float):
        return "number"
    if hint is str:
        return "string"
    if hint is bool:
        return "boolean"
    if hint is type(None):
        return "null"
    if origin is typing.Literal:
        return " | ".join(sorted(f'"{v}"' for v in typing.get_args(hint)))
    if origin in (typing.Union, types.UnionType):
        parts = set()
        for arg in typing.get_args(hint):
            parts.update(py_canonical(arg).split(" | "))
        return " | ".join(sorted(parts))
    if origin is list:
        (inner,) = typing.get_args(hint)
        return f"list[{py_canonical(inner)}]"
    if origin is tuple:
        return "tuple[" + ", ".join(py_canonical(a) for a in typing.get_args(hint)) + "]"
    if typing.is_typeddict(hint):
        return hint.__name__
    raise AssertionError(f"no TypeScript counterpart known for {hint!r}")


def _sorted_union(text: str) -> str:
    return " | ".join(sorted(set(text.split(" | "))))


# -- the agreement ---------------------------------------------------------------------------------
TS_INTERFACES, TS_ALIASES = read_ts()
PY_DEFINITIONS = {d.__name__: d for d in (*protocol.TO_BROWSER.values(), *protocol.TO_KERNEL.values(), *protocol.PARTS)}


@pytest.mark.parametrize("name", sorted(PY_DEFINITIONS))
def test_each_definition_has_the_same_fields_and_types_on_both_sides(name):
    assert name in TS_INTERFACES, f"protocol.ts has no interface {name}"
    py_fields = protocol.fields(PY_DEFINITIONS[name])
    ts_fields = TS_INTERFACES[name]
    assert list(ts_fields) == list(py_fields), f"{name}: fields differ (TypeScript {list(ts_fields)}, Python {list(py_fields)})"
    for field, (hint, required) in py_fields.items():
        ts_kind, ts_required = ts_fields[field]
        assert ts_required == required, f"{name}.{field}: optional on one side only"
        assert _sorted_union(ts_canonical(ts_kind, TS_ALIASES)) == _sorted_union(py_canonical(hint)), (
            f"{name}.{field}: TypeScript {ts_kind!r}, Python {hint!r}")


@pytest.mark.parametrize(("union", "registry"), [("ToBrowser", protocol.TO_BROWSER), ("ToKernel", protocol.TO_KERNEL)])
def test_the_unions_hold_exactly_the_registered_messages(union, registry):
    members = {m.strip() for m in TS_ALIASES[union].split("|") if m.strip()}
    assert members == {d.__name__ for d in registry.values()}
    for name, definition in registry.items():  # each registry key is the message's type literal
        (literal,) = typing.get_args(protocol.fields(definition)["type"][0])
        assert literal == name
        assert TS_INTERFACES[definition.__name__]["type"][0] == f'"{name}"'


def test_every_message_interface_in_typescript_is_defined_in_python():
    ts_messages = {n for n in TS_INTERFACES if n.endswith("Msg")}
    assert ts_messages <= set(PY_DEFINITIONS), f"only in protocol.ts: {sorted(ts_messages - set(PY_DEFINITIONS))}"


def test_the_agreement_check_notices_a_difference(tmp_path):
    """The reader above is what the agreement rests on: an edited copy must read differently."""
    changed = PROTOCOL_TS.read_text().replace("  batch: number;\n  layer: string;\n  chunk: number;",
                                              "  batch: number;\n  layer?: string;\n  chunk: string;")
    copy = tmp_path / "protocol.ts"
    copy.write_text(changed)
    interfaces, aliases = read_ts(copy)
    assert interfaces["ChunkMsg"]["layer"] == ("string", False)
    assert ts_canonical(interfaces["ChunkMsg"]["chunk"][0], aliases) != py_canonical(int)


def test_messages_are_checked_against_their_definition():
    assert protocol.message("notice", text="saved") == {"type": "notice", "text": "saved"}
    with pytest.raises(protocol.ProtocolError, match="missing text; unknown txt"):
        protocol.message("notice", txt="saved")
    with pytest.raises(protocol.ProtocolError, match="no message 'bogus'"):
        protocol.message("bogus")
    assert protocol.check_incoming({"type": "navigate", "delta": 1}) is protocol.NavigateMsg
    with pytest.raises(protocol.ProtocolError, match="unknown message"):
        protocol.check_incoming({"type": "teleport"})
    with pytest.raises(protocol.ProtocolError, match="missing req"):
        protocol.check_incoming({"type": "tile_cancel"})


def test_the_kernel_has_a_handler_for_every_message_the_browser_sends():
    from exact_lab.widgets.viewer import HANDLERS, SlideViewer

    assert set(HANDLERS) == set(protocol.TO_KERNEL)
    for name, method in HANDLERS.items():
        assert callable(getattr(SlideViewer, method, None)), f"SlideViewer has no {method} for {name!r}"


def test_the_browser_types_every_trait_the_kernel_syncs():
    """js/src/widget-model.ts types the widget model by trait name: it must know the same traits."""
    import anywidget

    from exact_lab.widgets import SlideViewer

    text = _strip_comments((PROTOCOL_TS.parent / "widget-model.ts").read_text())
    body = re.search(r"export interface ViewerTraits\s*\{(.*?)\n\}", text, flags=re.S).group(1)
    ts_traits = set(re.findall(r"^\s*(\w+)\??:", body, flags=re.M))
    py_traits = set(SlideViewer.class_traits(sync=True)) - set(anywidget.AnyWidget.class_traits(sync=True))
    assert ts_traits == py_traits, f"only in Python: {sorted(py_traits - ts_traits)}; only in TypeScript: {sorted(ts_traits - py_traits)}"
