"""Stand-ins on real texts: how many real policy texts the first-crawl stand-in rules would refuse (decision 0013).

A page standing in for the document (a domain for sale, "not available in your region", "please enable cookies",
"something went wrong", a maintenance notice, "under construction", an apology for JavaScript) is a failure on a
first crawl; a real policy must never be one. This reads, through the extractor's public entry point:

- every version (all history) of Open Terms Archive's pga and demo collections that is not in English or is under
  2,000 characters (the size below which a title and first heading are read), as a page: its Markdown headings as
  ``<h1>``-``<h6>``, its other lines as paragraphs;
- every sentence of the ToS;DR quotes, APPSI-139 and CLAUDETTE, as a short page's first sentence, as its second after
  "Welcome to Acme.", and as a plain text.

It prints how many were read and each refusal, to be read by hand: each must be a true stand-in. Run it in two
checkouts to compare (the code beside the script is the code read):

    nice .venv/bin/python benchmarks/stand_ins.py
"""

from __future__ import annotations

import html
import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("__editable__")]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import noise  # noqa: E402  (the bundles' git plumbing, and this checkout first on the path)

from analysis.domain import SourceSpec  # noqa: E402
from analysis.language import detect_language  # noqa: E402
from crawler.extract import ExtractionError, extract_source  # noqa: E402

DATASETS = noise.OTA.parent
URL = "https://www.example.com/legal/terms"
SOURCE = SourceSpec(url=URL)
SHORT_PAGE = 2000
_HEADING = re.compile(r"(#{1,6})\s+(.*)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def refusal(body: str, content_type: str = "text/html; charset=utf-8") -> str | None:
    """The failure kind the extractor gives ``body``, or None when it is archived."""
    try:
        extract_source(body.encode(), content_type, URL, SOURCE)
    except ExtractionError as error:
        return error.kind
    return None


def as_page(markdown: str) -> str:
    """A version's Markdown as the page it was extracted from: headings as headings, other lines as paragraphs."""
    lines = []
    for line in filter(str.strip, markdown.splitlines()):
        heading = _HEADING.match(line)
        level, text = (len(heading[1]), heading[2]) if heading else (0, line)
        tag = f"h{level}" if level else "p"
        lines.append(f"<{tag}>{html.escape(text)}</{tag}>")
    return "<!doctype html><html><head><meta charset='utf-8'></head><body>" + "".join(lines) + "</body></html>"


def versions(workdir: Path):
    """``(label, text)`` for every distinct version of the pga and demo collections not in English or short."""
    for bundle in ("pga-versions", "demo-versions"):
        repo = noise.clone(noise.OTA / f"{bundle}.bundle", workdir / bundle)
        reader = noise.BlobReader(repo)
        try:
            for path, blob in _version_blobs(repo):
                text = reader.read(blob).decode("utf-8", "replace")
                language = detect_language(text)
                if language != "en" or len(text) < SHORT_PAGE:
                    yield f"{bundle} {'short' if language == 'en' else language}", f"{path}@{blob[:8]}", text
        finally:
            reader.close()


def _version_blobs(repo: Path):
    import subprocess

    log = subprocess.run(["git", "-C", str(repo), "log", "--format=", "--raw", "--no-abbrev", "--diff-filter=AM"],
                         capture_output=True, text=True, check=True).stdout
    seen = set()
    for line in log.splitlines():
        meta, _, path = line.partition("\t")
        blob = meta.split()[3] if meta.startswith(":") else ""
        if path.endswith(".md") and "/" in path and blob and blob not in seen:
            seen.add(blob)
            yield path, blob


def sentences():
    """``(source, sentence)`` for every sentence of the real policy excerpts in ``../shared/datasets``."""
    for line in (DATASETS / "tosdr" / "points.jsonl").read_text(encoding="utf-8").splitlines():
        yield from (("tosdr", s) for s in _split(re.sub(r"<[^>]+>", " ", json.loads(line).get("quote") or "")))
    for source, pattern in (("appsi139", "appsi139/*/*.jsonl"), ("claudette", "claudette/*/sentences.jsonl")):
        for path in sorted(DATASETS.glob(pattern)):
            for line in path.read_text(encoding="utf-8").splitlines():
                yield from ((source, s) for s in _split(json.loads(line)["text"]))


def _split(text: str) -> list[str]:
    """A text's sentences, but for a Markdown heading alone or a tag's remains ("<p"): a title, not a sentence (a
    plain text of one heading is refused as headings alone)."""
    return [s.strip()[:280] for s in _SENTENCE.split(text) if s.strip() and s.strip()[0] not in "#<"]


def sentence_refusal(sentence: str) -> str | None:
    """How a short page or plain text saying ``sentence`` first, or second after a greeting, is refused, if it is."""
    paragraph = html.escape(sentence)
    return (refusal(f"<!doctype html><html><body><p>{paragraph}</p></body></html>")
            or refusal(f"<!doctype html><html><body><p>Welcome to Acme. {paragraph}</p></body></html>")
            or refusal(sentence, "text/plain; charset=utf-8"))


def main() -> None:
    read, refused = Counter(), []
    with tempfile.TemporaryDirectory() as scratch:
        for label, name, text in versions(Path(scratch)):
            read[label] += 1
            if kind := refusal(as_page(text)):
                refused.append((label, kind, name))
    for source, sentence in dict.fromkeys(sentences()):
        read[f"{source} sentences"] += 1
        if kind := sentence_refusal(sentence):
            refused.append((source, kind, sentence[:120]))
    print(json.dumps({"benchmark": "stand_ins", "read": dict(read), "refused": len(refused)}, indent=2))
    for row in refused:
        print(*row, sep="\t")


if __name__ == "__main__":
    main()
