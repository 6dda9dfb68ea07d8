"""The one YAML loader for the files people write: plain data, and no alias that expands without bound.

An alias (``*name``) to a part that itself holds aliases is how a "billion laughs"
file of a few lines becomes billions of values to walk (minutes and gigabytes);
it is refused, at its line. Aliases to plain parts stay allowed: catalog files use
them with merge keys (``<<: *common``), and they grow a file at most as much as
writing the part out would.

Nesting is bounded too: PyYAML composes a node by recursion, so ``[[[[…`` five
hundred levels deep ended every command that read the file in a RecursionError
traceback. No file people write nests more than a few levels; past
:data:`MAX_NESTING` the file is refused, at the line where it went too deep.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.events import AliasEvent, CollectionStartEvent

# Far above any real file (a catalog nests five levels), far below Python's recursion limit.
MAX_NESTING = 100


class BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses an alias to a part holding aliases, and nesting past :data:`MAX_NESTING`."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._anchors_with_aliases: set[str] = set()
        self._depth = 0
        self._open_anchors: set[str] = set()  # of the parts being composed: an alias to one is a cycle

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if not isinstance(event, CollectionStartEvent):
            return self._compose_counting_aliases(event, parent, index)
        if self._depth >= MAX_NESTING:
            raise ComposerError(None, None, f"nested more than {MAX_NESTING} levels deep", event.start_mark)
        self._depth += 1
        try:
            return self._compose_counting_aliases(event, parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """A value PyYAML builds itself and cannot (an impossible date, ``2026-02-30``; an integer of thousands of
        digits) is an error at its line, as any other mistake in the file, not a ``ValueError`` from inside it."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:
            value = node.value if isinstance(node, yaml.ScalarNode) else ""
            reason = str(exc).split(";")[0]  # not Python's advice on its own limits
            raise yaml.constructor.ConstructorError(None, None, f"{shown_value(value)!r} is not a valid "
                                                    f"{_tag_name(node)}: {reason}", node.start_mark) from None

    def _compose_counting_aliases(self, event: Any, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            if event.anchor in self._open_anchors:
                raise ComposerError(None, None, f"the alias *{event.anchor} refers to the part it is in, which "
                                    "never ends", event.start_mark)
            if event.anchor in self._anchors_with_aliases:
                raise ComposerError(None, None, f"the alias *{event.anchor} refers to a part that holds aliases "
                                    "itself, which can expand without bound; write that part out",
                                    event.start_mark)
            self._aliases += 1
            return super().compose_node(parent, index)
        before = self._aliases
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._open_anchors.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._open_anchors.discard(anchor)
        if anchor is not None and self._aliases != before:
            self._anchors_with_aliases.add(anchor)
        return node


class UniqueKeyLoader(BoundedLoader):
    """:class:`BoundedLoader` that also refuses a key given twice in a mapping (PyYAML silently keeps the last: a
    second ``subscribers:`` list, or a setting written twice, would win unsaid)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            # Merge keys ("<<: *anchor") may be overridden by design; only literal repeats are refused.
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
                )
            seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


# How much of a value a message about it shows: a value of thousands of characters is cut.
_SHOWN_CHARS = 40


def shown_value(value: str) -> str:
    """A file's value as a message about it shows it: whole, or its first characters and "…"."""
    return value if len(value) <= _SHOWN_CHARS else f"{value[:_SHOWN_CHARS]}…"


def _tag_name(node: yaml.Node) -> str:
    """What YAML read a value as ("timestamp" for ``tag:yaml.org,2002:timestamp``)."""
    return node.tag.rpartition(":")[2] or "value"


def load_with_tree(text: str) -> tuple[Any, yaml.Node | None]:
    """The document ``text`` holds and its node tree (where the lines of its keys are), from one parse, aliases
    bounded and repeated keys refused as above; ``(None, None)`` for an empty document."""
    loader = UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()
