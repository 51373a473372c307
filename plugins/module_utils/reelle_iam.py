# -*- coding: utf-8 -*-
# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM roles and instance profiles as this project's modules converge them, through the ChangeSet.

One role (``IamRoles``): its trust policy (compared with ``same_policy``, so
IAM's rewrites of a stored document are no change), description, maximum
session duration, attached managed policies, inline policies and tags. Options
left unset (None) leave the role's matching attribute alone.

One instance profile (``InstanceProfiles``): the profile, the one role it
holds, and its tags.

IAM is eventually consistent: the clients of ``aws_client`` retry a call naming
a role or profile just created (``NoSuchEntity``) for up to two minutes, and so
do EC2 and Auto Scaling calls that name an instance profile they cannot see yet
(reelle_aws's PROPAGATION_ERRORS): make those calls through the ChangeSet (or
with ``aws_retry=True``).
"""

import json

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.transformation import scrub_none_parameters
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    aws_client,
    paginate,
    policy_document,
    same_policy,
    sync_tags,
    tag_dict,
    tag_list,
)


def iam_client(module):
    """IAM is global; its API answers in us-east-1 when the task names no region."""
    return aws_client(module, "iam", region=module.region or "us-east-1")


def policy_text(document):
    """A policy document as the JSON text IAM takes: text as given, a dict as JSON."""
    return document if isinstance(document, str) else json.dumps(document)


def find_role(iam, name):
    """The role (GetRole), or None when there is none."""
    try:
        return iam.get_role(aws_retry=True, RoleName=name)["Role"]
    except is_boto3_error_code("NoSuchEntity"):
        return None


def find_instance_profile(iam, name):
    """The instance profile (GetInstanceProfile: its Roles and Tags), or None when there is none."""
    try:
        return iam.get_instance_profile(aws_retry=True, InstanceProfileName=name)["InstanceProfile"]
    except is_boto3_error_code("NoSuchEntity"):
        return None


def attached_policy_arns(iam, name):
    """ARNs of the managed policies attached to the role, sorted."""
    policies = paginate(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name)
    return sorted(policy["PolicyArn"] for policy in policies)


def inline_policies(iam, name):
    """The role's inline policies, name -> document (as IAM answers it)."""
    names = paginate(iam, "list_role_policies", "PolicyNames", RoleName=name)
    return {
        policy: iam.get_role_policy(aws_retry=True, RoleName=name, PolicyName=policy)["PolicyDocument"]
        for policy in names
    }


def _listed(wanted, actual):
    """For the diff: the names (or ARNs) a role will hold, sorted; actual when the option is unset."""
    return actual if wanted is None else sorted(wanted)


class IamRoles:
    """Creates, converges and deletes IAM roles; every mutation goes through ``changes``.

    A role spec is a dict with ``name`` and the optional ``assume_role_policy``
    (dict or JSON), ``description``, ``path`` (of a new role, default C(/)),
    ``max_session_duration``, ``managed_policy_arns``, ``inline_policies``
    (name -> dict or JSON) and ``tags`` (dict); None leaves an attribute alone.
    With ``purge_policies`` a role holds exactly the listed policies (of the
    lists given); with ``purge_tags`` exactly the given tags (C(aws:) ones aside).
    """

    def __init__(self, changes, iam, purge_tags=True, purge_policies=True):
        self.changes = changes
        self.module = changes.module
        self.iam = iam
        self.purge_tags = purge_tags
        self.purge_policies = purge_policies

    def update(self, label, attributes, operation, **kwargs):
        return self.changes.update(label, attributes, self.iam, "iam", operation, **kwargs)

    # --- present ----------------------------------------------------------------

    def ensure(self, spec):
        """The role as converged (GetRole's answer), or None when it would be created (check mode)."""
        label = f"iam role {spec['name']}"
        role = find_role(self.iam, spec["name"])
        if role is None:
            return self.create(spec, label)
        self.ensure_settings(spec, role, label)
        sync_tags(
            self.changes,
            label,
            tag_dict(role.get("Tags")),
            spec.get("tags"),
            self.purge_tags,
            lambda to_set: (self.iam, "iam", "tag_role", {"RoleName": spec["name"], "Tags": tag_list(to_set)}),
            lambda keys: (self.iam, "iam", "untag_role", {"RoleName": spec["name"], "TagKeys": sorted(keys)}),
        )
        managed = self.ensure_managed(spec, label)
        inline = self.ensure_inline(spec, label)
        before = {
            "assume_role_policy": role["AssumeRolePolicyDocument"],
            "managed_policy_arns": managed,
            "inline_policies": inline,
        }
        after = {
            "assume_role_policy": policy_document(spec.get("assume_role_policy")) or role["AssumeRolePolicyDocument"],
            "managed_policy_arns": _listed(spec.get("managed_policy_arns"), managed),
            "inline_policies": _listed(spec.get("inline_policies"), inline),
        }
        self.changes.note(label, before, after)
        return role

    def create(self, spec, label):
        if spec.get("assume_role_policy") is None:
            self.module.fail_json(
                msg=f"IAM role {spec['name']} does not exist; assume_role_policy is needed to create it"
            )
        kwargs = scrub_none_parameters(
            {
                "RoleName": spec["name"],
                "Path": spec.get("path") or "/",
                "AssumeRolePolicyDocument": policy_text(spec["assume_role_policy"]),
                "Description": spec.get("description"),
                "MaxSessionDuration": spec.get("max_session_duration"),
                "Tags": tag_list(spec["tags"]) if spec.get("tags") else None,
            }
        )
        created = self.changes.create(label, self.iam, "iam", "create_role", **kwargs)
        after = {
            "assume_role_policy": policy_document(spec["assume_role_policy"]),
            "managed_policy_arns": sorted(spec.get("managed_policy_arns") or []),
            "inline_policies": sorted(spec.get("inline_policies") or {}),
        }
        self.changes.note(label, None, after)
        if created is None:
            return None
        # Part of the create row; IAM may not see the new role yet: the client retries NoSuchEntity.
        for arn in spec.get("managed_policy_arns") or []:
            self.changes.call(self.iam, "iam", "attach_role_policy", RoleName=spec["name"], PolicyArn=arn)
        for name, document in (spec.get("inline_policies") or {}).items():
            self.changes.call(
                self.iam,
                "iam",
                "put_role_policy",
                RoleName=spec["name"],
                PolicyName=name,
                PolicyDocument=json.dumps(policy_document(document)),
            )
        return created["Role"]

    def ensure_settings(self, spec, role, label):
        name = spec["name"]
        trust = spec.get("assume_role_policy")
        if trust is not None and not same_policy(trust, role["AssumeRolePolicyDocument"]):
            self.update(
                label,
                ["assume_role_policy"],
                "update_assume_role_policy",
                RoleName=name,
                PolicyDocument=policy_text(trust),
            )
        changed = {}
        if spec.get("description") is not None and role.get("Description", "") != spec["description"]:
            changed["Description"] = spec["description"]
        duration = spec.get("max_session_duration")
        if duration is not None and role.get("MaxSessionDuration") != duration:
            changed["MaxSessionDuration"] = duration
        if changed:
            self.update(label, sorted(changed), "update_role", RoleName=name, **changed)

    def ensure_managed(self, spec, label):
        """Attach the listed policies (detach others with purge_policies); the ARNs before, or None if unset."""
        wanted = spec.get("managed_policy_arns")
        if wanted is None:
            return None
        name = spec["name"]
        actual = attached_policy_arns(self.iam, name)
        for arn in sorted(set(wanted) - set(actual)):
            self.update(label, [f"managed_policy_arns.{arn}"], "attach_role_policy", RoleName=name, PolicyArn=arn)
        if self.purge_policies:
            for arn in sorted(set(actual) - set(wanted)):
                self.update(label, [f"managed_policy_arns.{arn}"], "detach_role_policy", RoleName=name, PolicyArn=arn)
        return actual

    def ensure_inline(self, spec, label):
        """Put missing or different inline policies (delete others with purge_policies); names before, or None."""
        wanted = spec.get("inline_policies")
        if wanted is None:
            return None
        role_name = spec["name"]
        actual = inline_policies(self.iam, role_name)
        for name, document in sorted(wanted.items()):
            if name not in actual or not same_policy(document, actual[name]):
                self.update(
                    label,
                    [f"inline_policies.{name}"],
                    "put_role_policy",
                    RoleName=role_name,
                    PolicyName=name,
                    PolicyDocument=json.dumps(policy_document(document)),
                )
        if self.purge_policies:
            for name in sorted(set(actual) - set(wanted)):
                self.update(
                    label, [f"inline_policies.{name}"], "delete_role_policy", RoleName=role_name, PolicyName=name
                )
        return sorted(actual)

    # --- absent -----------------------------------------------------------------

    def delete(self, name):
        """Delete the role if it exists; its policies and instance profiles go first (not in check mode)."""
        if find_role(self.iam, name) is None:
            return
        if not self.module.check_mode:
            self.detach_everything(name)
        self.changes.delete(f"iam role {name}", self.iam, "iam", "delete_role", RoleName=name)
        self.changes.note(f"iam role {name}", {"role_name": name}, None)

    def detach_everything(self, name):
        for arn in attached_policy_arns(self.iam, name):
            self.changes.call(self.iam, "iam", "detach_role_policy", RoleName=name, PolicyArn=arn)
        for policy in paginate(self.iam, "list_role_policies", "PolicyNames", RoleName=name):
            self.changes.call(self.iam, "iam", "delete_role_policy", RoleName=name, PolicyName=policy)
        for profile in paginate(self.iam, "list_instance_profiles_for_role", "InstanceProfiles", RoleName=name):
            self.changes.call(
                self.iam,
                "iam",
                "remove_role_from_instance_profile",
                RoleName=name,
                InstanceProfileName=profile["InstanceProfileName"],
            )


class InstanceProfiles:
    """Creates, converges and deletes IAM instance profiles; every mutation goes through ``changes``.

    A profile holds one role (IAM allows no more): ``ensure`` puts the given
    role in it, taking out any other. ``tags`` (a dict; None leaves them alone)
    are set at creation and kept after, exactly with ``purge_tags`` (C(aws:) ones
    aside). Plan rows name the resource ``iam instance profile <name>``; their
    attributes are ``roles`` and ``tags.<key>``.
    """

    def __init__(self, changes, iam, purge_tags=True):
        self.changes = changes
        self.module = changes.module
        self.iam = iam
        self.purge_tags = purge_tags

    def ensure(self, name, role_name, tags=None, path=None):
        """The profile as found or created (GetInstanceProfile's or CreateInstanceProfile's), None in check mode."""
        label = f"iam instance profile {name}"
        profile = find_instance_profile(self.iam, name)
        if profile is None:
            return self.create(name, role_name, tags, path, label)
        roles = sorted(role["RoleName"] for role in profile.get("Roles") or [])
        if roles != [role_name]:
            self.changes.note(label, {"roles": roles}, {"roles": [role_name]})
            for other in roles:
                if other != role_name:
                    self.update(label, "remove_role_from_instance_profile", name, other)
            if role_name not in roles:
                self.update(label, "add_role_to_instance_profile", name, role_name)
        sync_tags(
            self.changes,
            label,
            tag_dict(profile.get("Tags")),
            tags,
            self.purge_tags,
            lambda to_set: (
                self.iam,
                "iam",
                "tag_instance_profile",
                {"InstanceProfileName": name, "Tags": tag_list(to_set)},
            ),
            lambda keys: (
                self.iam,
                "iam",
                "untag_instance_profile",
                {"InstanceProfileName": name, "TagKeys": sorted(keys)},
            ),
            note=True,
        )
        return profile

    def update(self, label, operation, name, role_name):
        """A plan row ``roles`` for adding or removing a role."""
        self.changes.update(label, ["roles"], self.iam, "iam", operation, InstanceProfileName=name, RoleName=role_name)

    def call(self, operation, name, role_name):
        """Adding or removing a role as part of the create or delete row (no row; not in check mode: the caller's)."""
        self.changes.call(self.iam, "iam", operation, InstanceProfileName=name, RoleName=role_name)

    def create(self, name, role_name, tags, path, label):
        kwargs = scrub_none_parameters(
            {"InstanceProfileName": name, "Path": path, "Tags": tag_list(tags) if tags else None}
        )
        self.changes.note(label, None, {"roles": [role_name]})
        created = self.changes.create(label, self.iam, "iam", "create_instance_profile", **kwargs)
        if created is None:
            return None
        # Part of the create row. IAM may not see the new profile (or a role made just before) yet:
        # the client retries NoSuchEntity.
        self.call("add_role_to_instance_profile", name, role_name)
        return created["InstanceProfile"]

    def delete(self, name):
        """Delete the profile if it exists: its roles are taken out first (not in check mode), as IAM requires."""
        profile = find_instance_profile(self.iam, name)
        if profile is None:
            return
        label = f"iam instance profile {name}"
        if not self.module.check_mode:
            for role in profile.get("Roles") or []:
                self.call("remove_role_from_instance_profile", name, role["RoleName"])
        self.changes.delete(label, self.iam, "iam", "delete_instance_profile", InstanceProfileName=name)
        self.changes.note(label, {"roles": sorted(role["RoleName"] for role in profile.get("Roles") or [])}, None)
