"""The `playground` command: banners, the demo, client management, packaging."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from playground.cli import main

from .servers import Running, running
from .test_authserver import basic

ROOT = Path(__file__).resolve().parent.parent
BANNER = [
    "Token endpoint",
    "Introspection endpoint",
    "Revocation endpoint",
    "Discovery",
    "Client ID",
    "Client Secret",
    "JWT Client ID",
    "Authorization endpoint",
    "UserInfo endpoint",
    "Logout endpoint",
    "Public Client ID",
    "User",
    "Password",
    "Device authorization endpoint",
]


def client_credentials(banner: dict[str, str], verify) -> dict:
    """What `curl -u id:secret -d grant_type=client_credentials` would get."""
    response = requests.post(
        banner["Token endpoint"],
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic(banner["Client ID"], banner["Client Secret"])},
        verify=verify,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def is_active(banner: dict[str, str], token: str, verify) -> bool:
    response = requests.post(
        banner["Introspection endpoint"],
        data={"token": token},
        headers={"Authorization": basic(banner["Client ID"], banner["Client Secret"])},
        verify=verify,
        timeout=10,
    )
    return response.json()["active"]


def test_authserver_https_banner_token_and_restart(tmp_path):
    args = ["authserver", "--port", "0", "--instance-path", str(tmp_path)]
    with running(args) as first:
        banner = first.banner
        assert list(banner) == BANNER + ["CA certificate"]
        assert banner["Token endpoint"].startswith("https://localhost:")
        assert banner["Client ID"] == "playground-demo"
        ca = banner["CA certificate"]
        assert Path(ca).is_file() and Path(ca).parent == tmp_path
        token = client_credentials(banner, verify=ca)["access_token"]
        assert is_active(banner, token, verify=ca)
        # The CA is what makes it trusted: without it, verification fails.
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(banner["Discovery"], timeout=10)
        meta = requests.get(banner["Discovery"], verify=ca, timeout=10).json()
        assert meta["token_endpoint"] == banner["Token endpoint"]
        assert meta["issuer"] == banner["Token endpoint"]
    assert oct((tmp_path / "demo-client.json").stat().st_mode & 0o777) == "0o600"
    with running(args) as second:
        assert second.banner["Client Secret"] == banner["Client Secret"]  # shown again
        assert second.banner["CA certificate"] == ca
        assert is_active(second.banner, token, verify=ca)  # tokens survive a restart


def test_authserver_http_with_explicit_client(tmp_path):
    args = ["authserver", "--http", "--port", "0", "--instance-path", str(tmp_path)]
    with running(args + ["--client-id", "my:app", "--client-secret", "p@ss+word/%"]) as server:
        assert list(server.banner) == BANNER
        assert server.banner["Client ID"] == "my:app"
        assert server.banner["Client Secret"] == "p@ss+word/%"
        assert server.banner["Token endpoint"].startswith("http://localhost:")
        client_credentials(server.banner, verify=True)


def test_clients_add_list_remove(tmp_path):
    runner = CliRunner()
    base = ["authserver", "--instance-path", str(tmp_path)]
    added = runner.invoke(
        main, base + ["clients", "add", "svc", "--scope", "read write", "--token-format", "jwt"]
    )
    assert added.exit_code == 0, added.output
    assert "Client Secret: " in added.output
    secret = added.output.split("Client Secret: ")[1].strip()
    listed = runner.invoke(main, base + ["clients", "list"])
    assert "svc" in listed.output and "jwt" in listed.output and "read write" in listed.output
    assert secret not in listed.output
    with running(["authserver", "--http", "--port", "0", "--instance-path", str(tmp_path)]) as server:
        token = client_credentials({**server.banner, "Client ID": "svc", "Client Secret": secret}, True)
        assert token["access_token"].count(".") == 2  # a JWT
    removed = runner.invoke(main, base + ["clients", "remove", "svc"])
    assert removed.exit_code == 0
    assert "svc" not in runner.invoke(main, base + ["clients", "list"]).output
    missing = runner.invoke(main, base + ["clients", "remove", "svc"])
    assert missing.exit_code == 1 and "No client" in missing.output


def test_a_demo_secret_set_by_hand_is_not_overwritten(tmp_path):
    args = ["authserver", "--http", "--port", "0", "--instance-path", str(tmp_path)]
    with running(args) as first:
        kept = first.banner["Client Secret"]
    runner = CliRunner()
    base = ["authserver", "--instance-path", str(tmp_path), "clients", "add"]
    for client_id in ("playground-demo", "playground-demo-jwt"):
        result = runner.invoke(main, base + [client_id, "--secret", "set-by-hand", "--scope", "read write"])
        assert result.exit_code == 0, result.output
    with running(args) as second:
        assert second.banner["Client Secret"] == "(changed by hand; not shown)"
        assert kept not in "\n".join(f"{k}: {v}" for k, v in second.banner.items())
        client_credentials({**second.banner, "Client Secret": "set-by-hand"}, verify=True)
    with running(args) as third:  # and it stays so
        client_credentials({**third.banner, "Client Secret": "set-by-hand"}, verify=True)


def test_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "playground",
                "authserver",
                "--http",
                "--port",
                str(port),
                "--instance-path",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert "already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_starts_both_and_ctrl_c_stops_both(tmp_path):
    demo = Running(["demo", "--port", "0", "--authserver-port", "0", "--instance-path", str(tmp_path)])
    try:
        banner = demo.banner
        assert list(banner) == ["Playground"] + BANNER + ["CA certificate"]
        page = requests.get(banner["Playground"], timeout=10)
        assert page.status_code == 200
        # The playground is set up for the demo server: client, secret and endpoints pre-filled.
        for value in (banner["Client ID"], banner["Client Secret"], banner["Token endpoint"]):
            assert f'value="{value}"' in page.text
        assert f'value="{banner["Introspection endpoint"]}"' in page.text
        # Click, click: Authorize with what is pre-filled works, the demo CA trusted by itself.
        browser = requests.Session()
        form = browser.get(banner["Playground"], timeout=10).text
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        fields = dict(
            re.findall(
                r'<input[^>]*name="([a-z_]+)"[^>]*type="(?:text|password|hidden)" value="([^"]*)"', form
            )
        )
        fields.update(csrf_token=csrf, grant_type="client_credentials", client_auth="client_secret_basic")
        fields.update(introspection_auth="client", authorize="Authorize")
        result = browser.post(banner["Playground"], data=fields, timeout=30)
        assert "Access token received" in result.text, re.sub(r"<[^>]+>", " ", result.text)[:3000]
        token = client_credentials(banner, verify=banner["CA certificate"])["access_token"]
        assert is_active(banner, token, verify=banner["CA certificate"])
        children = subprocess.run(
            ["pgrep", "-g", str(demo.proc.pid)], capture_output=True, text=True
        ).stdout.split()
        assert len(children) >= 3  # demo, authserver (+ worker), playground (+ worker)
    finally:
        code = demo.stop(signal.SIGINT)  # Ctrl-C reaches the whole process group
    assert code == 0
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-g", str(demo.proc.pid)], capture_output=True, text=True).stdout.split()
    assert left == []
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(banner["Playground"], timeout=5)


def test_python_dash_m_and_console_script_agree():
    script = Path(sys.executable).parent / "playground"
    assert script.exists(), "the console script is installed beside the interpreter"
    outputs = [
        subprocess.run(command, capture_output=True, text=True, timeout=60)
        for command in ([sys.executable, "-m", "playground", "--help"], [str(script), "--help"])
    ]
    assert [o.returncode for o in outputs] == [0, 0]
    assert outputs[0].stdout == outputs[1].stdout
    for command in ("demo", "serve", "authserver"):
        assert command in outputs[0].stdout


def test_serve_banner_and_settings(tmp_path):
    env = {
        "PLAYGROUND_TOKEN_ENDPOINT": "https://idp.example.test/token",
        "PLAYGROUND_CLIENT_ID": "from-env",
    }
    with running(["serve", "--port", "0"], env=env) as server:
        assert list(server.banner) == ["Playground"]
        url = server.banner["Playground"]
        assert re.fullmatch(r"http://localhost:\d+/playground2/oauth2\.jsp", url)
        page = requests.get(url, timeout=10)
        assert page.headers["Server"].startswith("gunicorn")  # a production server, not Flask's
        assert 'value="https://idp.example.test/token"' in page.text and 'value="from-env"' in page.text


def test_serve_refuses_bad_settings_in_one_line():
    result = subprocess.run(
        [sys.executable, "-m", "playground", "serve", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PLAYGROUND_CA_BUNDLE": "/nonexistent.pem"},
    )
    assert result.returncode == 1
    assert "PLAYGROUND_CA_BUNDLE" in result.stderr and "Traceback" not in result.stderr
    assert "Playground:" not in result.stdout  # no "ready" banner before failing


def test_authserver_with_a_database_url(tmp_path):
    database = tmp_path / "elsewhere" / "store.db"
    database.parent.mkdir()
    url = f"sqlite:///{database}"
    args = [
        "authserver",
        "--http",
        "--port",
        "0",
        "--instance-path",
        str(tmp_path / "inst"),
        "--database-url",
        url,
    ]
    with running(args) as server:
        token = client_credentials(server.banner, verify=True)["access_token"]
    assert database.exists()
    with running(args) as again:
        assert is_active(again.banner, token, verify=True)
    bad = subprocess.run(
        [sys.executable, "-m", "playground", "authserver", "--database-url", "nosuch://x", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1 and "Cannot open the database" in bad.stderr and "Traceback" not in bad.stderr


def test_wheel_ships_templates_and_static(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for folder in ("templates", "static"):
        files = sorted(
            p.relative_to(ROOT / folder).as_posix() for p in (ROOT / folder).rglob("*") if p.is_file()
        )
        assert files and "authserver/login.html" in files + [
            "authserver/login.html" if folder == "static" else ""
        ]
        for name in files:
            assert f"playground/{folder}/{name}" in names
    # The store's migrations ship too: an installed server upgrades an old instance folder.
    assert "playground/authserver/migrations/versions/0001_baseline.py" in names
    assert "playground/authserver/migrations/env.py" in names
    # Installed from the wheel (not the checkout), the app finds its pages and assets.
    site = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    check = (
        "import sys; sys.path.insert(0, sys.argv[1]); import playground; "
        "assert playground.__file__.startswith(sys.argv[1]), playground.__file__; "
        "c = playground.create_app({'TESTING': True}).test_client(); "
        "page = c.get('/playground2/oauth2.jsp'); assert b'Authorization Grant Type' in page.data; "
        "assert c.get('/static/style.css').status_code == 200; print('ok')"
    )
    run = subprocess.run(
        [sys.executable, "-c", check, str(site)], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert run.stdout.strip() == "ok", run.stderr


# -- review findings -------------------------------------------------------------


def test_demo_stops_on_sigint_even_when_started_with_it_ignored(tmp_path):
    """A background job of a non-interactive shell inherits SIGINT ignored; Ctrl-C must still work."""
    args = ["demo", "--port", "0", "--authserver-port", "0", "--http", "--instance-path", str(tmp_path)]
    demo = Running(args, sigint_ignored=True)
    try:
        assert requests.get(demo.banner["Playground"], timeout=10).status_code == 200
    finally:
        code = demo.stop(signal.SIGINT)
    assert code == 0, demo.stderr
    assert "stopped unexpectedly" not in demo.stderr
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-g", str(demo.proc.pid)], capture_output=True, text=True).stdout.split()
    assert left == []


@pytest.mark.parametrize("command", ["authserver", "serve"])
def test_servers_stop_on_sigint_even_when_started_with_it_ignored(tmp_path, command):
    """gunicorn's arbiter sets its own SIGINT handler, so these need none of their own."""
    args = [command, "--port", "0"]
    if command == "authserver":
        args += ["--http", "--instance-path", str(tmp_path)]
    server = Running(args, sigint_ignored=True)
    assert server.stop(signal.SIGINT) == 0, server.stderr
    left = subprocess.run(
        ["pgrep", "-g", str(server.proc.pid)], capture_output=True, text=True
    ).stdout.split()
    assert left == []


def test_instance_folder_and_database_are_private(tmp_path):
    instance = tmp_path / "new-instance"
    runner = CliRunner()
    added = runner.invoke(main, ["authserver", "--instance-path", str(instance), "clients", "add", "svc"])
    assert added.exit_code == 0, added.output
    assert oct(instance.stat().st_mode & 0o777) == "0o700"
    assert oct((instance / "authserver.sqlite3").stat().st_mode & 0o777) == "0o600"
    with running(["authserver", "--port", "0", "--instance-path", str(instance)]) as server:
        client_credentials(server.banner, verify=server.banner["CA certificate"])
        files = list(instance.iterdir())
        assert {"authserver.sqlite3", "demo-client.json", "demo-ca.key", "demo-server.key"} <= {
            p.name for p in files
        }
        for path in files:
            if path.name.startswith("authserver.sqlite3") or path.suffix in (".key", ".json"):
                assert oct(path.stat().st_mode & 0o777) == "0o600", path.name


def test_removing_a_client_ends_its_tokens(tmp_path):
    runner = CliRunner()
    base = ["authserver", "--instance-path", str(tmp_path)]

    def add(client_id: str, *options: str) -> str:
        result = runner.invoke(main, base + ["clients", "add", client_id, *options])
        assert result.exit_code == 0, result.output
        return result.output.split("Client Secret: ")[1].strip()

    secret = add("svc", "--scope", "read")
    # The README's way to try Bearer introspection.
    introspector_secret = add("introspector", "--scope", "internal_oauth2_introspect")
    with running(["authserver", "--http", "--port", "0", "--instance-path", str(tmp_path)]) as server:
        token = client_credentials({**server.banner, "Client ID": "svc", "Client Secret": secret}, True)
        bearer = client_credentials(
            {**server.banner, "Client ID": "introspector", "Client Secret": introspector_secret}, True
        )

        def introspect() -> dict:
            response = requests.post(
                server.banner["Introspection endpoint"],
                data={"token": token["access_token"]},
                headers={"Authorization": f"Bearer {bearer['access_token']}"},
                timeout=10,
            )
            assert response.status_code == 200, response.text
            return response.json()

        assert introspect()["client_id"] == "svc"
        removed = runner.invoke(main, base + ["clients", "remove", "svc"])
        assert removed.exit_code == 0, removed.output
        assert introspect() == {"active": False}


def test_a_lost_ca_gets_a_new_server_certificate(tmp_path):
    """The CA printed in the banner must verify the server, even after demo-ca.pem was lost."""
    args = ["authserver", "--port", "0", "--instance-path", str(tmp_path)]
    with running(args) as first:
        ca = first.banner["CA certificate"]
        assert requests.get(first.banner["Discovery"], verify=ca, timeout=10).status_code == 200
    old_ca = Path(ca).read_bytes()
    Path(ca).unlink()
    with running(args) as second:
        assert second.banner["CA certificate"] == ca
        assert Path(ca).read_bytes() != old_ca  # a new CA was made
        assert requests.get(second.banner["Discovery"], verify=ca, timeout=10).status_code == 200


def test_a_server_that_fails_to_start_shows_its_error():
    """The child's own message, not `I/O operation on closed file`."""
    with pytest.raises(AssertionError, match="Cannot open the database"):
        Running(["authserver", "--database-url", "nosuch://x", "--port", "0"], timeout=30)


def test_a_chatty_server_does_not_block_on_a_full_stderr_pipe(tmp_path):
    """PYTHONVERBOSE writes some 250 KB to stderr, far beyond a pipe's 64 KiB buffer."""
    args = ["authserver", "--http", "--port", "0", "--instance-path", str(tmp_path)]
    with running(args, env={"PYTHONVERBOSE": "1"}, timeout=30) as server:
        client_credentials(server.banner, verify=True)
        assert 0 < len(server.stderr_lines) <= 200


# -- issue 9: users, client options, the code flow under `playground demo` -------------


def test_users_add_list_remove(tmp_path):
    runner = CliRunner()
    base = ["authserver", "--instance-path", str(tmp_path), "users"]
    added = runner.invoke(main, base + ["add", "bob", "--name", "Bob Example", "--email", "bob@example.com"])
    assert added.exit_code == 0, added.output
    password = added.output.split("Password: ")[1].strip()
    listed = runner.invoke(main, base + ["list"])
    assert "bob" in listed.output and "bob@example.com" in listed.output and password not in listed.output
    assert runner.invoke(main, base + ["add", "bad name", "--password", "x"]).exit_code == 1
    assert runner.invoke(main, base + ["remove", "bob"]).exit_code == 0
    assert "bob" not in runner.invoke(main, base + ["list"]).output
    missing = runner.invoke(main, base + ["remove", "bob"])
    assert missing.exit_code == 1 and "No user" in missing.output


def test_clients_add_takes_the_code_flow_options(tmp_path):
    runner = CliRunner()
    base = ["authserver", "--instance-path", str(tmp_path), "clients"]
    public = runner.invoke(
        main,
        base
        + ["add", "spa", "--public", "--scope", "openid profile", "--grant", "authorization_code"]
        + ["--grant", "refresh_token", "--redirect-uri", "http://localhost:3000/cb"]
        + ["--redirect-uri", "http://127.0.0.1:3000/cb", "--id-token-alg", "ES256"],
    )
    assert public.exit_code == 0, public.output
    assert "Client Secret" not in public.output
    strict = runner.invoke(
        main,
        base
        + ["add", "web", "--grant", "authorization_code", "--redirect-uri", "https://app.test/cb"]
        + ["--require-pkce", "--post-logout-redirect-uri", "https://app.test/bye", "--id-token-alg", "EdDSA"],
    )
    assert strict.exit_code == 0 and "Client Secret: " in strict.output
    listed = runner.invoke(main, base + ["list"]).output
    assert "public" in listed and "ES256" in listed and "EdDSA" in listed
    assert "redirect URI: http://127.0.0.1:3000/cb" in listed and "PKCE required" in listed
    assert "post-logout redirect URI: https://app.test/bye" in listed
    refused = [
        ["add", "x", "--public", "--secret", "s"],
        ["add", "x", "--grant", "authorization_code"],  # no redirect URI
        ["add", "x", "--public", "--grant", "client_credentials"],
        ["add", "x", "--grant", "authorization_code", "--redirect-uri", "https://app.test/cb#frag"],
    ]
    for args in refused:
        result = runner.invoke(main, base + args)
        assert result.exit_code != 0 and "Traceback" not in result.output, args


def test_the_demo_user_password_is_kept_and_one_set_by_hand_is_not_shown(tmp_path):
    args = ["authserver", "--http", "--port", "0", "--instance-path", str(tmp_path)]
    with running(args) as first:
        assert first.banner["User"] == "alice"
        password = first.banner["Password"]
        assert len(password) >= 12
        assert first.banner["Public Client ID"] == "playground-demo-public"
    assert oct((tmp_path / "demo-user.json").stat().st_mode & 0o777) == "0o600"
    with running(args) as second:
        assert second.banner["Password"] == password  # shown again
    runner = CliRunner()
    changed = runner.invoke(
        main,
        ["authserver", "--instance-path", str(tmp_path), "users", "add", "alice", "--password", "by-hand"],
    )
    assert changed.exit_code == 0
    with running(args) as third:
        assert third.banner["Password"] == "(changed by hand; not shown)"


def test_demo_registers_the_playgrounds_callback_on_the_demo_clients(demo):
    """Under `playground demo`, the authorization endpoint takes the playground's callback on its port."""
    from .authflow import exchange_code, login_and_consent, pkce_pair

    ca = demo["CA certificate"]
    base = demo["Playground"].removesuffix("/playground2/oauth2.jsp")
    port = base.rsplit(":", 1)[1]
    for host in ("localhost", "127.0.0.1"):
        callback = f"http://{host}:{port}/playground2/oauth2client"
        for client_id in (demo["Client ID"], demo["JWT Client ID"], demo["Public Client ID"]):
            verifier, challenge = pkce_pair()
            params = {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": callback,
                "scope": "openid profile email",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
            page = requests.get(demo["Authorization endpoint"], params=params, verify=ca, timeout=10)
            assert page.status_code == 200 and 'name="password"' in page.text, (client_id, page.text[:300])
    # And the whole flow goes through with the banner's user and password, by the public client.
    server = demo["Authorization endpoint"].removesuffix("/oauth2/authorize")
    browser = requests.Session()
    browser.verify = ca  # every request of the flow trusts the demo CA
    back = login_and_consent(browser, server, params, demo["User"], demo["Password"])
    assert back["_url"].startswith(callback) and back["iss"] == demo["Token endpoint"]
    tokens = exchange_code(
        server, back["code"], callback, demo["Public Client ID"], None, verifier, verify=ca
    )
    assert tokens.status_code == 200 and "id_token" in tokens.json()
    meta = requests.get(demo["Discovery"], verify=ca, timeout=10).json()
    assert meta["authorization_endpoint"] == demo["Authorization endpoint"]
    assert meta["userinfo_endpoint"] == demo["UserInfo endpoint"]
    assert meta["end_session_endpoint"] == demo["Logout endpoint"]


# -- issue 10: every grant, the demo clients registered for each ------------------------


def test_the_cli_names_every_grant_of_the_server():
    from playground.authserver.models import GRANT_TYPES
    from playground.cli import DEMO_GRANTS

    assert DEMO_GRANTS == GRANT_TYPES


def test_clients_add_takes_the_new_grants_and_their_aliases(tmp_path):
    runner = CliRunner()
    base = ["authserver", "--instance-path", str(tmp_path), "clients"]
    added = runner.invoke(
        main,
        base
        + ["add", "tv", "--scope", "openid read", "--grant", "device_code", "--grant", "token_exchange"]
        + ["--grant", "password", "--grant", "implicit", "--redirect-uri", "http://localhost:3000/cb"],
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(main, base + ["list"]).output
    assert (
        "grants: urn:ietf:params:oauth:grant-type:device_code urn:ietf:params:oauth:grant-type:token-exchange"
        " password implicit" in listed
    )
    urn = runner.invoke(
        main, base + ["add", "cli", "--public", "--grant", "urn:ietf:params:oauth:grant-type:device_code"]
    )
    assert urn.exit_code == 0, urn.output
    no_redirect = runner.invoke(main, base + ["add", "spa", "--public", "--grant", "implicit"])
    assert (
        no_redirect.exit_code == 1 and "implicit grant needs at least one redirect URI" in no_redirect.output
    )
    unknown = runner.invoke(main, base + ["add", "x", "--grant", "saml"])
    assert unknown.exit_code == 2


def test_demo_clients_get_every_grant_on_the_next_start_keeping_a_secret_set_by_hand(tmp_path):
    """A store from before issue 10: the demo clients as they were registered then."""
    from playground.authserver.models import find_client, save_client
    from playground.cli import DEMO_GRANTS, PUBLIC_DEMO_GRANTS, ensure_demo_client, open_store

    session = open_store(None, str(tmp_path))
    old = ["client_credentials", "authorization_code", "refresh_token"]
    for client_id in ("playground-demo", "playground-demo-jwt"):
        save_client(session, client_id, "set-by-hand", "read", grant_types=old, redirect_uris=["http://x/cb"])
    save_client(session, "playground-demo-public", None, "openid", public=True, redirect_uris=["http://x/cb"])
    _, shown = ensure_demo_client(session, str(tmp_path), None, None)
    assert shown == "(changed by hand; not shown)"
    for client_id in ("playground-demo", "playground-demo-jwt"):
        client = find_client(session, client_id)
        assert client.grant_list == list(DEMO_GRANTS) and client.check_client_secret("set-by-hand")
    public = find_client(session, "playground-demo-public")
    assert set(public.grant_list) == set(PUBLIC_DEMO_GRANTS)
    session.close()


def test_the_banner_names_the_device_authorization_endpoint_and_the_demo_clients_use_it(tmp_path):
    args = ["authserver", "--http", "--port", "0", "--instance-path", str(tmp_path)]
    with running(args) as server:
        banner = server.banner
        endpoint = banner["Device authorization endpoint"]
        assert endpoint == banner["Token endpoint"].removesuffix("/token") + "/device_authorize"
        meta = requests.get(banner["Discovery"], timeout=10).json()
        assert meta["device_authorization_endpoint"] == endpoint
        public = requests.post(
            endpoint, data={"client_id": banner["Public Client ID"], "scope": "openid"}, timeout=10
        )
        assert public.status_code == 200, public.text
        confidential = requests.post(
            endpoint,
            data={"scope": "openid read"},
            headers={"Authorization": basic(banner["Client ID"], banner["Client Secret"])},
            timeout=10,
        )
        assert confidential.status_code == 200, confidential.text
        password = requests.post(
            banner["Token endpoint"],
            data={
                "grant_type": "password",
                "username": banner["User"],
                "password": banner["Password"],
                "scope": "openid read",
            },  # fmt: skip
            headers={"Authorization": basic(banner["Client ID"], banner["Client Secret"])},
            timeout=30,
        )
        assert password.status_code == 200, password.text
