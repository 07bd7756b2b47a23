"""TLS to PostgreSQL (issue 24), against the private cluster scripts/pg-tls-cluster starts (TLS
only: pg_hba rejects plain connections) and that the suite's PostgreSQL pass runs on with
sslmode=verify-full: the server's connections are encrypted, and a connection the database or
the certificate check refuses names its cause, in the log and in /healthz, without the URL."""

import os
import pathlib
import subprocess
import urllib.parse

import pytest

from conftest import BASE_DATABASE_URL, Server, admin_connection, new_database

TLS_DIR = os.environ.get("SLBCERT_TEST_PG_TLS_DIR")
pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("tls_cluster")]


@pytest.fixture
def tls_cluster():
    """scripts/test starts the cluster for the PostgreSQL pass; without it these fail, saying so."""
    if not TLS_DIR:
        pytest.fail("SLBCERT_TEST_PG_TLS_DIR is not set: run the suite through scripts/test, which "
                    "starts scripts/pg-tls-cluster and points the PostgreSQL pass at it")


def with_params(url, **params):
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query.update(params)
    query = {k: v for k, v in query.items() if v is not None}
    return parts._replace(query=urllib.parse.urlencode(query, safe="/")).geturl()


def refused_at_start(tmp_path, url):
    """Runs `serve` on `url`, which must fail; what it said."""
    done = subprocess.run(
        [os.environ["SLBCERT_BIN"], "serve", "--listen", "127.0.0.1:0", "--data-dir",
         str(tmp_path / "data"), "--database-url", url],
        capture_output=True, text=True, timeout=60)
    assert done.returncode != 0, done.stderr
    return done.stdout + done.stderr


def test_the_suites_connections_are_encrypted_and_verified(server):
    assert "sslmode=verify-full" in BASE_DATABASE_URL
    with admin_connection(server.database_url) as connection:
        rows = connection.execute(
            "SELECT s.ssl, s.version FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
            "WHERE a.application_name = 'slbcert'").fetchall()
    assert rows and all(ssl for ssl, _ in rows), rows


def test_a_plain_connection_is_refused_with_pg_hbas_words(tmp_path):
    said = refused_at_start(tmp_path, with_params(new_database(), sslmode="disable",
                                                  sslrootcert=None))
    assert "pg_hba.conf rejects connection" in said and "no encryption" in said, said


def test_a_server_certificate_of_another_ca_is_refused(tmp_path):
    other = str(pathlib.Path(TLS_DIR) / "other-ca.pem")
    said = refused_at_start(tmp_path, with_params(new_database(), sslrootcert=other))
    assert "TLS" in said and "UnknownIssuer" in said, said


def test_verify_full_checks_the_name_and_verify_ca_does_not(tmp_path):
    # Connect to 127.0.0.1 under a name its certificate does not carry.
    url = new_database().replace("@127.0.0.1:", "@db.wrong.example:")
    said = refused_at_start(tmp_path, with_params(url, hostaddr="127.0.0.1"))
    assert "not valid for name" in said and "db.wrong.example" in said, said
    (tmp_path / "ca").mkdir()
    server = Server(tmp_path / "ca", database=with_params(
        url, hostaddr="127.0.0.1", sslmode="verify-ca")).start()
    try:
        assert server.health() == (200, "ok\n")
    finally:
        server.stop()


def test_a_refusal_after_start_shows_in_healthz(tmp_path):
    url = new_database()
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    server = Server(tmp_path, database=url).start()
    hba = pathlib.Path(TLS_DIR) / "data" / "pg_hba.conf"
    original = hba.read_text()
    try:
        hba.write_text(f"hostssl {name} all 127.0.0.1/32 reject\n" + original)
        reload_cluster()
        with admin_connection() as connection:
            connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))

        def says_why():
            status, text = server.health()
            assert status == 503 and "pg_hba.conf rejects connection" in text, text
            return text
        from test_data_plane import eventually
        text = eventually(says_why, seconds=20)
        assert "postgres://" not in text
        assert "pg_hba.conf rejects connection" in server.log()
    finally:
        hba.write_text(original)
        reload_cluster()
        server.stop()


def reload_cluster():
    data = pathlib.Path(TLS_DIR) / "data"
    command = [next(pathlib.Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")), "-D", str(data),
               "reload"]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--"] + [str(c) for c in command]
    subprocess.run([str(c) for c in command], check=True, capture_output=True)
