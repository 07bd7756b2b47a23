"""UploadCACertificate, DescribeCACertificates, DeleteCACertificate and SetCACertificateName
through both SDKs, in JSON and XML, across two accounts."""

import datetime
import re
import xml.etree.ElementTree as ElementTree

import pytest

import certs
from conftest import V1, V3, Server, expect_failure
from test_upload import ID_PATTERN, iso, ms


def ca_pem(cn="Client CA", key=None, **args):
    key = key or certs.ec_key("P-256")
    return certs.make_cert(key, cn=cn, sans=(), ca=True, **args)


def ca_ids(client, **filters):
    body = client.call("DescribeCACertificates", **filters)
    items = body["CACertificates"]["CACertificate"]
    assert isinstance(items, list)
    return [item["CACertificateId"] for item in items]


def test_upload_and_describe_exact_fields_v1_and_v3(server, account):
    v1, v3 = V1(server, account), V3(server, account)
    ca = ca_pem("Example Client CA")
    body = v1.call("UploadCACertificate", CACertificate=certs.cert_pem(ca), CACertificateName="client-ca")
    assert set(body) == {"RequestId", "CACertificateId", "CACertificateName", "Fingerprint", "CommonName",
                         "CreateTime", "CreateTimeStamp", "ExpireTime", "ExpireTimeStamp", "ResourceGroupId"}
    match = ID_PATTERN.match(body["CACertificateId"])
    assert match and match.group(1) == account["AccountId"]
    assert body["CACertificateName"] == "client-ca"
    assert body["Fingerprint"] == certs.fingerprint(ca)
    assert body["CommonName"] == "Example Client CA"
    assert body["ExpireTime"] == iso(ca.not_valid_after_utc)
    assert body["ExpireTimeStamp"] == ms(ca.not_valid_after_utc)
    assert body["CreateTimeStamp"] % 1000 == 0
    assert re.fullmatch(r"rg-[a-z0-9]+", body["ResourceGroupId"])

    described = v3.call("DescribeCACertificates", CACertificateId=body["CACertificateId"])
    [item] = described["CACertificates"]["CACertificate"]
    assert isinstance(item["CACertificateId"], str)
    assert item["RegionId"] == "cn-hangzhou"
    assert item["Tags"] == {"Tag": []}
    for field in ("CACertificateId", "CACertificateName", "Fingerprint", "CommonName", "CreateTime",
                  "CreateTimeStamp", "ExpireTime", "ExpireTimeStamp", "ResourceGroupId"):
        assert item[field] == body[field], field


def test_describe_always_carries_a_list(v1):
    body = v1.call("DescribeCACertificates")
    assert set(body) == {"RequestId", "CACertificates"}
    assert body["CACertificates"] == {"CACertificate": []}


def test_a_bundle_of_cas_describes_its_first(v3):
    first, second = ca_pem("First CA"), ca_pem("Second CA", key=certs.rsa_key(2048))
    body = v3.call("UploadCACertificate", CACertificate=certs.cert_pem(first, second))
    assert body["CommonName"] == "First CA"
    assert body["Fingerprint"] == certs.fingerprint(first)


def refusals():
    leaf_key = certs.ec_key("P-256")
    ed = certs.ed25519_key()
    past = certs.now() - datetime.timedelta(days=400)
    return [
        ("leaf-not-ca", certs.cert_pem(certs.make_cert(leaf_key)), "InvalidParameter", "not a CA certificate"),
        ("second-not-ca", certs.cert_pem(ca_pem(), certs.make_cert(leaf_key)), "InvalidParameter",
         "certificate 2 is not a CA"),
        ("garbage", "garbage", "KeyFormatError", "CACertificate is incorrectly formatted"),
        ("key-instead", certs.key_pem(leaf_key), "KeyFormatError", "not a CERTIFICATE"),
        ("expired", certs.cert_pem(ca_pem(not_before=past, not_after=past + datetime.timedelta(days=30))),
         "InvalidParameter", "has expired"),
        ("ed25519", certs.cert_pem(certs.make_cert(ed, cn="Ed CA", sans=(), ca=True)), "InvalidParameter",
         "Ed25519"),
    ]


CASES = refusals()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_refusals_store_nothing(v3, case):
    _, pem, code, fragment = case
    expect_failure(lambda: v3.call("UploadCACertificate", CACertificate=pem), code, 400, fragment)
    assert ca_ids(v3) == []


def test_missing_certificate_and_bad_name(v3):
    expect_failure(lambda: v3.call("UploadCACertificate"), "MissingCACertificate", 400)
    expect_failure(lambda: v3.call("UploadCACertificate", CACertificate=certs.cert_pem(ca_pem()),
                                   CACertificateName="bad name"), "InvalidParameter", 400,
                   "CACertificateName")
    assert ca_ids(v3) == []


def test_rename_delete_and_not_found(server, account, other_account):
    mine, theirs = V3(server, account), V1(server, other_account)
    ca_id = mine.call("UploadCACertificate", CACertificate=certs.cert_pem(ca_pem()))["CACertificateId"]
    server_key = certs.ec_key()
    server_id = mine.call("UploadServerCertificate", ServerCertificate=certs.cert_pem(certs.make_cert(server_key)),
                          PrivateKey=certs.key_pem(server_key))["ServerCertificateId"]
    for client, certificate_id in ((theirs, ca_id), (mine, server_id), (mine, ca_id + "0")):
        expect_failure(lambda: client.call("DeleteCACertificate", CACertificateId=certificate_id),
                       "CACertificateId.NotFound", 400, certificate_id)
        expect_failure(lambda: client.call("SetCACertificateName", CACertificateId=certificate_id,
                                           CACertificateName="x"), "CACertificateId.NotFound", 400)
    # Kinds do not mix: a CA ID is not a server certificate's.
    expect_failure(lambda: mine.call("DeleteServerCertificate", ServerCertificateId=ca_id),
                   "ServerCertificateId.NotFound", 400)
    assert ca_ids(theirs) == []
    assert [i["ServerCertificateId"] for i in mine.call("DescribeServerCertificates")[
        "ServerCertificates"]["ServerCertificate"]] == [server_id]

    mine.call("SetCACertificateName", CACertificateId=ca_id, CACertificateName="renamed")
    assert mine.call("DescribeCACertificates")["CACertificates"]["CACertificate"][0]["CACertificateName"] == "renamed"
    mine.call("DeleteCACertificate", CACertificateId=ca_id)
    assert ca_ids(mine) == []
    expect_failure(lambda: mine.call("DeleteCACertificate", CACertificateId=ca_id), "CACertificateId.NotFound", 400)


def test_describe_filters_by_ids_and_resource_group(v3):
    ids = [v3.call("UploadCACertificate", CACertificate=certs.cert_pem(ca_pem(f"CA {n}")))["CACertificateId"]
           for n in range(3)]
    grouped = v3.call("UploadCACertificate", CACertificate=certs.cert_pem(ca_pem()),
                      ResourceGroupId="rg-aekzclientca")["CACertificateId"]
    assert ca_ids(v3) == ids + [grouped]
    assert ca_ids(v3, CACertificateId=f"{ids[2]},{ids[0]}") == [ids[0], ids[2]]
    assert ca_ids(v3, ResourceGroupId="rg-aekzclientca") == [grouped]


def test_xml_shapes(raw):
    response = raw.v1("UploadCACertificate", {"CACertificate": certs.cert_pem(ca_pem())}, fmt="XML")
    assert response.status == 200, response.text
    root = ElementTree.fromstring(response.text)
    assert root.tag == "UploadCACertificateResponse"
    ca_id = root.find("CACertificateId").text
    listed = ElementTree.fromstring(raw.v1("DescribeCACertificates", fmt="XML").text)
    items = listed.find("CACertificates").findall("CACertificate")
    assert [item.find("CACertificateId").text for item in items] == [ca_id]
    assert items[0].find("Tags") is not None


def test_quota_of_its_own(tmp_path):
    server = Server(tmp_path, ["--quota-ca-certificates", "1", "--quota-server-certificates", "1"]).start()
    try:
        client = V3(server, server.credentials)
        client.call("UploadCACertificate", CACertificate=certs.cert_pem(ca_pem()))
        expect_failure(lambda: client.call("UploadCACertificate", CACertificate=certs.cert_pem(ca_pem())),
                       "OverQuota", 400, "1 CA certificates in cn-hangzhou (quota 1)")
        key = certs.ec_key()
        client.call("UploadServerCertificate", ServerCertificate=certs.cert_pem(certs.make_cert(key)),
                    PrivateKey=certs.key_pem(key))
        assert len(ca_ids(client)) == 1
    finally:
        server.stop()
