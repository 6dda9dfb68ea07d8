"""Files and folders: which files are declarations, one file loaded, a whole catalog folder loaded."""

from __future__ import annotations

from pathlib import Path

from crawler.declarations.ota import HISTORY_SUFFIX, OTA_SUFFIX, load_ota
from crawler.declarations.problems import CatalogLoad, CatalogProblem, FileLoad, Problems
from crawler.declarations.yaml_form import load_yaml

YAML_SUFFIXES = (".yaml", ".yml")


def is_declaration_file(path: Path) -> bool:
    """Our YAML or an Open Terms Archive declaration (not its ``.history.json``)."""
    name = path.name
    if name.startswith(".") or not path.is_file():
        return False
    if name.endswith(HISTORY_SUFFIX):
        return False
    return name.endswith(YAML_SUFFIXES) or name.endswith(OTA_SUFFIX)


def load_declaration_file(path: Path) -> FileLoad:
    """Read one declaration file (and its history file), collecting every problem."""
    problems = Problems(path)
    warnings: list[CatalogProblem] = []
    if path.name.endswith(OTA_SUFFIX):
        platform = load_ota(path, problems, warnings)
    else:
        platform = load_yaml(path, problems)
    errors = problems.errors()
    return FileLoad(platform=None if errors else platform, errors=errors, warnings=warnings)


def load_catalog(folder: Path) -> CatalogLoad:
    """Load every declaration of ``folder``; a bad file is reported and left out, never fatal."""
    loaded = CatalogLoad()
    declared: dict[str, str] = {}
    for path in sorted(folder.iterdir()):
        if path.name.endswith(HISTORY_SUFFIX):
            _warn_orphan_history(path, loaded)
        if not is_declaration_file(path):
            if (unreadable := why_not_loaded(path)) is not None:
                loaded.errors.append(CatalogProblem(str(path), "", unreadable))
            continue
        result = load_declaration_file(path)
        loaded.errors.extend(result.errors)
        loaded.warnings.extend(result.warnings)
        platform = result.platform
        if platform is None:
            continue
        if platform.slug in declared:
            loaded.errors.append(CatalogProblem(
                str(path), "slug", f"platform slug '{platform.slug}' is already declared by {declared[platform.slug]}"
            ))
            continue
        declared[platform.slug] = str(path)
        loaded.platforms.append(platform)
    return loaded


def why_not_loaded(path: Path) -> str | None:
    """Why a name that reads as a declaration's is not loaded (a folder, a broken link, an upper-case suffix), or
    None for a name that is no declaration's: a platform file skipped without a word is a platform not tracked."""
    name = path.name.lower()
    if path.name.startswith(".") or name.endswith(HISTORY_SUFFIX) or not name.endswith((*YAML_SUFFIXES, OTA_SUFFIX)):
        return None
    if path.is_symlink() and not path.exists():
        return "a link to nothing; not loaded"
    if not path.is_file():
        return "not a file; not loaded"
    return f"the suffix {path.suffix!r} must be lower case ({', '.join((*YAML_SUFFIXES, OTA_SUFFIX))}); not loaded"


def _warn_orphan_history(path: Path, loaded: CatalogLoad) -> None:
    base = path.with_name(path.name[: -len(HISTORY_SUFFIX)] + OTA_SUFFIX)
    if not base.is_file():
        loaded.warnings.append(CatalogProblem(
            str(path), "", f"history file without its declaration {base.name}; ignored"
        ))
