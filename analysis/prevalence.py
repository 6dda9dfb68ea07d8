"""How common a clause type is among tracked platforms (SPEC §5), shown as "Uncommon · 26 of 325 platforms"."""

from __future__ import annotations

from dataclasses import dataclass

# Shares below which a type is Rare, Uncommon, Common; at or above the last it
# is Widespread. The cut-offs are the product's published scale (SPEC §5).
_LABELS = ((0.05, "Rare"), (0.25, "Uncommon"), (0.75, "Common"))


class PrevalenceError(ValueError):
    """Counts that cannot describe a share of platforms."""


def prevalence_label(count: int, total: int) -> str:
    """``Unique`` (only this one), ``Rare`` (<5%), ``Uncommon`` (<25%), ``Common`` (<75%) or ``Widespread``.

    ``count`` is the number of tracked platforms with the clause type,
    ``total`` the number of tracked platforms.
    """
    if count < 0 or total < 0 or count > total:
        raise PrevalenceError(f"{count} of {total} platforms is not a share of platforms")
    if count <= 1:
        return "Unique"
    share = count / total
    for limit, label in _LABELS:
        if share < limit:
            return label
    return "Widespread"


@dataclass(frozen=True)
class Prevalence:
    """The number of tracked platforms with a clause type, out of all tracked platforms."""

    clause_type: str
    count: int
    total: int

    @property
    def label(self) -> str:
        return prevalence_label(self.count, self.total)

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0

    @property
    def display(self) -> str:
        """``Uncommon · 26 of 325 platforms``."""
        noun = "platform" if self.total == 1 else "platforms"
        return f"{self.label} · {self.count} of {self.total} {noun}"
