"""``clausewatch train``: rebuild the clause classifier's model files from the public data sets."""

from __future__ import annotations

from pathlib import Path

import click

from analysis.classifier import MODEL_DIR
from clausewatch.commands._global_options import global_options
from clausewatch.commands._paths import GivenPath


@click.command("train")
@global_options
@click.option("--data", "data_dir", required=True, type=GivenPath(file_okay=False),
              help="Data folder laid out as ../shared/datasets (claudette/, optionally tosdr/, appsi139/, cuad/, "
                   "ota/pga-versions.bundle).")
@click.option("--out", type=GivenPath(file_okay=False), default=MODEL_DIR, show_default=True,
              help="Folder to write model.json, vocabulary.json and weights.npz into.")
@click.option("--no-tosdr", is_flag=True, help="Ignore tosdr/points.jsonl even when present.")
@click.option("--no-appsi", is_flag=True, help="Ignore appsi139/topic/*.jsonl even when present.")
@click.option("--no-cuad", is_flag=True, help="Ignore cuad/clauses.jsonl even when present.")
@click.option("--no-guidelines", is_flag=True,
              help="Ignore the community guidelines of ota/pga-versions.bundle even when present.")
def command(data_dir: Path, out: Path, no_tosdr: bool, no_appsi: bool, no_cuad: bool, no_guidelines: bool) -> None:
    """Train the clause classifier (needs scikit-learn: pip install 'clausewatch[train]').

    The same data always gives byte-identical files.
    """
    try:
        import sklearn  # noqa: F401  (analysis.training imports it lazily; fail here with a one-line error)
    except ImportError as exc:
        raise click.UsageError(f"training needs scikit-learn ({exc}); install the 'train' extra") from None
    from analysis import training

    if not (data_dir / "claudette" / "train" / "sentences.jsonl").is_file():
        raise click.BadParameter(f"{data_dir}: no claudette/train/sentences.jsonl", param_hint="--data")
    try:
        report = training.train(data_dir, out, use_tosdr=not no_tosdr, use_appsi=not no_appsi,
                                use_cuad=not no_cuad, use_guidelines=not no_guidelines)
    except training.TrainingDataError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"trained {len(report.labels)} labels on {report.examples} with {report.features} features")
    for label, f1 in report.out_of_fold_f1.items():
        click.echo(f"  {label:<26} out-of-fold F1 {f1:.3f}")
    for name, digest in sorted(report.files.items()):
        click.echo(f"wrote {out / name}  sha256 {digest}")
