"""Uploading clients in the background, for tests that break something under load: what was
acknowledged, and how the rest was refused."""

import threading
import time

import certs
from conftest import V3, Failure


class Uploaders:
    def __init__(self, server, account, clients=4):
        key = certs.ec_key()
        self.params = dict(ServerCertificate=certs.cert_pem(certs.make_cert(key)),
                           PrivateKey=certs.key_pem(key))
        self.server, self.account = server, account
        self.acknowledged, self.refusals = [], []
        self.lock, self.stopping = threading.Lock(), threading.Event()
        self.workers = [threading.Thread(target=self._upload) for _ in range(clients)]

    def _upload(self):
        client = V3(self.server, self.account)
        while not self.stopping.is_set():
            try:
                made = client.call("UploadServerCertificate", **self.params)["ServerCertificateId"]
                with self.lock:
                    self.acknowledged.append(made)
            except Failure as failure:
                with self.lock:
                    self.refusals.append((failure.code, failure.status))
                time.sleep(0.02)

    def __enter__(self):
        for worker in self.workers:
            worker.start()
        return self

    def __exit__(self, *_):
        self.stopping.set()
        for worker in self.workers:
            worker.join(timeout=30)
