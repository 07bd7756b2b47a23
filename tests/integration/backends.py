"""Real backends for the data plane tests: HTTP servers that answer with what they received,
and a TCP echo server, on loopback addresses."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


BIG = 8 * 1024 * 1024


class QuietServer(ThreadingHTTPServer):
    """Clients that hang up (the slow-reader tests close theirs) are not errors here."""
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass


class HttpBackend:
    """Answers every request with JSON {"backend": name, "path", "headers"}; `/slow` waits a
    second and a half first; `/big` answers BIG bytes instead."""

    def __init__(self, name, host="127.0.0.1", port=0):
        self.name, self.host = name, host
        self.requests = 0
        # Set when a /slow request reaches this backend (tests wait for it, not for a time).
        self.slow_started = threading.Event()
        self._start(port)

    def _start(self, port):
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):
                if self.path.startswith("/big"):
                    # 8 MiB, written as the proxy takes it (a slow reader's download).
                    self.send_response(200)
                    self.send_header("Content-Length", str(BIG))
                    self.end_headers()
                    chunk = b"x" * 65536
                    try:
                        for _ in range(BIG // len(chunk)):
                            self.wfile.write(chunk)
                    except OSError:
                        pass
                    return
                if self.path.startswith("/slow"):
                    backend.slow_started.set()
                    time.sleep(1.5)  # the backend's own slowness, not a wait
                backend.requests += 1
                body = json.dumps({"backend": backend.name, "path": self.path,
                                   "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = QuietServer((self.host, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def restart(self):
        self._start(self.port)


class EchoBackend:
    """A TCP server that sends back what it receives, prefixed with its name."""

    def __init__(self, name, host="127.0.0.1"):
        self.name = name
        self.socket = socket.socket()
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, 0))
        self.socket.listen()
        self.port = self.socket.getsockname()[1]
        # Connections accepted so far.
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._echo, args=(connection,), daemon=True).start()

    def _echo(self, connection):
        with connection:
            data = connection.recv(65536)
            connection.sendall(self.name.encode() + b":" + data)

    def stop(self):
        self.socket.close()


class UdpEchoBackend:
    """A UDP server that answers each datagram with its name and the datagram, and `pong` to a
    health check's `ping`; it counts the datagrams it received."""

    def __init__(self, name, host="127.0.0.1"):
        self.name = name
        self.received = 0
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind((host, 0))
        self.port = self.socket.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                data, peer = self.socket.recvfrom(65535)
            except OSError:
                return
            answer = b"pong" if data == b"ping" else self.name.encode() + b":" + data
            if data != b"ping":
                self.received += 1
            try:
                self.socket.sendto(answer, peer)
            except OSError:
                return

    def stop(self):
        self.socket.close()
