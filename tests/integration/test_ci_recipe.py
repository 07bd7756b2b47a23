"""The GitHub Actions step of docs/testing.md that starts slbcert, run as it is written (with a free port
instead of 8080): the fixed credentials work with the official SDK, and SIGTERM leaves nothing."""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import BINARY, ROOT, free_port, wait_until
from slb import Api


def start_step():
    """The shell lines of the documented `Start slbcert` step (docs/testing.md)."""
    guide = (ROOT / "docs" / "testing.md").read_text()
    block = re.search(r"- name: Start slbcert\n  run: \|\n((?:    .*\n)+)", guide)
    assert block, "docs/testing.md has no 'Start slbcert' step"
    return "\n".join(line[4:] for line in block.group(1).splitlines())


@pytest.mark.sqlite_only
def test_the_readme_ci_step_starts_a_server_with_the_fixed_credentials(tmp_path):
    port = free_port()
    script = start_step().replace("8080", str(port)) + "\necho $! > slbcert.pid\n"
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = dict(os.environ, PATH=f"{os.path.dirname(BINARY)}:{os.environ['PATH']}",
               TMPDIR=str(temporary))
    env.pop("SLBCERT_DATABASE_URL", None)
    done = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, timeout=60,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    pid = int((tmp_path / "slbcert.pid").read_text())
    try:
        line = json.loads((tmp_path / "slbcert.json").read_text().splitlines()[0])
        assert line["Endpoint"] == f"127.0.0.1:{port}"
        credentials = {k: line[k] for k in ("AccountId", "AccessKeyId", "AccessKeySecret")}
        assert credentials == {"AccountId": "1234567890123456",
                               "AccessKeyId": "LTAIciFixedKey000000001",
                               "AccessKeySecret": "ciFixedSecret0123456789abcdef"}

        class Endpoint:
            tls, ca_file = False, None
        Endpoint.port = port
        Api("v1", Endpoint, credentials)("DescribeServerCertificates")
    finally:
        os.kill(pid, signal.SIGTERM)
        for _ in range(200):
            if not os.path.exists(f"/proc/{pid}") or \
                    open(f"/proc/{pid}/stat").read().split()[2] == "Z":
                break
            time.sleep(0.05)
    wait_until(lambda: list(temporary.iterdir()) == [], timeout=5,
               what="the stopped server's temporary files to be gone")
