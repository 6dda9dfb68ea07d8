"""Catalog loading (placeholder: the full YAML / Open Terms Archive loader replaces this)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from analysis.domain import PlatformSpec


@dataclass(frozen=True)
class DeclarationError:
    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}"


@dataclass
class CatalogLoad:
    platforms: list[PlatformSpec] = field(default_factory=list)
    errors: list[DeclarationError] = field(default_factory=list)


def load_catalog(folder: Path) -> CatalogLoad:
    return CatalogLoad()
