"""Every action the official SDKs know is served: each of aliyun-python-sdk-slb's request classes
(V1 signature) and each of alibabacloud_slb20140515's operations (V3), called with no
parameters but the region, answers either success or an Alibaba-style refusal that names what
is missing or wrong, never `InvalidAction.NotFound` and never a 5xx."""

import importlib
import pkgutil

import pytest

from conftest import V1, V3, Failure

V1_PACKAGE = "aliyunsdkslb.request.v20140515"


def v1_actions():
    package = importlib.import_module(V1_PACKAGE)
    return sorted(name[:-len("Request")] for _, name, _ in pkgutil.iter_modules(package.__path__)
                  if name.endswith("Request"))


def v3_actions():
    models = importlib.import_module("alibabacloud_slb20140515.models")
    return sorted(name[:-len("Request")] for name in dir(models)
                  if name.endswith("Request") and not name.endswith("ShrinkRequest")
                  and "Request" not in name[:-len("Request")])


def test_the_sdks_know_93_actions_and_the_same_ones():
    assert len(v1_actions()) == 93
    assert v1_actions() == v3_actions()


def answered(call):
    """Success, or a refusal that is the caller's to fix: never a missing action or a 5xx."""
    try:
        call()
    except Failure as failure:
        assert failure.code != "InvalidAction.NotFound", failure
        assert failure.status is not None and failure.status < 500, failure
        assert failure.message, failure


@pytest.mark.parametrize("action", v1_actions())
def test_every_action_through_the_v1_sdk(server, account, action):
    client = V1(server, account)
    answered(lambda: client.call(action))


@pytest.mark.parametrize("action", v3_actions())
def test_every_action_through_the_v3_sdk(server, account, action):
    client = V3(server, account)
    answered(lambda: client.call(action))
