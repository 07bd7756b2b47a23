"""Starting `slbcert serve --ephemeral` on a free loopback port, reading the credentials it
prints, and making more accounts on it."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
import urllib.request

DEFAULT_REGION = "cn-hangzhou"
ENVIRONMENT_VARIABLE = "SLBCERT_BIN"


def find_binary(explicit=None):
    """The slbcert binary: `explicit`, else $SLBCERT_BIN, else the one this wheel installed
    beside the interpreter, else the first on PATH."""
    for candidate in (explicit, os.environ.get(ENVIRONMENT_VARIABLE)):
        if candidate:
            return candidate
    scripts = os.path.join(sysconfig.get_path("scripts"), "slbcert")
    beside = os.path.join(os.path.dirname(sys.executable), "slbcert")
    for candidate in (scripts, beside):
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("slbcert")
    if found:
        return found
    raise FileNotFoundError(
        "no slbcert binary: install the slbcert wheel, or give --slbcert-bin or "
        f"${ENVIRONMENT_VARIABLE}")


class Account:
    """One account's credentials on a server, and clients for it."""

    def __init__(self, server, account_id, access_key_id, access_key_secret):
        self.endpoint = server.endpoint
        self.region = server.region
        self.data_dir = server.data_dir
        self.account_id = account_id
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret

    def __repr__(self):
        # Never the secret.
        return f"Account({self.account_id}, {self.access_key_id}, endpoint={self.endpoint})"

    def slb_client(self):
        """aliyun-python-sdk-core's AcsClient, its SLB endpoint set to this server (plain
        HTTP): request classes of aliyun-python-sdk-slb work with it unchanged."""
        from aliyunsdkcore.client import AcsClient
        host, port = self.endpoint.rsplit(":", 1)
        client = AcsClient(self.access_key_id, self.access_key_secret, self.region,
                           port=int(port), auto_retry=False)
        client.add_endpoint(self.region, "Slb", host)
        return client

    def slb_client_v3(self):
        """alibabacloud_slb20140515's Client (V3 signature) pointed at this server."""
        from alibabacloud_slb20140515.client import Client
        from alibabacloud_tea_openapi.models import Config
        return Client(Config(access_key_id=self.access_key_id,
                             access_key_secret=self.access_key_secret, region_id=self.region,
                             endpoint=self.endpoint, protocol="http"))


class SlbcertServer(Account):
    """`slbcert serve --ephemeral` on a free loopback port: its first account's credentials,
    its endpoint, `new_account()`; `stop()` removes everything it stored."""

    def __init__(self, binary=None, region=DEFAULT_REGION, args=(), timeout=30):
        self.binary = find_binary(binary)
        self.region = region
        env = dict(os.environ)
        env.pop("SLBCERT_DATABASE_URL", None)
        env.pop("SLBCERT_DATA_DIR", None)
        # The data plane serves listeners on their load balancers' addresses: off unless asked.
        data_plane = [] if any(a.startswith("--data-plane") for a in args) else [
            "--data-plane", "off"]
        self.process = subprocess.Popen(
            [self.binary, "serve", "--ephemeral", "--listen", "127.0.0.1:0", *data_plane, *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=env)
        self._log = []
        threading.Thread(target=self._keep_log, daemon=True).start()
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=timeout)
            raise RuntimeError("slbcert serve exited before it listened:\n" + self.log())
        first = json.loads(line)
        self.endpoint = first["Endpoint"]
        self.data_dir = first["DataDir"]
        super().__init__(self, first["AccountId"], first["AccessKeyId"], first["AccessKeySecret"])
        self._wait_healthy(timeout)

    def _keep_log(self):
        for line in self.process.stderr:
            self._log.append(line)

    def log(self):
        """What the server logged so far."""
        return "".join(self._log)

    def _wait_healthy(self, timeout):
        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://{self.endpoint}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if time.time() > deadline or self.process.poll() is not None:
                raise RuntimeError("slbcert did not become healthy:\n" + self.log())
            time.sleep(0.05)

    def new_account(self, name=""):
        """Another account on this server, with its own key pair (an `Account`)."""
        out = subprocess.run(
            [self.binary, "account", "create", "--data-dir", self.data_dir, "--name", name,
             "--json"], capture_output=True, text=True, check=True,
            env={k: v for k, v in os.environ.items() if k != "SLBCERT_DATABASE_URL"})
        made = json.loads(out.stdout)
        return Account(self, made["AccountId"], made["AccessKeyId"], made["AccessKeySecret"])

    def stop(self):
        """Stops the server (SIGTERM); its temporary data directory goes with it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.stop()
