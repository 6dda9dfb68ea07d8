"""Merkle tree hashing and proofs of RFC 6962 / RFC 9162 (Certificate Transparency).

The capture log is a list of leaves; its tree head is the Merkle Tree Hash
(MTH) of every leaf. Leaves are hashed with a 0x00 prefix and interior nodes
with a 0x01 prefix, so no leaf can pass for a node (second-preimage attacks).
Inclusion proofs show one leaf is in a tree of a given size; consistency proofs
show a tree of size m is a prefix of a tree of size n (the log only grew).

Pure functions over bytes: proofs are generated from the list of leaf hashes
and verified with the iterative algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2,
which need nothing but the proof, the sizes and the roots.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


def leaf_hash(leaf: bytes) -> bytes:
    """SHA-256(0x00 || leaf)."""
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a tree whose leaves hash to ``leaf_hashes`` (the empty tree hashes the empty string)."""
    if not leaf_hashes:
        return hashlib.sha256(b"").digest()
    return _subtree(leaf_hashes, 0, len(leaf_hashes))


def _subtree(hashes: Sequence[bytes], start: int, end: int) -> bytes:
    if end - start == 1:
        return hashes[start]
    k = _split(end - start)
    return node_hash(_subtree(hashes, start, start + k), _subtree(hashes, start + k, end))


def roots_at(leaf_hashes: Iterable[bytes], sizes: Iterable[int]) -> dict[int, bytes]:
    """The root of every prefix whose size is in ``sizes``, in one pass over the leaves.

    Keeps the stack of perfect subtrees (sizes of decreasing powers of two) of
    the leaves seen so far; the root of that prefix folds the stack from the right.
    """
    wanted = set(sizes)
    found: dict[int, bytes] = {}
    if 0 in wanted:
        found[0] = root([])
    stack: list[tuple[int, bytes]] = []
    for count, leaf in enumerate(leaf_hashes, start=1):
        _push(stack, leaf)
        if count in wanted:
            found[count] = frontier_root([value for _height, value in stack])
    return found


def _push(stack: list[tuple[int, bytes]], leaf: bytes) -> None:
    """Add a leaf to a stack of perfect subtrees (height, root), merging the subtrees of equal height it completes."""
    height, value = 0, leaf
    while stack and stack[-1][0] == height:
        value = node_hash(stack.pop()[1], value)
        height += 1
    stack.append((height, value))


def frontier(leaf_hashes: Iterable[bytes], start: Sequence[bytes] = (), start_size: int = 0) -> tuple[list[bytes], int]:
    """The roots of the perfect subtrees a tree's leaves make, largest first, and how many leaves they cover: the
    tree's compact form, from which its root is folded and to which later leaves are added.

    ``start`` is the frontier of the first ``start_size`` leaves (the heights of its subtrees are the bits set in
    that size); the leaves given come after them. Memory is one hash per bit of the size, whatever the log's length.
    """
    heights = [bit for bit in range(start_size.bit_length() - 1, -1, -1) if start_size >> bit & 1]
    if len(heights) != len(start):
        raise ValueError(f"a frontier of {len(start)} subtrees cannot stand for {start_size} leaves")
    stack = list(zip(heights, start, strict=True))
    size = start_size
    for leaf in leaf_hashes:
        _push(stack, leaf)
        size += 1
    return [value for _height, value in stack], size


def frontier_root(subtrees: Sequence[bytes]) -> bytes:
    """The root of the tree whose frontier is ``subtrees`` (:func:`frontier`): folded from the right."""
    if not subtrees:
        return root([])
    folded = subtrees[-1]
    for left in reversed(subtrees[:-1]):
        folded = node_hash(left, folded)
    return folded


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of every given leaf (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < len(leaf_hashes):
        raise ValueError(f"leaf {index} is not in a tree of size {len(leaf_hashes)}")
    return _path(leaf_hashes, index, 0, len(leaf_hashes))


def _path(hashes: Sequence[bytes], index: int, start: int, end: int) -> list[bytes]:
    if end - start == 1:
        return []
    k = _split(end - start)
    if index < k:
        return [*_path(hashes, index, start, start + k), _subtree(hashes, start + k, end)]
    return [*_path(hashes, index - k, start + k, end), _subtree(hashes, start, start + k)]


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """The proof that the tree of the first ``old_size`` leaves is a prefix of the whole (RFC 9162 §2.1.4.1)."""
    if not 0 <= old_size <= len(leaf_hashes):
        raise ValueError(f"a tree of size {old_size} cannot be a prefix of one of size {len(leaf_hashes)}")
    if old_size in (0, len(leaf_hashes)):
        return []
    return _subproof(leaf_hashes, old_size, 0, len(leaf_hashes), True)


def _subproof(hashes: Sequence[bytes], m: int, start: int, end: int, complete: bool) -> list[bytes]:
    if m == end - start:
        return [] if complete else [_subtree(hashes, start, end)]
    k = _split(end - start)
    if m <= k:
        return [*_subproof(hashes, m, start, start + k, complete), _subtree(hashes, start + k, end)]
    return [*_subproof(hashes, m - k, start + k, end, False), _subtree(hashes, start, start + k)]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes) -> bool:
    """Whether ``proof`` shows the leaf hash ``leaf`` at ``index`` in the tree of ``size`` with ``expected_root``."""
    if not 0 <= index < size:
        return False
    fn, sn, value = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            value = node_hash(sibling, value)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            value = node_hash(value, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and value == expected_root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` shows the tree (old_size, old_root) is a prefix of (new_size, new_root)."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first = second = path[0]
    for sibling in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            first, second = node_hash(sibling, first), node_hash(sibling, second)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            second = node_hash(second, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and first == old_root and second == new_root


class ProofCache:
    """Inclusion proofs for many leaves of one log, sharing the subtree hashes they have in common.

    Proving every leaf one by one costs O(n) each; with the subtrees memoised a
    whole batch (a site's evidence bundles) costs O(n log n).
    """

    def __init__(self, leaf_hashes: Sequence[bytes]):
        self.leaf_hashes = leaf_hashes
        self._subtrees: dict[tuple[int, int], bytes] = {}

    def subtree(self, start: int, end: int) -> bytes:
        if end - start == 1:
            return self.leaf_hashes[start]
        key = (start, end)
        if key not in self._subtrees:
            k = _split(end - start)
            self._subtrees[key] = node_hash(self.subtree(start, start + k), self.subtree(start + k, end))
        return self._subtrees[key]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        if not 0 <= index < size <= len(self.leaf_hashes):
            raise ValueError(f"leaf {index} is not in a tree of size {size} (the log has {len(self.leaf_hashes)})")
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                path.append(self.subtree(start + k, end))
                end = start + k
            else:
                path.append(self.subtree(start, start + k))
                start = start + k
        return path[::-1]
