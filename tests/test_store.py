"""The demo server's store: migrations from the schema made before them, and `db upgrade`."""

from __future__ import annotations

import hashlib
import sqlite3
import time

import pytest
import requests
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect
from werkzeug.security import generate_password_hash

from playground.authserver import create_app
from playground.authserver.models import Base
from playground.authserver.store import StoreError, head_revision, make_engine, prepare_store
from playground.cli import main

from .servers import AuthServer, live_server
from .test_authserver import get_token, introspect

#: The DDL `Base.metadata.create_all` emitted on SQLite before migrations came (revision 0001),
#: copied from such a store's `.schema`: the test must not depend on the migration it checks.
BASELINE_DDL = """
CREATE TABLE oauth2_client (
    id INTEGER NOT NULL, client_id VARCHAR(255) NOT NULL, client_secret_hash VARCHAR(255) NOT NULL,
    scope TEXT NOT NULL, token_format VARCHAR(16) NOT NULL, token_lifetime INTEGER NOT NULL,
    created_at INTEGER NOT NULL, PRIMARY KEY (id)
);
CREATE UNIQUE INDEX ix_oauth2_client_client_id ON oauth2_client (client_id);
CREATE TABLE oauth2_token (
    id INTEGER NOT NULL, token_hash VARCHAR(64) NOT NULL, client_id VARCHAR(255) NOT NULL,
    token_type VARCHAR(40) NOT NULL, token_format VARCHAR(16) NOT NULL, scope TEXT NOT NULL,
    audience TEXT NOT NULL, jti VARCHAR(64) NOT NULL, issued_at INTEGER NOT NULL,
    expires_in INTEGER NOT NULL, revoked BOOLEAN NOT NULL, PRIMARY KEY (id)
);
CREATE UNIQUE INDEX ix_oauth2_token_token_hash ON oauth2_token (token_hash);
CREATE INDEX ix_oauth2_token_client_id ON oauth2_token (client_id);
CREATE TABLE oauth2_signing_key (
    kid VARCHAR(64) NOT NULL, private_jwk TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (kid)
);
"""
OLD_CLIENT, OLD_SECRET, OLD_TOKEN = "old-client", "old-secret", "an-opaque-token-from-before-migrations"


def make_baseline_store(path) -> None:
    """A store as the code before migrations left it: one client, one live token."""
    connection = sqlite3.connect(path)
    connection.executescript(BASELINE_DDL)
    now = int(time.time())
    connection.execute(
        "INSERT INTO oauth2_client (client_id, client_secret_hash, scope, token_format, token_lifetime,"
        " created_at) VALUES (?, ?, 'read write', 'opaque', 3600, ?)",
        (OLD_CLIENT, generate_password_hash(OLD_SECRET, method="pbkdf2:sha256:60000"), now),
    )
    connection.execute(
        "INSERT INTO oauth2_token (token_hash, client_id, token_type, token_format, scope, audience, jti,"
        " issued_at, expires_in, revoked) VALUES (?, ?, 'Bearer', 'opaque', 'read', ?, 'j1', ?, 3600, 0)",
        (hashlib.sha256(OLD_TOKEN.encode()).hexdigest(), OLD_CLIENT, OLD_CLIENT, now),
    )
    connection.commit()
    connection.close()


def revision_of(path) -> str:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        connection.close()


def test_a_store_from_before_migrations_is_upgraded_and_keeps_working(tmp_path):
    """The default store (in the instance folder) is stamped at the baseline, then upgraded on start."""
    make_baseline_store(tmp_path / "authserver.sqlite3")
    app = create_app({"TESTING": True}, instance_path=str(tmp_path))
    try:
        with live_server(app) as url:
            server = AuthServer(app, url)
            info = introspect(server, OLD_TOKEN, OLD_CLIENT, OLD_SECRET).json()
            assert info["active"] is True and info["client_id"] == OLD_CLIENT
            fresh = get_token(server, OLD_CLIENT, OLD_SECRET)
            assert fresh.status_code == 200, fresh.text
            assert introspect(server, fresh.json()["access_token"], OLD_CLIENT, OLD_SECRET).json()["active"]
    finally:
        app.extensions["demo_authserver"]["sessions"].kw["bind"].dispose()
    assert revision_of(tmp_path / "authserver.sqlite3") == head_revision()


def test_a_store_named_by_url_is_upgraded_only_on_request(tmp_path):
    """It may be shared with instances still running older code: `db upgrade` is a deliberate step."""
    database = tmp_path / "shared.sqlite3"
    make_baseline_store(database)
    url = f"sqlite:///{database}"
    with pytest.raises(StoreError, match="playground authserver db upgrade"):
        create_app({"DATABASE_URL": url, "TESTING": True})
    runner = CliRunner()
    base = ["authserver", "--instance-path", str(tmp_path / "inst"), "--database-url", url]
    refused = runner.invoke(main, base + ["clients", "list"])
    assert refused.exit_code == 1
    assert "playground authserver db upgrade" in refused.output and "Traceback" not in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    upgraded = runner.invoke(main, base + ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert revision_of(database) == head_revision()
    assert OLD_CLIENT in runner.invoke(main, base + ["clients", "list"]).output
    assert runner.invoke(main, base + ["db", "upgrade"]).exit_code == 0  # again: nothing to do


def test_an_empty_store_named_by_url_is_created(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/new.sqlite3")
    prepare_store(engine, upgrade=False)
    engine.dispose()
    assert revision_of(tmp_path / "new.sqlite3") == head_revision()


def test_a_store_from_a_newer_version_is_refused(tmp_path):
    database = tmp_path / "newer.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    prepare_store(engine, upgrade=True)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffff'")
    with pytest.raises(StoreError, match="newer version"):
        prepare_store(engine, upgrade=True)
    engine.dispose()


def test_the_migrations_make_exactly_the_models_tables(tmp_path):
    """Every column, type and index of models.py comes from a migration, and nothing else."""
    engine = make_engine(f"sqlite:///{tmp_path}/check.sqlite3")
    prepare_store(engine, upgrade=True)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_the_baseline_migration_is_the_old_schema(tmp_path):
    """Revision 0001 alone makes the same tables, columns and indexes as the code before migrations."""
    from alembic import command

    from playground.authserver.store import BASELINE, _config

    def schema(path) -> set:
        connection = sqlite3.connect(path)
        try:
            rows = set()
            for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
                if table == "alembic_version":
                    continue
                for row in connection.execute(f"PRAGMA table_info({table})"):
                    rows.add((table, *row))
                for index in connection.execute(f"PRAGMA index_list({table})"):
                    columns = tuple(r[2] for r in connection.execute(f"PRAGMA index_info({index[1]})"))
                    rows.add((table, index[1], index[2], columns))
            return rows
        finally:
            connection.close()

    old = tmp_path / "old.sqlite3"
    connection = sqlite3.connect(old)
    connection.executescript(BASELINE_DDL)
    connection.close()
    engine = make_engine(f"sqlite:///{tmp_path}/migrated.sqlite3")
    with engine.begin() as connection:
        command.upgrade(_config(connection), BASELINE)
    engine.dispose()
    assert schema(tmp_path / "migrated.sqlite3") == schema(old)


def test_requests_fixture_store_is_current(authserver):
    assert requests.get(authserver.url + "/oauth2/jwks", timeout=10).status_code == 200
    path = authserver.app.config["DATABASE_URL"].removeprefix("sqlite:///")
    assert revision_of(path) == head_revision()


def test_a_store_at_0002_gets_the_device_codes_keeps_its_tokens_and_can_go_back(tmp_path):
    """Revision 0003 (issue 10) adds the device authorizations to an issue 9 store; nothing else changes."""
    from alembic import command

    from playground.authserver.store import _config

    database = tmp_path / "authserver.sqlite3"
    make_baseline_store(database)
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        command.stamp(_config(connection), "0001")
        command.upgrade(_config(connection), "0002")
    with pytest.raises(StoreError, match="revision 0002"):
        prepare_store(engine, upgrade=False)  # a shared store waits for `db upgrade`
    app = create_app({"TESTING": True}, instance_path=str(tmp_path))  # the default store: upgraded
    try:
        with live_server(app) as url:
            server = AuthServer(app, url)
            assert introspect(server, OLD_TOKEN, OLD_CLIENT, OLD_SECRET).json()["active"] is True
    finally:
        app.extensions["demo_authserver"]["sessions"].kw["bind"].dispose()
    assert revision_of(database) == head_revision()
    with engine.begin() as connection:
        assert "oauth2_device_code" in inspect(connection).get_table_names()
        command.downgrade(_config(connection), "0002")
        assert "oauth2_device_code" not in inspect(connection).get_table_names()
        command.upgrade(_config(connection), "head")
    engine.dispose()
    assert revision_of(database) == head_revision()
