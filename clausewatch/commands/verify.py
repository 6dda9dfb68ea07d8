"""`clausewatch verify`: re-hash every blob and check the store against its signed capture log; exit 1 on any problem."""

from __future__ import annotations

import click

from clausewatch.app import open_store
from clausewatch.commands._global_options import global_options
from clausewatch.signing import published_key
from store.clause_check import check_clauses
from store.log_check import check_log
from store.signing import public_key_path


@click.command("verify")
@global_options
@click.pass_obj
def command(settings) -> None:
    """Re-hash every blob, check every snapshot and version has its blob, every clause is its recorded text and
    stands in its version's text, and check the capture log.

    The log is recomputed from the store and compared with every signed tree
    head, so a fetch or version deleted, inserted, back-dated or altered, a log
    entry dropped or a tree head replaced is named. Signed heads with no public key
    beside LOG_KEY (PATH.pub) to check them against are a problem too.
    """
    key_path = public_key_path(settings.log_key)
    public_key = published_key(settings)  # a file there that is no key is bad input, not a forged log
    store = open_store(settings, "read")
    try:
        problems = store.verify()
        count = sum(1 for _ in store.blobs.names())
        clauses = list(check_clauses(store, skip={problem.sha256 for problem in problems}))
        log = check_log(store, public_key)
    finally:
        store.close()
    for problem in problems:
        click.echo(f"MISMATCH {problem.sha256} {problem.path}: {problem.problem}", err=True)
    for clause in clauses:
        click.echo(f"CLAUSE {clause}", err=True)
    for log_problem in log.problems:
        click.echo(f"LOG {log_problem}", err=True)
    unchecked = public_key is None and log.tree_heads > 0  # heads nobody can check are no evidence
    if unchecked:
        click.echo(f"LOG {log.tree_heads} signed tree head(s) cannot be checked without the public key: "
                   f"no {key_path} (the .pub beside LOG_KEY, CLAUSEWATCH_LOG_KEY)", err=True)
    click.echo(f"{count} blob(s) checked, {len(problems)} problem(s)")
    click.echo(f"clauses: each against its version's text, {len(clauses)} problem(s)")
    signatures = "signatures checked" if public_key else f"signatures NOT checked: no public key at {key_path}"
    click.echo(f"capture log: {log.entries} entries, {log.tree_heads} signed tree head(s) ({signatures}), "
               f"{len(log.problems) + unchecked} problem(s)")
    if log.unsigned:
        click.echo(f"capture log: the last {log.unsigned} entries are after the newest signed tree head (a crawl "
                   "signs at its end: one stopped or still running leaves them; `clausewatch sign-log` signs them, "
                   "the heads published on the site show whether one was removed)")
    if problems or clauses or log.problems or unchecked:
        raise click.exceptions.Exit(1)
