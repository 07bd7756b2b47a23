"""Describe, Delete and SetServerCertificateName; isolation between accounts and regions;
accounts made while the server runs."""

import os
import re
import stat

import certs
from conftest import V1, V3, expect_failure


def upload(client, name=None, **extra):
    key = certs.ec_key("P-256")
    params = dict(ServerCertificate=certs.cert_pem(certs.make_cert(key)),
                  PrivateKey=certs.key_pem(key), **extra)
    if name:
        params["ServerCertificateName"] = name
    return client.call("UploadServerCertificate", **params)["ServerCertificateId"]


def listed(client, **filters):
    body = client.call("DescribeServerCertificates", **filters)
    return [item["ServerCertificateId"] for item in body["ServerCertificates"]["ServerCertificate"]]


def test_describe_filters_by_id_list_and_resource_group(v1, v3, account):
    first, second = upload(v3), upload(v3)
    third = upload(v3, ResourceGroupId="rg-aek2abc123")
    assert listed(v1) == [first, second, third]
    assert listed(v1, ServerCertificateId=second) == [second]
    assert listed(v3, ServerCertificateId=f"{third}, {first}") == [first, third]
    assert listed(v3, ServerCertificateId="1234567890123456_abc_1_2") == []
    many = ",".join(f"1234567890123456_abc_{n}_2" for n in range(101))
    expect_failure(lambda: v3.call("DescribeServerCertificates", ServerCertificateId=many),
                   "InvalidParameter", 400, "at most 100")
    assert len(listed(v3, ServerCertificateId=",".join([first] * 100))) == 1
    assert listed(v1, ResourceGroupId="rg-aek2abc123") == [third]
    default_group = v3.call("DescribeServerCertificates", ServerCertificateId=first)[
        "ServerCertificates"]["ServerCertificate"][0]["ResourceGroupId"]
    assert listed(v3, ResourceGroupId=default_group) == [first, second]


def test_set_name_then_delete(v1, v3):
    certificate_id = upload(v3, name="before")
    v1.call("SetServerCertificateName", ServerCertificateId=certificate_id, ServerCertificateName="after")
    item = v3.call("DescribeServerCertificates", ServerCertificateId=certificate_id)[
        "ServerCertificates"]["ServerCertificate"][0]
    assert item["ServerCertificateName"] == "after"
    expect_failure(lambda: v3.call("SetServerCertificateName", ServerCertificateId=certificate_id,
                                   ServerCertificateName="bad name!"), "InvalidParameter", 400)
    expect_failure(lambda: v3.call("SetServerCertificateName", ServerCertificateId=certificate_id),
                   "MissingServerCertificateName", 400)
    assert v3.call("DescribeServerCertificates", ServerCertificateId=certificate_id)[
        "ServerCertificates"]["ServerCertificate"][0]["ServerCertificateName"] == "after"

    body = v3.call("DeleteServerCertificate", ServerCertificateId=certificate_id)
    assert set(body) == {"RequestId"}
    assert listed(v3) == []
    expect_failure(lambda: v1.call("DeleteServerCertificate", ServerCertificateId=certificate_id),
                   "ServerCertificateId.NotFound", 400, certificate_id)
    expect_failure(lambda: v3.call("DeleteServerCertificate"), "MissingServerCertificateId", 400)


def test_another_account_sees_nothing_and_touches_nothing(server, account, other_account):
    mine, theirs = V3(server, account), V1(server, other_account)
    certificate_id = upload(mine, name="mine")
    assert listed(theirs) == []
    assert listed(theirs, ServerCertificateId=certificate_id) == []
    expect_failure(lambda: theirs.call("DeleteServerCertificate", ServerCertificateId=certificate_id),
                   "ServerCertificateId.NotFound", 400)
    expect_failure(lambda: theirs.call("SetServerCertificateName", ServerCertificateId=certificate_id,
                                       ServerCertificateName="stolen"),
                   "ServerCertificateId.NotFound", 400)
    # Exactly what a missing ID answers.
    expect_failure(lambda: theirs.call("DeleteServerCertificate",
                                       ServerCertificateId=certificate_id[:-1] + "9"),
                   "ServerCertificateId.NotFound", 400)
    item = mine.call("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"]
    assert [(i["ServerCertificateId"], i["ServerCertificateName"]) for i in item] == [(certificate_id, "mine")]
    their_id = upload(V3(server, other_account))
    assert their_id.startswith(other_account["AccountId"] + "_")
    assert listed(mine) == [certificate_id]


def test_regions_are_separate(server, account):
    hangzhou, shanghai = V3(server, account), V3(server, account, region="cn-shanghai")
    certificate_id = upload(hangzhou)
    assert listed(shanghai) == []
    assert listed(shanghai, ServerCertificateId=certificate_id) == []
    expect_failure(lambda: shanghai.call("DeleteServerCertificate", ServerCertificateId=certificate_id),
                   "ServerCertificateId.NotFound", 400)
    in_shanghai = upload(shanghai)
    assert shanghai.call("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"][0][
        "RegionId"] == "cn-shanghai"
    assert listed(hangzhou) == [certificate_id]
    assert listed(shanghai) == [in_shanghai]


def test_account_create_works_while_serving_and_its_key_at_once(server):
    created = server.create_account("ci")
    assert list(created) == ["AccountId", "AccessKeyId", "AccessKeySecret"]
    assert re.fullmatch(r"[1-9]\d{15}", created["AccountId"])
    assert re.fullmatch(r"LTAI[0-9A-Za-z]{20}", created["AccessKeyId"])
    assert len(created["AccessKeySecret"]) == 30
    client = V1(server, created)
    assert listed(client) == []
    assert upload(client).startswith(created["AccountId"] + "_")
    assert server.create_account()["AccountId"] != created["AccountId"]


def test_first_start_writes_owner_only_credentials_that_work(server, account):
    path = server.data_dir / "credentials"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(server.data_dir).st_mode) == 0o700
    for database in server.data_dir.glob("slbcert.db*"):
        assert stat.S_IMODE(os.stat(database).st_mode) == 0o600, database
    assert str(path) in server.log()
    assert account["AccessKeySecret"] not in server.log()
    assert listed(V3(server, account)) == []
    # A restart keeps the same account and does not make another.
    server.restart()
    assert server.credentials == account
    assert listed(V1(server, account)) == []
