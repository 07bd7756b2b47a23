"""Clients of RAM and STS through their official SDKs, beside conftest's SLB ones:
aliyun-python-sdk-ram / aliyun-python-sdk-sts request classes (V1) and alibabacloud-ram20150501
/ alibabacloud-sts20150401 (V3)."""

import importlib
import json

from conftest import REGION, Failure, tea_call, tea_config, v1_call

V1_PACKAGES = {"ram": "aliyunsdkram.request.v20150501", "sts": "aliyunsdksts.request.v20150401"}
V3_PACKAGES = {"ram": "alibabacloud_ram20150501", "sts": "alibabacloud_sts20150401"}


def credentials(key_id, secret, token=None):
    """A credentials map as conftest's clients take it."""
    return {"AccessKeyId": key_id, "AccessKeySecret": secret, "SecurityToken": token}


class V1:
    """aliyun-python-sdk-core with a product's request classes (and an STS token if given)."""

    def __init__(self, product, server, creds):
        from aliyunsdkcore.auth.credentials import AccessKeyCredential, StsTokenCredential
        from aliyunsdkcore.client import AcsClient
        if creds.get("SecurityToken"):
            credential = StsTokenCredential(creds["AccessKeyId"], creds["AccessKeySecret"],
                                            creds["SecurityToken"])
        else:
            credential = AccessKeyCredential(creds["AccessKeyId"], creds["AccessKeySecret"])
        self.client = AcsClient(region_id=REGION, credential=credential, port=server.port,
                                auto_retry=False, timeout=30)
        self.package = V1_PACKAGES.get(product, "aliyunsdkslb.request.v20140515")

    def __call__(self, action, **params):
        return v1_call(self.client, self.package, action, params)


class V3:
    """The tea client of a product (ram, sts, or slb), signed V3, with an STS token if given."""

    def __init__(self, product, server, creds):
        config = tea_config(server, creds, REGION)
        if creds.get("SecurityToken"):
            config.security_token = creds["SecurityToken"]
        package = V3_PACKAGES.get(product, "alibabacloud_slb20140515")
        self.client = importlib.import_module(f"{package}.client").Client(config)
        self.models = importlib.import_module(f"{package}.models")
        self.product = product

    def __call__(self, action, **params):
        from darabonba.runtime import RuntimeOptions
        if self.product == "slb":
            params.setdefault("RegionId", REGION)
        runtime = RuntimeOptions(autoretry=False, max_attempts=0)
        if not hasattr(self.models, f"{action}Request"):
            # Actions without parameters (GetCallerIdentity) take no request model.
            from conftest import snake
            try:
                return getattr(self.client, f"{snake(action)}_with_options")(runtime).body.to_map()
            except Exception as error:
                if getattr(error, "code", None) is None:
                    raise
                raise Failure(error.code, getattr(error, "status_code", None), error.message)
        return tea_call(self.client, self.models, runtime, action, params)


def make_user(ram, name, *policies):
    """A user with an AccessKey and the given system policies; its credentials."""
    ram("CreateUser", UserName=name)
    for policy in policies:
        ram("AttachPolicyToUser", PolicyType="System", PolicyName=policy, UserName=name)
    key = ram("CreateAccessKey", UserName=name)["AccessKey"]
    return credentials(key["AccessKeyId"], key["AccessKeySecret"])


def trust_account(account_id):
    return json.dumps({"Version": "1", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"RAM": [f"acs:ram::{account_id}:root"]}}]})


def policy(*statements):
    return json.dumps({"Version": "1", "Statement": list(statements)})


def allow(actions, resource="*"):
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


def deny(actions, resource):
    return {"Effect": "Deny", "Action": actions, "Resource": resource}
