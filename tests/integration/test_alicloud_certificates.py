"""The SSL Certificates Service (2020-04-07) through alibabacloud-cas20200407, and server
certificates made from its certificates by AliCloudCertificateId."""

import datetime

import pytest

import certs
from conftest import V1, V3, Cas, expect_failure


@pytest.fixture
def cas(server, account):
    return Cas(server, account)


def upload_user_certificate(cas, name, key=None, chain=False):
    key = key or certs.ec_key()
    if chain:
        leaf, mid, _ = certs.chain(key, certs.ec_key("P-384"), certs.rsa_key(2048), cn="shop.example.com",
                                   sans=("shop.example.com", "www.shop.example.com"))
        pem = certs.cert_pem(leaf, mid)
    else:
        leaf = certs.make_cert(key, cn="shop.example.com", sans=("shop.example.com", "www.shop.example.com"))
        pem = certs.cert_pem(leaf)
    body = cas.call("UploadUserCertificate", Name=name, Cert=pem, Key=certs.key_pem(key))
    assert isinstance(body["CertId"], int)
    return body["CertId"], leaf, pem


def test_upload_detail_list_delete(cas):
    cert_id, leaf, pem = upload_user_certificate(cas, "shop", chain=True)
    detail = cas.call("GetUserCertificateDetail", CertId=cert_id)
    assert detail["Id"] == cert_id
    assert detail["Name"] == "shop"
    assert detail["Common"] == "shop.example.com"
    assert detail["Sans"] == "shop.example.com,www.shop.example.com"
    assert detail["Fingerprint"] == certs.fingerprint(leaf)
    assert detail["Issuer"] == "Test Intermediate CA"
    assert detail["NotAfter"] == int(leaf.not_valid_after_utc.timestamp()) * 1000
    assert detail["EndDate"] == leaf.not_valid_after_utc.strftime("%Y-%m-%d")
    assert detail["Expired"] is False
    assert detail["Algorithm"] == "ECC"
    assert detail["Cert"].count("BEGIN CERTIFICATE") == 2
    # As on the real service, the owner gets the private key back (Terraform compares it);
    # CertFilter=true leaves out both.
    assert "PRIVATE KEY" in detail["Key"]
    filtered = cas.call("GetUserCertificateDetail", CertId=cert_id, CertFilter=True)
    assert "Cert" not in filtered and "Key" not in filtered

    other_id, _, _ = upload_user_certificate(cas, "blog", key=certs.rsa_key(2048))
    listed = cas.call("ListUserCertificateOrder", OrderType="UPLOAD")
    assert listed["TotalCount"] == 2 and listed["CurrentPage"] == 1 and listed["ShowSize"] == 50
    rows = listed["CertificateOrderList"]
    assert [(r["CertificateId"], r["Name"], r["Status"], r["Upload"]) for r in rows] == [
        (cert_id, "shop", "ISSUED", True), (other_id, "blog", "ISSUED", True)]
    assert rows[1]["Algorithm"] == "RSA"
    assert cas.call("ListUserCertificateOrder", OrderType="CERT", Keyword="blog")["TotalCount"] == 1
    page = cas.call("ListUserCertificateOrder", OrderType="UPLOAD", ShowSize=1, CurrentPage=2)
    assert [r["CertificateId"] for r in page["CertificateOrderList"]] == [other_id]
    # Purchased certificates: there are none here.
    assert cas.call("ListUserCertificateOrder")["CertificateOrderList"] == []

    cas.call("DeleteUserCertificate", CertId=other_id)
    expect_failure(lambda: cas.call("GetUserCertificateDetail", CertId=other_id), "CertificateNotFound", 400)
    expect_failure(lambda: cas.call("DeleteUserCertificate", CertId=other_id), "CertificateNotFound", 400)
    assert cas.call("ListUserCertificateOrder", OrderType="UPLOAD")["TotalCount"] == 1


def test_uploads_are_validated_like_server_certificates(cas):
    key = certs.ec_key()
    pem = certs.cert_pem(certs.make_cert(key))
    expect_failure(lambda: cas.call("UploadUserCertificate", Name="x", Cert=pem, Key=certs.key_pem(certs.ec_key())),
                   "CertificateNotMatchPrivateKey", 400, "the Key is a different ECDSA P-256 key than the Cert's")
    expect_failure(lambda: cas.call("UploadUserCertificate", Name="x", Cert="junk", Key=certs.key_pem(key)),
                   "KeyFormatError", 400, "Cert is incorrectly formatted")
    expect_failure(lambda: cas.call("UploadUserCertificate", Name="x", Cert=pem,
                                    Key=certs.key_pem(key, password=b"pw")), "PrivateKeyEncryption", 400)
    expect_failure(lambda: cas.call("UploadUserCertificate", Cert=pem, Key=certs.key_pem(key)), "MissingName", 400)
    upload_user_certificate(cas, "taken")
    expect_failure(lambda: cas.call("UploadUserCertificate", Name="taken", Cert=pem, Key=certs.key_pem(key)),
                   "NameRepeat", 400, "taken")
    assert cas.call("ListUserCertificateOrder", OrderType="UPLOAD")["TotalCount"] == 1


def test_expiring_and_expired_certificates_by_status(cas, server, account):
    soon = certs.now() + datetime.timedelta(days=10)
    key = certs.ec_key()
    leaf = certs.make_cert(key, not_after=soon)
    cert_id = cas.call("UploadUserCertificate", Name="soon", Cert=certs.cert_pem(leaf), Key=certs.key_pem(key))["CertId"]
    assert [r["Status"] for r in cas.call("ListUserCertificateOrder", OrderType="UPLOAD")["CertificateOrderList"]] == ["WILLEXPIRED"]
    assert cas.call("ListUserCertificateOrder", OrderType="UPLOAD", Status="WILLEXPIRED")["TotalCount"] == 1
    assert cas.call("ListUserCertificateOrder", OrderType="UPLOAD", Status="ISSUED")["TotalCount"] == 0
    assert cas.call("ListUserCertificateOrder", OrderType="UPLOAD", Status="EXPIRED")["TotalCount"] == 0
    assert cas.call("GetUserCertificateDetail", CertId=cert_id)["Expired"] is False


@pytest.mark.parametrize("sdk", ["v1", "v3"])
def test_a_server_certificate_from_an_alicloud_certificate(server, account, cas, sdk):
    cert_id, leaf, _ = upload_user_certificate(cas, "shop", chain=True)
    client = V1(server, account) if sdk == "v1" else V3(server, account)
    body = client.call("UploadServerCertificate", AliCloudCertificateId=str(cert_id),
                       AliCloudCertificateName="shop", AliCloudCertificateRegionId="cn-hangzhou",
                       ServerCertificateName="from-cas")
    assert body["IsAliCloudCertificate"] == 1
    assert body["AliCloudCertificateId"] == str(cert_id)
    assert body["AliCloudCertificateName"] == "shop"
    assert body["Fingerprint"] == certs.fingerprint(leaf)
    assert body["CommonName"] == "shop.example.com"
    item = client.call("DescribeServerCertificates", ServerCertificateId=body["ServerCertificateId"])[
        "ServerCertificates"]["ServerCertificate"][0]
    assert (item["IsAliCloudCertificate"], item["AliCloudCertificateId"], item["AliCloudCertificateName"]) == (
        1, str(cert_id), "shop")
    assert item["ServerCertificateName"] == "from-cas"
    # The name may be left out: the stored one is echoed.
    again = client.call("UploadServerCertificate", AliCloudCertificateId=str(cert_id))
    assert again["AliCloudCertificateName"] == "shop"
    # Deleting the SSL Certificates Service's copy leaves the server certificate in place.
    cas.call("DeleteUserCertificate", CertId=cert_id)
    assert len(client.call("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"]) == 2


def test_alicloud_refusals_store_nothing(server, account, other_account, cas):
    cert_id, _, pem = upload_user_certificate(cas, "mine")
    theirs = V3(server, other_account)
    mine = V3(server, account)
    key = certs.ec_key()
    cases = [
        (theirs, {"AliCloudCertificateId": str(cert_id)}, str(cert_id)),  # another account's
        (mine, {"AliCloudCertificateId": "99999999"}, "99999999"),
        (mine, {"AliCloudCertificateId": "not-a-number"}, "not-a-number"),
        (mine, {"AliCloudCertificateId": str(cert_id), "AliCloudCertificateName": "other"}, "other"),
        (mine, {"AliCloudCertificateId": str(cert_id), "ServerCertificate": pem,
                "PrivateKey": certs.key_pem(key)}, "not both"),
        (mine, {"AliCloudCertificateName": "mine"}, "need AliCloudCertificateId"),
    ]
    for client, params, fragment in cases:
        expect_failure(lambda: client.call("UploadServerCertificate", **params), "InvalidParameter", 400, fragment)
    expect_failure(lambda: mine.call("UploadServerCertificate", AliCloudCertificateId=str(cert_id),
                                     AliCloudCertificateRegionId="mars-1"), "InvalidRegionId.NotFound", 404)
    for client in (mine, theirs):
        assert client.call("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"] == []


def test_accounts_do_not_share_the_service(server, other_account, cas):
    cert_id, _, _ = upload_user_certificate(cas, "mine")
    theirs = Cas(server, other_account)
    assert theirs.call("ListUserCertificateOrder", OrderType="UPLOAD")["TotalCount"] == 0
    expect_failure(lambda: theirs.call("GetUserCertificateDetail", CertId=cert_id), "CertificateNotFound", 400)
    expect_failure(lambda: theirs.call("DeleteUserCertificate", CertId=cert_id), "CertificateNotFound", 400)
    # The same name is free in another account.
    upload_user_certificate(theirs, "mine")


def test_the_two_products_are_told_apart_by_version(raw):
    response = raw.v1("DescribeServerCertificates")
    assert response.status == 200
    def cas_version(common, _):
        common["Version"] = "2020-04-07"
    response = raw.v1("DescribeServerCertificates", tamper=cas_version)
    # Actions resolve by product before the signature is checked.
    assert (response.status, response.json()["Code"]) == (404, "InvalidAction.NotFound")


def test_xml_answers_of_the_service(raw, cas):
    import xml.etree.ElementTree as ElementTree
    cert_id, _, _ = upload_user_certificate(cas, "xml")
    response = raw.v1("ListUserCertificateOrder", {"OrderType": "UPLOAD"}, fmt="XML", region=False,
                      version="2020-04-07")
    assert response.status == 200, response.text
    root = ElementTree.fromstring(response.text)
    assert root.tag == "ListUserCertificateOrderResponse"
    assert [e.find("CertificateId").text for e in root.findall("CertificateOrderList")] == [str(cert_id)]
    assert root.find("TotalCount").text == "1"
    detail = ElementTree.fromstring(raw.v1("GetUserCertificateDetail", {"CertId": cert_id}, fmt="XML",
                                           region=False, version="2020-04-07").text)
    assert detail.find("Name").text == "xml" and "PRIVATE KEY" in detail.find("Key").text
