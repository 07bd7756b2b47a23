"""Every key of every load balancer answer is a field of the official V3 response model
(alibabacloud-slb20140515), at every level of nesting: a misspelt or invented key would be
dropped by the SDK without a word. The models are read from the SDK's own `from_map`."""

import inspect
import re
import xml.etree.ElementTree as ET

from alibabacloud_slb20140515 import models

from slb import Api, backends, upload_ca_certificate, upload_server_certificate

# Kept on purpose: the backend's address (what the data plane forwards to) in answers whose V3
# model lacks it, and UDP's connection draining, which its Create takes.
EXTRA = {"ServerIp", "ConnectionDrain"}


def walk(cls, value, path, report):
    src = inspect.getsource(cls.from_map)
    known = set(re.findall(r"m\.get\('([^']+)'\)", src))
    if isinstance(value, dict):
        for k, v in value.items():
            if k not in known and k not in EXTRA:
                report.append(f"{path}.{k}: not in model {cls.__name__}")
        # nested
        for k, v in value.items():
            m = re.search(r"if m\.get\('%s'\) is not None:\n\s+temp_model = main_models\.(\w+)\(\)" % re.escape(k), src)
            m2 = re.search(r"for k\d* in m\.get\('%s'\):\n\s+temp_model = main_models\.(\w+)\(\)" % re.escape(k), src)
            if m and isinstance(v, dict):
                walk(getattr(models, m.group(1)), v, f"{path}.{k}", report)
            elif m2 and isinstance(v, list):
                for item in v:
                    walk(getattr(models, m2.group(1)), item, f"{path}.{k}[]", report)


def test_answers_use_only_the_models_fields(server, account, raw):
    api = Api("v3", server, account)
    cert = upload_server_certificate(api); ca = upload_ca_certificate(api)
    lb = api("CreateLoadBalancer", Tag=[{"Key":"a","Value":"b"}])["LoadBalancerId"]
    api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443, BackendServerPort=80, Bandwidth=-1, HealthCheck="on", ServerCertificateId=cert, CACertificateId=ca, StickySession="on", StickySessionType="insert", CookieTimeout=100, Description="d")
    api("CreateLoadBalancerHTTPListener", LoadBalancerId=lb, ListenerPort=80, BackendServerPort=80, Bandwidth=-1, HealthCheck="on", HealthCheckURI="/x")
    api("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=22, BackendServerPort=22, Bandwidth=-1)
    api("CreateLoadBalancerUDPListener", LoadBalancerId=lb, ListenerPort=53, BackendServerPort=53, Bandwidth=-1)
    de = api("CreateDomainExtension", LoadBalancerId=lb, ListenerPort=443, Domain="a.example.com", ServerCertificateId=cert)["DomainExtensionId"]
    api("AddBackendServers", LoadBalancerId=lb, BackendServers=backends({"ServerId":"i-1","ServerIp":"10.0.0.1","Description":"x"}))
    g = api("CreateVServerGroup", LoadBalancerId=lb, VServerGroupName="g", BackendServers=backends({"ServerId":"i-1","Port":80,"ServerIp":"10.0.0.1"}))["VServerGroupId"]
    calls = [
     ("CreateLoadBalancer", {}),
     ("DescribeLoadBalancers", {}),
     ("DescribeLoadBalancerAttribute", {"LoadBalancerId": lb}),
     ("DescribeLoadBalancerHTTPSListenerAttribute", {"LoadBalancerId": lb, "ListenerPort": "443"}),
     ("DescribeLoadBalancerHTTPListenerAttribute", {"LoadBalancerId": lb, "ListenerPort": "80"}),
     ("DescribeLoadBalancerTCPListenerAttribute", {"LoadBalancerId": lb, "ListenerPort": "22"}),
     ("DescribeLoadBalancerUDPListenerAttribute", {"LoadBalancerId": lb, "ListenerPort": "53"}),
     ("DescribeLoadBalancerListeners", {}),
     ("DescribeDomainExtensions", {"LoadBalancerId": lb, "ListenerPort": "443"}),
     ("DescribeDomainExtensionAttribute", {"DomainExtensionId": de}),
     ("CreateDomainExtension", {"LoadBalancerId": lb, "ListenerPort": "443", "Domain": "b.example.com", "ServerCertificateId": cert}),
     ("AddBackendServers", {"LoadBalancerId": lb, "BackendServers": backends({"ServerId":"i-2"})}),
     ("SetBackendServers", {"LoadBalancerId": lb, "BackendServers": backends({"ServerId":"i-2", "Weight": 5})}),
     ("RemoveBackendServers", {"LoadBalancerId": lb, "BackendServers": backends({"ServerId":"i-2"})}),
     ("DescribeHealthStatus", {"LoadBalancerId": lb}),
     ("CreateVServerGroup", {"LoadBalancerId": lb, "BackendServers": backends({"ServerId":"i-1","Port":81})}),
     ("DescribeVServerGroups", {"LoadBalancerId": lb, "IncludeListener": "true", "IncludeRule": "true"}),
     ("DescribeVServerGroupAttribute", {"VServerGroupId": g}),
     ("SetVServerGroupAttribute", {"VServerGroupId": g, "VServerGroupName": "h"}),
     ("AddVServerGroupBackendServers", {"VServerGroupId": g, "BackendServers": backends({"ServerId":"i-3","Port":81})}),
     ("RemoveVServerGroupBackendServers", {"VServerGroupId": g, "BackendServers": backends({"ServerId":"i-3","Port":81})}),
     ("ModifyLoadBalancerInstanceSpec", {"LoadBalancerId": lb, "LoadBalancerSpec": "slb.s2.small"}),
    ]
    report = []
    for action, params in calls:
        response = raw.v1(action, params)
        assert response.status == 200, (action, response.text)
        walk(getattr(models, f"{action}ResponseBody"), response.json(), action, report)
    assert report == []
    # The same answers in XML: Alibaba's mapping of the JSON (an array repeats its element).
    for action, params in calls:
        if action.startswith("Describe"):
            as_json = raw.v1(action, params).json()
            as_xml = raw.v1(action, params, fmt="XML")
            assert as_xml.status == 200
            root = ET.fromstring(as_xml.text)
            assert root.tag == f"{action}Response"
            as_json.pop("RequestId"), root.remove(root.find("RequestId"))
            assert element_children(root) == xml_children(as_json), action


def xml_children(value):
    """The (tag, text or children) list that the XML of a JSON object holds."""
    children = []
    for key, item in value.items():
        for each in (item if isinstance(item, list) else [item]):
            if isinstance(each, dict):
                children.append((key, xml_children(each) or ""))
            elif isinstance(each, bool):
                children.append((key, "true" if each else "false"))
            else:
                children.append((key, "" if each is None else str(each)))
    return children


def element_children(element):
    return [(child.tag, element_children(child) if len(child) else (child.text or ""))
            for child in element]


def test_the_check_sees_invented_keys_at_any_depth():
    report = []
    walk(models.DescribeLoadBalancerListenersResponseBody,
         {"Listeners": [{"ListenerPort": 1, "HTTPSListenerConfig": {"Bogus": 1}}], "Nope": 2},
         "x", report)
    assert sorted(report) == [
        "x.Listeners[].HTTPSListenerConfig.Bogus: not in model "
        "DescribeLoadBalancerListenersResponseBodyListenersHTTPSListenerConfig",
        "x.Nope: not in model DescribeLoadBalancerListenersResponseBody",
    ]
