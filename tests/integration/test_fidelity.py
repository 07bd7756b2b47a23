"""What the official clients send and read that we got wrong (issue 7's fidelity gaps), through
alibabacloud-cas20200407, alibabacloud-slb20140515 and aliyun-python-sdk-slb."""

import json
import threading

import pytest

import certs
from conftest import Cas, expect_failure


@pytest.fixture
def cas(server, account):
    return Cas(server, account)


def pem_pair(cn="www.example.com"):
    key = certs.ec_key()
    return certs.cert_pem(certs.make_cert(key, cn=cn, sans=(cn,))), certs.key_pem(key)


def test_cas_upload_takes_tags_as_terraform_sends_them(cas):
    cert, key = pem_pair()
    body = cas.call("UploadUserCertificate", Name="tagged", Cert=cert, Key=key,
                    Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": ""}])
    detail = cas.call("GetUserCertificateDetail", CertId=body["CertId"])
    assert detail["Tags"] == [{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "team", "TagValue": ""}]
    expect_failure(lambda: cas.call("UploadUserCertificate", Name="bad", Cert=cert, Key=key,
                                    Tags=[{"Key": "aliyun:x", "Value": "v"}]), "InvalidTagKey.Malformed")


def test_cas_sm2_parameters_are_ignored_beside_cert_and_key(cas):
    cert, key = pem_pair()
    body = cas.call("UploadUserCertificate", Name="std", Cert=cert, Key=key,
                    SignCert="ignored", SignPrivateKey="ignored", EncryptCert="ignored",
                    EncryptPrivateKey="ignored")
    assert cas.call("GetUserCertificateDetail", CertId=body["CertId"], CertFilter=True)["Name"] == "std"
    # Alone, they ask for an SM2 certificate, which this server does not take.
    expect_failure(lambda: cas.call("UploadUserCertificate", Name="sm2", SignCert=cert, SignPrivateKey=key),
                   "InvalidParameter", contains="SM2")


def test_cas_list_filters_by_resource_group(cas):
    cert, key = pem_pair("a.example.com")
    cas.call("UploadUserCertificate", Name="in-group", Cert=cert, Key=key, ResourceGroupId="rg-aek2abc")
    cert, key = pem_pair("b.example.com")
    cas.call("UploadUserCertificate", Name="default", Cert=cert, Key=key)
    listed = cas.call("ListUserCertificateOrder", OrderType="UPLOAD", ResourceGroupId="rg-aek2abc")
    assert [row["Name"] for row in listed["CertificateOrderList"]] == ["in-group"]
    assert listed["TotalCount"] == 1
    assert cas.call("ListUserCertificateOrder", OrderType="UPLOAD")["TotalCount"] == 2


def test_cas_client_token_makes_a_retry_answer_the_first_result(cas):
    cert, key = pem_pair()
    first = cas.call("UploadUserCertificate", Name="once", Cert=cert, Key=key, ClientToken="tok-1")
    again = cas.call("UploadUserCertificate", Name="once", Cert=cert, Key=key, ClientToken="tok-1")
    assert again["CertId"] == first["CertId"]
    # Without the token (or with another), the name is taken.
    expect_failure(lambda: cas.call("UploadUserCertificate", Name="once", Cert=cert, Key=key), "NameRepeat")
    expect_failure(lambda: cas.call("UploadUserCertificate", Name="once", Cert=cert, Key=key,
                                    ClientToken="tok-2"), "NameRepeat")
    assert cas.call("ListUserCertificateOrder", OrderType="UPLOAD")["TotalCount"] == 1


def test_cas_concurrent_retries_with_one_token_make_one_certificate(cas, server, account):
    cert, key = pem_pair()
    results, errors = [], []

    def attempt():
        try:
            results.append(Cas(server, account).call("UploadUserCertificate", Name="race", Cert=cert,
                                                     Key=key, ClientToken="same"))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len({body["CertId"] for body in results}) == 1


def test_cas_error_recommend_names_cas(raw):
    response = raw.v1("DeleteUserCertificate", {"CertId": "12345678"}, region=False, version="2020-04-07")
    assert response.json()["Code"] == "CertificateNotFound"
    assert "&product=cas&" in response.json()["Recommend"]
    slb = raw.v1("DeleteServerCertificate", {"ServerCertificateId": "missing"})
    assert "&product=Slb&" in slb.json()["Recommend"]


def test_describe_shows_the_key_fields_of_the_go_models(v1, v3):
    rsa = certs.rsa_key(2048)
    ec = certs.ec_key("P-384")
    v1.call("UploadServerCertificate", ServerCertificate=certs.cert_pem(certs.make_cert(rsa)),
            PrivateKey=certs.key_pem(rsa), ServerCertificateName="rsa")
    v3.call("UploadServerCertificate", ServerCertificate=certs.cert_pem(certs.make_cert(ec)),
            PrivateKey=certs.key_pem(ec), ServerCertificateName="ec")
    # py-core hands back the raw JSON; the tea models keep only the fields they declare.
    items = v1.call("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"]
    assert [(i["ServerCertificateName"], i["EncryptionAlgorithm"], i["EncryptionKeyLength"], i["StandardType"])
            for i in items] == [("rsa", "RSA", 2048, ""), ("ec", "ECC", 384, "")]
    ca_key = certs.ec_key("P-256")
    v1.call("UploadCACertificate", CACertificate=certs.cert_pem(certs.make_cert(ca_key, cn="CA", sans=(), ca=True)))
    ca = v1.call("DescribeCACertificates")["CACertificates"]["CACertificate"][0]
    assert (ca["EncryptionAlgorithm"], ca["EncryptionKeyLength"]) == ("ECC", 256)


def test_legacy_tags_on_upload_are_stored(raw, v1):
    cert, key = pem_pair()
    tags = json.dumps([{"TagKey": "legacy", "TagValue": "yes"}, {"TagKey": "both", "TagValue": "json"}])
    response = raw.v1("UploadServerCertificate", {"ServerCertificate": cert, "PrivateKey": key, "Tags": tags,
                                                  "Tag.1.Key": "both", "Tag.1.Value": "tag-n"})
    assert response.status == 200, response.text
    item = v1.call("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"][0]
    assert sorted((t["TagKey"], t["TagValue"]) for t in item["Tags"]["Tag"]) == [
        ("both", "tag-n"), ("legacy", "yes")]
    bad = json.dumps([{"TagKey": "acs:x", "TagValue": "v"}])
    response = raw.v1("UploadServerCertificate", {"ServerCertificate": cert, "PrivateKey": key, "Tags": bad})
    assert response.json()["Code"] == "InvalidTagKey.Malformed"
