"""The pytest fixtures: `slbcert_server` (one server per test session) and `slbcert` (a fresh
account of it per test, so that tests never see each other's resources)."""

import pytest

from .server import ENVIRONMENT_VARIABLE, SlbcertServer


def pytest_addoption(parser):
    group = parser.getgroup("slbcert")
    group.addoption("--slbcert-bin", default=None,
                    help=f"the slbcert binary to run (default: ${ENVIRONMENT_VARIABLE}, else the "
                         "one the slbcert wheel installed, else PATH)")
    group.addoption("--slbcert-region", default="cn-hangzhou",
                    help="the region the fixtures' clients use (default cn-hangzhou)")
    group.addoption("--slbcert-arg", action="append", default=[],
                    help="one more flag for `slbcert serve` (repeatable), e.g. "
                         "--slbcert-arg=--quota-server-certificates=0")


@pytest.fixture(scope="session")
def slbcert_server(request):
    """A running slbcert on a free loopback port with a temporary data directory, for the
    whole session: endpoint, region, account_id, access_key_id, access_key_secret, data_dir,
    new_account(), slb_client(), slb_client_v3()."""
    option = request.config.getoption
    server = SlbcertServer(binary=option("--slbcert-bin"), region=option("--slbcert-region"),
                           args=option("--slbcert-arg"))
    yield server
    server.stop()


@pytest.fixture
def slbcert(slbcert_server):
    """A new account on the session's server for this test alone (the same attributes and
    clients): whatever the test stores, no other test sees."""
    return slbcert_server.new_account()
