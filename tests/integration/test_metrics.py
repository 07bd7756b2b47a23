"""`GET /metrics`: the Prometheus text format, scraped by a real Prometheus (Debian's package)
whose query API then answers the expiry of an uploaded certificate, and whose copy of the
alert rules (the ones docs/expiry.md shows) fires on one that expires within 7 days."""

import shutil
import subprocess
import time

import pytest
import requests

from conftest import BINARY, ROOT, Server, free_port
from slb import Api, upload_expiring as upload

ALERT_RULES = ROOT / "docs" / "prometheus" / "slbcert-alerts.yml"


def sample(text, name, **labels):
    """The value of the one series `name{labels...}` in an exposition."""
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} {labels} in:\n{text}")


def sample_plain(text, name):
    """The value of the one series `name` (no labels) in an exposition."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split(" ")[1])
    raise AssertionError(f"no {name} in:\n{text}")


def test_metrics_count_requests_and_tell_when_each_certificate_expires(server, account):
    api = Api("v3", server, account)
    soon = upload(api, 5, "soon.example.com")
    later = upload(api, 20, "later.example.com")
    lb = api("CreateLoadBalancer", LoadBalancerName="web")["LoadBalancerId"]
    api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443,
        BackendServerPort=80, Bandwidth=-1, HealthCheck="on", ServerCertificateId=soon)
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)
    with pytest.raises(Exception):
        api("DeleteServerCertificate", ServerCertificateId=soon)  # bound: refused
    answer = server.metrics()
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/openmetrics-text")
    text = answer.text
    assert text.endswith("# EOF\n")
    assert sample(text, "slbcert_requests_total", product="Slb",
                  action="UploadServerCertificate", code="Success") == 2
    assert sample(text, "slbcert_requests_total", action="DeleteServerCertificate",
                  code="CertificateAndPrivateKeyIsRefered") == 1
    assert sample(text, "slbcert_request_duration_seconds_count", product="Slb") >= 6
    left = sample(text, "slbcert_certificate_expiry_seconds", certificate_id=soon,
                  common_name="soon.example.com", account=account["AccountId"],
                  region="cn-hangzhou", kind="server", bound="true")
    assert 4 * 86400 < left <= 5 * 86400
    assert sample(text, "slbcert_certificate_expiry_seconds", certificate_id=later,
                  bound="false") > 19 * 86400
    assert sample(text, "slbcert_certificates_expiring", within="7d") == 1
    assert sample(text, "slbcert_certificates_expiring", within="30d") == 2
    assert sample(text, "slbcert_certificates", account=account["AccountId"], kind="server") == 2
    # Every write was committed: 2 uploads, the load balancer, its listener, its start.
    commits = sample_plain(text, "slbcert_write_batch_writes_count")
    assert sample_plain(text, "slbcert_write_batch_writes_sum") >= 5
    assert sample_plain(text, "slbcert_write_commit_duration_seconds_count") == commits >= 1
    assert 0 < sample_plain(text, "slbcert_write_commit_duration_seconds_sum") < commits * 5
    # Each signed request's nonce is remembered (the six above); none found the cache full.
    assert sample_plain(text, "slbcert_nonce_cache_entries") >= 6
    assert sample_plain(text, "slbcert_nonce_cache_full_total") == 0


def test_the_series_cap_keeps_the_soonest_and_the_counts_cover_every_certificate(tmp_path):
    server = Server(tmp_path, args=["--metrics-certificate-series", "1"]).start()
    try:
        api = Api("v3", server, server.credentials)
        later = upload(api, 20, "later.example.com")
        soon = upload(api, 3, "soon.example.com")
        upload(api, 90, "far.example.com")
        other = server.create_account("other")
        upload(Api("v3", server, other), 40, "theirs.example.com")
        text = server.metrics().text
        series = [line for line in text.splitlines()
                  if line.startswith("slbcert_certificate_expiry_seconds{")]
        assert len(series) == 1 and f'certificate_id="{soon}"' in series[0], series
        assert later not in text
        assert sample(text, "slbcert_certificates", account=server.credentials["AccountId"],
                      region="cn-hangzhou", kind="server") == 3
        assert sample(text, "slbcert_certificates", account=other["AccountId"]) == 1
        assert sample(text, "slbcert_certificates_expiring", within="7d") == 1
        assert sample(text, "slbcert_certificates_expiring", within="30d") == 2
    finally:
        server.stop()


def test_the_api_address_shows_metrics_only_behind_a_token(tmp_path, server, account):
    upload(Api("v3", server, account), 5, "tenant.example.com")
    assert server.get("/metrics", timeout=5).status_code == 401
    wrong = requests.get(server.base_url + "/metrics", timeout=5,
                         headers={"Authorization": "Bearer metrics-token-of-the-test"})
    assert wrong.status_code == 401 and account["AccountId"] not in wrong.text
    assert account["AccountId"] in server.metrics().text
    # Without a token the API's address does not serve the page at all.
    (tmp_path / "bare").mkdir()
    bare = Server(tmp_path / "bare")
    at = bare.args.index("--metrics-token")
    del bare.args[at:at + 2]
    bare.start()
    try:
        answer = bare.get("/metrics", timeout=5)
        assert answer.status_code == 404 and "slbcert_" not in answer.text
    finally:
        bare.stop()


@pytest.mark.parametrize("flag", ["--metrics-token", "--admin-token"])
@pytest.mark.parametrize("token", ["", "short-token"])
@pytest.mark.parametrize("given", ["flag", "environment"])
def test_empty_or_short_tokens_refuse_to_start(tmp_path, flag, token, given):
    import os
    env = dict(os.environ)
    args = [BINARY, "serve", "--listen", f"127.0.0.1:{free_port()}", "--data-dir",
            str(tmp_path / "data")]
    if given == "flag":
        args += [flag, token]
    else:
        env["SLBCERT_" + flag[2:].upper().replace("-", "_")] = token
    out = subprocess.run(args, capture_output=True, text=True, timeout=30, env=env)
    assert out.returncode != 0, out
    assert f"{flag}: a token must be at least 16 printable characters" in out.stderr
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())
    if token:
        assert token not in out.stderr


def test_metrics_on_their_own_address_behind_a_token(tmp_path):
    port = free_port()
    server = Server(tmp_path, args=["--metrics-listen", f"127.0.0.1:{port}",
                                    "--metrics-token", "s3cret-s3cret-s3cret"]).start()
    try:
        assert server.metrics().status_code == 404
        url = f"http://127.0.0.1:{port}/metrics"
        assert requests.get(url, timeout=5).status_code == 401
        wrong = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5)
        assert wrong.status_code == 401
        right = requests.get(url, headers={"Authorization": "Bearer s3cret-s3cret-s3cret"}, timeout=5)
        assert right.status_code == 200 and 'slbcert_certificates_expiring{within="7d"} 0' in right.text
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 404
    finally:
        server.stop()


@pytest.mark.skipif(shutil.which("prometheus") is None,
                    reason="Prometheus is not installed (scripts/test installs Debian's as root)")
def test_a_real_prometheus_scrapes_the_expiry_and_the_readme_rule_fires(tmp_path):
    metrics_port, prometheus_port = free_port(), free_port()
    server = Server(tmp_path, args=["--metrics-listen", f"127.0.0.1:{metrics_port}",
                                    "--metrics-token", "scrape-me-scrape-me"]).start()
    config = tmp_path / "prometheus.yml"
    config.write_text(f"""
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["{ALERT_RULES}"]
scrape_configs:
  - job_name: slbcert
    authorization: {{credentials: scrape-me-scrape-me}}
    static_configs: [{{targets: ["127.0.0.1:{metrics_port}"]}}]
""")
    prometheus = subprocess.Popen(
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{prometheus_port}"],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prometheus.log", "wb"))
    try:
        api = Api("v1", server, server.credentials)
        soon = upload(api, 3, "soon.example.com")
        upload(api, 60, "far.example.com")
        base = f"http://127.0.0.1:{prometheus_port}/api/v1"
        deadline = time.time() + 60
        value = alerts = None
        while time.time() < deadline:
            try:
                found = requests.get(f"{base}/query", timeout=5, params={
                    "query": f'slbcert_certificate_expiry_seconds{{certificate_id="{soon}"}}'}).json()
                results = found["data"]["result"]
                value = float(results[0]["value"][1]) if results else None
                alerts = [a for a in requests.get(f"{base}/alerts", timeout=5).json()["data"]["alerts"]
                          if a["labels"]["alertname"] == "CertificateExpiresWithin7Days"]
                if value is not None and alerts and alerts[0]["state"] == "firing":
                    break
            except (requests.ConnectionError, requests.JSONDecodeError, KeyError):
                pass  # Prometheus is starting: not listening yet, or answering 503 in text
            time.sleep(0.5)
        assert value is not None and 2 * 86400 < value <= 3 * 86400, \
            (tmp_path / "prometheus.log").read_text()[-2000:]
        # The rule fires on the certificate that expires within 7 days, and only on it.
        assert [a["labels"]["certificate_id"] for a in alerts] == [soon]
        assert alerts[0]["state"] == "firing"
        assert "soon.example.com" in alerts[0]["annotations"]["summary"]
    finally:
        prometheus.terminate()
        prometheus.wait(timeout=20)
        server.stop()
