"""RFC 6962 Merkle hashing and proofs: the published test vectors and a brute-force reference."""

from __future__ import annotations

import hashlib

import pytest

from analysis import merkle

# The eight leaves and tree heads of Certificate Transparency's reference tests
# (RFC 6962 hashing; the same data every CT implementation is checked against).
LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
)]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (leaf index, tree size, audit path)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
HASHES = [merkle.leaf_hash(leaf) for leaf in LEAVES]


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1 MTH written as the definition reads, over raw leaves."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + reference_root(leaves[:k]) + reference_root(leaves[k:])).digest()


def test_roots_match_the_reference_vectors():
    for size, expected in enumerate(ROOTS):
        assert merkle.root(HASHES[:size]).hex() == expected


def test_roots_at_computes_every_prefix_in_one_pass():
    assert {n: h.hex() for n, h in merkle.roots_at(HASHES, range(9)).items()} == dict(enumerate(ROOTS))


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proofs_match_the_reference_vectors(index, size, path):
    proof = merkle.inclusion_proof(HASHES[:size], index)
    assert [p.hex() for p in proof] == path
    assert merkle.verify_inclusion(HASHES[index], index, size, proof, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_consistency_proofs_match_the_reference_vectors(old, new, path):
    proof = merkle.consistency_proof(HASHES[:new], old)
    assert [p.hex() for p in proof] == path
    assert merkle.verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), proof)


def _leaves(n: int) -> list[bytes]:
    return [bytes([i % 256, i // 256, 7]) for i in range(n)]


def test_every_inclusion_proof_verifies_and_a_wrong_leaf_or_root_does_not():
    for size in range(1, 34):
        leaves = _leaves(size)
        hashes = [merkle.leaf_hash(x) for x in leaves]
        top = reference_root(leaves)
        assert merkle.root(hashes) == top
        for index in range(size):
            proof = merkle.inclusion_proof(hashes, index)
            assert merkle.verify_inclusion(hashes[index], index, size, proof, top)
            assert not merkle.verify_inclusion(merkle.leaf_hash(b"forged"), index, size, proof, top)
            if size > 1:
                assert not merkle.verify_inclusion(hashes[index], (index + 1) % size, size, proof, top)


def test_every_consistency_proof_verifies_and_a_rewritten_history_does_not():
    leaves = _leaves(21)
    hashes = [merkle.leaf_hash(x) for x in leaves]
    roots = {n: reference_root(leaves[:n]) for n in range(22)}
    rewritten = [merkle.leaf_hash(b"changed"), *hashes[1:]]
    for new in range(1, 22):
        for old in range(1, new + 1):
            proof = merkle.consistency_proof(hashes[:new], old)
            assert merkle.verify_consistency(old, new, roots[old], roots[new], proof)
            if old < new:
                forged_new = merkle.root(rewritten[:new])
                assert not merkle.verify_consistency(old, new, roots[old], forged_new, proof)
                assert not merkle.verify_consistency(old, new, roots[old], roots[new], proof[:-1])


def test_a_leaf_can_never_pass_for_a_node():
    left, right = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
    assert merkle.leaf_hash(left + right) != merkle.node_hash(left, right)


def test_out_of_range_requests_are_refused():
    with pytest.raises(ValueError):
        merkle.inclusion_proof(HASHES[:3], 3)
    with pytest.raises(ValueError):
        merkle.consistency_proof(HASHES[:3], 4)
    assert not merkle.verify_inclusion(HASHES[0], 0, 0, [], merkle.root([]))


def test_the_proof_cache_gives_the_same_proofs_as_the_plain_function():
    hashes = [merkle.leaf_hash(x) for x in _leaves(37)]
    cache = merkle.ProofCache(hashes)
    for size in (1, 2, 5, 16, 37):
        for index in range(size):
            assert cache.inclusion_proof(index, size) == merkle.inclusion_proof(hashes[:size], index)
    with pytest.raises(ValueError):
        cache.inclusion_proof(3, 38)


def test_a_frontier_extended_leaf_by_leaf_folds_to_the_root_of_every_prefix():
    leaves = [merkle.leaf_hash(bytes([n])) for n in range(70)]
    subtrees, size = [], 0
    for count in range(len(leaves) + 1):
        assert size == count and len(subtrees) == count.bit_count()
        assert merkle.frontier_root(subtrees) == merkle.root(leaves[:count])
        if count < len(leaves):
            subtrees, size = merkle.frontier(leaves[count:count + 1], subtrees, size)
    assert merkle.frontier(leaves) == (subtrees, size)


def test_a_frontier_that_cannot_stand_for_its_size_is_refused():
    subtrees, size = merkle.frontier([merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")])
    with pytest.raises(ValueError, match="cannot stand for 3 leaves"):
        merkle.frontier([merkle.leaf_hash(b"c")], subtrees, 3)
