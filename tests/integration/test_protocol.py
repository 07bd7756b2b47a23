"""The RPC protocol: signatures (V1 and V3), nonces, timestamps, parameter placement (URL, form
body, GET), formats (JSON and XML) and the error envelope."""

import re
import uuid
import xml.etree.ElementTree as ElementTree

import pytest
import requests

import certs
from conftest import V1, V3, expect_failure
from rawclient import RawClient, utc_timestamp

UUID_UPPER = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


def upload_params():
    key = certs.ec_key("P-256")
    return {"ServerCertificate": certs.cert_pem(certs.make_cert(key)), "PrivateKey": certs.key_pem(key)}


def check_envelope(response, code, status):
    assert response.status == status, response.text
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    body = response.json()
    assert list(body) == ["RequestId", "HostId", "Code", "Message", "Recommend"]
    assert body["Code"] == code
    assert UUID_UPPER.match(body["RequestId"])
    assert response.headers["x-acs-request-id"] == body["RequestId"]
    assert body["Recommend"].endswith(f"q={code}&product=Slb&requestId={body['RequestId']}")
    return body


def test_py_core_sees_our_string_to_sign_equal_its_own(server, account):
    """aliyun-python-sdk-core compares the server's StringToSign with its own, byte for byte, and
    only then reports a wrong secret as InvalidAccessKeySecret."""
    wrong = dict(account, AccessKeySecret="not-the-secret")
    expect_failure(lambda: V1(server, wrong).call("DescribeServerCertificates"),
                   "InvalidAccessKeySecret", 400, "AccessKeySecret is incorrect")


def test_v3_wrong_secret_is_signature_does_not_match(server, account):
    wrong = dict(account, AccessKeySecret="not-the-secret")
    failure = expect_failure(lambda: V3(server, wrong).call("DescribeServerCertificates"),
                             "SignatureDoesNotMatch", 400)
    assert "server string to sign is:ACS3-HMAC-SHA256\n" in failure.message


def test_unknown_access_key(server, account):
    stranger = dict(account, AccessKeyId="LTAI0000000000000000nope")
    expect_failure(lambda: V1(server, stranger).call("DescribeServerCertificates"),
                   "InvalidAccessKeyId.NotFound", 404, "Specified access key is not found.")
    expect_failure(lambda: V3(server, stranger).call("DescribeServerCertificates"),
                   "InvalidAccessKeyId.NotFound", 404)


def test_v1_signature_message_carries_the_string_to_sign(raw):
    response = raw.v1("DescribeServerCertificates", secret="wrong")
    body = check_envelope(response, "SignatureDoesNotMatch", 400)
    prefix = "Specified signature is not matched with our calculation. server string to sign is:"
    assert body["Message"].startswith(prefix + "POST&%2F&AccessKeyId%3D")


def test_a_replayed_nonce_is_refused_for_v1_and_v3(raw):
    nonce = uuid.uuid4().hex
    assert raw.v1("DescribeServerCertificates", nonce=nonce).status == 200
    check_envelope(raw.v1("DescribeServerCertificates", nonce=nonce), "SignatureNonceUsed", 400)
    nonce = uuid.uuid4().hex
    assert raw.v3("DescribeServerCertificates", nonce=nonce).status == 200
    check_envelope(raw.v3("DescribeServerCertificates", nonce=nonce), "SignatureNonceUsed", 400)


def test_a_nonce_is_per_access_key(server, raw, other_account):
    nonce = uuid.uuid4().hex
    other = RawClient(server.port, other_account["AccessKeyId"], other_account["AccessKeySecret"])
    assert raw.v1("DescribeServerCertificates", nonce=nonce).status == 200
    assert other.v1("DescribeServerCertificates", nonce=nonce).status == 200


def test_a_failed_signature_does_not_burn_the_nonce(raw):
    nonce = uuid.uuid4().hex
    assert raw.v1("DescribeServerCertificates", nonce=nonce, secret="wrong").status == 400
    assert raw.v1("DescribeServerCertificates", nonce=nonce).status == 200


@pytest.mark.parametrize("offset", [-20 * 60, 20 * 60])
def test_stale_or_future_timestamps_are_expired(raw, offset):
    check_envelope(raw.v1("DescribeServerCertificates", timestamp=utc_timestamp(offset)),
                   "InvalidTimeStamp.Expired", 400)
    check_envelope(raw.v3("DescribeServerCertificates", date=utc_timestamp(offset)),
                   "InvalidTimeStamp.Expired", 400)


def test_timestamps_within_fifteen_minutes_are_accepted(raw):
    assert raw.v1("DescribeServerCertificates", timestamp=utc_timestamp(-14 * 60)).status == 200
    assert raw.v3("DescribeServerCertificates", date=utc_timestamp(14 * 60)).status == 200


def test_malformed_timestamps(raw):
    check_envelope(raw.v1("DescribeServerCertificates", timestamp="yesterday"),
                   "InvalidTimeStamp.Format", 400)


@pytest.mark.parametrize("missing", ["AccessKeyId", "SignatureNonce", "Timestamp",
                                     "SignatureMethod", "SignatureVersion"])
def test_missing_signature_parameters(raw, missing):
    body = check_envelope(raw.v1("DescribeServerCertificates", drop=[missing]),
                          f"Missing{missing}", 400)
    assert body["Message"] == f"{missing} is mandatory for this action."


def test_missing_signature(raw):
    response = raw.v1("DescribeServerCertificates", tamper=lambda common, _: common.pop("Signature"))
    check_envelope(response, "MissingSignature", 400)


def test_a_tampered_parameter_breaks_the_signature(raw):
    def tamper(common, api):
        api["RegionId"] = "cn-shanghai"
    check_envelope(raw.v1("DescribeServerCertificates", tamper=tamper), "SignatureDoesNotMatch", 400)


def test_malformed_v3_authorization_is_incomplete_signature(server, account):
    headers = {"Authorization": "ACS3-HMAC-SHA256 Credential=x", "x-acs-action": "DescribeServerCertificates",
               "x-acs-version": "2014-05-15"}
    response = requests.post(f"http://127.0.0.1:{server.port}/?RegionId=cn-hangzhou", headers=headers)
    assert response.status_code == 400
    assert response.json()["Code"] == "IncompleteSignature"


def test_v3_must_sign_its_date_and_nonce(raw):
    response = raw.v3("DescribeServerCertificates",
                      signed_headers=["host", "x-acs-action", "x-acs-version", "x-acs-content-sha256"])
    body = check_envelope(response, "IncompleteSignature", 400)
    assert "must be among SignedHeaders" in body["Message"]


def test_v3_form_body_is_covered_by_the_payload_hash(raw):
    response = raw.v3("UploadServerCertificate", body_params=upload_params())
    assert response.status == 200, response.text
    assert response.json()["ServerCertificateId"]


def test_terraform_style_form_body_with_lower_case_json(raw):
    """tea-rpc (terraform's alicloud_slb_ca_certificate path) puts every API parameter, RegionId
    included, in a form body and asks for Format=json."""
    response = raw.v1("UploadServerCertificate", upload_params(), body=True, fmt="json")
    assert response.status == 200, response.text
    certificate_id = response.json()["ServerCertificateId"]
    listed = raw.v1("DescribeServerCertificates", {"ServerCertificateId": certificate_id},
                    body=True, fmt="json")
    assert [item["ServerCertificateId"] for item in
            listed.json()["ServerCertificates"]["ServerCertificate"]] == [certificate_id]


def test_get_with_everything_in_the_url(raw):
    response = raw.v1("UploadServerCertificate", upload_params(), method="GET")
    assert response.status == 200, response.text
    assert raw.v1("DescribeServerCertificates", method="GET").json()["ServerCertificates"][
        "ServerCertificate"][0]["ServerCertificateId"] == response.json()["ServerCertificateId"]


def test_request_targets_beyond_64_kib(raw):
    # A certificate with many names: its PEM alone makes the URL longer than 64 KiB.
    key = certs.ec_key("P-256")
    sans = [f"host-{n:04d}.a-rather-long-subdomain.example.com" for n in range(1100)]
    params = {"ServerCertificate": certs.cert_pem(certs.make_cert(key, sans=sans)),
              "PrivateKey": certs.key_pem(key)}
    assert len(params["ServerCertificate"]) > 64 * 1024
    response = raw.v1("UploadServerCertificate", params)
    assert response.status == 200, response.text[:300]
    assert len(response.json()["SubjectAlternativeNames"]["SubjectAlternativeName"]) == 1100


def test_other_parameters_are_bounded(raw):
    params = upload_params()
    params["OwnerAccount"] = "x" * (17 * 1024)
    response = raw.v1("UploadServerCertificate", params)
    check_envelope(response, "InvalidParameter", 400)
    assert "OwnerAccount is 17408 bytes long; at most 16384" in response.json()["Message"]


def test_xml_success_and_error_shapes(raw):
    response = raw.v1("UploadServerCertificate", upload_params(), fmt="XML")
    assert response.status == 200, response.text
    assert response.headers["Content-Type"] == "text/xml;charset=utf-8"
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ElementTree.fromstring(response.text)
    assert root.tag == "UploadServerCertificateResponse"
    assert [e.text for e in root.find("SubjectAlternativeNames")] == ["www.example.com", "example.com"]
    assert root.find("IsAliCloudCertificate").text == "0"

    listed = ElementTree.fromstring(raw.v1("DescribeServerCertificates", fmt="xml").text)
    assert listed.tag == "DescribeServerCertificatesResponse"
    items = listed.find("ServerCertificates").findall("ServerCertificate")
    assert [item.find("ServerCertificateId").text for item in items] == [root.find("ServerCertificateId").text]
    assert items[0].find("Tags") is not None

    error = raw.v1("DeleteServerCertificate", {"ServerCertificateId": "nope"}, fmt="XML")
    assert error.status == 400
    assert error.headers["Content-Type"] == "text/xml;charset=utf-8"
    envelope = ElementTree.fromstring(error.text)
    assert envelope.tag == "Error"
    assert [child.tag for child in envelope] == ["RequestId", "HostId", "Code", "Message", "Recommend"]
    assert envelope.find("Code").text == "ServerCertificateId.NotFound"


def test_an_unknown_format_is_refused_in_json(raw):
    body = check_envelope(raw.v1("DescribeServerCertificates", fmt="YAML"), "InvalidParameter.Format", 400)
    assert "YAML" in body["Message"]


def test_every_success_carries_an_upper_case_request_id(raw):
    response = raw.v1("DescribeServerCertificates")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    body = response.json()
    assert UUID_UPPER.match(body["RequestId"])
    assert body == {"RequestId": body["RequestId"], "ServerCertificates": {"ServerCertificate": []}}


def test_actions_and_versions(server, raw):
    check_envelope(raw.v1("CreateLoadBalancerFTPListener"), "InvalidAction.NotFound", 404)
    def bad_version(common, _):
        common["Version"] = "2016-01-01"
    check_envelope(raw.v1("DescribeServerCertificates", tamper=bad_version), "InvalidVersion", 400)
    response = requests.post(f"http://127.0.0.1:{server.port}/?RegionId=cn-hangzhou")
    assert response.json()["Code"] == "MissingAction"
    response = requests.get(f"http://127.0.0.1:{server.port}/nowhere")
    assert (response.status_code, response.json()["Code"]) == (404, "InvalidAction.NotFound")


def test_header_and_parameter_must_name_the_same_action(raw):
    query = raw.common("DescribeServerCertificates")
    response = raw.send("POST", {**query, "RegionId": "cn-hangzhou"}, None,
                        headers={"x-acs-action": "DeleteServerCertificate"})
    body = check_envelope(response, "InvalidParameter", 400)
    assert "disagree" in body["Message"]


def test_healthz(server):
    response = requests.get(f"http://127.0.0.1:{server.port}/healthz")
    assert (response.status_code, response.text) == (200, "ok\n")


def test_private_keys_never_reach_responses_or_logs(server, raw, v1):
    key = certs.rsa_key(2048)
    key_pem = certs.key_pem(key, "pkcs1")
    secret_line = key_pem.splitlines()[5]
    bodies = [raw.v1("UploadServerCertificate", {"ServerCertificate": certs.cert_pem(certs.make_cert(key)),
                                                 "PrivateKey": key_pem}).text]
    bodies.append(raw.v1("UploadServerCertificate", {"ServerCertificate": "x", "PrivateKey": key_pem}).text)
    bodies.append(raw.v1("UploadServerCertificate", {"ServerCertificate": certs.cert_pem(
        certs.make_cert(certs.ec_key()))}, fmt="XML").text)
    bodies.append(raw.v1("DescribeServerCertificates").text)
    for body in bodies:
        assert secret_line not in body and "PRIVATE KEY" not in body
    assert "DEBUG" in server.log() or "INFO" in server.log()
    assert secret_line not in server.log()
