"""Fixtures shared by the whole suite: real stores on SQLite and PostgreSQL.

PostgreSQL tests run against the server at ``CLAUSEWATCH_TEST_PG`` (default the
local ``test`` database); each test gets its own schema, dropped afterwards, so
parallel runs never see each other's rows. When the server is down the tests
fail rather than skip, unless ``CLAUSEWATCH_SKIP_PG=1`` is set explicitly.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from store.repository import Store

PG_URL = os.environ.get("CLAUSEWATCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CLAUSEWATCH_SHARED", REPO.parent / "shared"))


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, empty schema."""
    if os.environ.get("CLAUSEWATCH_SKIP_PG") == "1":
        pytest.skip("CLAUSEWATCH_SKIP_PG=1")
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'clausewatch.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on the embedded SQLite store and on the running PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(store_url, tmp_path / "objects")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def shared() -> Path:
    """The ../shared folder of datasets and references."""
    if not SHARED.is_dir():
        pytest.fail(f"shared data folder {SHARED} is missing (set CLAUSEWATCH_SHARED)")
    return SHARED


# --- A real SMTP server on loopback (aiosmtpd), for alert and digest tests -------


class _SmtpInbox:
    """Collects every message the loopback SMTP server accepts; refuses ``*@refused.invalid`` and, while they are
    listed in ``refused``, other addresses."""

    def __init__(self) -> None:
        self.messages: list = []
        self.refused: set[str] = set()
        self.on_message = None  # called with each message accepted, in the server's thread
        self.host = "127.0.0.1"
        self.port = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.invalid") or address in self.refused:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import email
        import email.policy

        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        if self.on_message is not None:
            self.on_message(self.messages[-1])
        return "250 OK"


@pytest.fixture
def smtp_inbox() -> Iterator[_SmtpInbox]:
    """A running aiosmtpd server on 127.0.0.1 (no TLS, no auth); ``.messages`` holds what it received."""
    import socket

    from aiosmtpd.controller import Controller

    inbox = _SmtpInbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        inbox.port = probe.getsockname()[1]
    controller = Controller(inbox, hostname=inbox.host, port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
