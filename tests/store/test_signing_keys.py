"""The capture log's key pair on disk: made whole or not at all (store/signing.py)."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

from store.signing import create_key, load_signer, public_key_path

REPO = Path(__file__).resolve().parents[2]


def test_a_key_the_disk_cannot_take_names_the_file_and_leaves_nothing(tmp_path):
    """A full disk at `init` left an empty key file, which every later `init` kept and nothing could load. Here the
    process's files may not grow past 64 bytes (RLIMIT_FSIZE, as a full disk would refuse the write)."""
    code = ("import resource, sys; from pathlib import Path; from store.signing import create_key\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))\n"
            "try:\n    create_key(Path(sys.argv[1]))\nexcept OSError as exc:\n    print(exc)\n")
    key = tmp_path / "keys" / "capture-log.key"
    done = subprocess.run([sys.executable, "-c", code, str(key)], capture_output=True, text=True, check=True, cwd=REPO)
    assert done.stdout.strip() == f"[Errno 27] File too large: '{key}'"
    assert list(key.parent.iterdir()) == []
    assert create_key(key)  # with room, a whole pair
    assert load_signer(key) and public_key_path(key).stat().st_size


def test_a_key_made_is_private_from_the_start_and_a_second_make_keeps_it(tmp_path):
    key = tmp_path / "capture-log.key"
    assert create_key(key)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    first = key.read_bytes()
    assert not create_key(key) and key.read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["capture-log.key", "capture-log.key.pub"]


def test_a_missing_or_empty_public_key_is_made_again_from_the_private_one(tmp_path):
    key = tmp_path / "capture-log.key"
    create_key(key)
    public = public_key_path(key).read_bytes()
    public_key_path(key).write_bytes(b"")  # what a cut-short `init` left
    assert not create_key(key)
    assert public_key_path(key).read_bytes() == public
    public_key_path(key).unlink()
    assert not create_key(key)
    assert public_key_path(key).read_bytes() == public
