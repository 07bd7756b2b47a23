"""The account's own AccessKeys, rotated and revoked as on Alibaba Cloud: RAM's AccessKey
actions without UserName, through the official RAM clients, and `slbcert account keys` for an
operator; effective at once (the multi-node test checks another node)."""

import json
import subprocess
import time

import pytest

from conftest import BINARY, Failure, cli_env, expect_failure
from ram import V1, V3, credentials


@pytest.fixture(params=["v1", "v3"])
def kind(request):
    return request.param


def client(kind, product, server, creds):
    return (V1 if kind == "v1" else V3)(product, server, creds)


def refused_soon(call, code, seconds=2, meanwhile=()):
    """`call()` fails with `code` within `seconds` (failing with a code of `meanwhile` until)."""
    deadline = time.time() + seconds
    while True:
        try:
            call()
        except Failure as failure:
            if failure.code == code:
                return
            if failure.code not in meanwhile:
                raise
        assert time.time() < deadline, f"still allowed after {seconds} s, expected {code}"
        time.sleep(0.02)


def key_ids(ram):
    return [key["AccessKeyId"] for key in ram("ListAccessKeys")["AccessKeys"]["AccessKey"]]


def test_the_account_rotates_its_own_key(server, account, kind):
    old = credentials(account["AccessKeyId"], account["AccessKeySecret"])
    ram = client(kind, "ram", server, old)
    assert key_ids(ram) == [account["AccessKeyId"]]
    made = ram("CreateAccessKey")["AccessKey"]
    assert made["Status"] == "Active" and len(made["AccessKeySecret"]) >= 30
    expect_failure(lambda: ram("CreateAccessKey"), "LimitExceeded.AccessKey", 409)
    new = credentials(made["AccessKeyId"], made["AccessKeySecret"])
    assert sorted(key_ids(ram)) == sorted([account["AccessKeyId"], made["AccessKeyId"]])
    # A key cannot disable or delete itself: the account would lock itself out.
    expect_failure(lambda: ram("UpdateAccessKey", UserAccessKeyId=account["AccessKeyId"],
                               Status="Inactive"), "DeleteConflict.AccessKey.InUse", 409)
    expect_failure(lambda: ram("DeleteAccessKey", UserAccessKeyId=account["AccessKeyId"]),
                   "DeleteConflict.AccessKey.InUse", 409)
    with_new = client(kind, "ram", server, new)
    slb_old = client(kind, "slb", server, old)
    slb_old("DescribeServerCertificates")  # cached by the server: disabling must still hold
    with_new("UpdateAccessKey", UserAccessKeyId=account["AccessKeyId"], Status="Inactive")
    expect_failure(lambda: slb_old("DescribeServerCertificates"), "InvalidAccessKeyId.Inactive")
    with_new("UpdateAccessKey", UserAccessKeyId=account["AccessKeyId"], Status="Active")
    slb_old("DescribeServerCertificates")
    with_new("DeleteAccessKey", UserAccessKeyId=account["AccessKeyId"])
    expect_failure(lambda: slb_old("DescribeServerCertificates"), "InvalidAccessKeyId.NotFound",
                   404)
    assert key_ids(with_new) == [made["AccessKeyId"]]
    client(kind, "slb", server, new)("DescribeServerCertificates")


def test_an_operator_manages_an_accounts_keys_from_the_command_line(server, account):
    def keys(*args):
        out = subprocess.run(
            [BINARY, "account", "keys", "--data-dir", str(server.data_dir), "--account-id",
             account["AccountId"], "--json", *args],
            capture_output=True, text=True, env=cli_env(server.data_dir), timeout=60)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)
    listed = keys("list")["AccessKeys"]["AccessKey"]
    assert [k["AccessKeyId"] for k in listed] == [account["AccessKeyId"]]
    made = keys("create")["AccessKey"]
    slb = V3("slb", server, credentials(made["AccessKeyId"], made["AccessKeySecret"]))
    slb("DescribeServerCertificates")
    # Another process's change: the server sees it within a moment (SQLite's data_version
    # is watched; PostgreSQL announces it).
    keys("disable", made["AccessKeyId"])
    refused_soon(lambda: slb("DescribeServerCertificates"), "InvalidAccessKeyId.Inactive")
    keys("delete", made["AccessKeyId"])
    refused_soon(lambda: slb("DescribeServerCertificates"), "InvalidAccessKeyId.NotFound",
                 meanwhile=("InvalidAccessKeyId.Inactive",))
    # Each change is in the audit trail, as the operator's.
    done = [(line.get("action"), line.get("source")) for line in server.audit_lines()]
    assert ("CreateAccessKey", "cli") in done and ("DeleteAccessKey", "cli") in done
    refused = subprocess.run(
        [BINARY, "account", "keys", "--data-dir", str(server.data_dir), "--account-id",
         "9999999999999999", "list"], capture_output=True, text=True,
        env=cli_env(server.data_dir), timeout=60)
    assert refused.returncode != 0 and "no account 9999999999999999" in refused.stderr
