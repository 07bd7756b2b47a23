"""Helpers for the load balancer tests: one call signature for both official SDKs, and the
fixtures (certificates, a load balancer) the tests start from."""

import datetime
import json

import certs
from conftest import V1, V3


class Api:
    """Calls an SLB action through one official SDK with wire names: `Tag=[{Key, Value}]`,
    `LoadBalancerId=[...]` for a repeated list, plain values otherwise."""

    def __init__(self, kind, server, account):
        self.kind = kind
        self.client = V1(server, account) if kind == "v1" else V3(server, account)

    def __call__(self, action, **params):
        if self.kind == "v1":
            if "Tag" in params and action == "DescribeLoadBalancers":
                # This request class only has the legacy JSON filter (the cloud controller's).
                params["Tags"] = json.dumps([{"TagKey": t["Key"], "TagValue": t["Value"]}
                                             for t in params.pop("Tag")])
            elif "Tag" in params:
                params["Tags"] = params.pop("Tag")
            if isinstance(params.get("LoadBalancerId"), list):
                params["LoadBalancerIds"] = params.pop("LoadBalancerId")
        # Create TCP/UDP spell it in lower camel case (both SDKs' models, the API's metadata).
        if action in ("CreateLoadBalancerTCPListener", "CreateLoadBalancerUDPListener") \
                and "HealthCheckInterval" in params:
            params["healthCheckInterval"] = params.pop("HealthCheckInterval")
        return self.client.call(action, **params)


def upload_server_certificate(api, cn="www.example.com", sans=("www.example.com",)):
    key = certs.rsa_key()
    cert = certs.make_cert(key, cn=cn, sans=sans)
    answer = api("UploadServerCertificate", ServerCertificate=certs.cert_pem(cert),
                 PrivateKey=certs.key_pem(key))
    return answer["ServerCertificateId"]


def upload_expiring(api, days, cn):
    """A server certificate for `cn` that expires in `days` days; its ID."""
    key = certs.rsa_key()
    cert = certs.make_cert(key, cn=cn, sans=(cn,),
                           not_after=certs.now() + datetime.timedelta(days=days))
    return api("UploadServerCertificate", ServerCertificate=certs.cert_pem(cert),
               PrivateKey=certs.key_pem(key))["ServerCertificateId"]


def upload_ca_certificate(api):
    key = certs.ec_key()
    ca = certs.make_cert(key, cn="Test Root CA", sans=(), ca=True)
    return api("UploadCACertificate", CACertificate=certs.cert_pem(ca))["CACertificateId"]


def backends(*servers):
    return json.dumps(list(servers))
