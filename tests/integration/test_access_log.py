"""The data plane's optional access log (`--access-log`): one JSON line per HTTP or HTTPS
request, with the fields of SLB's layer-7 access logs, written once the response is sent, and
moved aside past its size limit."""

import json
import random

import pytest

from backends import HttpBackend
from conftest import Server
from slb import Api, backends
from test_data_plane import OFFSET, eventually, http_get, https_load_balancer, upload


@pytest.fixture
def logged(tmp_path):
    pool = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.0/24"
    log = tmp_path / "access.log"
    server = Server(tmp_path, args=["--data-plane", "on", "--listener-port-offset", str(OFFSET),
                                    "--address-pool", pool, "--access-log", str(log),
                                    "--access-log-max-bytes", "8192"]).start()
    yield server, log
    server.stop()


def lines(log):
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_each_request_is_one_json_line_with_slbs_fields(logged):
    server, log = logged
    api = Api("v3", server, server.credentials)
    backend = HttpBackend("b1")
    certificate = upload(api, "www.example.com")
    lb, address = https_load_balancer(api, certificate, backend.port)
    api("AddBackendServers", LoadBalancerId=lb,
        BackendServers=backends({"ServerId": "i-1", "ServerIp": "127.0.0.1"}))
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)
    status, _, body = eventually(lambda: http_get(
        address, "www.example.com", "/shop?item=1",
        headers=[("User-Agent", "probe/1.0"), ("Referer", "https://ref.example/")]))
    assert status == 200

    def written():
        found = [line for line in lines(log) if line["request_uri"] == "/shop?item=1"]
        assert found
        return found[-1]

    line = eventually(written)
    assert (line["slbid"], line["slb_vport"], line["vip_addr"]) == (lb, 443, address[0])
    assert (line["scheme"], line["host"], line["request_method"], line["server_protocol"]) == \
        ("https", "www.example.com", "GET", "HTTP/1.1")
    assert (line["status"], line["upstream_status"]) == (200, 200)
    assert line["upstream_addr"] == f"127.0.0.1:{backend.port}"
    assert line["body_bytes_sent"] == len(body) > 0
    assert (line["http_user_agent"], line["http_referer"]) == ("probe/1.0", "https://ref.example/")
    assert line["client_ip"] == "127.0.0.1" and line["client_port"] > 0
    assert line["ssl_protocol"] in ("TLSv1.2", "TLSv1.3") and line["ssl_cipher"]
    assert 0 <= line["upstream_response_time"] <= line["request_time"]
    assert line["time"].endswith("Z")

    # A request no backend answers is logged too, without an upstream status.
    api("SetBackendServers", LoadBalancerId=lb,
        BackendServers=backends({"ServerId": "i-1", "ServerIp": "127.0.0.1", "Weight": 0}))

    # Each try has its own path: tries before the change is applied are answered and logged too.
    tries = iter(range(1000))

    def unanswered():
        path = f"/none-{next(tries)}"
        status, _, _ = http_get(address, "www.example.com", path)
        assert status == 503
        return path
    path = eventually(unanswered)

    def logged():
        found = [line for line in lines(log) if line["request_uri"] == path]
        assert found, f"{path} is not in the access log yet"
        return found[-1]
    line = eventually(logged)
    assert (line["status"], line["upstream_status"], line["upstream_addr"]) == (503, None, "")

    # Past 8 KiB the file moves to access.log.1 (replacing it) and a new one begins.
    api("SetBackendServers", LoadBalancerId=lb,
        BackendServers=backends({"ServerId": "i-1", "ServerIp": "127.0.0.1", "Weight": 100}))
    until(lambda: http_get(address, "www.example.com", "/back")[0] == 200)
    for n in range(40):
        http_get(address, "www.example.com", f"/fill/{n}")
    rotated = log.with_name("access.log.1")
    until(lambda: any(l["request_uri"] == "/fill/39" for l in lines(log)))
    assert rotated.exists()
    for path in (rotated, log):
        assert path.stat().st_size <= 8192
    # Every line whole, none torn by the move.
    assert all(line["status"] in (200, 503) for line in lines(rotated) + lines(log))


def until(predicate):
    def check():
        assert predicate()
    eventually(check)
