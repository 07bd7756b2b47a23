"""DescribeRegions and resource groups."""

import re

import certs
from conftest import V1, expect_failure


def test_describe_regions_in_each_language(v3, v1):
    english = v3.call("DescribeRegions", AcceptLanguage="en-US")["Regions"]["Region"]
    by_id = {region["RegionId"]: region for region in english}
    assert by_id["cn-hangzhou"] == {"RegionId": "cn-hangzhou", "LocalName": "China (Hangzhou)",
                                    "RegionEndpoint": "slb.aliyuncs.com"}
    assert by_id["eu-central-1"]["RegionEndpoint"] == "slb.eu-central-1.aliyuncs.com"
    assert {"cn-shanghai", "cn-beijing", "ap-southeast-1", "us-west-1"} <= set(by_id)
    chinese = {r["RegionId"]: r["LocalName"] for r in v1.call("DescribeRegions")["Regions"]["Region"]}
    assert chinese["cn-hangzhou"] == "华东1（杭州）"
    japanese = {r["RegionId"]: r["LocalName"] for r in
                v3.call("DescribeRegions", AcceptLanguage="ja")["Regions"]["Region"]}
    assert japanese["ap-northeast-1"] == "日本 (東京)"
    assert len(japanese) == len(english) == len(chinese)
    expect_failure(lambda: v3.call("DescribeRegions", AcceptLanguage="fr-FR"), "InvalidParameter", 400, "fr-FR")


def test_every_region_listed_is_one_the_api_accepts(server, account, v3):
    for region in v3.call("DescribeRegions")["Regions"]["Region"]:
        assert V1(server, account, region=region["RegionId"]).call("DescribeServerCertificates")[
            "ServerCertificates"] == {"ServerCertificate": []}


def test_resource_groups_default_per_account_and_named_ones(server, account, other_account, v3):
    key = certs.ec_key()
    params = dict(ServerCertificate=certs.cert_pem(certs.make_cert(key)), PrivateKey=certs.key_pem(key))
    default = v3.call("UploadServerCertificate", **params)["ResourceGroupId"]
    assert re.fullmatch(r"rg-[a-z0-9]+", default)
    assert v3.call("UploadServerCertificate", **params)["ResourceGroupId"] == default
    named = v3.call("UploadServerCertificate", ResourceGroupId="rg-team42", **params)
    assert named["ResourceGroupId"] == "rg-team42"
    theirs = V1(server, other_account).call("UploadServerCertificate", **params)["ResourceGroupId"]
    assert theirs != default
    listed = v3.call("DescribeServerCertificates", ResourceGroupId="rg-team42")
    assert [i["ServerCertificateId"] for i in listed["ServerCertificates"]["ServerCertificate"]] == [
        named["ServerCertificateId"]]


def test_describe_regions_in_xml(raw):
    import xml.etree.ElementTree as ElementTree
    root = ElementTree.fromstring(raw.v1("DescribeRegions", {"AcceptLanguage": "en-US"}, fmt="XML").text)
    regions = root.find("Regions").findall("Region")
    assert "China (Hangzhou)" in [r.find("LocalName").text for r in regions]
