"""Starts the real `slbcert` binary on a free port and drives it with the official SDKs:
aliyun-python-sdk-core + aliyun-python-sdk-slb (V1) and alibabacloud-slb20140515 (V3, or V1 with
signature_algorithm='v2').

The suite runs against either store: SQLite in each server's data directory (the default), or,
with SLBCERT_TEST_BACKEND=postgres, PostgreSQL at SLBCERT_TEST_DATABASE_URL, where every data
directory gets a fresh database of its own (dropped at the end)."""

import fcntl
import importlib
import json
import sqlite3
import os
import pathlib
import re
import signal
import socket
import subprocess
import time
import urllib.parse

import pytest
import requests

from rawclient import RawClient

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("SLBCERT_BIN", str(ROOT / "target" / "debug" / "slbcert"))
REGION = "cn-hangzhou"
BACKEND = os.environ.get("SLBCERT_TEST_BACKEND", "sqlite")
BASE_DATABASE_URL = os.environ.get("SLBCERT_TEST_DATABASE_URL", "")
assert BACKEND in ("sqlite", "postgres"), f"SLBCERT_TEST_BACKEND={BACKEND!r}"


# SLBCERT_STRICT (.ci/run sets it): a test may skip only because it belongs to the other pass;
# a skip for anything else (a missing tool, no database) fails the run instead.
STRICT = bool(os.environ.get("SLBCERT_STRICT"))
OTHER_PASS = "about the SQLite file; this run is on PostgreSQL"
POSTGRES_PASS = "runs in the PostgreSQL pass"
RUNS_ALONE = ("restarts PostgreSQL under every other test: scripts/test runs it alone "
              "(SLBCERT_TEST_PG_RESTART=1)")
PASS_SKIPS = (OTHER_PASS, POSTGRES_PASS, RUNS_ALONE)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not (STRICT and report.skipped) or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if not any(allowed in reason for allowed in PASS_SKIPS):
        report.outcome = "failed"
        report.longrepr = f"skipped under SLBCERT_STRICT, where nothing may be missing: {reason}"


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: reads or breaks the SQLite file itself")
    config.addinivalue_line("markers", "postgres_only: needs PostgreSQL (SLBCERT_TEST_DATABASE_URL)")
    config.addinivalue_line("markers", "pg_restart: restarts the machine's PostgreSQL (run alone)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("pg_restart") and not os.environ.get("SLBCERT_TEST_PG_RESTART"):
            item.add_marker(pytest.mark.skip(reason=RUNS_ALONE))
        if BACKEND == "postgres" and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason=OTHER_PASS))
        if item.get_closest_marker("postgres_only"):
            if not BASE_DATABASE_URL:
                item.add_marker(pytest.mark.skip(
                    reason="SLBCERT_TEST_DATABASE_URL is not set: no PostgreSQL to test against"))
            elif BACKEND != "postgres":
                item.add_marker(pytest.mark.skip(reason=POSTGRES_PASS))


def admin_connection(url=None):
    import psycopg
    return psycopg.connect(url or BASE_DATABASE_URL, autocommit=True, connect_timeout=5)


_databases = {}


def new_database():
    """A fresh, empty database; its URL."""
    name = f"slbcert_t{os.getpid()}_{len(_databases)}_{int(time.time() * 1000) % 100000}"
    with admin_connection() as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = urllib.parse.urlsplit(BASE_DATABASE_URL)._replace(path=f"/{name}").geturl()
    _databases[name] = url
    return url


def database_url(data_dir):
    """The database of a data directory on PostgreSQL (made on first use), else None."""
    key = str(pathlib.Path(data_dir).resolve())
    if key in _by_data_dir:
        return _by_data_dir[key]
    if BACKEND != "postgres":
        return None
    if key not in _by_data_dir:
        _by_data_dir[key] = new_database()
    return _by_data_dir[key]


_by_data_dir = {}


def traced(pid):
    """Whether every thread of `pid` has a tracer attached (strace -f -p attaches to each)."""
    tasks = os.listdir(f"/proc/{pid}/task")
    for task in tasks:
        with open(f"/proc/{pid}/task/{task}/status") as status:
            tracer = next(line for line in status if line.startswith("TracerPid:"))
        if tracer.split()[1] == "0":
            return False
    return True


def unverified(value, why):
    """`value`, a choice of this project's where the real service's documentation gives none
    (the wire references mark it [UNVERIFIED]): asserted so that it stays stable, not because
    the service is known to answer it. `why` says what is unknown."""
    assert why
    return value


# The status of InvalidLoadBalancerId.NotFound, AclNotExist and TLSCipherPolicyId.NotFound is
# undocumented (Terraform accepts their codes or any 404): 404 is this project's choice.
UNVERIFIED_404 = unverified(404, "the status of a missing load balancer, ACL or TLS policy")


def read_between_rounds(path):
    """The text of audit.log between two export rounds: under a shared flock, as each round
    holds an exclusive one while it writes (a full disk's partial write is cut back within it)."""
    if not path.exists():
        return ""
    with open(path) as file:
        fcntl.flock(file, fcntl.LOCK_SH)
        try:
            return file.read()
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def wait_until(check, timeout=10.0, what="the condition"):
    """`check()`'s first truthy answer, polled until `timeout` seconds have passed."""
    deadline = time.time() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        assert time.time() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.05)


def cli_env(data_dir, **extra):
    """The environment of a command run on `data_dir` (its database on PostgreSQL)."""
    env = dict(os.environ, **extra)
    url = database_url(data_dir)
    if url:
        env["SLBCERT_DATABASE_URL"] = url
    return env


@pytest.fixture(scope="session", autouse=True)
def drop_databases():
    yield
    if not _databases:
        return
    with admin_connection() as connection:
        for name in _databases:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _family(pid):
    """`pid` and its descendants (a wrapper such as strace runs the server as its child)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    family, todo = set(), [pid]
    while todo:
        current = todo.pop()
        family.add(current)
        todo.extend(children.get(current, []))
    return family


def listens_on(pid, port):
    """Whether `pid` (or a descendant) holds the listening TCP socket on 127.0.0.1:`port`: the
    port `free_port()` picked may have been taken by another worker's server meanwhile, and its
    /healthz must not pass for ours."""
    inodes = set()
    for member in _family(pid):
        try:
            for fd in os.listdir(f"/proc/{member}/fd"):
                target = os.readlink(f"/proc/{member}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    wanted = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            if fields[1] == wanted and fields[3] == "0A" and fields[9] in inodes:
                return True
    return False


METRICS_TOKEN = "metrics-token-of-the-tests"


class Server:
    """One `slbcert serve` process on its own data directory."""

    def __init__(self, directory, args=(), wrapper=(), data_dir=None, database=None):
        """database: the PostgreSQL URL to share with other nodes, or "sqlite" for the data
        directory's own SQLite whatever the pass (else the pass decides)."""
        self.data_dir = data_dir or directory / "data"
        if database:
            _by_data_dir[str(pathlib.Path(self.data_dir).resolve())] = \
                None if database == "sqlite" else database
        self.log_path = directory / "server.log"
        self.args = list(args)
        # Tests that do not serve listeners keep the data plane off, so that parallel servers
        # do not contend for the same addresses and ports (test_data_plane.py turns it on).
        if "--data-plane" not in self.args:
            self.args += ["--data-plane", "off"]
        # The API's address serves /metrics only behind a token (see metrics()).
        if "--metrics-token" not in self.args and "--metrics-listen" not in self.args:
            self.args += ["--metrics-token", METRICS_TOKEN]
        # A command to run the server under (strace, say); it must pass signals on.
        self.wrapper = list(wrapper)
        self.port = free_port()
        self.started = False  # once it has served: its port is known to the test
        self.process = None
        # `serve --tls`: the API answers HTTPS only, with a certificate of DATA_DIR/ca.pem.
        self.tls = "--tls" in self.args

    @property
    def base_url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ca_file(self):
        return str(self.data_dir / "ca.pem") if self.tls else None

    def get(self, path, timeout=1):
        return requests.get(self.base_url + path, timeout=timeout, verify=self.ca_file or True)

    def metrics(self):
        """GET /metrics on the API's address, with the token every test server is given."""
        return requests.get(self.base_url + "/metrics", timeout=5, verify=self.ca_file or True,
                            headers={"Authorization": f"Bearer {METRICS_TOKEN}"})

    def start(self, attempts=3):
        log = open(self.log_path, "ab")
        offset = log.tell()
        env = cli_env(self.data_dir, SLBCERT_LOG="debug")
        self.process = subprocess.Popen(
            [*self.wrapper, BINARY, "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir",
             str(self.data_dir), *self.args],
            stdout=log, stderr=log, env=env)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.process.poll() is not None:
                text = self.log_path.read_text()
                # Another worker's server took the port free_port() picked: a new one, unless
                # the test already knows this server's port (a restart).
                if ("cannot listen on" in text[offset:] and attempts > 1
                        and not self.started):
                    self.port = free_port()
                    return self.start(attempts - 1)
                raise RuntimeError(f"slbcert exited early:\n{text}")
            try:
                if (self.get("/healthz").status_code == 200
                        and listens_on(self.process.pid, self.port)):
                    self.started = True
                    return self
            except (requests.ConnectionError, OSError):  # OSError: ca.pem not written yet
                pass
            time.sleep(0.05)  # the poll's interval; the condition is the server answering
        raise RuntimeError("slbcert did not become healthy")

    def stop(self, sig=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=20)
        return self.process.returncode

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def restart(self):
        self.stop()
        return self.start()

    @property
    def credentials(self):
        return json.loads((self.data_dir / "credentials").read_text())

    def create_account(self, name=""):
        out = subprocess.run(
            [BINARY, "account", "create", "--data-dir", str(self.data_dir), "--name", name, "--json"],
            check=True, capture_output=True, text=True, env=cli_env(self.data_dir))
        lines = out.stdout.splitlines()
        assert len(lines) == 1, out.stdout
        return json.loads(lines[0])

    def log(self):
        return self.log_path.read_text()

    def health(self):
        response = self.get("/healthz", timeout=5)
        return response.status_code, response.text

    def wait_for_refusals_stored(self, deadline):
        """Until no refused request's audit record is left to store (/metrics counts them)."""
        while True:
            response = self.metrics()
            assert response.status_code == 200, response.text
            match = re.search(r"^slbcert_audit_refusals_queued (\d+)$", response.text, re.M)
            assert match, "/metrics has no slbcert_audit_refusals_queued"
            if match.group(1) == "0":
                return
            assert time.time() < deadline, f"{match.group(1)} refusals are still not stored"
            time.sleep(0.05)

    def audit_lines(self, path=None, timeout=10):
        """Every line of the audit log once it holds every record the database does (it is an
        export that follows commits within moments; refusals are stored within a quarter
        second). Each line must be whole JSON, numbered by `seq` without gap or repeat."""
        path = path or self.data_dir / "audit.log"
        deadline = time.time() + timeout
        self.wait_for_refusals_stored(deadline)
        while True:
            stored = self.stored_audit_seq()
            text = read_between_rounds(path)
            assert text == "" or text.endswith("\n"), "the audit log ends in a torn line"
            lines = [json.loads(line) for line in text.splitlines()]
            numbered = [line["seq"] for line in lines if "seq" in line]
            if (numbered[-1] if numbered else 0) >= stored or time.time() > deadline:
                break
            time.sleep(0.05)
        assert numbered == list(range(numbered[0], numbered[0] + len(numbered))) if numbered else True, \
            "the audit log skips or repeats a record"
        assert (numbered[-1] if numbered else 0) == stored, "the audit log lags behind the database"
        return lines

    @property
    def database_url(self):
        return database_url(self.data_dir)

    def stored_audit_seq(self):
        """The newest audit record in the database (on PostgreSQL, records are numbered 1..N
        by the export, so their count)."""
        if self.database_url:
            with admin_connection(self.database_url) as connection:
                return connection.execute("SELECT COUNT(*) FROM audit_records").fetchone()[0]
        database = sqlite3.connect(f"file:{self.data_dir / 'slbcert.db'}?mode=ro", uri=True, timeout=5)
        try:
            return database.execute("SELECT COALESCE(MAX(seq), 0) FROM audit_records").fetchone()[0]
        finally:
            database.close()


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path).start()
    yield srv
    srv.stop()


@pytest.fixture
def account(server):
    return server.credentials


@pytest.fixture
def other_account(server):
    return server.create_account("other")


class Failure(Exception):
    """An API error as either SDK reported it."""

    def __init__(self, code, status, message):
        super().__init__(f"{status} {code}: {message}")
        self.code, self.status, self.message = code, status, message


class V1:
    """aliyun-python-sdk-core + aliyun-python-sdk-slb: V1 signature, parameters in the URL."""

    def __init__(self, server, account, region=REGION):
        from aliyunsdkcore.client import AcsClient
        self.client = AcsClient(account["AccessKeyId"], account["AccessKeySecret"], region,
                                port=server.port, auto_retry=False, timeout=30)

    def call(self, action, **params):
        return v1_call(self.client, "aliyunsdkslb.request.v20140515", action, params)


def v1_call(client, package, action, params):
    """Calls `action` through its request class of `package` (aliyun-python-sdk-*), over HTTP
    (RAM's and STS's classes default to HTTPS); the body as a map."""
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    module = importlib.import_module(f"{package}.{action}Request")
    request = getattr(module, f"{action}Request")()
    request.set_endpoint("127.0.0.1")
    request.set_protocol_type("http")
    for name, value in params.items():
        getattr(request, f"set_{name}")(value)
    try:
        return json.loads(client.do_action_with_exception(request))
    except ServerException as error:
        raise Failure(error.get_error_code(), error.get_http_status(), error.get_error_msg())


def snake(name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def tea_config(server, account, region, signature_algorithm=None):
    from alibabacloud_tea_openapi.models import Config
    config = Config(access_key_id=account["AccessKeyId"],
                    access_key_secret=account["AccessKeySecret"], region_id=region,
                    endpoint=f"127.0.0.1:{server.port}", protocol="http",
                    read_timeout=30000, connect_timeout=5000)
    if signature_algorithm:
        config.signature_algorithm = signature_algorithm
    return config


def tea_call(client, models, runtime, action, params):
    """Calls `action` on a tea client with PascalCase parameters; returns the body as a map."""
    # from_map takes the wire (PascalCase) names and builds nested models (Tag lists, ...).
    request = getattr(models, f"{action}Request")().from_map(params)
    method = getattr(client, f"{snake(action)}_with_options")
    try:
        return method(request, runtime).body.to_map()
    except Exception as error:  # the tea clients raise several exception classes
        code = getattr(error, "code", None)
        if code is None:
            raise
        status = getattr(error, "status_code", None) or getattr(error, "statusCode", None)
        raise Failure(code, status, getattr(error, "message", ""))


class V3:
    """alibabacloud-slb20140515 on alibabacloud-tea-openapi: V3 (ACS3-HMAC-SHA256) by default,
    V1 with signature_algorithm='v2'."""

    def __init__(self, server, account, region=REGION, signature_algorithm=None):
        from alibabacloud_slb20140515.client import Client
        self.client = Client(tea_config(server, account, region, signature_algorithm))
        self.region = region

    def call(self, action, **params):
        from alibabacloud_slb20140515 import models
        from alibabacloud_tea_util.models import RuntimeOptions
        params.setdefault("RegionId", self.region)
        return tea_call(self.client, models, RuntimeOptions(autoretry=False, max_attempts=0),
                        action, params)


class Cas:
    """alibabacloud-cas20200407: the SSL Certificates Service (V3 signatures)."""

    def __init__(self, server, account):
        from alibabacloud_cas20200407.client import Client
        self.client = Client(tea_config(server, account, REGION))

    def call(self, action, **params):
        from alibabacloud_cas20200407 import models
        from darabonba.runtime import RuntimeOptions
        return tea_call(self.client, models, RuntimeOptions(autoretry=False, max_attempts=0),
                        action, params)


@pytest.fixture
def v1(server, account):
    return V1(server, account)


@pytest.fixture
def v3(server, account):
    return V3(server, account)


@pytest.fixture
def raw(server, account):
    return RawClient(server.port, account["AccessKeyId"], account["AccessKeySecret"],
                     ca_file=server.ca_file)


def expect_failure(call, code, status=400, contains=None):
    with pytest.raises(Failure) as caught:
        call()
    failure = caught.value
    assert (failure.code, failure.status) == (code, status), failure
    if contains:
        assert contains in failure.message, failure.message
    return failure
