"""`playground demo | serve | authserver ...`: the command line."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import click

from .wsgi import PortInUse
from .wsgi import serve as serve_wsgi

DEMO_CLIENT_ID = "playground-demo"
DEMO_CLIENT_SCOPE = "openid profile email offline_access read write"
DEMO_CLIENT_FILE = "demo-client.json"
DEMO_USER_FILE = "demo-user.json"
DEMO_REDIRECTS_FILE = "demo-redirects.json"
DEMO_USER = "alice"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"  # RFC 8628 §3.4
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"  # RFC 8693 §2.1
#: Every grant the demo server supports (authserver.models.GRANT_TYPES, spelled out here so that
#: the command starts without loading SQLAlchemy; a test keeps the two equal).
DEMO_GRANTS = (
    "client_credentials",
    "authorization_code",
    "refresh_token",
    "implicit",
    "password",
    DEVICE_CODE_GRANT,
    TOKEN_EXCHANGE_GRANT,
)
#: The public demo client's: what a browser app or a device without a secret can use.
PUBLIC_DEMO_GRANTS = ("authorization_code", "refresh_token", "implicit", DEVICE_CODE_GRANT)
#: Short names `clients add --grant` takes for the URNs.
GRANT_ALIASES = {"device_code": DEVICE_CODE_GRANT, "token_exchange": TOKEN_EXCHANGE_GRANT}
#: A second demo client, same secret, that gets RFC 9068 JWT access tokens.
JWT_SUFFIX = "-jwt"
#: A third, public (no secret, PKCE required), as a browser or mobile app would be.
PUBLIC_SUFFIX = "-public"
#: The playground's callback and post-logout pages, relative to its base URL.
CALLBACK_PATH = "/playground2/oauth2client"
LOGGED_OUT_PATH = "/playground2/logged-out"
#: Shown instead of a kept secret or password that no longer matches the store's.
NOT_SHOWN = "(changed by hand; not shown)"
LOCAL_HOSTS = ("127.0.0.1", "0.0.0.0", "::", "::1", "localhost", "")


def public_host(host: str) -> str:
    """The host name to print in URLs for a listening address."""
    if host in LOCAL_HOSTS:
        return "localhost"
    return f"[{host}]" if ":" in host else host


def default_instance_path() -> str:
    """Flask's instance folder of the playground package (./instance in a checkout)."""
    from flask import Flask

    return Flask("playground").instance_path


def instance_option(f):
    """--instance-path, shared by the commands that keep state."""
    return click.option(
        "--instance-path",
        envvar="PLAYGROUND_INSTANCE_PATH",
        type=click.Path(file_okay=False),
        default=None,
        help="Folder for the database, certificates and demo client (default: ./instance).",
    )(f)


def run_or_fail(serve_call) -> None:
    """Run a server; a taken port becomes a one-line error, not a traceback."""
    try:
        serve_call()
    except PortInUse as exc:
        raise click.ClickException(f"{exc}: stop what uses it or choose another port.") from None


@click.group()
@click.version_option(package_name="oauth2-playground")
def main() -> None:
    """OAuth 2.0 Playground: try a grant against an authorization server and see
    exactly what went over the wire."""


# -- serve ---------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--threads", default=16, show_default=True, type=click.IntRange(1, 256))
def serve(host: str, port: int, threads: int) -> None:
    """Run the playground alone, configured from PLAYGROUND_* variables."""
    from . import ConfigError, create_app

    try:
        create_app()  # check the settings here, where a mistake is one clear line
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None

    def ready(actual: int) -> None:
        click.echo(f"Playground: http://{public_host(host)}:{actual}/playground2/oauth2.jsp")
        click.echo("", nl=True)
        sys.stdout.flush()

    run_or_fail(lambda: serve_wsgi(lambda _port: create_app(), host, port, ready, threads=threads))


# -- authserver ----------------------------------------------------------------


def open_store(database_url: str | None, instance_path: str, upgrade: bool = False):
    """A session on the demo server's database; a clear error if it cannot be opened.

    The default store (SQLite in the instance folder) is made or upgraded as it
    opens; one named by URL only with `upgrade=True` (`db upgrade`), else a store
    that is behind stops the command with one line naming `db upgrade`.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from .authserver.store import StoreError, default_database_url, make_session_factory

    try:
        if not database_url:
            database_url, upgrade = default_database_url(instance_path), True
        return make_session_factory(database_url, upgrade=upgrade)()
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    except (SQLAlchemyError, OSError, ImportError) as exc:
        hint = ""
        if "postgres" in (database_url or ""):
            hint = " For PostgreSQL, install the driver: pip install -e '.[postgres]'."
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise click.ClickException(f"Cannot open the database {database_url!r}: {reason}.{hint}") from None


def read_kept(path: Path) -> dict[str, str]:
    """A JSON file of kept demo credentials, or {} if missing or unreadable."""
    try:
        kept = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return kept if isinstance(kept, dict) else {}


def write_kept(path: Path, values: dict) -> None:
    """Keep demo credentials in the instance folder, readable by the owner only."""
    os.makedirs(path.parent, mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(values, f)


def demo_redirects(base_urls: list[str]) -> tuple[list[str], list[str]]:
    """The playground's callback and post-logout URIs under each of these base URLs."""
    return [b + CALLBACK_PATH for b in base_urls], [b + LOGGED_OUT_PATH for b in base_urls]


#: Registered when a demo client is made: the playground's pages under `playground serve`'s
#: default port. `playground demo` adds those of the port it actually takes.
DEFAULT_REDIRECTS = demo_redirects(["http://localhost:8080", "http://127.0.0.1:8080"])


def ensure_demo_client(
    session, instance_path: str, client_id: str | None, client_secret: str | None
) -> tuple[str, str]:
    """The demo clients' ID and the secret to show: given, kept from an earlier start, or new.

    The secret is stored hashed in the database; the instance folder keeps the
    plain one (owner-readable only) so that later starts can show it again. A
    secret given with --client-secret is set. One set by hand since (`clients
    add ... --secret`) is left alone: the banner then says it is not shown.
    Every start also makes sure the three demo clients can run the code flow
    (grants, scopes, the public client), keeping whatever else was set on them.
    """
    from .authserver.models import find_client, save_client

    path = Path(instance_path) / DEMO_CLIENT_FILE
    kept = read_kept(path)
    client_id = client_id or kept.get("client_id") or DEMO_CLIENT_ID
    given = client_secret is not None
    if not given and kept.get("client_id") == client_id:
        client_secret = kept.get("client_secret")
    new_secret = not client_secret
    client_secret = client_secret or secrets.token_urlsafe(24)
    shown, saved = True, False
    redirect_uris, logout_uris = DEFAULT_REDIRECTS
    for cid, token_format in ((client_id, "opaque"), (client_id + JWT_SUFFIX, "jwt")):
        existing = find_client(session, cid)
        if existing is not None and not given:
            if not existing.check_client_secret(client_secret):
                shown = False  # changed by hand: keep it, and do not pretend to know it
            continue
        save_client(
            session,
            cid,
            client_secret,
            scope=existing.scope if existing else DEMO_CLIENT_SCOPE,
            token_format=existing.token_format if existing else token_format,
            client_name="Playground demo client",
            grant_types=existing.grant_list if existing else DEMO_GRANTS,
            redirect_uris=(existing.redirect_uri_list if existing else []) or redirect_uris,
            post_logout_redirect_uris=(existing.post_logout_redirect_uri_list if existing else [])
            or logout_uris,
            id_token_alg=existing.id_token_signed_response_alg if existing else "RS256",
        )
        saved = True
    if find_client(session, client_id + PUBLIC_SUFFIX) is None:
        save_client(
            session,
            client_id + PUBLIC_SUFFIX,
            None,
            scope=DEMO_CLIENT_SCOPE,
            client_name="Playground demo public client",
            public=True,
            require_pkce=True,
            grant_types=list(PUBLIC_DEMO_GRANTS),
            redirect_uris=redirect_uris,
            post_logout_redirect_uris=logout_uris,
        )
    for cid in (client_id, client_id + JWT_SUFFIX, client_id + PUBLIC_SUFFIX):
        upgrade_demo_client(session, find_client(session, cid))
    if saved and (given or new_secret):
        write_kept(path, {"client_id": client_id, "client_secret": client_secret})
    return client_id, client_secret if shown else NOT_SHOWN


def upgrade_demo_client(session, client) -> None:
    """A demo client made before the code flow (or issue 10's grants) came gets its grants, scopes
    and redirect URIs; its secret, and whatever else was set by hand, stays."""
    import json

    grants = PUBLIC_DEMO_GRANTS if client.public else DEMO_GRANTS
    client.grant_types = json.dumps(list(dict.fromkeys([*client.grant_list, *grants])))
    client.scope = " ".join(dict.fromkeys(client.scopes + DEMO_CLIENT_SCOPE.split()))
    if not client.redirect_uri_list:
        client.redirect_uris = json.dumps(DEFAULT_REDIRECTS[0])
    if not client.post_logout_redirect_uri_list:
        client.post_logout_redirect_uris = json.dumps(DEFAULT_REDIRECTS[1])
    session.commit()


def ensure_demo_user(session, instance_path: str) -> tuple[str, str]:
    """The demo user `alice` and the password to show, as the demo client's secret is kept.

    Made on first start with a random password, stored hashed, kept in plain text
    in the instance folder (0600) to be shown on every start. A password set by
    hand since (`users add alice --password ...`) is left alone and not shown.
    """
    from .authserver.users import check_password, find_user, save_user

    path = Path(instance_path) / DEMO_USER_FILE
    kept = read_kept(path)
    password = kept.get("password") if kept.get("username") == DEMO_USER else None
    user = find_user(session, DEMO_USER)
    if user is not None:
        return DEMO_USER, password if password and check_password(user, password) else NOT_SHOWN
    password = password or secrets.token_urlsafe(12)
    save_user(
        session,
        DEMO_USER,
        password,
        name="Alice Example",
        given_name="Alice",
        family_name="Example",
        email="alice@example.com",  # RFC 2606: a name for examples, no one's mailbox
    )
    write_kept(path, {"username": DEMO_USER, "password": password})
    return DEMO_USER, password


def register_demo_redirects(database_url: str | None, instance_path: str, playground_url: str) -> None:
    """Register the playground's callback and logged-out pages, at the port it took, on the demo clients.

    Both localhost and 127.0.0.1 (and the host of `playground_url`): browsers may
    reach the playground either way, and the match stays exact. The URIs an
    earlier demo added for another port are dropped (kept in demo-redirects.json);
    any registered by hand stay. The server reads clients per request: no restart.
    """
    from urllib.parse import urlsplit

    from .authserver.models import register_redirect_uris

    parts = urlsplit(playground_url)
    hosts = dict.fromkeys([parts.hostname or "localhost", "localhost", "127.0.0.1"])
    bases = [f"{parts.scheme}://{f'[{h}]' if ':' in h else h}:{parts.port}" for h in hosts]
    redirect_uris, logout_uris = demo_redirects(bases)
    path = Path(instance_path) / DEMO_REDIRECTS_FILE
    previous = read_kept(path).get("uris", [])
    defaults = set(DEFAULT_REDIRECTS[0] + DEFAULT_REDIRECTS[1])
    replacing = [u for u in previous if u not in defaults]
    kept = read_kept(Path(instance_path) / DEMO_CLIENT_FILE)
    client_id = kept.get("client_id") or DEMO_CLIENT_ID
    session = open_store(database_url, instance_path)
    try:
        for cid in (client_id, client_id + JWT_SUFFIX, client_id + PUBLIC_SUFFIX):
            register_redirect_uris(session, cid, redirect_uris, logout_uris, replacing=replacing)
    finally:
        session.close()
    write_kept(path, {"uris": redirect_uris + logout_uris})


@main.group(invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9443, show_default=True, type=click.IntRange(0, 65535))
@click.option("--http", "plain_http", is_flag=True, help="Plain HTTP instead of HTTPS.")
@click.option(
    "--database-url",
    envvar="AUTHSERVER_DATABASE_URL",
    default=None,
    help="SQLAlchemy URL (default: SQLite in the instance folder).",
)
@instance_option
@click.option(
    "--client-id",
    envvar="AUTHSERVER_CLIENT_ID",
    default=None,
    help="The demo client's ID (default: kept, or playground-demo).",
)
@click.option(
    "--client-secret",
    envvar="AUTHSERVER_CLIENT_SECRET",
    default=None,
    help="The demo client's secret (default: kept, or random).",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=16, show_default=True, type=click.IntRange(1, 256))
@click.pass_context
def authserver(
    ctx, host, port, plain_http, database_url, instance_path, client_id, client_secret, workers, threads
):
    """Run the demo authorization server alone (or manage its clients, users and store)."""
    instance_path = instance_path or default_instance_path()
    ctx.obj = {"database_url": database_url, "instance_path": instance_path}
    if ctx.invoked_subcommand is not None:
        return
    from .authserver import create_app
    from .authserver.tls import ensure_certificates

    session = open_store(database_url, instance_path)
    try:
        client_id, client_secret = ensure_demo_client(session, instance_path, client_id, client_secret)
        username, password = ensure_demo_user(session, instance_path)
    finally:
        session.close()
    tls = (
        None if plain_http else ensure_certificates(instance_path, [host] if host not in LOCAL_HOSTS else [])
    )
    scheme = "http" if plain_http else "https"

    def base(actual: int) -> str:
        return f"{scheme}://{public_host(host)}:{actual}"

    def ready(actual: int) -> None:
        url = base(actual)
        lines = [
            f"Token endpoint: {url}/oauth2/token",
            f"Introspection endpoint: {url}/oauth2/introspect",
            f"Revocation endpoint: {url}/oauth2/revoke",
            f"Discovery: {url}/oauth2/token/.well-known/openid-configuration",
            f"Client ID: {client_id}",
            f"Client Secret: {client_secret}",
            f"JWT Client ID: {client_id}{JWT_SUFFIX}",
            f"Authorization endpoint: {url}/oauth2/authorize",
            f"UserInfo endpoint: {url}/oauth2/userinfo",
            f"Logout endpoint: {url}/oidc/logout",
            f"Public Client ID: {client_id}{PUBLIC_SUFFIX}",
            f"User: {username}",
            f"Password: {password}",
            f"Device authorization endpoint: {url}/oauth2/device_authorize",
        ]
        if tls:
            lines.append(f"CA certificate: {tls.ca_cert}")
        click.echo("\n".join(lines) + "\n")
        sys.stdout.flush()

    def factory(actual: int):
        return create_app(
            {"DATABASE_URL": database_url, "ISSUER": f"{base(actual)}/oauth2/token"},
            instance_path=instance_path,
        )

    run_or_fail(
        lambda: serve_wsgi(
            factory,
            host,
            port,
            ready,
            certfile=str(tls.cert) if tls else None,
            keyfile=str(tls.key) if tls else None,
            workers=workers,
            threads=threads,
        )
    )


@authserver.group()
def clients() -> None:
    """Manage the demo server's clients."""


@clients.command("add")
@click.argument("client_id")
@click.option("--secret", default=None, help="The client secret (default: a random one, printed once).")
@click.option("--scope", default="", help='Space-separated scopes the client may request, e.g. "read write".')
@click.option("--token-format", type=click.Choice(["opaque", "jwt"]), default="opaque", show_default=True)
@click.option(
    "--lifetime", default=3600, show_default=True, type=click.IntRange(1), help="Token lifetime, seconds."
)
@click.option("--name", "client_name", default="", help="What the sign-in and consent pages call it.")
@click.option(
    "--grant",
    "grants",
    multiple=True,
    type=click.Choice([*DEMO_GRANTS, *GRANT_ALIASES]),
    help="A grant it may use (repeatable; device_code and token_exchange name the URNs; default: "
    "client_credentials, or authorization_code if --public).",
)
@click.option(
    "--redirect-uri", "redirect_uris", multiple=True, help="A redirect URI, matched exactly (repeatable)."
)
@click.option(
    "--post-logout-redirect-uri",
    "logout_uris",
    multiple=True,
    help="Where RP-initiated logout may send the browser back to (repeatable).",
)
@click.option("--public", is_flag=True, help="A public client: no secret, client_id only; PKCE required.")
@click.option("--require-pkce", is_flag=True, help="Refuse authorization requests without a code_challenge.")
@click.option(
    "--id-token-alg", type=click.Choice(["RS256", "ES256", "EdDSA"]), default="RS256", show_default=True
)
@click.option(
    "--always-refresh-token",
    is_flag=True,
    help="A refresh token with every code (with the refresh_token grant), not only for offline_access.",
)
@click.pass_obj
def clients_add(obj, client_id, secret, scope, token_format, lifetime, client_name, grants, redirect_uris,
                logout_uris, public, require_pkce, id_token_alg, always_refresh_token):  # fmt: skip
    """Add a client, or replace the one with that ID."""
    from .authserver.models import save_client

    if public and secret:
        raise click.UsageError("A public client has no secret: leave out --secret.")
    shown = secret is None and not public
    secret = None if public else secret or secrets.token_urlsafe(24)
    session = open_store(obj["database_url"], obj["instance_path"])
    try:
        save_client(
            session,
            client_id,
            secret,
            scope=scope,
            token_format=token_format,
            token_lifetime=lifetime,
            client_name=client_name,
            public=public,
            grant_types=[GRANT_ALIASES.get(g, g) for g in grants] or None,
            redirect_uris=list(redirect_uris),
            post_logout_redirect_uris=list(logout_uris),
            require_pkce=require_pkce,
            id_token_alg=id_token_alg,
            always_refresh_token=always_refresh_token,
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        session.close()
    click.echo(f"Client ID: {client_id}")
    if shown:
        click.echo(f"Client Secret: {secret}")


@clients.command("list")
@click.pass_obj
def clients_list(obj):
    """List clients (secrets are stored hashed and never shown)."""
    from sqlalchemy import select

    from .authserver.models import Client

    session = open_store(obj["database_url"], obj["instance_path"])
    try:
        rows = session.scalars(select(Client).order_by(Client.client_id)).all()
        click.echo(f"{'CLIENT ID':30} {'TYPE':12} {'FORMAT':7} {'LIFETIME':>8} {'ID TOKEN':8}  SCOPE")
        for c in rows:
            kind = "public" if c.public else "confidential"
            click.echo(
                f"{c.client_id:30} {kind:12} {c.token_format:7} {c.token_lifetime:>8} "
                f"{c.id_token_signed_response_alg:8}  {c.scope}"
            )
            pkce = ", PKCE required" if c.public or c.require_pkce else ""
            click.echo(f"{'':4}grants: {' '.join(c.grant_list)}{pkce}")
            for uri in c.redirect_uri_list:
                click.echo(f"{'':4}redirect URI: {uri}")
            for uri in c.post_logout_redirect_uri_list:
                click.echo(f"{'':4}post-logout redirect URI: {uri}")
    finally:
        session.close()


@clients.command("remove")
@click.argument("client_id")
@click.pass_obj
def clients_remove(obj, client_id):
    """Remove a client and the tokens issued to it."""
    from .authserver.models import remove_client

    session = open_store(obj["database_url"], obj["instance_path"])
    try:
        if not remove_client(session, client_id):
            raise click.ClickException(f"No client {client_id!r}.")
    finally:
        session.close()
    click.echo(f"Removed {client_id}")


@authserver.group()
def users() -> None:
    """Manage the demo server's users (who sign in at its authorization endpoint)."""


@users.command("add")
@click.argument("username")
@click.option("--password", default=None, help="The password (default: a random one, printed once).")
@click.option("--name", default="", help="Full name (the profile scope's name claim).")
@click.option("--given-name", default="")
@click.option("--family-name", default="")
@click.option("--email", default="", help="Email address (the email scope's email claim).")
@click.pass_obj
def users_add(obj, username, password, name, given_name, family_name, email):
    """Add a user, or update the one with that name (its sub stays)."""
    from .authserver.users import save_user

    shown = password is None
    password = password or secrets.token_urlsafe(12)
    session = open_store(obj["database_url"], obj["instance_path"])
    try:
        save_user(
            session,
            username,
            password,
            name=name,
            given_name=given_name,
            family_name=family_name,
            email=email,
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        session.close()
    click.echo(f"User: {username}")
    if shown:
        click.echo(f"Password: {password}")


@users.command("list")
@click.pass_obj
def users_list(obj):
    """List users (passwords are stored hashed and never shown)."""
    from sqlalchemy import select

    from .authserver.models import User

    session = open_store(obj["database_url"], obj["instance_path"])
    try:
        click.echo(f"{'USER':20} {'SUB':34} {'NAME':24} EMAIL")
        for u in session.scalars(select(User).order_by(User.username)).all():
            click.echo(f"{u.username:20} {u.sub:34} {u.name:24} {u.email}")
    finally:
        session.close()


@users.command("remove")
@click.argument("username")
@click.pass_obj
def users_remove(obj, username):
    """Remove a user and every code, token and consent of theirs."""
    from .authserver.users import remove_user

    session = open_store(obj["database_url"], obj["instance_path"])
    try:
        if not remove_user(session, username):
            raise click.ClickException(f"No user {username!r}.")
    finally:
        session.close()
    click.echo(f"Removed {username}")


@authserver.group()
def db() -> None:
    """Manage the demo server's store (its schema migrations)."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj):
    """Bring the store to the schema this version needs (a store made before migrations is adopted)."""
    from .authserver.store import head_revision

    session = open_store(obj["database_url"], obj["instance_path"], upgrade=True)
    session.close()
    click.echo(f"The store is at revision {head_revision()}.")


# -- demo ----------------------------------------------------------------------


def read_banner(proc: subprocess.Popen, what: str) -> dict[str, str]:
    """The `Name: value` lines a child prints before its blank line."""
    banner: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip("\n")
        if not line:
            if banner:
                return banner
            continue
        name, sep, value = line.partition(": ")
        if sep:
            banner[name] = value
    raise click.ClickException(f"The {what} did not start (exit code {proc.wait()}); see the messages above.")


def pump(stream: IO[str]) -> None:
    """Copy a child's later output to ours."""
    for line in stream:
        sys.stdout.write(line)
        sys.stdout.flush()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address both servers listen on.")
@click.option(
    "--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Playground port."
)
@click.option("--authserver-port", default=9443, show_default=True, type=click.IntRange(0, 65535))
@click.option("--http", "plain_http", is_flag=True, help="Demo authorization server on plain HTTP.")
@instance_option
@click.option("--client-id", default=None, help="The demo client's ID.")
@click.option("--client-secret", default=None, help="The demo client's secret.")
def demo(host, port, authserver_port, plain_http, instance_path, client_id, client_secret):
    """Run the demo authorization server and the playground, ready to walk through."""
    base = [sys.executable, "-m", "playground"]
    auth_args = ["authserver", "--host", host, "--port", str(authserver_port)]
    if plain_http:
        auth_args.append("--http")
    if instance_path:
        auth_args += ["--instance-path", instance_path]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # Credentials go through the environment, never the process list.
    if client_id:
        env["AUTHSERVER_CLIENT_ID"] = client_id
    if client_secret:
        env["AUTHSERVER_CLIENT_SECRET"] = client_secret
    children: list[subprocess.Popen] = []

    def stop(*_args) -> None:
        raise SystemExit(0)

    # SIGINT too, explicitly: a process started in the background by a
    # non-interactive shell inherits SIGINT ignored, and Python then installs no
    # KeyboardInterrupt handler. (serve and authserver need nothing: gunicorn's
    # arbiter sets its own handlers for both signals.)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        auth = subprocess.Popen(base + auth_args, stdout=subprocess.PIPE, text=True, env=env)
        children.append(auth)
        info = read_banner(auth, "demo authorization server")
        pg_env = {
            **env,
            "PLAYGROUND_TOKEN_ENDPOINT": info["Token endpoint"],
            "PLAYGROUND_INTROSPECTION_ENDPOINT": info["Introspection endpoint"],
            "PLAYGROUND_REVOCATION_ENDPOINT": info["Revocation endpoint"],
            "PLAYGROUND_DISCOVERY_URL": info["Token endpoint"],  # the issuer: Discover finds the rest
            "PLAYGROUND_ISSUER": info["Token endpoint"],
            "PLAYGROUND_JWKS_URI": info["Token endpoint"].removesuffix("/token") + "/jwks",
            "PLAYGROUND_AUTHORIZATION_ENDPOINT": info["Authorization endpoint"],
            "PLAYGROUND_USERINFO_ENDPOINT": info["UserInfo endpoint"],
            "PLAYGROUND_LOGOUT_ENDPOINT": info["Logout endpoint"],
            "PLAYGROUND_DEVICE_AUTHORIZATION_ENDPOINT": info["Device authorization endpoint"],
            # The demo server issues a refresh token for offline_access (OIDC Core §11).
            "PLAYGROUND_CODE_SCOPE": "openid profile email offline_access",
            "PLAYGROUND_DEMO_BASE": info["Token endpoint"].removesuffix("/oauth2/token"),
            "PLAYGROUND_CLIENT_ID": info["Client ID"],
            "PLAYGROUND_RESOURCE_OWNER": info.get("User", ""),
            "PLAYGROUND_RESOURCE_OWNER_PASSWORD": ""
            if info.get("Password", NOT_SHOWN) == NOT_SHOWN
            else info["Password"],
            # A secret changed by hand is not known here: the form is left for it.
            "PLAYGROUND_CLIENT_SECRET": "" if info["Client Secret"] == NOT_SHOWN else info["Client Secret"],
        }
        if "CA certificate" in info:
            pg_env["PLAYGROUND_CA_BUNDLE"] = info["CA certificate"]
        pg = subprocess.Popen(
            base + ["serve", "--host", host, "--port", str(port)],
            stdout=subprocess.PIPE,
            text=True,
            env=pg_env,
        )
        children.append(pg)
        pg_info = read_banner(pg, "playground")
        # Only now is the playground's port known (--port 0): its pages become the demo
        # clients' redirect URIs, in the store the server reads each request from.
        register_demo_redirects(
            os.environ.get("AUTHSERVER_DATABASE_URL"),
            instance_path or default_instance_path(),
            pg_info["Playground"],
        )
        lines = [f"Playground: {pg_info['Playground']}"] + [f"{k}: {v}" for k, v in info.items()]
        click.echo("\n".join(lines) + "\n\nPress Ctrl-C to stop both.\n")
        if host not in ("127.0.0.1", "::1", "localhost"):
            click.echo(
                f"Warning: listening on {host}: anyone who can reach this machine gets the playground "
                "with the demo client's secret filled in. Use --host 127.0.0.1 unless that is what you want.",
                err=True,
            )
        sys.stdout.flush()
        for child in children:
            threading.Thread(target=pump, args=(child.stdout,), daemon=True).start()
        while all(child.poll() is None for child in children):
            try:
                children[0].wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
        raise click.ClickException("A server stopped unexpectedly; see the messages above.")
    finally:
        # A second Ctrl-C must not cut the cleanup short; the waits below are bounded.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
