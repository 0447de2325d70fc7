"""One reader for the TOML, JSON and YAML documents users hand in.

Rule files, scenarios and bench scenarios are read alike; each caller turns
a :class:`DocumentError` into its own error type and wording.

Every document is bounded by what it *expands* to, not by its bytes: a YAML
alias or merge key repeats a whole subtree, so a few hundred bytes can stand
for billions of values. A document may hold at most :data:`MAX_NODES` values
(each mapping, list and scalar counts, keys included, every repetition
included) nested at most :data:`MAX_NESTING` levels, and its text must be
valid Unicode (no lone surrogates, which JSON escapes can produce).
"""

from __future__ import annotations

import json
import tomllib
from typing import Any, Literal, TypeAlias

from valueroute.errors import bounded_repr

DocumentFormat: TypeAlias = Literal["toml", "json", "yaml"]

SUFFIXES: dict[str, DocumentFormat] = {
    ".toml": "toml",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
}
"""File suffix (lower case) -> format."""

MAX_NODES = 200_000
"""Values (mappings, lists, scalars, keys) a document may expand to."""
MAX_NESTING = 128
"""Levels of mappings and lists inside one another."""


def json_too_deep(text: str | bytes, limit: int) -> bool:
    """Whether JSON arrays and objects in ``text`` nest deeper than ``limit``. O(len(text)).

    Read before parsing, so that how deep a parser may go (Python's JSON
    parser stops where its interpreter's recursion limit is, which differs
    between versions) never decides what is refused. Strings are skipped;
    the text need not be valid JSON (a parser says what else is wrong).
    """
    body = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    in_string = False
    escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


class DocumentError(ValueError):
    """Why a text could not be read; ``field`` is ``"format"`` or ``"(file)"``."""

    def __init__(self, reason: str, *, field: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


def parse_document(text: str | bytes, format: str) -> Any:
    """The data of ``text`` in ``format``; :class:`DocumentError` for anything unreadable.

    Bytes must be UTF-8. Malformed text, nesting too deep for the parser,
    more than :data:`MAX_NODES` values or :data:`MAX_NESTING` levels once
    aliases are expanded, text that is not valid Unicode, and a missing PyYAML
    all become a :class:`DocumentError`, never the parser's own exception.
    The cost of refusing is bounded by the limits, not by what the document
    would expand to.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"not UTF-8 text ({exc})", field="(file)") from None
    if format == "yaml":
        data = _parse_yaml(text)
    else:
        try:
            if format == "toml":
                data = tomllib.loads(text)
            elif format == "json":
                data = json.loads(text)
            else:
                raise DocumentError(
                    f"got {bounded_repr(format)} (expected 'toml', 'json' or 'yaml')",
                    field="format",
                )
        except DocumentError:
            raise
        except (ValueError, RecursionError) as exc:
            # tomllib.TOMLDecodeError and json.JSONDecodeError are ValueErrors, as is
            # an integer literal too long to convert.
            raise DocumentError(f"not valid {format} ({_cut(str(exc))})", field="(file)") from None
    check_shape(data)
    return data


def check_shape(data: Any, what: str = "document") -> None:
    """Refuse data expanding beyond :data:`MAX_NODES` values or :data:`MAX_NESTING` levels.

    Walks the data as the tree it stands for (a list shared twice is walked
    twice), stopping at the first limit crossed: O(min(size, MAX_NODES)). Also
    refuses text (values and keys) holding lone surrogates. Raises
    :class:`DocumentError` naming the limit and where it was crossed.
    """
    # A path is (parent's path, key): built in O(1) per value, spelled out on error.
    stack: list[tuple[Any, int, tuple[Any, ...]]] = [(data, 0, ())]
    nodes = 0
    while stack:
        item, depth, path = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise DocumentError(
                f"{what} expands to more than {MAX_NODES} values, counting every repetition "
                "of a YAML alias (expected a smaller document)",
                field="(file)",
            )
        if depth > MAX_NESTING:
            raise DocumentError(
                f"{what} nested deeper than {MAX_NESTING} levels at {_where(path)}",
                field="(file)",
            )
        if isinstance(item, str):
            if not item.isascii() and not is_unicode_text(item):
                raise DocumentError(
                    f"{what} at {_where(path)}: got {bounded_repr(item)} (expected valid "
                    "Unicode text, without lone surrogates)",
                    field="(file)",
                )
        elif isinstance(item, dict):
            for key, value in item.items():
                if isinstance(key, str) and not key.isascii() and not is_unicode_text(key):
                    raise DocumentError(
                        f"{what} at {_where(path)}: got key {bounded_repr(key)} (expected "
                        "valid Unicode text, without lone surrogates)",
                        field="(file)",
                    )
                stack.append((value, depth + 1, (path, key)))
            nodes += len(item)  # the keys
        elif isinstance(item, list | tuple):
            stack.extend((value, depth + 1, (path, i)) for i, value in enumerate(item))


def is_unicode_text(text: str) -> bool:
    """Whether ``text`` is valid Unicode: no surrogate code points (which UTF-8 cannot carry)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _cut(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _where(path: tuple[Any, ...]) -> str:
    if not path:
        return "the top level"
    parts: list[str] = []
    while path:
        path, key = path
        parts.append(str(key))
    return bounded_repr(".".join(reversed(parts)), 120)


def _parse_yaml(text: str) -> Any:
    try:
        import yaml  # type: ignore[import-untyped]  # stubs are a separate package
    except ImportError:
        raise DocumentError(
            "'yaml' needs PyYAML (install valueroute[yaml]), or use TOML or JSON",
            field="format",
        ) from None
    loader = None
    try:
        # Composed first (aliases share nodes, so this is linear in the text),
        # checked, and only then built.
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        _check_yaml_nodes(node, yaml)
        return loader.construct_document(node)
    except DocumentError:
        raise
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        # ValueError: an integer literal too long to convert, a bad date.
        raise DocumentError(f"not valid yaml ({_cut(str(exc))})", field="(file)") from None
    finally:
        if loader is not None:
            loader.dispose()


def _check_yaml_nodes(root: Any, yaml: Any) -> None:
    """Refuse a YAML node graph whose expansion exceeds the limits, before building it.

    Aliases make the composed graph share nodes; the size and depth of the
    tree it stands for are computed once per distinct node (merge keys are
    counted as the subtrees they copy), so a bomb is refused in time linear in
    its text. A node that contains itself (a recursive alias) is refused too.
    """
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_nodes.discard(key)
            children = _children(node, yaml)
            size = 1 + sum(sizes[id(child)] for child in children)
            depth = 1 + max((depths[id(child)] for child in children), default=0)
            if size > MAX_NODES:
                raise DocumentError(
                    f"document expands to more than {MAX_NODES} values, counting every "
                    "repetition of a YAML alias (expected a smaller document)",
                    field="(file)",
                )
            if depth > MAX_NESTING + 1:
                raise DocumentError(
                    f"document nested deeper than {MAX_NESTING} levels", field="(file)"
                )
            sizes[key] = size
            depths[key] = depth
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise DocumentError(
                "document has a YAML alias inside its own anchor (expected no recursion)",
                field="(file)",
            )
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node, yaml) if id(child) not in sizes)


def _children(node: Any, yaml: Any) -> list[Any]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
