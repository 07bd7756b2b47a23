"""Running listeners against hostile clients (issue 23): memory bounded whatever an h2 peer
advertises, Host and framing handled as the RFCs say, and bounded shutdown."""

import json
import random
import signal
import socket
import ssl
import time

import h2.config
import h2.connection
import h2.events
import h2.settings
import pytest

from backends import EchoBackend, HttpBackend
from conftest import Server
from slb import Api, backends
from test_data_plane import OFFSET, api, client_context, eventually, plane, upload  # noqa: F401
from test_hardening import read_response

MIB = 1024 * 1024


def rss(pid):
    """The resident memory of process `pid`, in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def https_listener(api, backend_port, **listener):
    certificate = upload(api, "edge.example.com")
    created = api("CreateLoadBalancer")
    lb = created["LoadBalancerId"]
    api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443, Bandwidth=-1,
        BackendServerPort=backend_port, HealthCheck="off", ServerCertificateId=certificate,
        **listener)
    api("AddBackendServers", LoadBalancerId=lb,
        BackendServers=backends({"ServerId": "i-1", "ServerIp": "127.0.0.1"}))
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)
    return lb, (created["Address"], 443 + OFFSET)


def http_listener(api, backend_port):
    created = api("CreateLoadBalancer")
    lb = created["LoadBalancerId"]
    api("CreateLoadBalancerHTTPListener", LoadBalancerId=lb, ListenerPort=80, Bandwidth=-1,
        BackendServerPort=backend_port, HealthCheck="off")
    api("AddBackendServers", LoadBalancerId=lb,
        BackendServers=backends({"ServerId": "i-1", "ServerIp": "127.0.0.1"}))
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=80)
    return lb, (created["Address"], 80 + OFFSET)


def h2_socket(address):
    context = client_context()
    context.set_alpn_protocols(["h2"])
    raw = socket.create_connection(address, timeout=10)
    # A small receive buffer: what the client does not read stays in the proxy, not the kernel.
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    tls = context.wrap_socket(raw, server_hostname="edge.example.com")
    assert tls.selected_alpn_protocol() == "h2"
    return tls


def slow_reader(address, streams):
    """An h2 connection that allows the server to send without limit, asks for `streams` big
    downloads and never reads."""
    tls = h2_socket(address)
    connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    connection.initiate_connection()
    connection.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 2**31 - 1})
    connection.increment_flow_control_window(2**31 - 1 - 65535)
    for _ in range(streams):
        stream = connection.get_next_available_stream_id()
        connection.send_headers(stream, [(":method", "GET"), (":path", "/big"),
                                         (":scheme", "https"), (":authority", "edge.example.com")],
                                end_stream=True)
    tls.sendall(connection.data_to_send())
    return tls


def settled(pid, seconds=20):
    """The process's RSS once it stops growing for a second (at most `seconds`)."""
    deadline = time.time() + seconds
    last, since = rss(pid), time.time()
    while time.time() < deadline:
        time.sleep(0.2)
        now = rss(pid)
        if now > last + MIB:
            last, since = now, time.time()
        elif time.time() - since > 1.5:
            break
    return last


def test_h2_slow_readers_cannot_grow_memory_without_bound(api, plane):
    backend = HttpBackend("big")
    _, address = https_listener(api, backend.port)
    eventually(lambda: h2_socket(address).close(), seconds=10)
    pid = plane.process.pid
    before = settled(pid)
    readers = [slow_reader(address, 100) for _ in range(5)]
    after = settled(pid)
    grown = (after - before) / MIB
    # 500 stalled 8 MiB downloads: each stream may hold its send buffer (16 KiB by default)
    # and what its backend connection has read (16 KiB). Measured: 36 MiB (361 before the
    # bound; 20 connections 131 MiB).
    print(f"RSS grew {grown:.0f} MiB for 5 slow h2 connections of 100 streams")
    assert grown < 80, f"{grown:.0f} MiB for 5 slow h2 connections"
    # Others are still served meanwhile.
    from test_data_plane import http_get
    status, _, body = http_get(address, "edge.example.com")
    assert status == 200 and json.loads(body)["backend"] == "big"
    for reader in readers:
        reader.close()
    backend.stop()


def exchange(address, request):
    """Sends raw bytes over plain TCP; the status of the answer (test_hardening's reader)."""
    with socket.create_connection(address, timeout=10) as raw:
        raw.sendall(request)
        return read_response(raw)[0]


@pytest.fixture
def web(api):
    backend = HttpBackend("web")
    _, address = http_listener(api, backend.port)
    eventually(lambda: exchange(address, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
               seconds=10)
    yield backend, address
    backend.stop()


@pytest.mark.parametrize("request_bytes, status", [
    (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 400),                    # no Host
    (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n", 400),  # two
    (b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", 405),
    (b"OPTIONS * HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n"
     b"Connection: close\r\n\r\n0\r\n\r\n", 501),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n"
     b"Connection: close\r\n\r\n0\r\n\r\n", 501),
])
def test_requests_the_rfcs_refuse_are_answered_at_the_edge(web, request_bytes, status):
    backend, address = web
    before = backend.requests
    assert exchange(address, request_bytes) == status
    assert backend.requests == before, "the backend saw it"


def test_the_host_forwarded_is_the_one_the_rfcs_say(web):
    backend, address = web

    def seen(request_bytes):
        with socket.create_connection(address, timeout=10) as raw:
            raw.sendall(request_bytes)
            data = b""
            while chunk := raw.recv(65536):
                data += chunk
        return json.loads(data.partition(b"\r\n\r\n")[2])["headers"]
    # An absolute-form target's authority wins over the Host header.
    headers = seen(b"GET http://real.example/x HTTP/1.1\r\nHost: fake.example\r\n"
                   b"Connection: close\r\n\r\n")
    assert headers["host"] == "real.example"
    # Chunked exactly is forwarded; every X-Forwarded-For line is kept, the client's last.
    headers = seen(b"GET / HTTP/1.1\r\nHost: a.example\r\nX-Forwarded-For: 192.0.2.1\r\n"
                   b"X-Forwarded-For: 192.0.2.2\r\nConnection: close\r\n\r\n")
    assert headers["x-forwarded-for"] == "192.0.2.1, 192.0.2.2, 127.0.0.1"


def test_h2_authority_wins_over_a_host_header(api, plane):
    backend = HttpBackend("web")
    _, address = https_listener(api, backend.port)
    tls = eventually(lambda: h2_socket(address), seconds=10)
    # As a hostile client would: the h2 library refuses to send the mismatch unless told.
    connection = h2.connection.H2Connection(h2.config.H2Configuration(
        client_side=True, validate_outbound_headers=False))
    connection.initiate_connection()
    connection.send_headers(1, [(":method", "GET"), (":path", "/"), (":scheme", "https"),
                                (":authority", "real.example"), ("host", "fake.example")],
                            end_stream=True)
    tls.sendall(connection.data_to_send())
    body, status = b"", None
    while True:
        data = tls.recv(65536)
        assert data, "the connection closed"
        for event in connection.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived):
                status = dict(event.headers)[b":status"]
            if isinstance(event, h2.events.DataReceived):
                body += event.data
                connection.acknowledge_received_data(event.flow_controlled_length, 1)
            if isinstance(event, h2.events.StreamEnded):
                assert status == b"200"
                assert json.loads(body)["headers"]["host"] == "real.example"
                tls.close()
                backend.stop()
                return
        tls.sendall(connection.data_to_send())


class HoldingBackend(EchoBackend):
    """Echoes whatever it receives, unprefixed, for as long as the client stays."""

    def __init__(self):
        super().__init__("holding")

    def _echo(self, connection):
        with connection:
            while data := connection.recv(65536):
                connection.sendall(data)


def graceful_plane(tmp_path, grace):
    pool = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.0/24"
    server = Server(tmp_path, args=["--data-plane", "on", "--listener-port-offset", str(OFFSET),
                                    "--address-pool", pool, "--shutdown-grace", str(grace)])
    return server.start()


def held_connection(api, backend):
    """A TCP listener to `backend`, and a client connection through it that has echoed once."""
    created = api("CreateLoadBalancer")
    lb = created["LoadBalancerId"]
    api("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=9000, Bandwidth=-1,
        BackendServerPort=backend.port, HealthCheckSwitch="off")
    api("AddBackendServers", LoadBalancerId=lb,
        BackendServers=backends({"ServerId": "i-1", "ServerIp": "127.0.0.1"}))
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=9000)

    def connected():
        client = socket.create_connection((created["Address"], 9000 + OFFSET), timeout=10)
        client.sendall(b"hello")
        assert client.recv(10) == b"hello"
        return client
    return lb, eventually(connected, seconds=10)


def closed_after(client, seconds):
    """Seconds until `client` is closed by the other end (at most `seconds`)."""
    started = time.time()
    client.settimeout(seconds)
    try:
        while client.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return time.time() - started


def test_a_stopped_listeners_connections_are_cut_after_the_grace(tmp_path):
    server = graceful_plane(tmp_path, 2)
    backend = HoldingBackend()
    try:
        api = Api("v3", server, server.credentials)
        lb, client = held_connection(api, backend)
        stopped = time.time()
        api("StopLoadBalancerListener", LoadBalancerId=lb, ListenerPort=9000)
        # Still served within the grace (2 s from when the data plane saw the stop), then cut.
        client.sendall(b"again")
        assert client.recv(10) == b"again"
        closed_after(client, 15)
        elapsed = time.time() - stopped
        assert 1.9 < elapsed < 8, elapsed
    finally:
        server.stop()
        backend.stop()


def test_shutdown_waits_for_data_plane_connections_only_as_long_as_the_grace(tmp_path):
    server = graceful_plane(tmp_path, 2)
    backend = HoldingBackend()
    try:
        _, client = held_connection(Api("v3", server, server.credentials), backend)
        started = time.time()
        server.process.send_signal(signal.SIGTERM)
        assert closed_after(client, 15) < 6
        assert server.process.wait(timeout=15) == 0
        assert time.time() - started < 8
    finally:
        server.stop()
        backend.stop()


def test_sessions_resume_on_their_own_listener_only(api, plane):
    """A resumed handshake skips the certificate signature; a session of one listener must not
    let a client past another listener's client-CA check."""
    from test_data_plane import client_ca
    import certs
    backend = HttpBackend("web")
    server_certificate = upload(api, "edge.example.com")
    ca, ca_key, ca_id = client_ca(api)
    _, other_ca_key, other_ca_id = client_ca(api)
    key = certs.ec_key()
    client = certs.make_cert(key, cn="client", sans=(), issuer=ca, issuer_key=ca_key)
    context = client_context(client, key)
    addresses = []
    for ca_certificate in (ca_id, other_ca_id):
        created = api("CreateLoadBalancer")
        api("CreateLoadBalancerHTTPSListener", LoadBalancerId=created["LoadBalancerId"],
            ListenerPort=443, Bandwidth=-1, BackendServerPort=backend.port, HealthCheck="off",
            ServerCertificateId=server_certificate, CACertificateId=ca_certificate)
        api("StartLoadBalancerListener", LoadBalancerId=created["LoadBalancerId"],
            ListenerPort=443)
        addresses.append((created["Address"], 443 + OFFSET))
    own, other = addresses

    def handshake(address, session=None):
        raw = socket.create_connection(address, timeout=10)
        tls = context.wrap_socket(raw, server_hostname="edge.example.com", session=session)
        reused, session = tls.session_reused, tls.session
        tls.close()
        return reused, session
    reused, session = eventually(lambda: handshake(own), seconds=10)
    assert not reused
    assert handshake(own, session)[0], "the listener that issued the session resumes it"
    # The other listener trusts another CA: the session does not get the client past it.
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
        eventually(lambda: handshake(other, session), seconds=3)
    backend.stop()
