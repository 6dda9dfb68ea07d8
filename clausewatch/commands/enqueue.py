"""`clausewatch enqueue`: put the selected documents on the store's shared crawl queue (SPEC §9)."""

from __future__ import annotations

import logging
import uuid

import click
import redis
from sqlalchemy.exc import ArgumentError

from clausewatch.app import Selection, database_setting, open_store, record_lost, sync_selection, utcnow
from clausewatch.commands._global_options import global_options
from clausewatch.commands._shared import read_catalog_reporting
from clausewatch.errors import EXIT_BAD_INPUT, BadInputError
from clausewatch.settings import Settings, without_password
from crawler.queue import DocumentQueue, QueueError, queue_name_for
from store.database import describe_url

log = logging.getLogger(__name__)


def shared_queue(settings: Settings) -> DocumentQueue:
    """The store's queue on the configured Redis; a usage error (exit 2) when none is configured."""
    if not settings.crawl_redis_url:
        raise click.UsageError("no shared crawl queue: set CLAUSEWATCH_CRAWL_REDIS_URL (crawl_redis_url) "
                               "to the Redis URL the workers share, e.g. redis://127.0.0.1:6379/0")
    try:
        name = settings.crawl_queue or queue_name_for(settings.database_url)
    except (ArgumentError, ValueError):  # ValueError: a port that is no number, an unclosed "["
        raise BadInputError(f"{database_setting(settings)}: {describe_url(settings.database_url)} "
                            "is not a database URL") from None
    try:
        queue = DocumentQueue.from_url(settings.crawl_redis_url, name)
        queue.client.ping()
        queue.check()
    except (QueueError, ValueError) as exc:
        raise click.UsageError(f"crawl queue: {exc}") from None
    except redis.RedisError as exc:  # as an unreachable database is: the setting names the wrong place
        shown = without_password(settings.crawl_redis_url)
        raise BadInputError(f"CRAWL_REDIS_URL (CLAUSEWATCH_CRAWL_REDIS_URL): Redis at {shown} is not reachable: "
                            f"{exc}") from None
    return queue


@click.command("enqueue")
@global_options
@click.option("--platform", "platforms", multiple=True, help="Only this platform (slug); repeatable.")
@click.option("--tag", "tags", multiple=True, help="Only documents with this tag; repeatable.")
@click.option("--type", "types", multiple=True, help="Only this document type; repeatable.")
@click.pass_obj
def command(settings: Settings, platforms, tags, types) -> None:
    """Sync the catalog, then queue the selected documents for the crawl workers (each once).

    A catalog file that does not load stops it before anything is queued (exit 2).
    """
    queue = shared_queue(settings)
    catalog = read_catalog_reporting(settings, strict=True)
    selection = Selection(platforms, tags, types)
    store = open_store(settings)
    try:
        now = utcnow()
        # Tracked documents the catalog lost are failures, as in `crawl`: never left out of the queue unsaid.
        lost = {d.id: record_lost(store, d, catalog, now)
                for d in sync_selection(settings, store, catalog, selection, now)}
        documents = store.catalog.documents()
    finally:
        store.close()
    chosen = selection.chosen(catalog)
    selected = [d.id for d in documents if (d.platform, d.type) in chosen]
    run_id = uuid.uuid4().hex[:12]
    added = queue.enqueue(selected, run_id)
    counts = queue.counts()
    log.info("enqueue run=%s queue=%s selected=%d added=%d", run_id, queue.name, len(selected), added)
    click.echo(f"run {run_id}: {added} of {len(selected)} document(s) queued on {queue.pending_key} "
               f"({len(selected) - added} already queued); {counts.pending} pending, {counts.leased} being "
               f"checked, {counts.dead} dead")
    for document_id, detail in sorted(lost.items()):
        click.echo(f"Error: {document_id}: {detail}", err=True)
    if lost:
        raise click.exceptions.Exit(EXIT_BAD_INPUT)
