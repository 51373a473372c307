# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared IAM parts: policy comparison as IAM rewrites documents, and each call a role or an
instance profile needs.

Request shapes are checked with botocore's Stubber (each request is validated
against the IAM service model); a call the test did not expect fails it.
"""

import datetime
import json
from urllib.parse import quote

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import ChangeSet, retry_for, same_policy
from ansible_collections.reelle.infra.plugins.module_utils.reelle_iam import (
    IamRoles,
    InstanceProfiles,
    find_instance_profile,
    find_role,
    policy_text,
)
from botocore.stub import Stubber

NAME = "unit-role"
ROLE_ARN = f"arn:aws:iam::123456789012:role/{NAME}"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
# TRUST as IAM answers it: one-item lists as single values, statements as one object.
TRUST_REWRITTEN = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Allow",
        "Principal": {"Service": ["ecs-tasks.amazonaws.com"]},
        "Action": ["sts:AssumeRole"],
    },
}
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]}
MANAGED = "arn:aws:iam::aws:policy/ReadOnlyAccess"
OTHER_MANAGED = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"


@pytest.mark.parametrize(
    ("desired", "actual", "same"),
    [
        (TRUST, json.dumps(TRUST), True),
        (TRUST, TRUST_REWRITTEN, True),
        (json.dumps(TRUST), quote(json.dumps(TRUST)), True),  # GetRolePolicy answers URL-encoded JSON
        ({"Statement": [{"Action": ["a", "b"]}]}, {"Statement": [{"Action": ["b", "a"]}]}, True),
        ({"Statement": [{"Sid": "1"}, {"Sid": "2"}]}, {"Statement": [{"Sid": "2"}, {"Sid": "1"}]}, True),
        (
            {"Statement": [{"Principal": {"AWS": "123456789012"}}]},
            {"Statement": [{"Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]},
            True,
        ),
        ({"Statement": [{"Action": "a"}]}, {"Statement": [{"Action": ["a", "b"]}]}, False),
        ({"Statement": [{"Effect": "Allow"}]}, {"Statement": [{"Effect": "Deny"}]}, False),
        (
            {"Statement": [{"Principal": {"Service": "ecs-tasks.amazonaws.com"}}]},
            {"Statement": [{"Principal": {"Service": "ec2.amazonaws.com"}}]},
            False,
        ),
    ],
)
def test_policies_compare_as_iam_rewrites_them(desired, actual, same):
    assert same_policy(desired, actual) is same


def test_policy_text():
    assert policy_text('{"Version": "2012-10-17"}') == '{"Version": "2012-10-17"}'
    assert json.loads(policy_text(TRUST)) == TRUST


class FakeModule:
    def __init__(self, check_mode=False):
        self.check_mode = check_mode
        self._diff = True

    def fail_json(self, **kwargs):
        raise SystemExit(kwargs["msg"])


@pytest.fixture
def iam():
    """An IAM client as aws_client() makes it (retrying wrapper), answering from a Stubber."""
    client = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    stub.activate()
    yield RetryingBotoClientWrapper(client, retry_for("iam")), stub
    stub.assert_no_pending_responses()


def role(**extra):
    found = {
        "Path": "/",
        "RoleName": NAME,
        "RoleId": "AROA1234567890EXAMPLE",
        "Arn": ROLE_ARN,
        "CreateDate": datetime.datetime(2024, 1, 1),
        "AssumeRolePolicyDocument": quote(json.dumps(TRUST_REWRITTEN)),
        "Description": "unit",
        "MaxSessionDuration": 3600,
    }
    return dict(found, **extra)


def expect_role(stub, found):
    stub.add_response("get_role", {"Role": found}, {"RoleName": NAME})


def expect_managed(stub, managed):
    stub.add_response(
        "list_attached_role_policies",
        {"AttachedPolicies": [{"PolicyArn": arn, "PolicyName": arn.split("/")[-1]} for arn in managed]},
        {"RoleName": NAME},
    )


def expect_inline(stub, inline):
    stub.add_response("list_role_policies", {"PolicyNames": sorted(inline)}, {"RoleName": NAME})
    for name in sorted(inline):
        stub.add_response(
            "get_role_policy",
            {"RoleName": NAME, "PolicyName": name, "PolicyDocument": quote(json.dumps(inline[name]))},
            {"RoleName": NAME, "PolicyName": name},
        )


def expect_policies(stub, managed, inline):
    expect_managed(stub, managed)
    expect_inline(stub, inline)


def spec(**extra):
    given = {
        "name": NAME,
        "assume_role_policy": json.dumps(TRUST),
        "description": "unit",
        "path": "/",
        "max_session_duration": None,
        "managed_policy_arns": [MANAGED],
        "inline_policies": {"read": POLICY},
        "tags": {"project": "reelle"},
    }
    return dict(given, **extra)


def test_find_role_of_no_role_is_none(iam):
    client, stub = iam
    stub.add_client_error("get_role", "NoSuchEntity", "not found", expected_params={"RoleName": NAME})
    assert find_role(client, NAME) is None


def test_a_role_as_iam_rewrote_it_is_no_change(iam):
    """Second run: trust and inline documents rewritten by IAM, same tags and policies - reads only."""
    client, stub = iam
    expect_role(stub, role(Tags=[{"Key": "project", "Value": "reelle"}, {"Key": "aws:x", "Value": "1"}]))
    expect_policies(stub, [MANAGED], {"read": {**POLICY, "Statement": POLICY["Statement"][0]}})
    changes = ChangeSet(FakeModule())
    assert IamRoles(changes, client).ensure(spec())["Arn"] == ROLE_ARN
    assert changes.changes == []


def test_unset_options_leave_the_role_alone(iam):
    client, stub = iam
    expect_role(stub, role(Description="other", Tags=[{"Key": "foreign", "Value": "x"}]))
    changes = ChangeSet(FakeModule())
    unset = {"assume_role_policy": None, "description": None, "managed_policy_arns": None}
    IamRoles(changes, client).ensure(spec(**unset, inline_policies=None, tags=None))
    assert changes.changes == []
    assert changes.after[f"iam role {NAME}"]["managed_policy_arns"] is None


def test_every_difference_is_one_call(iam):
    client, stub = iam
    trust = {
        "Version": "2012-10-17",
        "Statement": [dict(TRUST["Statement"][0], Principal={"Service": "ec2.amazonaws.com"})],
    }
    expect_role(stub, role(Tags=[{"Key": "project", "Value": "old"}, {"Key": "stale", "Value": "x"}]))
    stub.add_response("update_assume_role_policy", {}, {"RoleName": NAME, "PolicyDocument": json.dumps(trust)})
    stub.add_response("update_role", {}, {"RoleName": NAME, "Description": "new", "MaxSessionDuration": 7200})
    stub.add_response("tag_role", {}, {"RoleName": NAME, "Tags": [{"Key": "project", "Value": "reelle"}]})
    stub.add_response("untag_role", {}, {"RoleName": NAME, "TagKeys": ["stale"]})
    expect_managed(stub, [OTHER_MANAGED])
    stub.add_response("attach_role_policy", {}, {"RoleName": NAME, "PolicyArn": MANAGED})
    stub.add_response("detach_role_policy", {}, {"RoleName": NAME, "PolicyArn": OTHER_MANAGED})
    denied = {**POLICY, "Statement": [dict(POLICY["Statement"][0], Effect="Deny")]}
    expect_inline(stub, {"read": denied, "stale": POLICY})
    stub.add_response(
        "put_role_policy", {}, {"RoleName": NAME, "PolicyName": "read", "PolicyDocument": json.dumps(POLICY)}
    )
    stub.add_response("delete_role_policy", {}, {"RoleName": NAME, "PolicyName": "stale"})
    changes = ChangeSet(FakeModule())
    IamRoles(changes, client).ensure(
        spec(assume_role_policy=json.dumps(trust), description="new", max_session_duration=7200)
    )
    assert [row["attributes"] for row in changes.changes] == [
        ["assume_role_policy"],
        ["Description", "MaxSessionDuration"],
        ["tags.project"],
        ["tags.stale"],
        [f"managed_policy_arns.{MANAGED}"],
        [f"managed_policy_arns.{OTHER_MANAGED}"],
        ["inline_policies.read"],
        ["inline_policies.stale"],
    ]


def test_without_purge_other_policies_and_tags_stay(iam):
    client, stub = iam
    expect_role(stub, role(Tags=[{"Key": "project", "Value": "reelle"}, {"Key": "foreign", "Value": "x"}]))
    expect_policies(stub, [MANAGED, OTHER_MANAGED], {"read": POLICY, "foreign": POLICY})
    changes = ChangeSet(FakeModule())
    IamRoles(changes, client, purge_tags=False, purge_policies=False).ensure(spec())
    assert changes.changes == []


def test_create_attaches_and_puts_within_the_create_row(iam):
    client, stub = iam
    stub.add_client_error("get_role", "NoSuchEntity", "not found", expected_params={"RoleName": NAME})
    created = role(Tags=[{"Key": "project", "Value": "reelle"}])
    create_request = {
        "RoleName": NAME,
        "Path": "/",
        "AssumeRolePolicyDocument": json.dumps(TRUST),
        "Description": "unit",
        "Tags": [{"Key": "project", "Value": "reelle"}],
    }
    stub.add_response("create_role", {"Role": created}, create_request)
    stub.add_response("attach_role_policy", {}, {"RoleName": NAME, "PolicyArn": MANAGED})
    stub.add_response(
        "put_role_policy", {}, {"RoleName": NAME, "PolicyName": "read", "PolicyDocument": json.dumps(POLICY)}
    )
    changes = ChangeSet(FakeModule())
    assert IamRoles(changes, client).ensure(spec())["Arn"] == ROLE_ARN
    assert changes.changes == [{"action": "create", "resource": f"iam role {NAME}", "attributes": []}]
    assert changes.after[f"iam role {NAME}"] == {
        "assume_role_policy": TRUST,
        "managed_policy_arns": [MANAGED],
        "inline_policies": ["read"],
    }


def test_create_in_check_mode_only_reads(iam):
    client, stub = iam
    stub.add_client_error("get_role", "NoSuchEntity", "not found", expected_params={"RoleName": NAME})
    changes = ChangeSet(FakeModule(check_mode=True))
    assert IamRoles(changes, client).ensure(spec()) is None
    assert [row["action"] for row in changes.changes] == ["create"]


def test_create_needs_a_trust_policy(iam):
    client, stub = iam
    stub.add_client_error("get_role", "NoSuchEntity", "not found", expected_params={"RoleName": NAME})
    with pytest.raises(SystemExit, match="assume_role_policy is needed to create it"):
        IamRoles(ChangeSet(FakeModule()), client).ensure(spec(assume_role_policy=None))


@pytest.mark.parametrize("check_mode", [False, True])
def test_delete_empties_the_role_first(iam, check_mode):
    client, stub = iam
    expect_role(stub, role())
    if not check_mode:
        stub.add_response(
            "list_attached_role_policies",
            {"AttachedPolicies": [{"PolicyArn": MANAGED, "PolicyName": "ReadOnlyAccess"}]},
            {"RoleName": NAME},
        )
        stub.add_response("detach_role_policy", {}, {"RoleName": NAME, "PolicyArn": MANAGED})
        stub.add_response("list_role_policies", {"PolicyNames": ["read"]}, {"RoleName": NAME})
        stub.add_response("delete_role_policy", {}, {"RoleName": NAME, "PolicyName": "read"})
        profile = {
            "Path": "/",
            "InstanceProfileName": "unit-profile",
            "InstanceProfileId": "AIPA1234567890EXAMPLE",
            "Arn": "arn:aws:iam::123456789012:instance-profile/unit-profile",
            "CreateDate": datetime.datetime(2024, 1, 1),
            "Roles": [],
        }
        stub.add_response("list_instance_profiles_for_role", {"InstanceProfiles": [profile]}, {"RoleName": NAME})
        stub.add_response(
            "remove_role_from_instance_profile", {}, {"RoleName": NAME, "InstanceProfileName": "unit-profile"}
        )
        stub.add_response("delete_role", {}, {"RoleName": NAME})
    changes = ChangeSet(FakeModule(check_mode=check_mode))
    IamRoles(changes, client).delete(NAME)
    assert changes.changes == [{"action": "delete", "resource": f"iam role {NAME}", "attributes": []}]


def test_delete_of_no_role_does_nothing(iam):
    client, stub = iam
    stub.add_client_error("get_role", "NoSuchEntity", "not found", expected_params={"RoleName": NAME})
    changes = ChangeSet(FakeModule())
    IamRoles(changes, client).delete(NAME)
    assert changes.changes == []


# --- instance profiles ----------------------------------------------------------------

PROFILE = "unit-profile"
PROFILE_LABEL = f"iam instance profile {PROFILE}"


def profile(roles=(), tags=None):
    found = {
        "Path": "/",
        "InstanceProfileName": PROFILE,
        "InstanceProfileId": "AIPA1234567890EXAMPLE",
        "Arn": f"arn:aws:iam::123456789012:instance-profile/{PROFILE}",
        "CreateDate": datetime.datetime(2024, 1, 1),
        "Roles": [role(RoleName=name, Arn=f"arn:aws:iam::123456789012:role/{name}") for name in roles],
    }
    if tags is not None:
        found["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
    return found


def expect_profile(stub, found):
    if found is None:
        stub.add_client_error(
            "get_instance_profile", "NoSuchEntity", "not found", expected_params={"InstanceProfileName": PROFILE}
        )
    else:
        stub.add_response("get_instance_profile", {"InstanceProfile": found}, {"InstanceProfileName": PROFILE})


def test_find_instance_profile(iam):
    client, stub = iam
    expect_profile(stub, None)
    expect_profile(stub, profile([NAME]))
    assert find_instance_profile(client, PROFILE) is None
    assert [item["RoleName"] for item in find_instance_profile(client, PROFILE)["Roles"]] == [NAME]


def test_instance_profile_create_adds_the_role_within_the_create_row(iam):
    client, stub = iam
    expect_profile(stub, None)
    stub.add_response(
        "create_instance_profile",
        {"InstanceProfile": profile()},
        {"InstanceProfileName": PROFILE, "Path": "/ecs/", "Tags": [{"Key": "project", "Value": "reelle"}]},
    )
    stub.add_response("add_role_to_instance_profile", {}, {"InstanceProfileName": PROFILE, "RoleName": NAME})
    changes = ChangeSet(FakeModule())
    made = InstanceProfiles(changes, client).ensure(PROFILE, NAME, tags={"project": "reelle"}, path="/ecs/")
    assert made["InstanceProfileName"] == PROFILE
    assert changes.changes == [{"action": "create", "resource": PROFILE_LABEL, "attributes": []}]
    assert changes.after[PROFILE_LABEL] == {"roles": [NAME]}


def test_instance_profile_create_in_check_mode_only_reads(iam):
    client, stub = iam
    expect_profile(stub, None)
    changes = ChangeSet(FakeModule(check_mode=True))
    assert InstanceProfiles(changes, client).ensure(PROFILE, NAME, tags={"project": "reelle"}) is None
    assert changes.changes == [{"action": "create", "resource": PROFILE_LABEL, "attributes": []}]


def test_a_role_made_just_before_is_added_once_iam_sees_it(iam, monkeypatch):
    """IAM is eventually consistent: NoSuchEntity right after a create is retried, not a failure."""
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.001")
    client, stub = iam
    expect_profile(stub, None)
    stub.add_response("create_instance_profile", {"InstanceProfile": profile()}, {"InstanceProfileName": PROFILE})
    for _attempt in range(2):
        stub.add_client_error(
            "add_role_to_instance_profile",
            "NoSuchEntity",
            f"The role with name {NAME} cannot be found.",
            http_status_code=404,
            expected_params={"InstanceProfileName": PROFILE, "RoleName": NAME},
        )
    stub.add_response("add_role_to_instance_profile", {}, {"InstanceProfileName": PROFILE, "RoleName": NAME})
    InstanceProfiles(ChangeSet(FakeModule()), client).ensure(PROFILE, NAME)


def test_an_instance_profile_as_wanted_is_no_change(iam):
    client, stub = iam
    expect_profile(stub, profile([NAME], tags={"project": "reelle", "aws:x": "1"}))
    changes = ChangeSet(FakeModule())
    assert InstanceProfiles(changes, client).ensure(PROFILE, NAME, tags={"project": "reelle"})["Arn"].endswith(PROFILE)
    assert changes.changes == [] and changes.after == {}


def test_unset_tags_leave_the_instance_profile_tags_alone(iam):
    client, stub = iam
    expect_profile(stub, profile([NAME], tags={"foreign": "x"}))
    changes = ChangeSet(FakeModule())
    InstanceProfiles(changes, client).ensure(PROFILE, NAME)
    assert changes.changes == []


def test_instance_profile_holds_the_given_role_and_tags(iam):
    client, stub = iam
    expect_profile(stub, profile(["other-role"], tags={"project": "old", "stale": "x"}))
    stub.add_response(
        "remove_role_from_instance_profile", {}, {"InstanceProfileName": PROFILE, "RoleName": "other-role"}
    )
    stub.add_response("add_role_to_instance_profile", {}, {"InstanceProfileName": PROFILE, "RoleName": NAME})
    stub.add_response(
        "tag_instance_profile", {}, {"InstanceProfileName": PROFILE, "Tags": [{"Key": "project", "Value": "reelle"}]}
    )
    stub.add_response("untag_instance_profile", {}, {"InstanceProfileName": PROFILE, "TagKeys": ["stale"]})
    changes = ChangeSet(FakeModule())
    InstanceProfiles(changes, client).ensure(PROFILE, NAME, tags={"project": "reelle"})
    assert [(row["action"], row["attributes"]) for row in changes.changes] == [
        ("update", ["roles"]),
        ("update", ["roles"]),
        ("update", ["tags.project"]),
        ("update", ["tags.stale"]),
    ]
    assert changes.before[PROFILE_LABEL] == {"roles": ["other-role"]}
    assert changes.after[PROFILE_LABEL] == {"roles": [NAME]}
    assert changes.after[f"{PROFILE_LABEL} tags"] == {"project": "reelle"}


def test_without_purge_other_instance_profile_tags_stay(iam):
    client, stub = iam
    expect_profile(stub, profile([NAME], tags={"project": "reelle", "foreign": "x"}))
    changes = ChangeSet(FakeModule())
    InstanceProfiles(changes, client, purge_tags=False).ensure(PROFILE, NAME, tags={"project": "reelle"})
    assert changes.changes == []


@pytest.mark.parametrize("check_mode", [False, True])
def test_instance_profile_delete_takes_its_role_out_first(iam, check_mode):
    client, stub = iam
    expect_profile(stub, profile([NAME]))
    if not check_mode:
        stub.add_response("remove_role_from_instance_profile", {}, {"InstanceProfileName": PROFILE, "RoleName": NAME})
        stub.add_response("delete_instance_profile", {}, {"InstanceProfileName": PROFILE})
    changes = ChangeSet(FakeModule(check_mode=check_mode))
    InstanceProfiles(changes, client).delete(PROFILE)
    assert changes.changes == [{"action": "delete", "resource": PROFILE_LABEL, "attributes": []}]
    assert changes.before[PROFILE_LABEL] == {"roles": [NAME]} and changes.after[PROFILE_LABEL] is None


def test_delete_of_no_instance_profile_does_nothing(iam):
    client, stub = iam
    expect_profile(stub, None)
    changes = ChangeSet(FakeModule())
    InstanceProfiles(changes, client).delete(PROFILE)
    assert changes.changes == []
