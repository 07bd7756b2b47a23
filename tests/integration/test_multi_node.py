"""Several nodes on one PostgreSQL database hold no state that matters: quotas, nonces, the
keyring, the audit trail and the data plane are the same through any node, and a database that
goes away costs 503s, never an acknowledged write."""

import base64
import concurrent.futures
import os
import random
import re
import subprocess
import threading
import time
import urllib.parse

import pytest

import certs
from conftest import (BINARY, ROOT, V1, V3, Cas, Failure, Server, admin_connection, cli_env,
                      new_database, wait_until)
from load import Uploaders
from rawclient import RawClient, utc_timestamp
from slb import Api
from tcpproxy import TcpProxy
from test_data_plane import client_context, eventually, served

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def master_key(tmp_path):
    path = tmp_path / "master.key"
    path.write_text(base64.b64encode(os.urandom(32)).decode())
    path.chmod(0o600)
    return path


def node(tmp_path, name, database, master_key, *args):
    directory = tmp_path / name
    directory.mkdir()
    return Server(directory, ["--master-key-file", str(master_key), *args], database=database)


@pytest.fixture
def nodes(tmp_path, master_key):
    database = new_database()
    first = node(tmp_path, "a", database, master_key).start()
    second = node(tmp_path, "b", database, master_key).start()
    yield first, second, database
    first.stop()
    second.stop()


def upload_params(cn="www.example.com"):
    key = certs.ec_key()
    return dict(ServerCertificate=certs.cert_pem(certs.make_cert(key, cn=cn)),
                PrivateKey=certs.key_pem(key))


def test_nodes_starting_together_on_an_empty_database_migrate_once_and_make_one_account(
        tmp_path, master_key):
    database = new_database()
    servers = [node(tmp_path, name, database, master_key) for name in ("a", "b", "c")]
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        list(pool.map(Server.start, servers))
    try:
        with admin_connection(database) as db:
            assert db.execute("SELECT COUNT(*) FROM accounts").fetchone() == (1,)
            # Each migration applied once.
            migrations = sorted((ROOT / "src/store/postgres/migrations").glob("*.sql"))
            assert len(migrations) >= 3
            assert db.execute("SELECT version FROM schema_migrations ORDER BY version"
                              ).fetchall() == [(n,) for n in range(1, len(migrations) + 1)]
        written = [s for s in servers if (s.data_dir / "credentials").exists()]
        assert len(written) == 1, "exactly one node made the first account"
        account = written[0].credentials
        for server in servers:
            assert V3(server, account).call("DescribeServerCertificates")["ServerCertificates"] \
                   == {"ServerCertificate": []}
    finally:
        for server in servers:
            server.stop()


def test_a_quota_of_100_holds_across_two_nodes_under_200_concurrent_uploads(tmp_path, master_key):
    database = new_database()
    servers = [node(tmp_path, name, database, master_key, "--quota-server-certificates", "100")
               for name in ("a", "b")]
    for server in servers:
        server.start()
    try:
        account = next(s.credentials for s in servers if (s.data_dir / "credentials").exists())
        params = upload_params()
        clients = threading.local()

        def upload(n):
            server = servers[n % 2]
            if not hasattr(clients, "by_port"):
                clients.by_port = {}
            client = clients.by_port.setdefault(server.port, V3(server, account))
            try:
                return client.call("UploadServerCertificate", **params)["ServerCertificateId"]
            except Failure as failure:
                return (failure.code, failure.status)

        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            results = list(pool.map(upload, range(200)))
        stored = [r for r in results if isinstance(r, str)]
        refused = [r for r in results if not isinstance(r, str)]
        assert len(stored) == 100
        assert set(refused) == {("OverQuota", 400)}, set(refused)
        for server in servers:
            listed = V1(server, account).call("DescribeServerCertificates")
            ids = {c["ServerCertificateId"] for c in listed["ServerCertificates"]["ServerCertificate"]}
            assert ids == set(stored)
        # Each node's audit.log holds the one trail: every record once, in order, from both.
        for server in servers:
            lines = server.audit_lines()
            uploads = [l for l in lines if l["action"] == "UploadServerCertificate"]
            assert {l["resource_id"] for l in uploads if l["outcome"] == "success"} == set(stored)
            assert sum(l["outcome"] == "failure" for l in uploads) == 100
    finally:
        for server in servers:
            server.stop()


def test_a_nonce_used_on_one_node_is_refused_on_the_other_and_after_restarts(nodes):
    first, second, _ = nodes
    account = first.credentials
    raws = [RawClient(s.port, account["AccessKeyId"], account["AccessKeySecret"])
            for s in (first, second)]
    timestamp, nonce = utc_timestamp(), "replayed-" + os.urandom(8).hex()
    assert raws[0].v1("DescribeServerCertificates", timestamp=timestamp, nonce=nonce).status == 200
    replayed = raws[1].v1("DescribeServerCertificates", timestamp=timestamp, nonce=nonce)
    assert (replayed.status, replayed.json()["Code"]) == (400, "SignatureNonceUsed")
    first.restart()
    second.restart()
    for raw in raws:
        again = raw.v1("DescribeServerCertificates", timestamp=timestamp, nonce=nonce)
        assert (again.status, again.json()["Code"]) == (400, "SignatureNonceUsed")

    # The same fresh nonce sent to both nodes at once: exactly one answer passes.
    timestamp, nonce = utc_timestamp(), "raced-" + os.urandom(8).hex()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(
            lambda n: raws[n % 2].v1("DescribeServerCertificates", timestamp=timestamp,
                                     nonce=nonce).status, range(8)))
    assert sorted(answers) == [200] + [400] * 7


def test_a_write_replayed_on_the_other_node_is_refused_and_changes_nothing(nodes):
    """A write's nonce is claimed by the transaction of its change (no round trip of its own):
    a replay on another node fails that transaction; a write that changed nothing claims its
    nonce on its own."""
    first, second, _ = nodes
    account = first.credentials
    raws = [RawClient(s.port, account["AccessKeyId"], account["AccessKeySecret"])
            for s in (first, second)]

    def names():
        listed = V1(first, account).call("DescribeServerCertificates")
        return sorted(c["ServerCertificateName"]
                      for c in listed["ServerCertificates"]["ServerCertificate"])

    # An upload (one statement with its claim), then a load balancer (a transaction).
    for action, params in [
            ("UploadServerCertificate", dict(ServerCertificateName="once", **upload_params())),
            ("CreateLoadBalancer", dict(LoadBalancerName="once")),
    ]:
        timestamp, nonce = utc_timestamp(), "write-" + os.urandom(8).hex()
        sent = raws[0].v1(action, params, timestamp=timestamp, nonce=nonce, body=True)
        assert sent.status == 200, sent.text
        replayed = raws[1].v1(action, params, timestamp=timestamp, nonce=nonce, body=True)
        assert (replayed.status, replayed.json()["Code"]) == (400, "SignatureNonceUsed")
    assert names() == ["once"]
    balancers = V1(first, account).call("DescribeLoadBalancers")["LoadBalancers"]["LoadBalancer"]
    assert [lb["LoadBalancerName"] for lb in balancers] == ["once"]

    # A refused write changed nothing, and its nonce is used all the same.
    timestamp, nonce = utc_timestamp(), "refused-" + os.urandom(8).hex()
    missing = dict(ServerCertificateId="1231579085529123_missing")
    refused = raws[0].v1("DeleteServerCertificate", missing, timestamp=timestamp, nonce=nonce)
    assert refused.json()["Code"] == "ServerCertificateId.NotFound", refused.text
    replayed = raws[1].v1("DeleteServerCertificate", missing, timestamp=timestamp, nonce=nonce)
    assert replayed.json()["Code"] == "SignatureNonceUsed", replayed.text

    # The same upload with one fresh nonce to both nodes at once: one stores, the rest are replays.
    timestamp, nonce = utc_timestamp(), "raced-write-" + os.urandom(8).hex()
    params = dict(ServerCertificateName="raced", **upload_params())
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(
            lambda n: raws[n % 2].v1("UploadServerCertificate", params, timestamp=timestamp,
                                     nonce=nonce, body=True), range(8)))
    assert sorted(a.status for a in answers) == [200] + [400] * 7, [a.text for a in answers]
    assert {a.json()["Code"] for a in answers if a.status == 400} == {"SignatureNonceUsed"}
    assert names() == ["once", "raced"]


def test_edits_of_one_load_balancer_through_two_nodes_all_land(nodes):
    """Each node queues its own edits of a load balancer; between nodes the compare-and-swap on
    its revision retries, so that no edit overwrites another."""
    first, second, _ = nodes
    account = first.credentials
    lb = Api("v3", first, account)("CreateLoadBalancer")["LoadBalancerId"]
    apis = [Api("v3", server, account) for server in (first, second)]

    def tag(n):
        apis[n % 2]("TagResources", ResourceType="instance", ResourceId=[lb],
                    Tag=[{"Key": f"k{n:02}", "Value": str(n)}])

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(tag, range(16)))
    for api in apis:
        tags = api("DescribeLoadBalancerAttribute", LoadBalancerId=lb)["Tags"]["Tag"]
        assert sorted(t["TagKey"] for t in tags) == [f"k{n:02}" for n in range(16)]


def kek_of(database, certificate_id):
    with admin_connection(database) as db:
        return db.execute("SELECT kek_version FROM certificate_keys WHERE certificate_id = %s",
                          (certificate_id,)).fetchone()[0]


def test_kek_rotation_is_seen_by_every_node_at_once(nodes, master_key):
    first, second, database = nodes
    account = first.credentials
    clients = [V3(s, account) for s in (first, second)]
    before = [c.call("UploadServerCertificate", **upload_params())["ServerCertificateId"]
              for c in clients]
    assert [kek_of(database, i) for i in before] == [1, 1]
    subprocess.run([BINARY, "keys", "rotate", "--data-dir", str(first.data_dir),
                    "--master-key-file", str(master_key)],
                   check=True, capture_output=True, env=cli_env(first.data_dir))
    # Each node hears of it from the database (LISTEN), well within the 1 s it would otherwise
    # keep using the KEK it read last.
    def seals_with_2(client):
        made = client.call("UploadServerCertificate", **upload_params())["ServerCertificateId"]
        return kek_of(database, made) == 2
    for client in clients:
        wait_until(lambda: seals_with_2(client), timeout=0.9, what="a node to seal with KEK 2")
    # Keys sealed under either version open on either node.
    cas = Cas(second, account)
    key = certs.ec_key()
    made = cas.call("UploadUserCertificate", Name="u", Cert=certs.cert_pem(certs.make_cert(key)),
                    Key=certs.key_pem(key))
    detail = Cas(first, account).call("GetUserCertificateDetail", CertId=made["CertId"])
    assert "PRIVATE KEY" in detail["Key"]


def test_every_data_plane_follows_changes_made_through_another_node(tmp_path, master_key):
    database = new_database()
    pool = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.0/24"
    offsets = (22000, 23000)
    servers = [node(tmp_path, name, database, master_key, "--data-plane", "on",
                    "--listener-port-offset", str(offset), "--address-pool", pool)
               for name, offset in zip(("a", "b"), offsets)]
    for server in servers:
        server.start()
    try:
        account = next(s.credentials for s in servers if (s.data_dir / "credentials").exists())
        api = Api("v3", servers[1], account)  # every change goes through node b
        old = api("UploadServerCertificate", **upload_params("old.example.com"))["ServerCertificateId"]
        new = api("UploadServerCertificate", **upload_params("new.example.com"))["ServerCertificateId"]
        fingerprints = {
            certificate: api("DescribeServerCertificates", ServerCertificateId=certificate)
            ["ServerCertificates"]["ServerCertificate"][0]["Fingerprint"]
            for certificate in (old, new)}
        created = api("CreateLoadBalancer")
        lb = created["LoadBalancerId"]
        api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443, Bandwidth=-1,
            BackendServerPort=80, HealthCheck="off", ServerCertificateId=old)
        api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)
        addresses = [(created["Address"], 443 + offset) for offset in offsets]
        for address in addresses:
            assert eventually(lambda: served(address, "x"), 1.0)[0] == fingerprints[old]
        api("SetLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb, ListenerPort=443,
            Bandwidth=-1, ServerCertificateId=new)
        changed = time.time()
        for address in addresses:
            def rotated(address=address):
                assert served(address, "x")[0] == fingerprints[new]
            eventually(rotated, 1.0)
        assert time.time() - changed < 1.0 * len(addresses)
        api("StopLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)
        for address in addresses:
            def stopped(address=address):
                try:
                    served(address, "x", client_context())
                except OSError:
                    return
                raise AssertionError(f"{address} is still served")
            eventually(stopped, 1.0)
    finally:
        for server in servers:
            server.stop()


def test_a_database_that_goes_away_answers_503_loses_nothing_and_the_node_recovers(
        tmp_path, master_key):
    database = new_database()
    parts = urllib.parse.urlsplit(database)
    proxy = TcpProxy(parts.port or 5432, parts.hostname)
    through_proxy = parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}").geturl()
    server = node(tmp_path, "a", through_proxy, master_key).start()
    try:
        account = server.credentials
        with Uploaders(server, account) as load:
            wait_until(lambda: len(load.acknowledged) >= 5, what="uploads before the cut")
            proxy.cut()
            away = time.time()
            status, text = wait_until(lambda: (lambda h: h[0] == 503 and h)(server.health()),
                                      what="/healthz to say the database is away")
            assert "database" in text, text
            wait_until(lambda: load.refusals, what="an upload to notice the database is away")
            proxy.restore()

            def healthy():
                assert server.health() == (200, "ok\n")
            eventually(healthy, 15)
            recovered = time.time() - away
            back = len(load.acknowledged)
            wait_until(lambda: len(load.acknowledged) > back + 5, what="uploads after the return")
        assert load.refusals, "no request noticed the database was away"
        assert set(load.refusals) == {("ServiceUnavailable", 503)}, set(load.refusals)
        listed = V1(server, account).call("DescribeServerCertificates")
        stored = {c["ServerCertificateId"] for c in listed["ServerCertificates"]["ServerCertificate"]}
        assert set(load.acknowledged) <= stored, "an acknowledged upload is lost"
        # An upload whose commit was cut off may have committed with its answer lost.
        assert len(stored - set(load.acknowledged)) <= len(load.workers)
        assert recovered < 15
    finally:
        server.stop()
        proxy.close()


def test_migrate_copies_a_sqlite_store_and_resumes_after_a_kill(tmp_path):
    data_dir = tmp_path / "data"
    sqlite = Server(tmp_path, data_dir=data_dir, database="sqlite").start()
    account = sqlite.credentials
    api = Api("v3", sqlite, account)
    certificates = [api("UploadServerCertificate", ServerCertificateName=f"c{n}",
                        **upload_params(f"c{n}.example.com"))["ServerCertificateId"]
                    for n in range(30)]
    api("TagResources", ResourceType="certificate", ResourceId=certificates[:2],
        Tag=[{"Key": "team", "Value": "edge"}])
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443, Bandwidth=-1,
        BackendServerPort=80, HealthCheck="off", ServerCertificateId=certificates[0])
    key = certs.ec_key()
    user = Cas(sqlite, account).call("UploadUserCertificate", Name="u",
                                      Cert=certs.cert_pem(certs.make_cert(key)),
                                      Key=certs.key_pem(key))
    before = V1(sqlite, account).call("DescribeServerCertificates")
    trail = sqlite.audit_lines()
    sqlite.stop()

    database = new_database()
    command = [BINARY, "migrate", "--from", str(data_dir), "--to", database, "--batch-size", "1"]
    interrupted = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with admin_connection(database) as db:
                if db.execute("SELECT COALESCE(SUM(rows), 0) FROM copied_from_sqlite").fetchone()[0] > 20:
                    break
        except Exception:  # the schema is not there yet
            pass
        time.sleep(0.01)
    interrupted.kill()
    interrupted.wait()
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    copied, skipped = map(int, re.search(r"(\d+) rows copied \((\d+) were there already\)",
                                         done.stdout).groups())
    assert skipped > 0 and copied > 0, done.stdout

    # The same data directory (its master key) now served from PostgreSQL.
    (tmp_path / "pg").mkdir()
    migrated = Server(tmp_path / "pg", data_dir=data_dir, database=database).start()
    try:
        after = V1(migrated, account).call("DescribeServerCertificates")
        assert after["ServerCertificates"] == before["ServerCertificates"]
        detail = Cas(migrated, account).call("GetUserCertificateDetail", CertId=user["CertId"])
        assert detail["Key"].strip() == certs.key_pem(key).strip()
        described = Api("v3", migrated, account)("DescribeLoadBalancerHTTPSListenerAttribute",
                                                   LoadBalancerId=lb, ListenerPort=443)
        assert described["ServerCertificateId"] == certificates[0]
        # The bound certificate is still refused deletion; new uploads get new numbers.
        with pytest.raises(Failure) as refused:
            Api("v3", migrated, account)("DeleteServerCertificate",
                                         ServerCertificateId=certificates[0])
        assert refused.value.code == "CertificateAndPrivateKeyIsRefered"
        Api("v3", migrated, account)("UploadServerCertificate", **upload_params())
        lines = migrated.audit_lines()
        assert lines[:len(trail)] == trail, "the audit trail is the same, numbers and all"
    finally:
        migrated.stop()


def refused_within_a_second(call, code):
    """The code `call` fails with once another node's change has been heard (NOTIFY)."""
    deadline = time.time() + 1
    while True:
        try:
            call()
        except Failure as failure:
            assert failure.code == code, failure
            return
        assert time.time() < deadline, f"still allowed after 1 s, expected {code}"
        time.sleep(0.02)


def test_ram_changes_made_through_one_node_hold_on_the_other_within_a_second(nodes):
    """Policies, key status and role sessions are the same through any node: a change is
    announced, and the other node's policy cache reads the account again."""
    from ram import V3 as RamV3, make_user, trust_account
    first, second, _ = nodes
    account = first.credentials
    ram = RamV3("ram", first, account)
    user = make_user(ram, "worker", "AliyunSLBReadOnlyAccess")
    on_second = RamV3("slb", second, user)
    on_second("DescribeServerCertificates")  # opened and cached on the second node
    ram("UpdateAccessKey", UserName="worker", UserAccessKeyId=user["AccessKeyId"],
        Status="Inactive")
    refused_within_a_second(lambda: on_second("DescribeServerCertificates"),
                            "InvalidAccessKeyId.Inactive")
    ram("UpdateAccessKey", UserName="worker", UserAccessKeyId=user["AccessKeyId"], Status="Active")
    deadline = time.time() + 1
    while True:
        try:
            on_second("DescribeServerCertificates")
            break
        except Failure:
            assert time.time() < deadline, "the key is still disabled on the other node"
            time.sleep(0.02)
    ram("DetachPolicyFromUser", PolicyType="System", PolicyName="AliyunSLBReadOnlyAccess",
        UserName="worker")
    refused_within_a_second(lambda: on_second("DescribeServerCertificates"), "Forbidden.RAM")

    # The account's own second key, disabled through one node, is refused by the other.
    made = ram("CreateAccessKey")["AccessKey"]
    root_on_second = RamV3("slb", second, {"AccessKeyId": made["AccessKeyId"],
                                           "AccessKeySecret": made["AccessKeySecret"]})
    root_on_second("DescribeServerCertificates")
    ram("UpdateAccessKey", UserAccessKeyId=made["AccessKeyId"], Status="Inactive")
    refused_within_a_second(lambda: root_on_second("DescribeServerCertificates"),
                            "InvalidAccessKeyId.Inactive")

    # A session made on one node works on the other (both hold the master key).
    ram("CreateRole", RoleName="reader", AssumeRolePolicyDocument=trust_account(account["AccountId"]))
    ram("AttachPolicyToRole", PolicyType="System", PolicyName="AliyunSLBReadOnlyAccess",
        RoleName="reader")
    ram("AttachPolicyToUser", PolicyType="System", PolicyName="AliyunSTSAssumeRoleAccess",
        UserName="worker")
    issued = RamV3("sts", first, user)("AssumeRole", RoleSessionName="s1",
                                        RoleArn=f"acs:ram::{account['AccountId']}:role/reader")
    creds = issued["Credentials"]
    session = {"AccessKeyId": creds["AccessKeyId"], "AccessKeySecret": creds["AccessKeySecret"],
               "SecurityToken": creds["SecurityToken"]}
    assert RamV3("slb", second, session)("DescribeServerCertificates")["ServerCertificates"] \
        == {"ServerCertificate": []}
