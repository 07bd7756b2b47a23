"""Terraform's wire behaviour for alicloud_slb_server_certificate and alicloud_slb_ca_certificate
(provider HEAD 81c43b67, slb-api.md §10), reproduced request by request: terraform cannot run
here, so these tests send what its two clients send.

- go-sdk (alibaba-cloud-sdk-go): V1, every parameter in the URL, Format=JSON, an empty
  `SignatureType`, and `Content-Type: application/x-www-form-urlencoded` with an empty body.
- tea-rpc (client.RpcPost): V1, the common parameters in the URL and every API parameter
  (RegionId included) in a form body, Format=json.
Each response is read the way the provider reads it."""

import pytest

import certs
from rawclient import RawClient


class GoSdk:
    def __init__(self, raw):
        self.raw = raw

    def call(self, action, params):
        response = self.raw.v1(action, params, extra_common={"SignatureType": ""},
                               headers={"Content-Type": "application/x-www-form-urlencoded",
                                        "x-acs-action": action, "x-acs-version": "2014-05-15"})
        return response.status, response.json()


class TeaRpc:
    def __init__(self, raw):
        self.raw = raw

    def call(self, action, params):
        response = self.raw.v1(action, params, body=True, fmt="json")
        return response.status, response.json()


@pytest.fixture
def go(raw):
    return GoSdk(raw)


@pytest.fixture
def tea(raw):
    return TeaRpc(raw)


def ok(result):
    status, body = result
    assert status == 200, body
    return body


def not_found(result, code):
    """Terraform tolerates exactly this code on delete."""
    status, body = result
    assert (status, body["Code"]) == (400, code), body


def read_tags(tea, certificate_id):
    """resource_alicloud_slb_server_certificate Read, part 1 (tea-rpc ListTagResources)."""
    body = ok(tea.call("ListTagResources", {"ResourceType": "certificate", "ResourceId.1": certificate_id}))
    rows = body["TagResources"]["TagResource"]  # jsonpath $.TagResources.TagResource must exist
    assert isinstance(rows, list)
    return {row["TagKey"]: row["TagValue"] for row in rows}


def read_server(go, certificate_id):
    """Part 2 (go-sdk DescribeServerCertificates): empty list or another id means gone."""
    body = ok(go.call("DescribeServerCertificates", {"ServerCertificateId": certificate_id}))
    items = body["ServerCertificates"]["ServerCertificate"]
    if not items or items[0]["ServerCertificateId"] != certificate_id:
        return None
    return items[0]


def tag_diff(client, certificate_id, old, new):
    """setInstanceTags / SetResourceTags: untag removed and changed keys, then tag the new ones."""
    removed = [k for k in old if k not in new or old[k] != new[k]]
    added = {k: v for k, v in new.items() if old.get(k) != v}
    if removed:
        params = {"ResourceType": "certificate", "ResourceId.1": certificate_id}
        params.update({f"TagKey.{n}": key for n, key in enumerate(removed, 1)})
        ok(client.call("UntagResources", params))
    if added:
        params = {"ResourceType": "certificate", "ResourceId.1": certificate_id}
        for n, (key, value) in enumerate(added.items(), 1):
            params[f"Tag.{n}.Key"], params[f"Tag.{n}.Value"] = key, value
        ok(client.call("TagResources", params))


def test_server_certificate_lifecycle(go, tea):
    key = certs.rsa_key(2048)
    leaf, intermediate, _ = certs.chain(key, certs.rsa_key(2048, fresh=True), certs.rsa_key(3072))
    # Create: tags are not sent with the upload; name and resource group are.
    created = ok(go.call("UploadServerCertificate", {
        "ServerCertificate": certs.cert_pem(leaf, intermediate), "PrivateKey": certs.key_pem(key, "pkcs1"),
        "ServerCertificateName": "tf-cert", "ResourceGroupId": "rg-tfgroup1"}))
    certificate_id = created["ServerCertificateId"]
    # Update on a new resource: only tags.
    tag_diff(go, certificate_id, {}, {"env": "test", "owner": "tf"})
    assert read_tags(tea, certificate_id) == {"env": "test", "owner": "tf"}
    item = read_server(go, certificate_id)
    assert item["ServerCertificateName"] == "tf-cert"
    assert item["ResourceGroupId"] == "rg-tfgroup1"
    assert item["AliCloudCertificateId"] == "" and item["AliCloudCertificateName"] == ""
    assert isinstance(item["CreateTimeStamp"], int) and isinstance(item["ExpireTimeStamp"], int)

    # Plan with a new name and changed tags.
    tag_diff(go, certificate_id, {"env": "test", "owner": "tf"}, {"env": "prod", "cost": "42"})
    ok(go.call("SetServerCertificateName", {"ServerCertificateId": certificate_id,
                                            "ServerCertificateName": "tf-cert-renamed"}))
    assert read_tags(tea, certificate_id) == {"env": "prod", "cost": "42"}
    assert read_server(go, certificate_id)["ServerCertificateName"] == "tf-cert-renamed"

    # Delete, then WaitForSlbServerCertificate: a tight loop without sleep until it is gone.
    ok(go.call("DeleteServerCertificate", {"ServerCertificateId": certificate_id}))
    for _ in range(100):
        assert read_server(go, certificate_id) is None
    assert read_tags(tea, certificate_id) == {}
    not_found(go.call("DeleteServerCertificate", {"ServerCertificateId": certificate_id}),
              "ServerCertificateId.NotFound")


def test_server_certificate_without_a_name_keeps_no_name(go):
    """name is Optional but not Computed: a server-made default would be a perpetual diff."""
    key = certs.ec_key()
    created = ok(go.call("UploadServerCertificate", {
        "ServerCertificate": certs.cert_pem(certs.make_cert(key)), "PrivateKey": certs.key_pem(key)}))
    assert read_server(go, created["ServerCertificateId"])["ServerCertificateName"] == ""


def test_ca_certificate_lifecycle(tea):
    ca = certs.make_cert(certs.rsa_key(2048), cn="TF Client CA", sans=(), ca=True)
    created = ok(tea.call("UploadCACertificate", {
        "CACertificate": certs.cert_pem(ca), "CACertificateName": "tf-ca", "ResourceGroupId": "rg-tfgroup1"}))
    # d.SetId(fmt.Sprint(response["CACertificateId"])): a missing key would make the id "<nil>".
    ca_id = created["CACertificateId"]
    assert isinstance(ca_id, str) and ca_id

    def read():
        body = ok(tea.call("DescribeCACertificates", {"CACertificateId": ca_id}))
        items = body["CACertificates"]["CACertificate"]  # v.([]interface{}): must be a list
        assert isinstance(items, list)
        if not items:
            return None
        item = items[0]
        assert isinstance(item["CACertificateId"], str) and item["CACertificateId"] == ca_id
        # Terraform reads this resource's tags from Describe, not from ListTagResources.
        tags = {tag["TagKey"]: tag["TagValue"] for tag in item["Tags"]["Tag"]}
        return item["CACertificateName"], item["ResourceGroupId"], tags

    tag_diff(tea, ca_id, {}, {"env": "test"})
    assert read() == ("tf-ca", "rg-tfgroup1", {"env": "test"})
    tag_diff(tea, ca_id, {"env": "test"}, {"env": "prod", "team": "sec"})
    ok(tea.call("SetCACertificateName", {"CACertificateId": ca_id, "CACertificateName": "tf-ca-2"}))
    assert read() == ("tf-ca-2", "rg-tfgroup1", {"env": "prod", "team": "sec"})
    ok(tea.call("DeleteCACertificate", {"CACertificateId": ca_id}))
    assert read() is None
    not_found(tea.call("DeleteCACertificate", {"CACertificateId": ca_id}), "CACertificateId.NotFound")


def test_tags_ignored_by_terraform_cannot_be_set(tea, go):
    """Keys terraform's tagIgnored skips (aliyun*, acs:*, http(s)://*) are refused outright."""
    key = certs.ec_key()
    certificate_id = ok(go.call("UploadServerCertificate", {
        "ServerCertificate": certs.cert_pem(certs.make_cert(key)), "PrivateKey": certs.key_pem(key)}))[
        "ServerCertificateId"]
    for bad in ("aliyun-managed", "acs:owner", "https://x"):
        status, body = tea.call("TagResources", {"ResourceType": "certificate", "ResourceId.1": certificate_id,
                                                 "Tag.1.Key": bad, "Tag.1.Value": "v"})
        assert (status, body["Code"]) == (400, "InvalidTagKey.Malformed"), body
    assert read_tags(tea, certificate_id) == {}


def test_missing_resources_read_as_empty_lists_not_404s(server, tea):
    """terraform treats a tea-rpc 404 as 'resource gone'. A missing certificate answers an empty
    list (200); 404 is left to what the real service answers 404 for, such as an unknown key."""
    body = ok(tea.call("DescribeCACertificates", {"CACertificateId": "1234567890123456_abc_1_2"}))
    assert body["CACertificates"] == {"CACertificate": []}
    stranger = TeaRpc(RawClient(server.port, "LTAI000000000000000nope", "x"))
    status, body = stranger.call("DescribeCACertificates", {"CACertificateId": "x"})
    assert (status, body["Code"]) == (404, "InvalidAccessKeyId.NotFound")
