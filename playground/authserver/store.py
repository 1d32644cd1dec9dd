"""Opening the demo server's store: the engine, and its schema kept current by Alembic.

The default store (SQLite in the instance folder) is upgraded on start; a store
named with `--database-url` may be shared by other instances still running the
older code, so it is upgraded only by `playground authserver db upgrade`, and a
start on a store that is behind stops with one line naming that command. A new,
empty store is created at the latest revision either way: there is nothing to lose.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

DATABASE_FILE = "authserver.sqlite3"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"
#: The tables of revision 0001, made by the code before migrations came.
BASELINE_TABLES = frozenset({"oauth2_client", "oauth2_token", "oauth2_signing_key"})
UPGRADE_COMMAND = "playground authserver db upgrade"


class StoreError(Exception):
    """The store cannot be used as it is; the message says what to do."""


def default_database_url(instance_path: str) -> str:
    """The SQLite URL of the default store, its folder and file made private first.

    The database holds the JWT signing key in the clear: a new instance folder is
    created 0700 and the file 0600 (SQLite gives its -wal and -shm files the
    database file's mode). An existing folder is left as it is, since it may be
    shared with other things; a database file readable by others is fixed.
    """
    os.makedirs(instance_path, mode=0o700, exist_ok=True)
    path = os.path.join(instance_path, DATABASE_FILE)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # SQLite takes an empty file as a new one
    for name in (path, path + "-wal", path + "-shm", path + "-journal"):
        if os.path.exists(name) and os.stat(name).st_mode & 0o077:
            os.chmod(name, 0o600)
    return "sqlite:///" + path


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL and a busy timeout for threaded servers."""
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

    return engine


def _config(connection: Connection) -> Config:
    """Alembic's configuration, without an ini file: our migrations, on this connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The revision this code needs."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def prepare_store(engine: Engine, upgrade: bool) -> None:
    """Bring the store to the latest revision, or say why not.

    A store made before migrations (the baseline tables, no `alembic_version`)
    is stamped at the baseline first. `upgrade=False` still creates a new store
    but refuses to change an existing one (StoreError naming the command).
    """
    with engine.begin() as connection:
        config = _config(connection)
        script = ScriptDirectory.from_config(config)
        current = MigrationContext.configure(connection).get_current_revision()
        head = script.get_current_head()
        if current == head:
            return
        if current is None:
            tables = set(inspect(connection).get_table_names())
            ours = tables & BASELINE_TABLES
            if ours and ours != BASELINE_TABLES:
                raise StoreError(
                    f"The store has only some of the demo server's tables ({', '.join(sorted(ours))}): "
                    "it was not made by this program."
                )
            if not ours:  # a new store
                command.upgrade(config, "head")
                return
            current = BASELINE
            if upgrade:
                command.stamp(config, BASELINE)
        try:
            known = script.get_revision(current) is not None
        except Exception:  # alembic raises its own errors for unknown revisions
            known = False
        if not known:
            raise StoreError(
                f"The store is at revision {current}, which this version does not know: "
                "it was upgraded by a newer version of the playground."
            )
        if not upgrade:
            raise StoreError(
                f"The store is at revision {current} and this version needs {head}: "
                f"run `{UPGRADE_COMMAND}` (with the same --database-url) first."
            )
        command.upgrade(config, "head")


def make_session_factory(url: str, upgrade: bool = True) -> sessionmaker[Session]:
    """A session factory bound to a new engine for `url`, its store made current first."""
    engine = make_engine(url)
    try:
        prepare_store(engine, upgrade)
    except BaseException:
        engine.dispose()
        raise
    return sessionmaker(bind=engine, expire_on_commit=False)
