"""`slbcert certificates expiring`: what expires next, across accounts, and where it is bound,
from the store a running server uses."""

import json
import subprocess

from conftest import BINARY, cli_env
from slb import Api, upload_expiring as upload


def expiring(server, *args):
    out = subprocess.run([BINARY, "certificates", "expiring", "--data-dir", str(server.data_dir),
                          *args], check=True, capture_output=True, text=True,
                         env=cli_env(server.data_dir))
    return out.stdout


def test_what_expires_next_and_where_it_is_bound(server, account):
    api = Api("v3", server, account)
    soon = upload(api, 5, "soon.example.com")
    later = upload(api, 20, "later.example.com")
    upload(api, 100, "far.example.com")
    lb = api("CreateLoadBalancer", LoadBalancerName="web")["LoadBalancerId"]
    api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443,
        BackendServerPort=80, Bandwidth=-1, HealthCheck="on", ServerCertificateId=soon)
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)
    api("CreateDomainExtension", LoadBalancerId=lb, ListenerPort=443, Domain="*.later.example.com",
        ServerCertificateId=later)
    other = server.create_account("other")
    theirs = upload(Api("v3", server, other), 3, "theirs.example.com")

    rows = json.loads(expiring(server, "--within", "30d", "--json"))
    assert [row["CertificateId"] for row in rows] == [theirs, soon, later]
    assert [row["DaysLeft"] for row in rows] == [2, 4, 19]
    assert rows[0]["AccountId"] == other["AccountId"] and rows[0]["BoundTo"] == []
    assert rows[1]["BoundTo"] == [{"LoadBalancerId": lb, "ListenerProtocol": "https",
                                   "ListenerPort": 443, "Running": True,
                                   "As": "ServerCertificate", "Domain": None}]
    assert rows[2]["BoundTo"][0]["As"] == "DomainExtension"
    assert rows[2]["BoundTo"][0]["Domain"] == "*.later.example.com"
    assert rows[1]["CommonName"] == "soon.example.com" and rows[1]["RegionId"] == "cn-hangzhou"

    table = expiring(server, "--within", "10d").splitlines()
    assert table[0].split()[:3] == ["EXPIRES", "DAYS", "ACCOUNT"]
    assert len(table) == 3 and soon in table[2] and f"{lb} https:443 running" in table[2]
    assert expiring(server, "--within", "1d").splitlines()[1:] == []


def test_within_must_be_a_duration(server):
    result = subprocess.run([BINARY, "certificates", "expiring", "--within", "soon",
                             "--data-dir", str(server.data_dir)], capture_output=True, text=True,
                            env=cli_env(server.data_dir))
    assert result.returncode != 0 and "like 30d" in result.stderr
