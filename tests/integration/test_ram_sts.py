"""Who may do what, through the official RAM and STS clients (aliyun-python-sdk-ram/-sts V1,
alibabacloud-ram20150501/-sts20150401 V3) and the SLB clients used with users' keys and role
sessions: policies allow and deny before anything runs, and refusals change nothing."""

import glob
import json
import pathlib
import time

import pytest

import certs
from conftest import Server, expect_failure
from rawclient import RawClient, utc_timestamp
from ram import V1, V3, allow, credentials, deny, make_user, policy, trust_account


@pytest.fixture(params=["v1", "v3"])
def kind(request):
    return request.param


def client(kind, product, server, creds):
    return (V1 if kind == "v1" else V3)(product, server, creds)


def upload(slb):
    key = certs.rsa_key()
    cert = certs.make_cert(key, cn="www.example.com", sans=("www.example.com",))
    return slb("UploadServerCertificate", ServerCertificate=certs.cert_pem(cert),
               PrivateKey=certs.key_pem(key))["ServerCertificateId"]


def certificate_ids(slb):
    found = slb("DescribeServerCertificates")
    return sorted(c["ServerCertificateId"] for c in found["ServerCertificates"]["ServerCertificate"])


def audit_until(server, predicate, timeout=10):
    """The audit trail once `predicate(lines)` holds (refusals are stored within moments)."""
    deadline = time.time() + timeout
    while True:
        lines = server.audit_lines()
        if predicate(lines) or time.time() > deadline:
            return lines
        time.sleep(0.2)


def test_users_keys_groups_and_policies_have_the_official_shapes(server, account, kind):
    ram = client(kind, "ram", server, account)
    created = ram("CreateUser", UserName="alice", DisplayName="Alice", Email="a@example.com")
    user = created["User"]
    assert user["UserName"] == "alice" and user["DisplayName"] == "Alice"
    assert user["UserId"].isdigit() and len(user["UserId"]) == 16
    assert user["CreateDate"].endswith("Z")
    assert ram("GetUser", UserName="alice")["User"]["Email"] == "a@example.com"
    listed = ram("ListUsers")
    assert [u["UserName"] for u in listed["Users"]["User"]] == ["alice"]
    assert listed["IsTruncated"] is False
    ram("UpdateUser", UserName="alice", NewUserName="alice2", NewComments="renamed")
    assert ram("GetUser", UserName="alice2")["User"]["Comments"] == "renamed"

    key = ram("CreateAccessKey", UserName="alice2")["AccessKey"]
    assert key["Status"] == "Active" and key["AccessKeyId"].startswith("LTAI")
    assert len(key["AccessKeySecret"]) == 30
    keys = ram("ListAccessKeys", UserName="alice2")["AccessKeys"]["AccessKey"]
    assert [k["AccessKeyId"] for k in keys] == [key["AccessKeyId"]]
    assert "AccessKeySecret" not in keys[0]

    document = policy(allow(["slb:Describe*"]))
    made = ram("CreatePolicy", PolicyName="read-certs", PolicyDocument=document,
               Description="reads")["Policy"]
    assert (made["PolicyType"], made["DefaultVersion"]) == ("Custom", "v1")
    second = policy(allow(["slb:Describe*", "slb:List*"]))
    version = ram("CreatePolicyVersion", PolicyName="read-certs", PolicyDocument=second,
                  SetAsDefault=True)["PolicyVersion"]
    assert (version["VersionId"], version["IsDefaultVersion"]) == ("v2", True)
    got = ram("GetPolicy", PolicyName="read-certs", PolicyType="Custom")
    assert got["DefaultPolicyVersion"]["VersionId"] == "v2"
    assert json.loads(got["DefaultPolicyVersion"]["PolicyDocument"]) == json.loads(second)
    versions = ram("ListPolicyVersions", PolicyName="read-certs", PolicyType="Custom")
    assert [v["VersionId"] for v in versions["PolicyVersions"]["PolicyVersion"]] == ["v1", "v2"]
    ram("SetDefaultPolicyVersion", PolicyName="read-certs", VersionId="v1")

    ram("CreateGroup", GroupName="ops", Comments="operators")
    ram("AddUserToGroup", GroupName="ops", UserName="alice2")
    ram("AttachPolicyToGroup", PolicyType="Custom", PolicyName="read-certs", GroupName="ops")
    ram("AttachPolicyToUser", PolicyType="System", PolicyName="AliyunSLBReadOnlyAccess",
        UserName="alice2")
    attached = ram("ListPoliciesForUser", UserName="alice2")["Policies"]["Policy"]
    assert [(p["PolicyName"], p["PolicyType"]) for p in attached] == \
        [("AliyunSLBReadOnlyAccess", "System")]
    groups = ram("ListGroupsForUser", UserName="alice2")["Groups"]["Group"]
    assert [g["GroupName"] for g in groups] == ["ops"]
    system = ram("ListPolicies", PolicyType="System")["Policies"]["Policy"]
    names = {p["PolicyName"] for p in system}
    assert {"AdministratorAccess", "AliyunSLBFullAccess", "AliyunSLBReadOnlyAccess",
            "AliyunRAMFullAccess", "AliyunSTSAssumeRoleAccess"} <= names

    # The documented refusals, with RAM's codes and statuses.
    expect_failure(lambda: ram("CreateUser", UserName="alice2"), "EntityAlreadyExists.User", 409)
    expect_failure(lambda: ram("GetUser", UserName="nobody"), "EntityNotExist.User", 404)
    expect_failure(lambda: ram("CreateUser", UserName="bad name!"),
                   "InvalidParameter.UserName.InvalidChars", 400)
    expect_failure(lambda: ram("CreatePolicy", PolicyName="broken", PolicyDocument='{"Version":"1"}'),
                   "MalformedPolicyDocument", 400, contains="Statement")
    expect_failure(lambda: ram("DeleteUser", UserName="alice2"), "DeleteConflict.User.AccessKey", 409)
    expect_failure(lambda: ram("DeletePolicy", PolicyName="read-certs"),
                   "DeleteConflict.Policy.Version", 409)
    expect_failure(lambda: ram("DeletePolicyVersion", PolicyName="read-certs", VersionId="v1"),
                   "DeleteConflict.Policy.Version.Default", 409)
    expect_failure(lambda: ram("AttachPolicyToUser", PolicyType="System",
                               PolicyName="AliyunSLBReadOnlyAccess", UserName="alice2"),
                   "EntityAlreadyExists.User.Policy", 409)
    ram("CreateAccessKey", UserName="alice2")
    expect_failure(lambda: ram("CreateAccessKey", UserName="alice2"),
                   "LimitExceeded.User.AccessKey", 409)

    # Taken apart in RAM's order, the user goes.
    for k in ram("ListAccessKeys", UserName="alice2")["AccessKeys"]["AccessKey"]:
        ram("DeleteAccessKey", UserName="alice2", UserAccessKeyId=k["AccessKeyId"])
    ram("DetachPolicyFromUser", PolicyType="System", PolicyName="AliyunSLBReadOnlyAccess",
        UserName="alice2")
    ram("RemoveUserFromGroup", GroupName="ops", UserName="alice2")
    ram("DeleteUser", UserName="alice2")
    assert ram("ListUsers")["Users"]["User"] == []


def test_a_read_only_user_describes_and_cannot_upload(server, account, kind):
    root_slb = client(kind, "slb", server, account)
    existing = upload(root_slb)
    ram = client(kind, "ram", server, account)
    reader = make_user(ram, "reader", "AliyunSLBReadOnlyAccess")
    slb = client(kind, "slb", server, reader)
    assert certificate_ids(slb) == [existing]
    refused = expect_failure(lambda: upload(slb), "Forbidden.RAM", 403)
    assert "User not authorized to operate on the specified resource" in refused.message
    expect_failure(lambda: slb("DeleteServerCertificate", ServerCertificateId=existing),
                   "Forbidden.RAM", 403)
    # Nothing changed, and RAM itself is out of reach of this user.
    assert certificate_ids(root_slb) == [existing]
    expect_failure(lambda: client(kind, "ram", server, reader)("CreateUser", UserName="x"),
                   "Forbidden.RAM", 403)
    lines = audit_until(server, lambda lines: sum(
        line.get("error_code") == "Forbidden.RAM" for line in lines) >= 3)
    refusals = [line for line in lines if line.get("error_code") == "Forbidden.RAM"]
    assert {line["action"] for line in refusals} >= {"UploadServerCertificate",
                                                     "DeleteServerCertificate", "CreateUser"}
    assert all(line["principal"] == "user/reader" for line in refusals)
    assert all(line["access_key_id"] == reader["AccessKeyId"] for line in refusals)
    made = [line for line in lines if line["action"] == "CreateUser" and line["outcome"] == "success"]
    assert made[0]["principal"] == "root"


def test_a_renewal_bot_rotates_a_listener_certificate_and_cannot_delete_the_load_balancer(
        server, account, kind):
    root = client(kind, "slb", server, account)
    first = upload(root)
    lb = root("CreateLoadBalancer", LoadBalancerName="web")["LoadBalancerId"]
    root("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443,
         BackendServerPort=80, Bandwidth=-1, HealthCheck="on", ServerCertificateId=first)
    ram = client(kind, "ram", server, account)
    ram("CreatePolicy", PolicyName="renew", PolicyDocument=policy(
        allow(["slb:UploadServerCertificate", "slb:SetLoadBalancerHTTPSListenerAttribute"])))
    ram("CreateUser", UserName="renewer")
    ram("AttachPolicyToUser", PolicyType="Custom", PolicyName="renew", UserName="renewer")
    key = ram("CreateAccessKey", UserName="renewer")["AccessKey"]
    bot = client(kind, "slb", server, credentials(key["AccessKeyId"], key["AccessKeySecret"]))
    second = upload(bot)
    bot("SetLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb, ListenerPort=443,
        ServerCertificateId=second)
    expect_failure(lambda: bot("DeleteLoadBalancer", LoadBalancerId=lb), "Forbidden.RAM", 403)
    expect_failure(lambda: bot("DescribeLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb,
                               ListenerPort=443), "Forbidden.RAM", 403)
    listener = root("DescribeLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb,
                    ListenerPort=443)
    assert listener["ServerCertificateId"] == second
    assert root("DescribeLoadBalancerAttribute", LoadBalancerId=lb)["LoadBalancerId"] == lb


def test_a_deny_on_one_certificate_protects_that_one_only(server, account, kind):
    root = client(kind, "slb", server, account)
    keep, other = upload(root), upload(root)
    ram = client(kind, "ram", server, account)
    ram("CreatePolicy", PolicyName="keep-one", PolicyDocument=policy(
        deny("slb:DeleteServerCertificate", f"acs:slb:*:*:certificate/{keep}")))
    admin = make_user(ram, "admin", "AliyunSLBFullAccess")
    ram("AttachPolicyToUser", PolicyType="Custom", PolicyName="keep-one", UserName="admin")
    slb = client(kind, "slb", server, admin)
    expect_failure(lambda: slb("DeleteServerCertificate", ServerCertificateId=keep),
                   "Forbidden.RAM", 403)
    slb("DeleteServerCertificate", ServerCertificateId=other)
    assert certificate_ids(root) == [keep]


def test_a_disabled_key_answers_its_own_code_at_once(server, account, kind):
    ram = client(kind, "ram", server, account)
    user = make_user(ram, "worker", "AliyunSLBReadOnlyAccess")
    slb = client(kind, "slb", server, user)
    certificate_ids(slb)  # verified once: the key is in the server's key cache
    ram("UpdateAccessKey", UserName="worker", UserAccessKeyId=user["AccessKeyId"],
        Status="Inactive")
    expect_failure(lambda: certificate_ids(slb), "InvalidAccessKeyId.Inactive", 400,
                   contains="Specified access key is disabled.")
    ram("UpdateAccessKey", UserName="worker", UserAccessKeyId=user["AccessKeyId"], Status="Active")
    certificate_ids(slb)
    ram("DeleteAccessKey", UserName="worker", UserAccessKeyId=user["AccessKeyId"])
    expect_failure(lambda: certificate_ids(slb), "InvalidAccessKeyId.NotFound", 404)


def test_roles_sessions_and_tokens(server, account, kind, tmp_path):
    ram = client(kind, "ram", server, account)
    account_id = account["AccountId"]
    role = ram("CreateRole", RoleName="cert-reader", AssumeRolePolicyDocument=trust_account(account_id),
               MaxSessionDuration=7200)["Role"]
    assert role["Arn"] == f"acs:ram::{account_id}:role/cert-reader"
    assert role["RoleId"].isdigit() and role["MaxSessionDuration"] == 7200
    assert [r["RoleName"] for r in ram("ListRoles")["Roles"]["Role"]] == ["cert-reader"]
    ram("AttachPolicyToRole", PolicyType="System", PolicyName="AliyunSLBReadOnlyAccess",
        RoleName="cert-reader")
    user = make_user(ram, "ci", "AliyunSTSAssumeRoleAccess")
    sts = client(kind, "sts", server, user)
    # The account's own key may not assume roles; nor may a user without sts:AssumeRole.
    expect_failure(lambda: client(kind, "sts", server, account)(
        "AssumeRole", RoleArn=role["Arn"], RoleSessionName="root"), "NoPermission", 403,
        contains="Roles may not be assumed by root accounts.")
    nobody = make_user(ram, "nobody")
    expect_failure(lambda: client(kind, "sts", server, nobody)(
        "AssumeRole", RoleArn=role["Arn"], RoleSessionName="x1"), "NoPermission", 403)
    expect_failure(lambda: sts("AssumeRole", RoleArn=role["Arn"], RoleSessionName="s1",
                               DurationSeconds=7201), "InvalidParameter.DurationSeconds", 400)
    expect_failure(lambda: sts("AssumeRole", RoleArn=f"acs:ram::{account_id}:role/none",
                               RoleSessionName="s1"), "EntityNotExist.Role", 404)
    expect_failure(lambda: sts("AssumeRole", RoleArn=role["Arn"], RoleSessionName="s1",
                               Policy='{"Version":"1"}'), "InvalidParameter.PolicyGrammar", 400)

    assumed = sts("AssumeRole", RoleArn=role["Arn"], RoleSessionName="build-42",
                  DurationSeconds=900)
    issued = assumed["Credentials"]
    assert issued["AccessKeyId"].startswith("STS.")
    assert assumed["AssumedRoleUser"]["AssumedRoleId"] == f"{role['RoleId']}:build-42"
    session = credentials(issued["AccessKeyId"], issued["AccessKeySecret"], issued["SecurityToken"])
    who = client(kind, "sts", server, session)("GetCallerIdentity")
    assert who["IdentityType"] == "AssumedRoleUser"
    assert who["Arn"] == f"acs:ram::{account_id}:assumed-role/cert-reader/build-42"
    assert who["AccountId"] == account_id and who["RoleId"] == role["RoleId"]
    assert client(kind, "sts", server, user)("GetCallerIdentity")["IdentityType"] == "RAMUser"
    slb = client(kind, "slb", server, session)
    assert certificate_ids(slb) == []
    expect_failure(lambda: upload(slb), "Forbidden.RAM", 403)
    # An inline policy narrows the role: what both allow, nothing more.
    narrowed = sts("AssumeRole", RoleArn=role["Arn"], RoleSessionName="narrow",
                   Policy=policy(allow("slb:DescribeRegions")))["Credentials"]
    narrow = client(kind, "slb", server, credentials(
        narrowed["AccessKeyId"], narrowed["AccessKeySecret"], narrowed["SecurityToken"]))
    narrow("DescribeRegions")
    expect_failure(lambda: certificate_ids(narrow), "Forbidden.RAM", 403)

    # Tokens: missing, malformed, someone else's.
    raw = RawClient(server.port, issued["AccessKeyId"], issued["AccessKeySecret"])
    cases = [
        ({}, "MissingSecurityToken"),
        ({"SecurityToken": issued["SecurityToken"][:-4] + "AAAA"}, "InvalidSecurityToken.Malformed"),
        ({"SecurityToken": "garbage"}, "InvalidSecurityToken.Malformed"),
        ({"SecurityToken": narrowed["SecurityToken"]}, "InvalidSecurityToken.MismatchWithAccessKey"),
        ({"SecurityToken": issued["SecurityToken"]}, None),
    ]
    for extra, code in cases:
        answer = raw.v1("DescribeServerCertificates", extra_common=extra)
        if code:
            assert (answer.status, answer.json()["Code"]) == (400, code), answer.text
        else:
            assert answer.status == 200, answer.text

    # Sessions survive a restart (nothing about them is stored: the token is signed).
    server.restart()
    assert certificate_ids(client(kind, "slb", server, session)) == []


# libfaketime, preloaded through env (which execs, so the server gets the test's signals; the
# faketime command would keep them).
LIBFAKETIME = next(iter(glob.glob("/usr/lib/*/faketime/libfaketime.so.1")), None)


@pytest.mark.skipif(LIBFAKETIME is None,
                    reason="libfaketime is not installed (scripts/test installs faketime as root)")
def test_an_expired_token_is_refused(tmp_path):
    server = Server(tmp_path).start()
    try:
        account = server.credentials
        ram = V3("ram", server, account)
        ram("CreateRole", RoleName="short", AssumeRolePolicyDocument=trust_account(account["AccountId"]))
        ram("AttachPolicyToRole", PolicyType="System", PolicyName="AdministratorAccess",
            RoleName="short")
        user = make_user(ram, "ci", "AliyunSTSAssumeRoleAccess")
        issued = V3("sts", server, user)("AssumeRole", RoleSessionName="brief", DurationSeconds=900,
                                          RoleArn=f"acs:ram::{account['AccountId']}:role/short")
        issued = issued["Credentials"]
        server.stop()
        # The same store, 20 minutes later: the session's 15 minutes are over.
        later = Server(tmp_path, data_dir=server.data_dir, wrapper=(
            "env", f"LD_PRELOAD={LIBFAKETIME}", "FAKETIME=+20m", "FAKETIME_DONT_FAKE_MONOTONIC=1"))
        later.start()
        try:
            raw = RawClient(later.port, issued["AccessKeyId"], issued["AccessKeySecret"])
            answer = raw.v1("DescribeServerCertificates", timestamp=utc_timestamp(20 * 60),
                            extra_common={"SecurityToken": issued["SecurityToken"]})
            assert (answer.status, answer.json()["Code"]) == (400, "InvalidSecurityToken.Expired")
            # The user's own key still works then.
            raw_user = RawClient(later.port, user["AccessKeyId"], user["AccessKeySecret"])
            answer = raw_user.v1("GetCallerIdentity", version="2015-04-01",
                                 timestamp=utc_timestamp(20 * 60), region=False)
            assert answer.status == 200 and answer.json()["IdentityType"] == "RAMUser", answer.text
        finally:
            later.stop()
    finally:
        server.stop()


def test_owner_parameters_must_name_the_callers_account(server, raw, account):
    other = server.create_account("other-co")
    ok = raw.v1("DescribeServerCertificates", {"OwnerId": account["AccountId"],
                                               "OwnerAccount": account["AccountId"]})
    assert ok.status == 200, ok.text
    for parameter, value in [("OwnerId", other["AccountId"]),
                             ("ResourceOwnerId", other["AccountId"]),
                             ("OwnerAccount", "other-co"),
                             ("ResourceOwnerAccount", other["AccountId"])]:
        answer = raw.v1("DescribeServerCertificates", {parameter: value})
        assert (answer.status, answer.json()["Code"]) == (400, f"Invalid{parameter}"), answer.text
        assert "must name the account of the AccessKey" in answer.json()["Message"]
    # The other account names itself by name.
    raw_other = RawClient(server.port, other["AccessKeyId"], other["AccessKeySecret"])
    answer = raw_other.v1("DescribeServerCertificates", {"OwnerAccount": "other-co"})
    assert answer.status == 200, answer.text


def test_throttling_answers_throttling_user_and_the_tea_clients_wait(tmp_path):
    from alibabacloud_tea_openapi.exceptions import ThrottlingException
    server = Server(tmp_path, args=["--throttle-per-access-key", "2"]).start()
    try:
        account = server.credentials
        raw = RawClient(server.port, account["AccessKeyId"], account["AccessKeySecret"])
        answers = [raw.v1("DescribeRegions") for _ in range(6)]
        throttled = [a for a in answers if a.status != 200]
        assert throttled, [a.status for a in answers]
        first = throttled[0]
        assert (first.status, first.json()["Code"]) == (400, "Throttling.User")
        assert first.json()["Message"] == "Request was denied due to user flow control."
        assert 1 <= int(first.headers["x-acs-retry-after"]) <= 1000
        # Another key of another account has its own budget.
        other = server.create_account("other")
        raw_other = RawClient(server.port, other["AccessKeyId"], other["AccessKeySecret"])
        assert raw_other.v1("DescribeRegions").status == 200
        # The tea clients raise their ThrottlingException, with the wait the header gave.
        from alibabacloud_slb20140515 import models
        from darabonba.runtime import RuntimeOptions
        slb = V3("slb", server, account).client
        caught = None
        for _ in range(6):
            try:
                slb.describe_regions_with_options(models.DescribeRegionsRequest(),
                                                  RuntimeOptions(autoretry=False, max_attempts=0))
            except ThrottlingException as error:
                caught = error
                break
        assert caught is not None and caught.code == "Throttling.User"
        assert 1 <= caught.retry_after <= 1000
        def throttled_line(lines):
            return any(line.get("error_code") == "Throttling.User" and line["principal"] == "root"
                       for line in lines)
        assert throttled_line(audit_until(server, throttled_line))
    finally:
        server.stop()


def test_the_credentials_ram_role_provider_assumes_the_role_by_itself(tmp_path, monkeypatch):
    """alibabacloud-credentials' RAM-role provider, pointed at slbcert's STS endpoint (HTTPS,
    as the provider always calls it): an SLB client holding only a user's key and a role ARN
    assumes the role itself, then works within the role's policy."""
    import certifi
    from alibabacloud_credentials.client import Client as CredentialClient
    from alibabacloud_credentials.models import Config as CredentialConfig
    from alibabacloud_slb20140515 import models as slb_models
    from alibabacloud_slb20140515.client import Client as SlbClient
    from alibabacloud_tea_openapi.exceptions import ClientException
    from alibabacloud_tea_openapi.models import Config
    from darabonba.runtime import RuntimeOptions

    server = Server(tmp_path, args=["--tls"]).start()
    try:
        # The tea cores trust certifi's bundle only: add the server's local CA to a copy.
        bundle = tmp_path / "bundle.pem"
        bundle.write_text(pathlib.Path(certifi.where()).read_text()
                          + pathlib.Path(server.ca_file).read_text())
        monkeypatch.setattr(certifi, "where", lambda: str(bundle))

        def https(**credentials):
            return Config(endpoint=f"127.0.0.1:{server.port}", protocol="https",
                          region_id="cn-hangzhou", read_timeout=30000, connect_timeout=5000,
                          **credentials)

        root = server.credentials
        from alibabacloud_ram20150501 import models as ram_models
        from alibabacloud_ram20150501.client import Client as RamClient
        ram = RamClient(https(access_key_id=root["AccessKeyId"],
                              access_key_secret=root["AccessKeySecret"]))
        arn = ram.create_role(ram_models.CreateRoleRequest(
            role_name="deployer", assume_role_policy_document=trust_account(root["AccountId"])
        )).body.role.arn
        ram.attach_policy_to_role(ram_models.AttachPolicyToRoleRequest(
            policy_type="System", policy_name="AliyunSLBReadOnlyAccess", role_name="deployer"))
        ram.create_user(ram_models.CreateUserRequest(user_name="pipeline"))
        ram.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
            policy_type="System", policy_name="AliyunSTSAssumeRoleAccess", user_name="pipeline"))
        key = ram.create_access_key(ram_models.CreateAccessKeyRequest(user_name="pipeline")).body

        provider = CredentialClient(CredentialConfig(
            type="ram_role_arn", access_key_id=key.access_key.access_key_id,
            access_key_secret=key.access_key.access_key_secret, role_arn=arn,
            role_session_name="pipeline-run", sts_endpoint=f"127.0.0.1:{server.port}"))
        slb = SlbClient(https(credential=provider))
        runtime = RuntimeOptions(autoretry=False, max_attempts=0)
        listed = slb.describe_server_certificates_with_options(
            slb_models.DescribeServerCertificatesRequest(region_id="cn-hangzhou"), runtime)
        assert listed.body.server_certificates.server_certificate == []
        key_pem = certs.rsa_key()
        cert = certs.make_cert(key_pem, cn="www.example.com", sans=("www.example.com",))
        with pytest.raises(ClientException) as refused:
            slb.upload_server_certificate_with_options(slb_models.UploadServerCertificateRequest(
                region_id="cn-hangzhou", server_certificate=certs.cert_pem(cert),
                private_key=certs.key_pem(key_pem)), runtime)
        assert (refused.value.code, refused.value.status_code) == ("Forbidden.RAM", 403)
        # The provider really assumed the role: the trail names its session.
        lines = audit_until(server, lambda lines: any(
            line.get("principal") == "assumed-role/deployer/pipeline-run" for line in lines))
        assert any(line["action"] == "AssumeRole" and line["principal"] == "user/pipeline"
                   and line["outcome"] == "success" for line in lines)
        assert any(line["action"] == "UploadServerCertificate"
                   and line["principal"] == "assumed-role/deployer/pipeline-run"
                   and line["error_code"] == "Forbidden.RAM" for line in lines)
    finally:
        server.stop()


def test_listings_page_with_max_items_and_marker(server, account, kind):
    ram = client(kind, "ram", server, account)
    for name in ("u1", "u2", "u3"):
        ram("CreateUser", UserName=name)
    first = ram("ListUsers", MaxItems=2)
    assert [u["UserName"] for u in first["Users"]["User"]] == ["u1", "u2"]
    assert first["IsTruncated"] is True
    rest = ram("ListUsers", MaxItems=2, Marker=first["Marker"])
    assert [u["UserName"] for u in rest["Users"]["User"]] == ["u3"]
    assert rest["IsTruncated"] is False
    # A marker past the end is an empty page; one we never gave, or a size out of range, is refused.
    assert ram("ListUsers", Marker="18446744073709551615")["Users"]["User"] == []
    expect_failure(lambda: ram("ListUsers", Marker="not-ours"), "InvalidParameter.Marker", 400)
    expect_failure(lambda: ram("ListUsers", MaxItems=1001), "InvalidParameter.MaxItems", 400)
