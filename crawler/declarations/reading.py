"""Reading declaration files: JSON and YAML that reject duplicate keys, and a slug from a file name."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import yaml

from analysis.yaml_loading import UniqueKeyLoader
from crawler.declarations.problems import Problems

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# A slug names files (the site's pages, exports): longer ones failed there with "File name too long".
SLUG_MAX_LENGTH = 100


def read_json(path: Path, problems: Problems) -> Any:
    def reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        for key in keys:
            if keys.count(key) > 1:
                raise ValueError(f"duplicate key {key!r}")
        return dict(pairs)

    try:
        return json.loads(path.read_text(encoding="utf-8-sig"), object_pairs_hook=reject_duplicates)
    except json.JSONDecodeError as exc:
        problems.add((), f"invalid JSON: {exc.msg} (column {exc.colno})", file=path, line=exc.lineno)
    except (UnicodeError, ValueError) as exc:
        problems.add((), f"invalid JSON: {exc}", file=path)
    except RecursionError:  # the C scanner recurses once per level: "[" * 5000 is no declaration
        problems.add((), "invalid JSON: nested too deeply", file=path)
    except OSError as exc:
        problems.add((), f"cannot read the file: {exc.strerror}", file=path)
    return None


def read_yaml(path: Path, problems: Problems) -> Any:
    try:
        # UniqueKeyLoader is a SafeLoader: plain data only, as yaml.safe_load.
        return yaml.load(path.read_text(encoding="utf-8-sig"), Loader=UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problems.add((), f"invalid YAML: {exc.problem or exc.context}", line=line)
    except (OSError, UnicodeError, yaml.YAMLError) as exc:
        problems.add((), f"cannot read YAML: {exc}")
    return None


def slug_from_stem(path: Path, problems: Problems) -> str | None:
    slug = slugify(path.name[: -len(path.suffix)] if path.suffix else path.name)
    if not slug:
        problems.add((), "cannot derive a platform slug from the file name; name the file with letters or digits")
        return None
    if len(slug) > SLUG_MAX_LENGTH:
        problems.add((), f"the platform slug derived from the file name has {len(slug)} characters, at most "
                         f"{SLUG_MAX_LENGTH} are allowed; give a shorter 'slug' or rename the file")
        return None
    return slug

def slugify(name: str) -> str:
    """``"Open Collective"`` → ``"open-collective"``; accents dropped, ASCII only."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
