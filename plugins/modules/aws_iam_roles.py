#!/usr/bin/python
# -*- coding: utf-8 -*-

# MIT License (see the project's README)

DOCUMENTATION = r"""
---
module: aws_iam_roles
short_description: Several IAM roles with their trust, managed and inline policies in one call
description:
  - Creates or updates IAM roles (trust policy, description, maximum session duration,
    attached managed policies, inline policies and tags). Several roles are one task.
  - Policy documents are compared semantically (statement and value order, single values
    versus one-element lists), so a document that reads back differently but means the
    same is not rewritten.
  - With O(purge_policies), managed policies that are not listed are detached and inline
    policies that are not listed are deleted, so a role holds exactly what is declared
    (only for the lists that are given).
  - A no-op run costs C(GetRole), C(ListAttachedRolePolicies), C(ListRolePolicies) and one
    C(GetRolePolicy) per inline policy, per role.
  - In check mode against an empty account the ARNs of roles that would be created are null.
version_added: 0.1.0
author: reelle platform team
options:
  state:
    description: V(present) creates or updates the roles; V(absent) deletes them (detaching their policies first).
    type: str
    choices: [present, absent]
    default: present
  roles:
    description: The roles.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Role name.
        type: str
        required: true
      assume_role_policy:
        description: Trust policy (a dict or JSON). Required to create the role; unset leaves it alone.
        type: json
      description:
        description: Role description. Unset leaves it alone.
        type: str
      path:
        description: Path of a new role.
        type: str
        default: /
      max_session_duration:
        description: Maximum session duration in seconds (3600 to 43200). Unset leaves it alone.
        type: int
      managed_policy_arns:
        description: ARNs of the managed policies to attach. Unset leaves attachments alone.
        type: list
        elements: str
      inline_policies:
        description: Inline policies, name -> document (a dict or JSON). Unset leaves them alone.
        type: dict
      tags:
        description: Tags of this role, on top of O(tags).
        type: dict
  tags:
    description: Tags of every role. Unset (and no per-role tags) leaves tags alone.
    type: dict
  purge_tags:
    description: When tags are given, remove the others (C(aws:) tags are never touched).
    type: bool
    default: true
  purge_policies:
    description: Detach managed and delete inline policies that are not listed (when the list is given).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Converge the ECS task roles
  aws_iam_roles:
    tags: {project: reelle}
    roles:
      - name: reelle-staging-ecs-execution
        description: ECS task execution (image pull, logs, secrets)
        assume_role_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {Service: ecs-tasks.amazonaws.com}
              Action: sts:AssumeRole
        managed_policy_arns:
          - arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy
        inline_policies:
          secrets:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: secretsmanager:GetSecretValue
                Resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:reelle-staging/*
  register: roles
"""

RETURN = r"""
arns:
  description: Role ARN by role name (null in check mode when the role would be created).
  type: dict
  returned: always
  sample: {reelle-staging-ecs-execution: "arn:aws:iam::123456789012:role/reelle-staging-ecs-execution"}
roles:
  description: The roles as converged.
  type: list
  elements: dict
  returned: always
  contains:
    role_name:
      description: Role name.
      type: str
      sample: reelle-staging-ecs-execution
    arn:
      description: Role ARN.
      type: str
      sample: arn:aws:iam::123456789012:role/reelle-staging-ecs-execution
    role_id:
      description: Role id.
      type: str
      sample: AROA1234567890EXAMPLE
  sample:
    - role_name: reelle-staging-ecs-task
      arn: arn:aws:iam::123456789012:role/reelle-staging-ecs-task
      role_id: AROA1234567890EXAMPLE
changes:
  description: The plan, one row per change made (also in check mode).
  type: list
  elements: dict
  returned: always
  sample: [{action: update, resource: "iam role reelle-staging-ecs-task", attributes: [inline_policies.s3]}]
skipped_calls:
  description: Calls the local emulator lacks that were skipped (always empty for this module).
  type: list
  elements: str
  returned: always
  sample: []
"""

import contextlib
import json
from urllib.parse import unquote

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible.module_utils.reelle_aws import RETRY, ChangeSet, aws_client, paginate, tag_dict, tag_list
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

# Policy keys whose value may be one string or a list of strings with the same meaning.
LISTISH = {"Statement", "Action", "NotAction", "Resource", "NotResource", "Service", "AWS", "Federated"}


def _document(value):
    """A policy document as a dict, from a dict, JSON or URL-encoded JSON."""
    if value is None or isinstance(value, dict):
        return value
    text = value if value.lstrip().startswith("{") else unquote(value)
    return json.loads(text)


def canonical_policy(value, key=None):
    """A comparable form of a policy: lists sorted, single values of list-like keys as lists."""
    if isinstance(value, dict):
        return {k: canonical_policy(v, k) for k, v in value.items()}
    if isinstance(value, list):
        items = [canonical_policy(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if key in LISTISH:
        return [canonical_policy(value)]
    return value


def same_policy(desired, actual):
    return canonical_policy(_document(desired)) == canonical_policy(_document(actual))


class IamRolesManager:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        # IAM is global; its API answers in us-east-1 when no region is given.
        self.iam = aws_client(module, "iam", region=module.region or "us-east-1")
        self.changes = ChangeSet(module)

    # --- thin calls ---------------------------------------------------------------

    def get_role(self, name):
        try:
            return self.iam.get_role(aws_retry=True, RoleName=name)["Role"]
        except ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchEntity":
                return None
            raise

    def attached(self, name):
        policies = RETRY(paginate)(self.iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name)
        return sorted(policy["PolicyArn"] for policy in policies)

    def inline(self, name):
        names = RETRY(paginate)(self.iam, "list_role_policies", "PolicyNames", RoleName=name)
        return {
            policy: self.iam.get_role_policy(aws_retry=True, RoleName=name, PolicyName=policy)["PolicyDocument"]
            for policy in names
        }

    def update(self, label, attributes, operation, **kwargs):
        return self.changes.update(label, attributes, self.iam, "iam", operation, **kwargs)

    # --- one role -------------------------------------------------------------------

    def desired_tags(self, spec):
        if self.params["tags"] is None and spec["tags"] is None:
            return None
        return dict(self.params["tags"] or {}, **(spec["tags"] or {}))

    def create_role(self, spec, label):
        if spec["assume_role_policy"] is None:
            self.module.fail_json(
                msg=f"IAM role {spec['name']} does not exist; assume_role_policy is needed to create it"
            )
        kwargs = {
            "RoleName": spec["name"],
            "Path": spec["path"],
            "AssumeRolePolicyDocument": spec["assume_role_policy"],
        }
        if spec["description"] is not None:
            kwargs["Description"] = spec["description"]
        if spec["max_session_duration"] is not None:
            kwargs["MaxSessionDuration"] = spec["max_session_duration"]
        tags = self.desired_tags(spec)
        if tags:
            kwargs["Tags"] = tag_list(tags)
        created = self.changes.create(label, self.iam, "iam", "create_role", **kwargs)
        after = {
            "assume_role_policy": _document(spec["assume_role_policy"]),
            "managed_policy_arns": sorted(spec["managed_policy_arns"] or []),
            "inline_policies": sorted(spec["inline_policies"] or {}),
        }
        self.changes.note(label, None, after)
        if created is None:
            return None
        for arn in spec["managed_policy_arns"] or []:
            self.changes.call(self.iam, "iam", "attach_role_policy", RoleName=spec["name"], PolicyArn=arn)
        for name, document in (spec["inline_policies"] or {}).items():
            self.changes.call(
                self.iam,
                "iam",
                "put_role_policy",
                RoleName=spec["name"],
                PolicyName=name,
                PolicyDocument=json.dumps(_document(document)),
            )
        return created["Role"]

    def ensure_settings(self, spec, role, label):
        name = spec["name"]
        if spec["assume_role_policy"] is not None and not same_policy(
            spec["assume_role_policy"], role["AssumeRolePolicyDocument"]
        ):
            self.update(
                label,
                ["assume_role_policy"],
                "update_assume_role_policy",
                RoleName=name,
                PolicyDocument=spec["assume_role_policy"],
            )
        changed = {}
        if spec["description"] is not None and role.get("Description", "") != spec["description"]:
            changed["Description"] = spec["description"]
        if spec["max_session_duration"] is not None and role.get("MaxSessionDuration") != spec["max_session_duration"]:
            changed["MaxSessionDuration"] = spec["max_session_duration"]
        if changed:
            self.update(label, sorted(changed), "update_role", RoleName=name, **changed)

    def ensure_tags(self, spec, role, label):
        desired = self.desired_tags(spec)
        if desired is None:
            return
        actual = tag_dict(role.get("Tags"))
        to_set = {key: value for key, value in desired.items() if actual.get(key) != value}
        to_unset = []
        if self.params["purge_tags"]:
            to_unset = sorted(key for key in actual if key not in desired and not key.startswith("aws:"))
        if to_set:
            self.update(
                label, [f"tags.{k}" for k in sorted(to_set)], "tag_role", RoleName=spec["name"], Tags=tag_list(to_set)
            )
        if to_unset:
            self.update(label, [f"tags.{k}" for k in to_unset], "untag_role", RoleName=spec["name"], TagKeys=to_unset)

    def ensure_managed(self, spec, label):
        wanted = spec["managed_policy_arns"]
        if wanted is None:
            return None
        actual = self.attached(spec["name"])
        for arn in sorted(set(wanted) - set(actual)):
            self.update(
                label, [f"managed_policy_arns.{arn}"], "attach_role_policy", RoleName=spec["name"], PolicyArn=arn
            )
        if self.params["purge_policies"]:
            for arn in sorted(set(actual) - set(wanted)):
                self.update(
                    label, [f"managed_policy_arns.{arn}"], "detach_role_policy", RoleName=spec["name"], PolicyArn=arn
                )
        return actual

    def ensure_inline(self, spec, label):
        wanted = spec["inline_policies"]
        if wanted is None:
            return None
        actual = self.inline(spec["name"])
        for name, document in sorted(wanted.items()):
            if name not in actual or not same_policy(document, actual[name]):
                self.update(
                    label,
                    [f"inline_policies.{name}"],
                    "put_role_policy",
                    RoleName=spec["name"],
                    PolicyName=name,
                    PolicyDocument=json.dumps(_document(document)),
                )
        if self.params["purge_policies"]:
            for name in sorted(set(actual) - set(wanted)):
                self.update(
                    label, [f"inline_policies.{name}"], "delete_role_policy", RoleName=spec["name"], PolicyName=name
                )
        return sorted(actual)

    def ensure_role(self, spec):
        label = f"iam role {spec['name']}"
        role = self.get_role(spec["name"])
        if role is None:
            return self.create_role(spec, label)
        self.ensure_settings(spec, role, label)
        self.ensure_tags(spec, role, label)
        managed = self.ensure_managed(spec, label)
        inline = self.ensure_inline(spec, label)
        before = {
            "assume_role_policy": role["AssumeRolePolicyDocument"],
            "managed_policy_arns": managed,
            "inline_policies": inline,
        }
        after = {
            "assume_role_policy": _document(spec["assume_role_policy"]) or role["AssumeRolePolicyDocument"],
            "managed_policy_arns": sorted(spec["managed_policy_arns"])
            if spec["managed_policy_arns"] is not None
            else managed,
            "inline_policies": sorted(spec["inline_policies"]) if spec["inline_policies"] is not None else inline,
        }
        self.changes.note(label, before, after)
        return role

    def ensure_present(self):
        roles = []
        for spec in self.params["roles"]:
            role = self.ensure_role(spec)
            roles.append({"role_name": spec["name"], "arn": role and role["Arn"], "role_id": role and role["RoleId"]})
        return self.changes.result(arns={role["role_name"]: role["arn"] for role in roles}, roles=roles)

    def ensure_absent(self):
        for spec in self.params["roles"]:
            name = spec["name"]
            if self.get_role(name) is not None:
                self.delete_role(name)
        return self.changes.result(arns={spec["name"]: None for spec in self.params["roles"]}, roles=[])

    def delete_role(self, name):
        """Attachments, inline policies and instance profiles go first (not in check mode), then the role."""
        if not self.module.check_mode:
            self.detach_everything(name)
        self.changes.delete(f"iam role {name}", self.iam, "iam", "delete_role", RoleName=name)
        self.changes.note(f"iam role {name}", {"role_name": name}, None)

    def detach_everything(self, name):
        for arn in self.attached(name):
            self.changes.call(self.iam, "iam", "detach_role_policy", RoleName=name, PolicyArn=arn)
        for policy in RETRY(paginate)(self.iam, "list_role_policies", "PolicyNames", RoleName=name):
            self.changes.call(self.iam, "iam", "delete_role_policy", RoleName=name, PolicyName=policy)
        profiles = RETRY(paginate)(self.iam, "list_instance_profiles_for_role", "InstanceProfiles", RoleName=name)
        for profile in profiles:
            self.changes.call(
                self.iam,
                "iam",
                "remove_role_from_instance_profile",
                RoleName=name,
                InstanceProfileName=profile["InstanceProfileName"],
            )


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        roles=dict(
            type="list",
            elements="dict",
            required=True,
            options=dict(
                name=dict(type="str", required=True),
                assume_role_policy=dict(type="json"),
                description=dict(type="str"),
                path=dict(type="str", default="/"),
                max_session_duration=dict(type="int"),
                managed_policy_arns=dict(type="list", elements="str"),
                inline_policies=dict(type="dict"),
                tags=dict(type="dict"),
            ),
        ),
        tags=dict(type="dict"),
        purge_tags=dict(type="bool", default=True),
        purge_policies=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    manager = IamRolesManager(module)
    try:
        result = manager.ensure_present() if module.params["state"] == "present" else manager.ensure_absent()
    except (BotoCoreError, ClientError) as error:
        module.fail_json_aws(error, msg="IAM roles: AWS call failed")
    except ValueError as error:
        module.fail_json(msg=f"IAM roles: a policy document is not valid JSON: {error}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
