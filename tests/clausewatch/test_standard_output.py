"""Standard output that cannot be written (a full disk under a redirection) is one line, exit 2, never a Python
error from the interpreter's last flush, nor output cut short with exit 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

RUN = "import sys\nfrom clausewatch.cli import main\nsys.argv = ['clausewatch', *sys.argv[1:]]\nmain()\n"


def clausewatch(*args: str, stdout, env: dict[str, str] | None = None, preamble: str = ""):
    return subprocess.run([sys.executable, "-c", preamble + RUN, *args], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, env={**os.environ, **(env or {})})


@pytest.fixture
def home(tmp_path: Path) -> list[str]:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "acme.yaml").write_text("name: Acme\ndocuments:\n  - type: Terms of Service\n"
                                       "    url: https://acme.example/terms\n", encoding="utf-8")
    base = ["--home", str(tmp_path / "home"), "--catalog", str(catalog)]
    assert clausewatch(*base, "init", stdout=subprocess.DEVNULL).returncode == 0
    return base


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("unbuffered", ["", "1"])
@pytest.mark.parametrize("command", [["status"], ["verify"], ["export"], ["settings"]])
def test_output_to_a_full_device_is_one_line_exit_2(home, command, unbuffered):
    # Buffered: "a write failed" naming no file, then "Exception ignored … OSError" from the last flush, exit 120.
    env = {"PYTHONUNBUFFERED": unbuffered} if unbuffered else {"PYTHONUNBUFFERED": ""}
    with open("/dev/full", "w") as full:
        done = clausewatch(*home, *command, stdout=full, env=env)

    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == ["Error: cannot use standard output: No space left on device"], done.stderr


def test_an_unbuffered_output_cut_short_by_the_disk_is_an_error_not_exit_0(home, tmp_path):
    # Unbuffered, a partial write was taken as whole: the export stopped at the disk's limit, exit 0, nothing said.
    # A file-size limit cuts the write for real (SIGXFSZ ignored: the write comes back short, then EFBIG).
    # The output file already holds 38,000 bytes and may grow to 40,000 (the store's 32 KB -shm fits under it).
    limit = "import resource, signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n" \
            "resource.setrlimit(resource.RLIMIT_FSIZE, (40000, resource.RLIM_INFINITY))\n"
    (tmp_path / "out.txt").write_bytes(b"x" * 38000)
    with open(tmp_path / "out.txt", "a") as out:
        done = clausewatch(*home, "settings", stdout=out, env={"PYTHONUNBUFFERED": "1"}, preamble=limit)

    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == ["Error: cannot use standard output: File too large"], done.stderr


@pytest.mark.parametrize(("command", "said"), [(["status"], ""), (["changes"], "0 change(s)\n")])
def test_a_command_started_with_standard_output_closed_ends_as_before(home, command, said):
    # `clausewatch status >&-`: Python has no sys.stdout, and click writes nothing; the last flush must not fail.
    # `changes` asked the missing sys.stdout whether it was a terminal: an AttributeError traceback (probe of
    # 2026-12-03).
    done = subprocess.run([sys.executable, "-c", RUN, *home, *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, pass_fds=(), preexec_fn=lambda: os.close(1))

    assert done.returncode == 0, done.stderr
    assert done.stderr == said


@pytest.mark.parametrize("error_closed", [False, True])
def test_a_reader_gone_ends_with_exit_1_whether_standard_error_is_open_or_closed(home, error_closed):
    # `clausewatch export 2>&- | head -c1`: click wrapped the missing standard error, whose last flush failed:
    # exit 120 (probe of 2026-12-03). With it open: exit 1 and nothing said, as Python has it for a broken pipe.
    read, write = os.pipe()
    os.close(read)  # the reader went away before the first line
    try:
        done = subprocess.run([sys.executable, "-c", RUN, *home, "export"], stdout=write, stderr=subprocess.PIPE,
                              text=True, preexec_fn=(lambda: os.close(2)) if error_closed else None)
    finally:
        os.close(write)

    assert done.returncode == 1
    assert done.stderr == ""


def test_classify_started_with_standard_input_closed_reads_it_as_empty():
    # `clausewatch classify - <&-`: click found no stream to read, a RuntimeError traceback (probe of 2026-12-03).
    done = subprocess.run([sys.executable, "-c", RUN, "classify", "-"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.close(0))

    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
