"""`POST /_slbcert/reset` (serve --admin-token): the store is emptied while the server runs,
but for the first account and its key pair, which keep working; without the token, or without
--admin-token, nothing happens."""

import requests

from conftest import Server, expect_failure
from ram import V3 as RamClient, make_user
from slb import Api, upload_server_certificate

TOKEN = "reset-token-0123456789"


def post(server, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(server.base_url + "/_slbcert/reset", headers=headers, timeout=10)


def test_reset_empties_all_but_the_first_account(tmp_path):
    server = Server(tmp_path, args=["--admin-token", TOKEN]).start()
    try:
        first = server.credentials
        api = Api("v3", server, first)
        certificate = upload_server_certificate(api)
        lb = api("CreateLoadBalancer", LoadBalancerName="web")["LoadBalancerId"]
        api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443,
            BackendServerPort=80, Bandwidth=-1, HealthCheck="off",
            ServerCertificateId=certificate)
        user = make_user(RamClient("ram", server, first), "bot", "AliyunSLBReadOnlyAccess")
        Api("v3", server, user)("DescribeLoadBalancers")
        other = server.create_account("other")
        upload_server_certificate(Api("v3", server, other))

        for token in (None, "wrong"):
            assert post(server, token).status_code == 401
        assert len(api("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"]) == 1

        answer = post(server, TOKEN)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"Reset": True, "AccountId": first["AccountId"]}
        # The first account's key still works, and it owns nothing any more.
        assert api("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"] == []
        assert api("DescribeLoadBalancers")["LoadBalancers"]["LoadBalancer"] == []
        assert RamClient("ram", server, first)("ListUsers")["Users"]["User"] == []
        # The RAM user's key and the other account are gone, at once.
        for gone in (user, other):
            expect_failure(lambda: Api("v3", server, gone)("DescribeServerCertificates"),
                           "InvalidAccessKeyId.NotFound", 404)
        # And it works as before: a new upload, a new load balancer.
        upload_server_certificate(api)
        api("CreateLoadBalancer", LoadBalancerName="again")
        actions = [line["action"] for line in server.audit_lines()]
        assert "Reset" in actions and actions.index("Reset") > actions.index("CreateLoadBalancer")
    finally:
        server.stop()


def test_reset_is_not_served_without_an_admin_token(server, account):
    api = Api("v3", server, account)
    upload_server_certificate(api)
    answer = post(server, "anything")
    assert answer.status_code == 404
    assert len(api("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"]) == 1
