"""`clausewatch import-ota`: validate, then copy or convert Open Terms Archive declarations."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from clausewatch.commands.import_ota import command
from clausewatch.settings import Settings, load_settings
from crawler.declarations import load_catalog

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "declarations" / "ota"
SUMMARY = "{total} declaration(s) into {catalog}: {imported} imported, {unchanged} unchanged, " \
          "{untracked} skipped (no documents), {conflicting} conflicting, {invalid} invalid"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings({}, {"HOME": tmp_path / "home", "CATALOG": tmp_path / "catalog"})


def run(settings: Settings, *args: str | Path) -> Result:
    return CliRunner().invoke(command, [str(arg) for arg in args], obj=settings, catch_exceptions=False)


def summary(catalog: Path, total: int, imported=0, unchanged=0, untracked=0, conflicting=0, invalid=0) -> str:
    return SUMMARY.format(**locals())


def platforms_of(folder: Path) -> dict:
    loaded = load_catalog(folder)
    assert loaded.errors == []
    return {platform.slug: replace(platform, source_file=None) for platform in loaded.platforms}


def test_copy_brings_declarations_and_history_files_as_they_are(settings: Settings) -> None:
    result = run(settings, FIXTURES)

    assert result.exit_code == 0, result.output
    assert summary(settings.catalog, 4, imported=4) in result.stdout
    copied = sorted(path.name for path in settings.catalog.iterdir())
    assert copied == sorted(path.name for path in FIXTURES.iterdir())
    for path in FIXTURES.iterdir():
        assert (settings.catalog / path.name).read_bytes() == path.read_bytes()
    assert platforms_of(settings.catalog) == platforms_of(FIXTURES)


def test_imported_files_are_readable_as_any_catalog_file(settings: Settings) -> None:
    """mkstemp made them 0600: another service user (the scheduler's, the site's) could not read the catalog."""
    run(settings, FIXTURES)
    assert {oct(path.stat().st_mode & 0o777) for path in settings.catalog.iterdir()} == {"0o644"}


def test_an_import_the_disk_cannot_take_names_the_file_and_leaves_no_part_of_it(tmp_path: Path) -> None:
    code = ("import resource, sys\nfrom clausewatch.cli import main\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (16, 16))\nmain()\n")
    done = subprocess.run([sys.executable, "-c", code, "--home", str(tmp_path / "home"), "--catalog",
                           str(tmp_path / "catalog"), "import-ota", str(FIXTURES)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 2, done.stderr
    # The file it was writing, not the random name of the temporary file beside it; what was done, on stdout.
    assert re.fullmatch(re.escape(f"Error: cannot use {tmp_path / 'catalog'}/Facebook.") + r"(history\.)?json: "
                        "File too large", done.stderr.strip()), done.stderr
    assert done.stdout.strip().endswith("0 invalid; stopped at Facebook.json"), done.stdout
    assert list((tmp_path / "catalog").iterdir()) == []


def test_importing_again_changes_nothing(settings: Settings) -> None:
    run(settings, FIXTURES)

    result = run(settings, FIXTURES)

    assert result.exit_code == 0
    assert summary(settings.catalog, 4, unchanged=4) in result.stdout


def test_existing_file_with_other_content_is_kept_unless_forced(settings: Settings) -> None:
    run(settings, FIXTURES)
    edited = settings.catalog / "Ikea.history.json"
    edited.write_text("{}", encoding="utf-8")

    refused = run(settings, FIXTURES)

    assert refused.exit_code == 2
    assert "conflict: Ikea.json: Ikea.history.json exists with other content (use --force" in refused.stderr
    assert summary(settings.catalog, 4, unchanged=3, conflicting=1) in refused.stdout
    assert edited.read_text() == "{}"

    forced = run(settings, FIXTURES, "--force")

    assert forced.exit_code == 0
    assert summary(settings.catalog, 4, imported=1, unchanged=3) in forced.stdout
    assert edited.read_bytes() == (FIXTURES / "Ikea.history.json").read_bytes()


def test_invalid_declaration_is_reported_and_skipped(settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(FIXTURES, source)
    (source / "Broken.json").write_text(json.dumps(
        {"name": "Broken", "terms": {"Terms of Service": {"fetch": "file:///etc/passwd"}}}, indent=2
    ))

    result = run(settings, "--to", tmp_path / "elsewhere", source)

    assert result.exit_code == 2
    assert f"invalid: {source / 'Broken.json'}:5: terms.Terms of Service.fetch: expected an http(s) URL" in result.stderr
    assert summary(tmp_path / "elsewhere", 5, imported=4, invalid=1) in result.stdout
    assert not (tmp_path / "elsewhere" / "Broken.json").exists()
    assert not settings.catalog.exists()


def test_an_import_of_nothing_valid_leaves_no_empty_catalog_behind(settings: Settings, tmp_path: Path) -> None:
    # A history dated in year 0 in UTC was a traceback; once refused, the empty --to folder stayed, as if imported.
    source = tmp_path / "source"
    source.mkdir()
    (source / "X.json").write_text(json.dumps({"name": "X", "terms": {"Privacy Policy": {
        "fetch": "https://x.example/p", "select": "main"}}}))
    (source / "X.history.json").write_text(json.dumps({"Privacy Policy": [{
        "fetch": "https://x.example/o", "select": "main", "validUntil": "0001-01-01T00:00:00+01:00"}]}))
    (tmp_path / "kept").mkdir()

    result = run(settings, "--to", tmp_path / "new" / "catalog", source)
    assert result.exit_code == 2 and "validUntil: expected an ISO 8601 date-time" in result.stderr
    assert "out of range in UTC" in result.stderr
    assert not (tmp_path / "new" / "catalog").exists()

    assert run(settings, "--to", tmp_path / "kept", source).exit_code == 2
    assert (tmp_path / "kept").is_dir()  # a folder it did not make stays, empty as it was


def test_names_the_catalog_would_not_load_are_invalid_and_hidden_files_are_no_declarations(
        settings: Settings, tmp_path: Path) -> None:
    # Each was skipped without a word, or (.Hidden.json) reported imported where the catalog never reads it.
    source = tmp_path / "source"
    source.mkdir()
    declaration = (FIXTURES / "Facebook.json").read_bytes()
    for name in ("Facebook.json", ".Hidden.json", "Upper.JSON"):
        (source / name).write_bytes(declaration)
    (source / "Folder.json").mkdir()
    (source / "Gone.json").symlink_to(tmp_path / "nowhere")
    (source / "Deep.json").write_text("[" * 100_000 + "]" * 100_000)  # past what Python's JSON reader recurses

    result = run(settings, source)

    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"invalid: {source / 'Folder.json'}: not a file; not loaded",
        f"invalid: {source / 'Gone.json'}: a link to nothing; not loaded",
        f"invalid: {source / 'Upper.JSON'}: the suffix '.JSON' must be lower case (.yaml, .yml, .json); not loaded",
        f"invalid: {source / 'Deep.json'}: (file): invalid JSON: nested too deeply",
    ]
    assert summary(settings.catalog, 5, imported=1, invalid=4) in result.stdout
    assert sorted(path.name for path in settings.catalog.iterdir()) == ["Facebook.json"]


def test_convert_writes_our_yaml_that_loads_to_the_same_platforms(settings: Settings) -> None:
    result = run(settings, "--convert", FIXTURES)

    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in settings.catalog.iterdir()) == [
        "facebook.yaml", "ikea.yaml", "npm-public-registry.yaml", "open-collective.yaml",
    ]
    converted = platforms_of(settings.catalog)
    assert converted == platforms_of(FIXTURES)
    assert len(converted["facebook"].documents[0].history) == 1
    text = (settings.catalog / "facebook.yaml").read_text()
    assert text.startswith("# Converted from the Open Terms Archive declaration 'Facebook.json'")


def test_convert_refuses_a_platform_the_catalog_already_declares(settings: Settings) -> None:
    run(settings, FIXTURES / "Open Collective.json")

    result = run(settings, "--convert", "--force", FIXTURES)

    assert result.exit_code == 2
    assert "platform 'open-collective' is already declared by Open Collective.json" in result.stderr
    assert not (settings.catalog / "open-collective.yaml").exists()
    assert summary(settings.catalog, 4, imported=3, conflicting=1) in result.stdout


def test_services_no_longer_tracked_are_skipped(settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "Gone.json").write_text('{"name": "Gone", "terms": {}}')

    result = run(settings, source)

    assert result.exit_code == 0
    assert "declares no documents" in result.stderr
    assert summary(settings.catalog, 1, untracked=1) in result.stdout
    assert list(settings.catalog.iterdir()) == []


def test_a_folder_without_declarations_is_bad_input(settings: Settings, tmp_path: Path) -> None:
    result = run(settings, tmp_path)

    assert result.exit_code == 2
    assert "no Open Terms Archive declaration" in result.output


@pytest.mark.shared
@pytest.mark.parametrize("mode", ["--copy", "--convert"])
def test_a_slice_of_the_contrib_collection(settings: Settings, shared: Path, tmp_path: Path, mode: str) -> None:
    contrib = shared / "datasets" / "ota" / "contrib-declarations"
    source = tmp_path / "slice"
    source.mkdir()
    declarations = sorted(p for p in contrib.glob("*.json") if not p.name.endswith(".history.json"))[:60]
    for path in declarations:
        for name in (path.name, path.name.replace(".json", ".history.json")):
            if (contrib / name).exists():
                shutil.copy(contrib / name, source / name)

    result = run(settings, mode, source)

    assert result.exit_code == 0, result.output
    assert summary(settings.catalog, 60, imported=60) in result.stdout
    assert platforms_of(settings.catalog) == platforms_of(source)


def test_registered_under_clausewatch_and_uses_the_catalog_setting(tmp_path: Path) -> None:
    from clausewatch.cli import main

    catalog = tmp_path / "my-catalog"
    result = CliRunner().invoke(
        main, ["--home", str(tmp_path / "home"), "--catalog", str(catalog), "import-ota", str(FIXTURES / "Ikea.json")]
    )

    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in catalog.iterdir()) == ["Ikea.history.json", "Ikea.json"]


def test_to_names_the_destination_whatever_the_catalog_option_given_after_it(tmp_path: Path) -> None:
    # `--to staging --catalog live` imported into the live catalog: the two options shared one parameter name, and
    # the last given won (review of 2026-12-01).
    from clausewatch.cli import main

    staging, live = tmp_path / "staging", tmp_path / "live"
    live.mkdir()
    result = CliRunner().invoke(main, ["import-ota", str(FIXTURES), "--to", str(staging), "--home",
                                       str(tmp_path / "home"), "--catalog", str(live)])
    assert f"declaration(s) into {staging}:" in result.stdout, result.output
    assert list(live.iterdir()) == [] and any(staging.iterdir())
