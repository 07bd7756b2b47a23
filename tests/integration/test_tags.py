"""Tags on server and CA certificates: on upload, TagResources, UntagResources, ListTagResources,
Describe filters, limits (each breach a 400 that changes nothing), across two accounts."""

import pytest

import certs
from conftest import V1, V3, expect_failure


def upload_server(client, tags=None):
    key = certs.ec_key()
    params = dict(ServerCertificate=certs.cert_pem(certs.make_cert(key)), PrivateKey=certs.key_pem(key))
    if tags is not None:
        params["Tag"] = [{"Key": k, "Value": v} for k, v in tags]
    return client.call("UploadServerCertificate", **params)["ServerCertificateId"]


def upload_ca(client, tags=None):
    ca = certs.make_cert(certs.ec_key(), cn="CA", sans=(), ca=True)
    params = dict(CACertificate=certs.cert_pem(ca))
    if tags is not None:
        params["Tag"] = [{"Key": k, "Value": v} for k, v in tags]
    return client.call("UploadCACertificate", **params)["CACertificateId"]


def listed_tags(client, **params):
    body = client.call("ListTagResources", ResourceType="certificate", **params)
    rows = body["TagResources"]["TagResource"]
    assert all(row["ResourceType"] == "certificate" for row in rows)
    return [(row["ResourceId"], row["TagKey"], row["TagValue"]) for row in rows]


def describe_tags(client, certificate_id):
    item = client.call("DescribeServerCertificates", ServerCertificateId=certificate_id)[
        "ServerCertificates"]["ServerCertificate"][0]
    return [(t["TagKey"], t["TagValue"]) for t in item["Tags"]["Tag"]]


def test_tags_on_upload_show_in_describe_and_list(server, account):
    v1, v3 = V1(server, account), V3(server, account)
    server_id = upload_server(v3, [("env", "prod"), ("team", "web")])
    ca_id = upload_ca(v3, [("env", "prod")])
    assert describe_tags(v1, server_id) == [("env", "prod"), ("team", "web")]
    # aliyun-python-sdk-slb takes tags as a list of {Key, Value} through set_Tags.
    key = certs.ec_key()
    v1_id = v1.call("UploadServerCertificate", ServerCertificate=certs.cert_pem(certs.make_cert(key)),
                    PrivateKey=certs.key_pem(key), Tags=[{"Key": "via", "Value": "v1"}])["ServerCertificateId"]
    assert describe_tags(v3, v1_id) == [("via", "v1")]
    v1.call("DeleteServerCertificate", ServerCertificateId=v1_id)
    ca = v1.call("DescribeCACertificates")["CACertificates"]["CACertificate"][0]
    assert ca["Tags"] == {"Tag": [{"TagKey": "env", "TagValue": "prod"}]}
    assert listed_tags(v1) == [(server_id, "env", "prod"), (server_id, "team", "web"), (ca_id, "env", "prod")]
    assert listed_tags(v3, ResourceId=[ca_id]) == [(ca_id, "env", "prod")]


def test_describe_filters_by_every_given_tag(v3):
    both = upload_server(v3, [("env", "prod"), ("team", "web")])
    prod = upload_server(v3, [("env", "prod")])
    upload_server(v3, [("env", "dev"), ("team", "web")])
    def ids(tags):
        body = v3.call("DescribeServerCertificates", Tag=[{"Key": k, "Value": v} for k, v in tags])
        return [i["ServerCertificateId"] for i in body["ServerCertificates"]["ServerCertificate"]]
    assert ids([("env", "prod")]) == [both, prod]
    assert ids([("env", "prod"), ("team", "web")]) == [both]
    assert ids([("env", "none")]) == []
    ca_prod, ca_dev = upload_ca(v3, [("env", "prod")]), upload_ca(v3, [("env", "dev")])
    body = v3.call("DescribeCACertificates", Tag=[{"Key": "env", "Value": "prod"}])
    assert [i["CACertificateId"] for i in body["CACertificates"]["CACertificate"]] == [ca_prod]
    body = v3.call("DescribeCACertificates", Tag=[{"Key": "env"}])
    assert [i["CACertificateId"] for i in body["CACertificates"]["CACertificate"]] == [ca_prod, ca_dev]


def test_tag_replace_and_untag(v1, v3):
    first, second = upload_server(v3), upload_ca(v3)
    from aliyunsdkslb.request.v20140515.TagResourcesRequest import TagResourcesRequest
    request = TagResourcesRequest()
    request.set_endpoint("127.0.0.1")
    request.set_ResourceType("certificate")
    request.set_ResourceIds([first, second])
    request.set_Tags([{"Key": "env", "Value": "dev"}, {"Key": "owner", "Value": "ops"}])
    v1.client.do_action_with_exception(request)
    v3.call("TagResources", ResourceType="certificate", ResourceId=[first], Tag=[{"Key": "env", "Value": "prod"}])
    assert listed_tags(v3) == [(first, "env", "prod"), (first, "owner", "ops"),
                               (second, "env", "dev"), (second, "owner", "ops")]
    v3.call("UntagResources", ResourceType="certificate", ResourceId=[first, second], TagKey=["owner", "absent"])
    assert listed_tags(v3) == [(first, "env", "prod"), (second, "env", "dev")]
    v3.call("UntagResources", ResourceType="certificate", ResourceId=[second], All=True)
    assert listed_tags(v3) == [(first, "env", "prod")]
    expect_failure(lambda: v3.call("UntagResources", ResourceType="certificate", ResourceId=[first]),
                   "InvalidParameter", 400, "All=true")
    assert listed_tags(v3) == [(first, "env", "prod")]


def test_an_empty_value_is_allowed_and_go_style_missing_values_are_empty(raw, v3):
    certificate_id = upload_server(v3)
    response = raw.v1("TagResources", {"ResourceType": "certificate", "ResourceId.1": certificate_id,
                                       "Tag.1.Key": "flag"})
    assert response.status == 200, response.text
    assert listed_tags(v3) == [(certificate_id, "flag", "")]


@pytest.mark.parametrize("key,value,code", [
    ("aliyun-key", "v", "InvalidTagKey.Malformed"),
    ("acs:key", "v", "InvalidTagKey.Malformed"),
    ("see-http://x", "v", "InvalidTagKey.Malformed"),
    ("k" * 65, "v", "InvalidTagKey.Malformed"),
    ("k", "https://x", "InvalidTagValue.Malformed"),
    ("k", "v" * 129, "InvalidTagValue.Malformed"),
])
def test_malformed_tags_change_nothing(v3, key, value, code):
    certificate_id = upload_server(v3, [("keep", "me")])
    expect_failure(lambda: v3.call("TagResources", ResourceType="certificate", ResourceId=[certificate_id],
                                   Tag=[{"Key": "fine", "Value": "1"}, {"Key": key, "Value": value}]), code, 400)
    key_pem = certs.ec_key()
    expect_failure(lambda: v3.call("UploadServerCertificate", ServerCertificate=certs.cert_pem(certs.make_cert(key_pem)),
                                   PrivateKey=certs.key_pem(key_pem), Tag=[{"Key": key, "Value": value}]), code, 400)
    assert listed_tags(v3) == [(certificate_id, "keep", "me")]


def test_limits_are_400s_that_change_nothing(v3):
    full = upload_server(v3, [(f"k{n:02}", "v") for n in range(19)])
    other = upload_server(v3, [("a", "1")])
    before = listed_tags(v3)
    # 19 + 2 new keys on "full" is 21: refused for both resources.
    expect_failure(lambda: v3.call("TagResources", ResourceType="certificate", ResourceId=[other, full],
                                   Tag=[{"Key": "x", "Value": "1"}, {"Key": "y", "Value": "1"}]),
                   "TagCountLimit", 400, full)
    # 21 tags in one upload or call.
    many = [{"Key": f"t{n}", "Value": "v"} for n in range(21)]
    expect_failure(lambda: v3.call("TagResources", ResourceType="certificate", ResourceId=[other], Tag=many),
                   "TagCountLimit", 400)
    key = certs.ec_key()
    expect_failure(lambda: v3.call("UploadServerCertificate", ServerCertificate=certs.cert_pem(certs.make_cert(key)),
                                   PrivateKey=certs.key_pem(key), Tag=many), "TagCountLimit", 400)
    # 21 resources in one call.
    expect_failure(lambda: v3.call("TagResources", ResourceType="certificate", ResourceId=[other] * 21,
                                   Tag=[{"Key": "x", "Value": "1"}]), "InvalidParameter", 400, "at most 20")
    assert listed_tags(v3) == before
    assert len(v3.call("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"]) == 2
    # Replacing an existing key's value stays within the limit.
    v3.call("TagResources", ResourceType="certificate", ResourceId=[full], Tag=[{"Key": "k00", "Value": "new"}])


def test_foreign_or_unknown_resources_are_not_found_and_change_nothing(server, account, other_account):
    mine, theirs = V3(server, account), V3(server, other_account)
    my_id = upload_server(mine, [("env", "prod")])
    their_id = upload_server(theirs)
    for resource in (my_id, "1234567890123456_abc_1_2"):
        expect_failure(lambda: theirs.call("TagResources", ResourceType="certificate",
                                           ResourceId=[their_id, resource], Tag=[{"Key": "x", "Value": "1"}]),
                       "InvalidResourceId.NotFound", 400, resource)
        expect_failure(lambda: theirs.call("UntagResources", ResourceType="certificate", ResourceId=[resource],
                                           All=True), "InvalidResourceId.NotFound", 400)
    assert listed_tags(theirs) == []
    assert listed_tags(theirs, ResourceId=[my_id]) == []
    assert listed_tags(mine) == [(my_id, "env", "prod")]
    # Regions are separate too.
    shanghai = V3(server, account, region="cn-shanghai")
    expect_failure(lambda: shanghai.call("TagResources", ResourceType="certificate", ResourceId=[my_id],
                                         Tag=[{"Key": "x", "Value": "1"}]), "InvalidResourceId.NotFound", 400)


def test_deleting_a_certificate_deletes_its_tags(v3):
    server_id, ca_id = upload_server(v3, [("a", "1")]), upload_ca(v3, [("b", "2")])
    v3.call("DeleteServerCertificate", ServerCertificateId=server_id)
    v3.call("DeleteCACertificate", CACertificateId=ca_id)
    assert listed_tags(v3) == []


def test_list_pages_with_next_token(v3, raw):
    ids = [upload_server(v3, [(f"k{n:02}", str(i)) for n in range(20)]) for i in range(3)]
    first = v3.call("ListTagResources", ResourceType="certificate")
    assert len(first["TagResources"]["TagResource"]) == 50
    token = first["NextToken"]
    second = v3.call("ListTagResources", ResourceType="certificate", NextToken=token)
    assert len(second["TagResources"]["TagResource"]) == 10
    assert "NextToken" not in second
    rows = first["TagResources"]["TagResource"] + second["TagResources"]["TagResource"]
    assert [(r["ResourceId"], r["TagKey"]) for r in rows] == [(i, f"k{n:02}") for i in ids for n in range(20)]
    # Terraform's read: one resource, a form body, lower-case json.
    response = raw.v1("ListTagResources", {"ResourceType": "certificate", "ResourceId.1": ids[1]},
                      body=True, fmt="json")
    assert len(response.json()["TagResources"]["TagResource"]) == 20
    assert "NextToken" not in response.json()
    bad = raw.v1("ListTagResources", {"ResourceType": "certificate", "NextToken": "!!"})
    assert (bad.status, bad.json()["Code"]) == (400, "InvalidParameter")


def test_list_always_carries_tag_resources(v3, raw):
    assert v3.call("ListTagResources", ResourceType="certificate")["TagResources"] == {"TagResource": []}
    # Resource types this server has nothing of list nothing; unknown types are refused.
    upload_server(v3, [("a", "1")])
    assert v3.call("ListTagResources", ResourceType="instance")["TagResources"] == {"TagResource": []}
    expect_failure(lambda: v3.call("ListTagResources", ResourceType="bucket"), "InvalidParameter", 400)
    expect_failure(lambda: v3.call("ListTagResources"), "MissingResourceType", 400)
    xml = raw.v1("ListTagResources", {"ResourceType": "certificate"}, fmt="XML")
    assert "<TagResources><TagResource><ResourceId>" in xml.text
