"""UploadServerCertificate through the official SDKs: every certificate and key kind, exact
response fields, and every refusal (each a 400 that stores nothing)."""

import datetime
import pathlib
import re
import time

import pytest

import certs
from conftest import V1, V3, expect_failure

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "pki"
ID_PATTERN = re.compile(r"^(\d{16})_([0-9a-f]+)_(-?\d+)_(-?\d+)$")


def iso(at):
    return at.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def ms(at):
    return int(at.timestamp()) * 1000


def count(client):
    return len(client.call("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"])


def check_fields(body, leaf, account, name, sans):
    """The response fields of Upload (and of a Describe item) for `leaf`."""
    match = ID_PATTERN.match(body["ServerCertificateId"])
    assert match, body["ServerCertificateId"]
    assert match.group(1) == account["AccountId"]
    for part in (match.group(3), match.group(4)):
        assert -2**31 <= int(part) < 2**31
    created_ms = int(match.group(2), 16)
    assert abs(created_ms / 1000 - time.time()) < 120
    assert body["ServerCertificateName"] == name
    assert body["Fingerprint"] == certs.fingerprint(leaf)
    assert body["CommonName"] == leaf.subject.rfc4514_string().removeprefix("CN=")
    assert body["SubjectAlternativeNames"] == {"SubjectAlternativeName": sans}
    assert body["ExpireTime"] == iso(leaf.not_valid_after_utc)
    assert body["ExpireTimeStamp"] == ms(leaf.not_valid_after_utc)
    assert body["CreateTimeStamp"] == created_ms - created_ms % 1000
    created = datetime.datetime.fromtimestamp(body["CreateTimeStamp"] / 1000, datetime.timezone.utc)
    assert body["CreateTime"] == iso(created)
    assert body["RegionId"] == "cn-hangzhou"
    # The V3 SDK's models have no RegionIdAlias and drop it; the raw JSON (V1 SDK) has it.
    assert body.get("RegionIdAlias", "cn-hangzhou") == "cn-hangzhou"
    assert re.fullmatch(r"rg-[a-z0-9]+", body["ResourceGroupId"])
    assert body["IsAliCloudCertificate"] == 0 and isinstance(body["IsAliCloudCertificate"], int)
    assert body["AliCloudCertificateId"] == "" and body["AliCloudCertificateName"] == ""


def describe_one(client, certificate_id):
    items = client.call("DescribeServerCertificates", ServerCertificateId=certificate_id)
    items = items["ServerCertificates"]["ServerCertificate"]
    assert len(items) == 1
    return items[0]


def test_rsa_certificate_with_chain_reads_back_exact_fields_through_v1(v1, account):
    leaf_key = certs.rsa_key(2048)
    leaf, intermediate, root = certs.chain(leaf_key, certs.rsa_key(3072), certs.rsa_key(4096),
                                           cn="www.example.com",
                                           sans=("www.example.com", "api.example.com"),
                                           ips=("192.0.2.10", "2001:db8::7"))
    body = v1.call("UploadServerCertificate",
                   ServerCertificate=certs.cert_pem(leaf, intermediate, root),
                   PrivateKey=certs.key_pem(leaf_key, "pkcs1"), ServerCertificateName="rsa-chain")
    sans = ["www.example.com", "api.example.com", "192.0.2.10", "2001:db8::7"]
    check_fields(body, leaf, account, "rsa-chain", sans)
    assert body["RegionIdAlias"] == "cn-hangzhou"
    assert "PrivateKey" not in body and "ServerCertificate" not in body
    item = describe_one(v1, body["ServerCertificateId"])
    assert item.pop("Tags") == {"Tag": []}
    # Fields of the Go models that Upload's answer does not have.
    assert (item.pop("EncryptionAlgorithm"), item.pop("EncryptionKeyLength"), item.pop("StandardType")) == (
        "RSA", 2048, "")
    body.pop("RequestId")
    assert item == body


@pytest.mark.parametrize("curve,form,parameters", [
    ("P-256", "sec1", "P-256"),
    ("P-256", "sec1", None),
    ("P-384", "pkcs8", None),
    ("P-521", "sec1", "P-521"),
    ("P-521", "pkcs8", None),
])
def test_ecdsa_certificates_with_chains_through_v3(v3, account, curve, form, parameters):
    leaf_key = certs.ec_key(curve)
    leaf, intermediate, root = certs.chain(leaf_key, certs.ec_key("P-384"), certs.rsa_key(2048),
                                           cn=f"{curve}.example.com", sans=(f"{curve}.example.com",))
    body = v3.call("UploadServerCertificate",
                   ServerCertificate=certs.cert_pem(leaf, intermediate),
                   PrivateKey=certs.key_pem(leaf_key, form, ec_parameters=parameters),
                   ServerCertificateName=f"ec-{curve}")
    check_fields(body, leaf, account, f"ec-{curve}", [f"{curve}.example.com"])
    item = describe_one(v3, body["ServerCertificateId"])
    assert item["Fingerprint"] == certs.fingerprint(leaf)
    assert item["SubjectAlternativeNames"] == {"SubjectAlternativeName": [f"{curve}.example.com"]}


@pytest.mark.parametrize("bits", [1024, 2048, 3072, 4096])
@pytest.mark.parametrize("form", ["pkcs1", "pkcs8"])
def test_every_rsa_size_and_encoding(v1, account, bits, form):
    key = certs.rsa_key(bits)
    leaf = certs.make_cert(key, cn=f"rsa{bits}.example.com", sans=())
    body = v1.call("UploadServerCertificate", ServerCertificate=certs.cert_pem(leaf),
                   PrivateKey=certs.key_pem(key, form))
    check_fields(body, leaf, account, "", [])


def test_tea_client_in_v1_mode(server, account):
    client = V3(server, account, signature_algorithm="v2")
    key = certs.ec_key("P-256")
    leaf = certs.make_cert(key)
    body = client.call("UploadServerCertificate", ServerCertificate=certs.cert_pem(leaf),
                       PrivateKey=certs.key_pem(key))
    check_fields(body, leaf, account, "", ["www.example.com", "example.com"])
    assert describe_one(client, body["ServerCertificateId"])["CommonName"] == "www.example.com"


def test_a_certificate_without_common_name_or_sans(v3, account):
    key = certs.ec_key("P-256")
    leaf = certs.make_cert(key, cn=None, sans=())
    body = v3.call("UploadServerCertificate", ServerCertificate=certs.cert_pem(leaf),
                   PrivateKey=certs.key_pem(key))
    assert body["CommonName"] == ""
    assert body["SubjectAlternativeNames"] == {"SubjectAlternativeName": []}


def test_a_leaf_not_yet_valid_is_accepted(v1):
    key = certs.ec_key("P-256")
    start = certs.now() + datetime.timedelta(days=30)
    leaf = certs.make_cert(key, not_before=start, not_after=start + datetime.timedelta(days=90))
    body = v1.call("UploadServerCertificate", ServerCertificate=certs.cert_pem(leaf),
                   PrivateKey=certs.key_pem(key))
    assert body["ExpireTime"] == iso(leaf.not_valid_after_utc)


def test_duplicate_uploads_get_their_own_ids(v3):
    key = certs.ec_key("P-256")
    pem, key_pem = certs.cert_pem(certs.make_cert(key)), certs.key_pem(key)
    first = v3.call("UploadServerCertificate", ServerCertificate=pem, PrivateKey=key_pem)
    second = v3.call("UploadServerCertificate", ServerCertificate=pem, PrivateKey=key_pem)
    assert first["ServerCertificateId"] != second["ServerCertificateId"]
    assert first["Fingerprint"] == second["Fingerprint"]
    assert count(v3) == 2


def test_names_absent_empty_cjk_and_symbols(v1, v3):
    key = certs.ec_key("P-256")
    pem, key_pem = certs.cert_pem(certs.make_cert(key)), certs.key_pem(key)
    for name, shown in [(None, ""), ("证书-2024_a.b/c*:d", "证书-2024_a.b/c*:d"), ("x" * 80, "x" * 80)]:
        params = {} if name is None else {"ServerCertificateName": name}
        body = v3.call("UploadServerCertificate", ServerCertificate=pem, PrivateKey=key_pem, **params)
        assert describe_one(v1, body["ServerCertificateId"])["ServerCertificateName"] == shown


def fixture(name):
    return (FIXTURES / name).read_text()


def refusal_cases():
    rsa = certs.rsa_key(2048)
    rsa_cert = certs.cert_pem(certs.make_cert(rsa))
    ec = certs.ec_key("P-256")
    ec_cert = certs.cert_pem(certs.make_cert(ec))
    ed = certs.ed25519_key()
    dsa = certs.dsa_key()
    expired = certs.make_cert(rsa, not_before=certs.now() - datetime.timedelta(days=400),
                              not_after=certs.now() - datetime.timedelta(days=35))
    leaf_key, mid_key, root_key = certs.ec_key("P-256"), certs.ec_key("P-384"), certs.rsa_key(2048)
    leaf, mid, root = certs.chain(leaf_key, mid_key, root_key)
    stranger = certs.make_cert(certs.ec_key("P-256"), cn="Stranger CA", sans=(), ca=True)
    good_key = certs.key_pem(rsa)
    return [
        # (id, params, code, fragment of the message)
        ("empty-certificate", {"ServerCertificate": "", "PrivateKey": good_key},
         "InvalidParameter", "ServerCertificate is empty"),
        ("no-certificate", {"PrivateKey": good_key}, "InvalidParameter", "ServerCertificate is empty"),
        ("garbage-certificate", {"ServerCertificate": "hello world", "PrivateKey": good_key},
         "KeyFormatError", "no PEM block"),
        ("key-as-certificate", {"ServerCertificate": good_key, "PrivateKey": good_key},
         "KeyFormatError", '"PRIVATE KEY", not a CERTIFICATE'),
        ("broken-der", {"ServerCertificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                        "PrivateKey": good_key}, "KeyFormatError", "certificate 1 is not a valid X.509"),
        ("chain-out-of-order", {"ServerCertificate": certs.cert_pem(leaf, root, mid),
                                "PrivateKey": certs.key_pem(leaf_key)},
         "InvalidParameter", "certificate 2 did not sign certificate 1"),
        ("chain-foreign-issuer", {"ServerCertificate": certs.cert_pem(leaf, mid, stranger),
                                  "PrivateKey": certs.key_pem(leaf_key)},
         "InvalidParameter", "certificate 3 did not sign certificate 2"),
        ("empty-key", {"ServerCertificate": rsa_cert, "PrivateKey": ""},
         "InvalidParameter", "PrivateKey is empty"),
        ("garbage-key", {"ServerCertificate": rsa_cert, "PrivateKey": "not a key"},
         "InvalidParameter", "key format is error"),
        ("certificate-as-key", {"ServerCertificate": rsa_cert, "PrivateKey": rsa_cert},
         "InvalidParameter", '"CERTIFICATE", not a private key'),
        ("encrypted-pkcs8", {"ServerCertificate": rsa_cert,
                             "PrivateKey": certs.key_pem(rsa, "pkcs8", password=b"pw")},
         "PrivateKeyEncryption", "ENCRYPTED PRIVATE KEY"),
        ("encrypted-legacy", {"ServerCertificate": rsa_cert,
                              "PrivateKey": certs.key_pem(rsa, "pkcs1", password=b"pw")},
         "PrivateKeyEncryption", "Proc-Type: 4,ENCRYPTED"),
        ("ed25519", {"ServerCertificate": certs.cert_pem(certs.make_cert(ed)),
                     "PrivateKey": certs.key_pem(ed)}, "InvalidParameter", "Ed25519"),
        ("dsa", {"ServerCertificate": certs.cert_pem(certs.make_cert(dsa)),
                 "PrivateKey": certs.key_pem(dsa)}, "InvalidParameter", "DSA"),
        ("sm2", {"ServerCertificate": fixture("sm2.crt"), "PrivateKey": fixture("sm2.key")},
         "InvalidParameter", "SM2"),
        ("rsa-512", {"ServerCertificate": fixture("rsa512.crt"), "PrivateKey": fixture("rsa512.key")},
         "InvalidParameter", "RSA 512"),
        ("foreign-key-same-kind", {"ServerCertificate": rsa_cert,
                                   "PrivateKey": certs.key_pem(certs.rsa_key(2048, fresh=True))},
         "CertificateNotMatchPrivateKey", "different RSA 2048 key"),
        ("foreign-key-other-kind", {"ServerCertificate": ec_cert, "PrivateKey": good_key},
         "CertificateNotMatchPrivateKey", "ECDSA P-256 but the PrivateKey is RSA 2048"),
        ("expired", {"ServerCertificate": certs.cert_pem(expired), "PrivateKey": good_key},
         "InvalidParameter", iso(expired.not_valid_after_utc)),
        ("name-with-space", {"ServerCertificate": rsa_cert, "PrivateKey": good_key,
                             "ServerCertificateName": "my cert"}, "InvalidParameter", "' '"),
        ("name-too-long", {"ServerCertificate": rsa_cert, "PrivateKey": good_key,
                           "ServerCertificateName": "n" * 81}, "InvalidParameter", "81 characters"),
        ("bad-resource-group", {"ServerCertificate": rsa_cert, "PrivateKey": good_key,
                                "ResourceGroupId": "group-1"}, "InvalidParameter", "ResourceGroupId"),
        ("alicloud-certificate", {"AliCloudCertificateId": "775123", "AliCloudCertificateName": "x",
                                  "AliCloudCertificateRegionId": "cn-hangzhou"},
         "InvalidParameter", "AliCloudCertificateId"),
    ]


CASES = refusal_cases()


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_each_refusal_is_a_400_that_stores_nothing(v3, case):
    _, params, code, fragment = case
    before = count(v3)
    expect_failure(lambda: v3.call("UploadServerCertificate", **params), code, 400, fragment)
    assert count(v3) == before


def test_refusals_reach_the_v1_sdk_too(v1):
    expect_failure(lambda: v1.call("UploadServerCertificate", ServerCertificate="x", PrivateKey="y"),
                   "KeyFormatError", 400, "incorrectly formatted")
    assert count(v1) == 0


def test_region_is_mandatory_and_must_exist(server, account):
    expect_failure(lambda: V3(server, account, region="cn-atlantis").call("DescribeServerCertificates"),
                   "InvalidRegionId.NotFound", 404, "cn-atlantis")
    key = certs.ec_key("P-256")
    expect_failure(lambda: V1(server, account, region="mars-1").call(
        "UploadServerCertificate", ServerCertificate=certs.cert_pem(certs.make_cert(key)),
        PrivateKey=certs.key_pem(key)), "InvalidRegionId.NotFound", 404)


def test_missing_region_answers_missing_region_id(raw):
    response = raw.v1("DescribeServerCertificates", region=False)
    assert (response.status, response.json()["Code"]) == (400, "MissingRegionId")
    assert response.json()["Message"] == "RegionId is mandatory for this action."


def test_quota_per_account_per_region(tmp_path):
    from conftest import Server
    server = Server(tmp_path, ["--quota-server-certificates", "2"]).start()
    try:
        account = server.credentials
        here, there = V3(server, account), V3(server, account, region="cn-shanghai")
        key = certs.ec_key("P-256")
        params = dict(ServerCertificate=certs.cert_pem(certs.make_cert(key)),
                      PrivateKey=certs.key_pem(key))
        first = here.call("UploadServerCertificate", **params)
        here.call("UploadServerCertificate", **params)
        expect_failure(lambda: here.call("UploadServerCertificate", **params), "OverQuota", 400,
                       "2 server certificates in cn-hangzhou (quota 2)")
        assert count(here) == 2
        there.call("UploadServerCertificate", **params)  # another region has its own quota
        other = V3(server, server.create_account())
        other.call("UploadServerCertificate", **params)  # and so has another account
        here.call("DeleteServerCertificate", ServerCertificateId=first["ServerCertificateId"])
        here.call("UploadServerCertificate", **params)
        assert count(here) == 2
    finally:
        server.stop()


def test_an_unencoded_plus_is_named(raw):
    """A '+' sent raw in a form body decodes to a space; the error says so."""
    key = certs.rsa_key(2048)
    pem, key_pem = certs.cert_pem(certs.make_cert(key)), certs.key_pem(key)
    assert "+" in key_pem
    params = {"ServerCertificate": pem, "PrivateKey": key_pem.replace("+", " ")}
    response = raw.v1("UploadServerCertificate", params, body=True)
    assert response.status == 400
    assert "%2B" in response.json()["Message"]
