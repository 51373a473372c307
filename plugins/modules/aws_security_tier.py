#!/usr/bin/python
# -*- coding: utf-8 -*-

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aws_security_tier
short_description: An environment's security tier - security groups, KMS key, IAM roles - in one call
description:
  - Converges, in one module call (one process, one set of clients), the three parts of a
    security tier; each part is optional.
  - O(security_groups) - several security groups of one VPC and all their ingress and egress
    rules. Rules may name other groups of the same call as their source (C(alb) -> C(app) ->
    C(database)). One C(DescribeSecurityGroups) call (filtered by VPC and names) serves the
    no-op path. Rules compare as a set (protocol, ports, source); with O(purge_rules) a rule
    that is not listed is revoked, so nothing else is open. A group whose description differs
    cannot change in place; the module fails instead of replacing it.
  - O(kms_key) - a symmetric encryption KMS key found by its alias, with rotation,
    description and tags (no-op - C(DescribeKey), C(GetKeyRotationStatus), C(ListResourceTags)).
    A key pending deletion is restored.
  - O(iam_roles) - IAM roles with trust policy, description, attached managed policies, inline
    policies and tags (no-op - C(GetRole), C(ListAttachedRolePolicies), C(ListRolePolicies) and
    one C(GetRolePolicy) per inline policy, per role). Policy documents compare semantically
    (order of statements and values, one value versus a one-element list, an account id
    versus its root ARN). With O(purge_policies) a role holds exactly the policies listed.
    Policy documents may use the placeholders C(<kms_key_arn>) (the key of O(kms_key)) and
    C(<account_id>) (the account's id, from the key's ARN, or from C(GetCallerIdentity) when
    there is no key); the module replaces them once the key is known.
  - Every change goes through one change tracker, so C(--check) and C(--diff) report exactly
    what a real run does. In check mode against an empty account O(vpc_id) may be null (the
    VPC would be created) and the ids and ARNs of what would be created are returned as null.
  - O(state=absent) deletes the roles, then the groups (after revoking the rules by which
    they refer to each other), then schedules the key's deletion - which makes everything
    encrypted with it unreadable, so it needs O(confirm_delete) equal to the key's alias.
version_added: 0.1.0
author:
  - the reelle infrastructure authors (@reelle)
options:
  state:
    description: V(present) creates or updates; V(absent) deletes (see above).
    type: str
    choices: [present, absent]
    default: present
  vpc_id:
    description:
      - VPC of the security groups. Null is accepted in check mode only (the VPC would be created).
    type: str
  security_groups:
    description: The security groups, in any order.
    type: list
    elements: dict
    suboptions:
      name:
        description: Group name (also its C(Name) tag).
        type: str
        required: true
      description:
        description: Group description (fixed once created). Required to create the group.
        type: str
      tags:
        description: Tags of this group, on top of O(tags).
        type: dict
      ingress:
        description: Inbound rules. Unset leaves the group's inbound rules alone.
        type: list
        elements: dict
        suboptions: &rule
          protocol:
            description: C(tcp), C(udp), C(icmp), C(all) (or C(-1)) or a protocol number.
            type: str
            default: tcp
          port:
            description: A single port (both ends of the range).
            type: int
          ports:
            description: Several single ports; each is a rule with the same sources and description.
            type: list
            elements: int
          from_port:
            description: First port of a range.
            type: int
          to_port:
            description: Last port of a range.
            type: int
          cidr_ip:
            description: IPv4 CIDRs the rule allows.
            type: list
            elements: str
          cidr_ipv6:
            description: IPv6 CIDRs the rule allows.
            type: list
            elements: str
          source_group:
            description: Security groups the rule allows, by name (a group of this call) or id.
            type: list
            elements: str
          description:
            description: Rule description. Unset leaves an existing rule's description alone.
            type: str
      egress:
        description:
          - Outbound rules, same shape as the inbound ones. Unset leaves the group's outbound
            rules alone (a new group allows all outbound traffic).
        type: list
        elements: dict
        suboptions: *rule
  purge_rules:
    description: Revoke rules that are not listed (for the directions that are given).
    type: bool
    default: true
  kms_key:
    description: The tier's KMS key.
    type: dict
    suboptions:
      alias:
        description:
          - Alias of the key, with or without the C(alias/) prefix.
          - The key is found by its alias, else by its C(reelle:kms-alias) tag (set at creation,
            value the alias) among keys without an alias, so a key left without its alias by an
            interrupted run is aliased and kept rather than created again. That tag is never purged.
        type: str
        required: true
      description:
        description: Description of the key. Unset leaves it alone (a new key gets the alias).
        type: str
      enable_key_rotation:
        description: Automatic yearly rotation of the key material. Unset leaves it alone.
        type: bool
      enabled:
        description: Whether the key can be used. Unset leaves it alone.
        type: bool
      deletion_window_days:
        description: Waiting period of the deletion for O(state=absent), 7 to 30 days.
        type: int
        default: 30
  iam_roles:
    description: The IAM roles.
    type: list
    elements: dict
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
  purge_policies:
    description: Detach managed and delete inline policies that are not listed (when the list is given).
    type: bool
    default: true
  tags:
    description: Tags of every group, the key and every role. Unset leaves tags other than C(Name) alone.
    type: dict
  purge_tags:
    description: When tags are given, remove the others (C(aws:) tags are never touched).
    type: bool
    default: true
  confirm_delete:
    description: Must equal the key's alias (with the C(alias/) prefix) for O(state=absent) to delete anything.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Converge the security tier
  reelle.infra.aws_security_tier:
    region: us-east-1
    vpc_id: "{{ network.vpc_id }}"
    tags: {project: reelle, environment: staging}
    security_groups:
      - name: reelle-staging-alb
        description: "ALB: HTTP/HTTPS from anywhere"
        ingress:
          - {ports: [80, 443], cidr_ip: [0.0.0.0/0], description: ALB listeners}
        egress:
          - {protocol: all, cidr_ip: [0.0.0.0/0]}
      - name: reelle-staging-app
        description: "App tasks: 7777 from the ALB"
        ingress:
          - {port: 7777, source_group: [reelle-staging-alb], description: app from ALB}
        egress:
          - {protocol: all, cidr_ip: [0.0.0.0/0]}
    kms_key:
      alias: alias/reelle-staging
      description: reelle-staging data encryption
      enable_key_rotation: true
    iam_roles:
      - name: reelle-staging-ecs-execution
        assume_role_policy:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Principal: {Service: ecs-tasks.amazonaws.com}, Action: "sts:AssumeRole"}
        managed_policy_arns:
          - arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy
        inline_policies:
          project-secrets:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: secretsmanager:GetSecretValue
                Resource: "arn:aws:secretsmanager:us-east-1:<account_id>:secret:reelle-staging/*"
              - Effect: Allow
                Action: kms:Decrypt
                Resource: "<kms_key_arn>"
  register: security
"""

RETURN = r"""
group_ids:
  description: Group id by group name (null in check mode when the group would be created).
  type: dict
  returned: always
  sample: {reelle-staging-alb: sg-0123456789abcdef0, reelle-staging-app: sg-0123456789abcdef1}
security_groups:
  description: The groups as converged.
  type: list
  elements: dict
  returned: always
  contains:
    group_name:
      description: Group name.
      type: str
      sample: reelle-staging-alb
    group_id:
      description: Group id.
      type: str
      sample: sg-0123456789abcdef0
    ingress:
      description: Inbound rules as C(protocol/ports source).
      type: list
      elements: str
      sample: [tcp/80 0.0.0.0/0]
    egress:
      description: Outbound rules as C(protocol/ports destination).
      type: list
      elements: str
      sample: [all 0.0.0.0/0]
  sample:
    - group_name: reelle-staging-alb
      group_id: sg-0123456789abcdef0
      ingress: [tcp/80 0.0.0.0/0]
      egress: [all 0.0.0.0/0]
kms_key:
  description: The key (ids null in check mode when it would be created); null when O(kms_key) is not given.
  type: dict
  returned: always
  contains:
    alias:
      description: The alias, with its C(alias/) prefix.
      type: str
      sample: alias/reelle-staging
    key_id:
      description: Id of the key.
      type: str
      sample: 1234abcd-12ab-34cd-56ef-1234567890ab
    key_arn:
      description: ARN of the key.
      type: str
      sample: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    key_state:
      description: State of the key.
      type: str
      sample: Enabled
    key_rotation_enabled:
      description: Whether rotation is on.
      type: bool
      sample: true
  sample:
    alias: alias/reelle-staging
    key_id: 1234abcd-12ab-34cd-56ef-1234567890ab
    key_arn: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    key_state: Enabled
    key_rotation_enabled: true
role_arns:
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
  description: The plan, one row per resource (or rule set) created, updated or deleted - also in check mode.
  type: list
  elements: dict
  returned: always
  sample: [{action: update, resource: "security group reelle-staging-alb ingress", attributes: ["+tcp/80 0.0.0.0/0"]}]
skipped_calls:
  description: Calls the local emulator lacks that were skipped (always empty for this module).
  type: list
  elements: str
  returned: always
  sample: []
"""

import json

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    ChangeSet,
    aws_client,
    paginate,
    run_manager,
    sync_tags,
    tag_dict,
    tag_list,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_ec2 import (
    filters,
    sync_ec2_tags,
    tag_specifications,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_iam import IamRoles, iam_client

# KMS names a tag's parts TagKey and TagValue.
KMS_TAG = ("TagKey", "TagValue")
# Set on a key at CreateKey (value: its alias), so a run interrupted between CreateKey and
# CreateAlias leaves a key the next run can find and alias instead of making a second one.
KEY_IDENTITY_TAG = "reelle:kms-alias"
PLACEHOLDERS = ("<account_id>", "<kms_key_arn>")


# --- security groups ------------------------------------------------------------------

PROTOCOLS = {"all": "-1", "-1": "-1", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
# Rule key kinds -> (IpPermissions list key, item key)
KINDS = {
    "cidr": ("IpRanges", "CidrIp"),
    "cidr6": ("Ipv6Ranges", "CidrIpv6"),
    "group": ("UserIdGroupPairs", "GroupId"),
    "prefix": ("PrefixListIds", "PrefixListId"),
}
DIRECTIONS = {
    "ingress": ("IpPermissions", "authorize_security_group_ingress", "revoke_security_group_ingress"),
    "egress": ("IpPermissionsEgress", "authorize_security_group_egress", "revoke_security_group_egress"),
}
# What AWS gives a new group: all outbound traffic allowed.
NEW_GROUP_EGRESS = {("-1", None, None, "cidr", "0.0.0.0/0"): None}


def _protocol(value):
    value = str(value).lower()
    return PROTOCOLS.get(value, value)


def _ports(protocol, from_port, to_port):
    if protocol == "-1":
        return None, None
    return from_port, to_port


def actual_rules(permissions):
    """{(protocol, from, to, kind, value): description} of a group's IpPermissions."""
    rules = {}
    for permission in permissions or []:
        protocol = _protocol(permission["IpProtocol"])
        from_port, to_port = _ports(protocol, permission.get("FromPort"), permission.get("ToPort"))
        for kind, (list_key, item_key) in KINDS.items():
            for item in permission.get(list_key) or []:
                rules[(protocol, from_port, to_port, kind, item[item_key])] = item.get("Description")
    return rules


def _port_ranges(spec, protocol):
    if spec["ports"]:
        ranges = [(port, port) for port in spec["ports"]]
    elif spec["port"] is not None:
        ranges = [(spec["port"], spec["port"])]
    else:
        ranges = [(spec["from_port"], spec["to_port"])]
    if protocol in ("tcp", "udp") and any(None in pair for pair in ranges):
        raise ValueError(f"a {protocol} rule needs port, ports, or from_port and to_port: {spec}")
    return [_ports(protocol, *pair) for pair in ranges]


def _sources(spec, group_ids):
    sources = [("cidr", cidr) for cidr in spec["cidr_ip"] or []]
    sources += [("cidr6", cidr) for cidr in spec["cidr_ipv6"] or []]
    for group in spec["source_group"] or []:
        if group.startswith("sg-"):
            sources.append(("group", group))
        elif group in group_ids:
            # Null id: the group would be created (check mode).
            sources.append(("group", group_ids[group] or f"(new) {group}"))
        else:
            raise ValueError(f"source_group {group!r} is neither a group of this call nor a group id")
    if not sources:
        raise ValueError(f"a rule needs cidr_ip, cidr_ipv6 or source_group: {spec}")
    return sources


def desired_rules(specs, group_ids):
    """The same shape from the module's rule options; group names resolve through group_ids."""
    rules = {}
    for spec in specs:
        protocol = _protocol(spec["protocol"])
        sources = _sources(spec, group_ids)
        for from_port, to_port in _port_ranges(spec, protocol):
            for kind, value in sources:
                rules[(protocol, from_port, to_port, kind, value)] = spec["description"]
    return rules


def describe_rule(key, names=None):
    protocol, from_port, to_port, _kind, value = key
    ports = (
        "all"
        if protocol == "-1"
        else f"{protocol}/{from_port}"
        if from_port == to_port
        else f"{protocol}/{from_port}-{to_port}"
    )
    return f"{ports} {(names or {}).get(value, value)}"


def ip_permissions(rules):
    """IpPermissions for a set of rules ({key: description})."""
    permissions = []
    for key, description in sorted(rules.items(), key=lambda item: str(item[0])):
        protocol, from_port, to_port, kind, value = key
        permission = {"IpProtocol": protocol}
        if from_port is not None:
            permission.update(FromPort=from_port, ToPort=to_port)
        list_key, item_key = KINDS[kind]
        item = {item_key: value}
        if description:
            item["Description"] = description
        permission[list_key] = [item]
        permissions.append(permission)
    return permissions


class SecurityGroupsManager:
    def __init__(self, module, changes):
        self.module = module
        self.params = module.params
        self.ec2 = aws_client(module, "ec2")
        self.changes = changes
        self.names = [group["name"] for group in self.params["security_groups"]]

    def find_groups(self):
        vpc_id = self.params["vpc_id"]
        if vpc_id is None:
            return {}
        in_vpc = filters({"vpc-id": [vpc_id], "group-name": self.names})
        groups = paginate(self.ec2, "describe_security_groups", "SecurityGroups", Filters=in_vpc)
        return {group["GroupName"]: group for group in groups}

    def ensure_group(self, spec, existing):
        """The group itself (rules come after every group exists); returns its id."""
        name = spec["name"]
        label = f"security group {name}"
        tags = dict(self.params["tags"] or {}, **(spec["tags"] or {}), Name=name)
        if existing is None:
            if not spec["description"]:
                self.module.fail_json(msg=f"security group {name} does not exist; a description is needed to create it")
            created = self.changes.create(
                label,
                self.ec2,
                "ec2",
                "create_security_group",
                GroupName=name,
                Description=spec["description"],
                VpcId=self.params["vpc_id"],
                TagSpecifications=tag_specifications("security-group", tags),
            )
            return created["GroupId"] if created else None
        if spec["description"] and existing["Description"] != spec["description"]:
            self.module.fail_json(
                msg=(
                    f"Security group {name} ({existing['GroupId']}) has the description {existing['Description']!r}, "
                    f"not {spec['description']!r}. A description cannot change without replacing the group; this "
                    "module does not do that. Set the description back, or delete the group first."
                )
            )
        purge = self.params["purge_tags"] and self.params["tags"] is not None
        sync_ec2_tags(self.changes, self.ec2, label, existing["GroupId"], existing.get("Tags"), tags, purge)
        return existing["GroupId"]

    def update_descriptions(self, label, group_id, direction, renamed, names):
        """New descriptions of existing rules, without revoking them."""
        rows = sorted(f"description {describe_rule(key, names)}" for key in renamed)
        operation = f"update_security_group_rule_descriptions_{direction}"
        self.changes.update(
            label, rows, self.ec2, "ec2", operation, GroupId=group_id, IpPermissions=ip_permissions(renamed)
        )

    def ensure_rules(self, spec, group_id, existing, group_ids, names):
        summary = {}
        for direction, (actual_key, authorize, revoke) in DIRECTIONS.items():
            if existing is not None:
                actual = actual_rules(existing.get(actual_key))
            else:
                actual = dict(NEW_GROUP_EGRESS) if direction == "egress" else {}
            if spec[direction] is None:
                summary[direction] = sorted(describe_rule(key, names) for key in actual)
                continue
            desired = desired_rules(spec[direction], group_ids)
            summary[direction] = sorted(describe_rule(key, names) for key in desired)
            label = f"security group {spec['name']} {direction}"
            added = {key: value for key, value in desired.items() if key not in actual}
            removed = (
                {key: value for key, value in actual.items() if key not in desired}
                if self.params["purge_rules"]
                else {}
            )
            renamed = {
                key: value
                for key, value in desired.items()
                if key in actual and value is not None and actual[key] != value
            }
            for sign, rules, operation in (("-", removed, revoke), ("+", added, authorize)):
                if rules:
                    rows = sorted(f"{sign}{describe_rule(key, names)}" for key in rules)
                    permissions = ip_permissions(rules)
                    self.changes.update(
                        label, rows, self.ec2, "ec2", operation, GroupId=group_id, IpPermissions=permissions
                    )
            if renamed:
                self.update_descriptions(label, group_id, direction, renamed, names)
            before = sorted(describe_rule(key, names) for key in actual) if existing is not None else None
            self.changes.note(label, before, summary[direction])
        return summary

    def ensure_present(self):
        if self.params["vpc_id"] is None and not self.module.check_mode:
            self.module.fail_json(
                msg="vpc_id is required (it may be null only in check mode, when the VPC would be created)"
            )
        found = self.find_groups()
        group_ids = {
            spec["name"]: self.ensure_group(spec, found.get(spec["name"])) for spec in self.params["security_groups"]
        }
        names = {group_id: name for name, group_id in group_ids.items() if group_id}
        groups = []
        for spec in self.params["security_groups"]:
            try:
                summary = self.ensure_rules(spec, group_ids[spec["name"]], found.get(spec["name"]), group_ids, names)
            except ValueError as error:
                self.module.fail_json(msg=f"security group {spec['name']}: {error}")
            groups.append(dict(group_name=spec["name"], group_id=group_ids[spec["name"]], **summary))
        return {"group_ids": group_ids, "security_groups": groups}

    def ensure_absent(self):
        found = self.find_groups()
        ours = {group["GroupId"] for group in found.values()}
        # Rules that name another group of the set go first, or the groups cannot be deleted.
        for group in found.values():
            for direction, (actual_key, _authorize, revoke) in DIRECTIONS.items():
                linked = {
                    k: v for k, v in actual_rules(group.get(actual_key)).items() if k[3] == "group" and k[4] in ours
                }
                if linked:
                    label = f"security group {group['GroupName']} {direction}"
                    rows = sorted(f"-{describe_rule(key)}" for key in linked)
                    self.changes.update(
                        label,
                        rows,
                        self.ec2,
                        "ec2",
                        revoke,
                        GroupId=group["GroupId"],
                        IpPermissions=ip_permissions(linked),
                    )
        for name, group in found.items():
            self.changes.delete(
                f"security group {name}", self.ec2, "ec2", "delete_security_group", GroupId=group["GroupId"]
            )
            self.changes.note(f"security group {name}", {"group_id": group["GroupId"]}, None)
        return {"group_ids": dict.fromkeys(self.names), "security_groups": []}


# --- KMS key ------------------------------------------------------------------------------


def kms_tags(tags):
    """A tag dict as KMS takes it."""
    return tag_list(tags, *KMS_TAG)


class KmsKeyManager:
    def __init__(self, module, changes):
        self.module = module
        self.params = module.params
        self.spec = module.params["kms_key"]
        alias = self.spec["alias"]
        self.alias = alias if alias.startswith("alias/") else f"alias/{alias}"
        self.label = f"kms key {self.alias}"
        self.kms = aws_client(module, "kms")
        self.changes = changes

    def find_key(self):
        try:
            return self.kms.describe_key(aws_retry=True, KeyId=self.alias)["KeyMetadata"]
        except is_boto3_error_code("NotFoundException"):
            return None

    def find_orphan(self):
        """A key tagged with our alias but without any alias: what a run interrupted before CreateAlias left.

        Only keys no alias points at are looked into (AWS managed keys all have one), one
        ListResourceTags each; keys pending deletion were deleted on purpose and are skipped.
        """
        aliased = {alias.get("TargetKeyId") for alias in paginate(self.kms, "list_aliases", "Aliases")}
        for listed in paginate(self.kms, "list_keys", "Keys"):
            if listed["KeyId"] in aliased:
                continue
            try:
                tags = paginate(self.kms, "list_resource_tags", "Tags", KeyId=listed["KeyId"])
            except is_boto3_error_code(("AccessDeniedException", "NotFoundException")):
                continue  # keys of other principals' making may refuse us; they are not ours anyway
            if tag_dict(tags, *KMS_TAG).get(KEY_IDENTITY_TAG) != self.alias:
                continue
            key = self.kms.describe_key(aws_retry=True, KeyId=listed["KeyId"])["KeyMetadata"]
            if key["KeyState"] not in ("PendingDeletion", "PendingReplicaDeletion"):
                return key
        return None

    def update(self, attributes, operation, **kwargs):
        return self.changes.update(self.label, attributes, self.kms, "kms", operation, **kwargs)

    def create_key(self):
        tags = self.params["tags"] or {}
        created = self.changes.create(
            self.label,
            self.kms,
            "kms",
            "create_key",
            Description=self.spec["description"] if self.spec["description"] is not None else self.alias,
            KeyUsage="ENCRYPT_DECRYPT",
            KeySpec="SYMMETRIC_DEFAULT",
            Tags=kms_tags(dict(tags, **{KEY_IDENTITY_TAG: self.alias})),
        )
        rotation = bool(self.spec["enable_key_rotation"])
        self.changes.note(
            self.label, None, {"description": self.spec["description"], "rotation": rotation, "tags": tags}
        )
        if created is None:
            return dict(alias=self.alias, key_id=None, key_arn=None, key_rotation_enabled=rotation)
        key = created["KeyMetadata"]
        self.changes.call(self.kms, "kms", "create_alias", AliasName=self.alias, TargetKeyId=key["KeyId"])
        if rotation:
            self.changes.call(self.kms, "kms", "enable_key_rotation", KeyId=key["KeyId"])
        if self.spec["enabled"] is False:
            self.changes.call(self.kms, "kms", "disable_key", KeyId=key["KeyId"])
        return dict(
            alias=self.alias,
            key_id=key["KeyId"],
            key_arn=key["Arn"],
            key_state=key["KeyState"],
            key_rotation_enabled=rotation,
        )

    def ensure_state(self, key):
        key_id = key["KeyId"]
        state = key["KeyState"]
        if state == "PendingDeletion":
            self.update(["key_state"], "cancel_key_deletion", KeyId=key_id)
            state = "Disabled"
            if self.spec["enabled"] is not False:
                self.update(["enabled"], "enable_key", KeyId=key_id)
                state = "Enabled"
        elif self.spec["enabled"] is True and state == "Disabled":
            self.update(["enabled"], "enable_key", KeyId=key_id)
            state = "Enabled"
        elif self.spec["enabled"] is False and state == "Enabled":
            self.update(["enabled"], "disable_key", KeyId=key_id)
            state = "Disabled"
        return state

    def ensure_tags(self, key_id):
        if self.params["tags"] is None:
            return None
        pages = paginate(self.kms, "list_resource_tags", "Tags", KeyId=key_id)
        actual = tag_dict(pages, *KMS_TAG)
        desired = dict(self.params["tags"], **{KEY_IDENTITY_TAG: self.alias})
        sync_tags(
            self.changes,
            self.label,
            actual,
            desired,
            self.params["purge_tags"],
            lambda to_set: (self.kms, "kms", "tag_resource", {"KeyId": key_id, "Tags": kms_tags(to_set)}),
            lambda keys: (self.kms, "kms", "untag_resource", {"KeyId": key_id, "TagKeys": sorted(keys)}),
        )
        actual.pop(KEY_IDENTITY_TAG, None)  # the diff shows the tags the user set
        return actual

    def ensure_present(self):
        key = self.find_key()
        if key is None:
            key = self.find_orphan()
            if key is None:
                return self.create_key()
            self.update(["alias"], "create_alias", AliasName=self.alias, TargetKeyId=key["KeyId"])
        key_id = key["KeyId"]
        before = {"description": key.get("Description"), "key_state": key["KeyState"]}
        after = dict(before)
        state = self.ensure_state(key)
        after["key_state"] = state
        description = self.spec["description"]
        if description is not None and key.get("Description") != description:
            self.update(["description"], "update_key_description", KeyId=key_id, Description=description)
            after["description"] = description
        rotation = self.kms.get_key_rotation_status(aws_retry=True, KeyId=key_id)["KeyRotationEnabled"]
        before["rotation"] = rotation
        wanted = self.spec["enable_key_rotation"]
        if wanted is not None and wanted != rotation:
            self.update(
                ["enable_key_rotation"], "enable_key_rotation" if wanted else "disable_key_rotation", KeyId=key_id
            )
            rotation = wanted
        after["rotation"] = rotation
        tags = self.ensure_tags(key_id)
        if tags is not None:
            before["tags"], after["tags"] = tags, self.params["tags"]
        self.changes.note(self.label, before, after)
        return dict(alias=self.alias, key_id=key_id, key_arn=key["Arn"], key_state=state, key_rotation_enabled=rotation)

    def confirm_delete(self):
        """Fail before anything is deleted unless the alias is confirmed."""
        if self.params["confirm_delete"] != self.alias:
            self.module.fail_json(
                msg=(
                    f"Refusing to delete KMS key {self.alias}: data encrypted with it becomes unreadable. "
                    f"Set confirm_delete to {self.alias!r} to confirm."
                )
            )

    def ensure_absent(self):
        self.confirm_delete()
        key = self.find_key()
        if key is None or key["KeyState"] == "PendingDeletion":
            return dict(alias=self.alias, key_id=key and key["KeyId"], key_arn=key and key["Arn"])
        self.changes.delete(self.label, self.kms, "kms", "delete_alias", AliasName=self.alias)
        if not self.module.check_mode:
            self.changes.call(
                self.kms,
                "kms",
                "schedule_key_deletion",
                KeyId=key["KeyId"],
                PendingWindowInDays=self.spec["deletion_window_days"],
            )
        self.changes.note(self.label, {"key_state": key["KeyState"]}, {"key_state": "PendingDeletion"})
        return dict(alias=self.alias, key_id=key["KeyId"], key_arn=key["Arn"], key_state="PendingDeletion")


# --- IAM roles ------------------------------------------------------------------------------


class IamRolesManager:
    """The roles of O(iam_roles), their policy placeholders filled in, converged by reelle_iam."""

    def __init__(self, module, changes):
        self.params = module.params
        self.roles = IamRoles(changes, iam_client(module), self.params["purge_tags"], self.params["purge_policies"])

    def desired_tags(self, spec):
        if self.params["tags"] is None and spec["tags"] is None:
            return None
        return dict(self.params["tags"] or {}, **(spec["tags"] or {}))

    def ensure_present(self, values):
        """values: placeholder -> value for the policy documents (unknown ones stay as they are)."""
        roles = []
        for given in self.params["iam_roles"]:
            spec = dict(given, tags=self.desired_tags(given))
            for key in ("assume_role_policy", "inline_policies"):
                spec[key] = resolve_placeholders(spec[key], values)
            role = self.roles.ensure(spec)
            roles.append({"role_name": spec["name"], "arn": role and role["Arn"], "role_id": role and role["RoleId"]})
        return {"role_arns": {role["role_name"]: role["arn"] for role in roles}, "roles": roles}

    def ensure_absent(self):
        for spec in self.params["iam_roles"]:
            self.roles.delete(spec["name"])
        return {"role_arns": {spec["name"]: None for spec in self.params["iam_roles"]}, "roles": []}


def resolve_placeholders(value, values):
    """Replace the placeholders whose value is known in every string of a policy document."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        return json.dumps(resolve_placeholders(json.loads(value), values))
    if isinstance(value, str):
        for placeholder, known in values.items():
            if known is not None:
                value = value.replace(placeholder, known)
        return value
    if isinstance(value, dict):
        return {key: resolve_placeholders(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_placeholders(item, values) for item in value]
    return value


def uses_placeholder(value, placeholder):
    return placeholder in json.dumps(value)


# --- the tier -------------------------------------------------------------------------------


class SecurityTierManager:
    """Key first (the roles' policies may name it), then the groups, then the roles."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.changes = ChangeSet(module)

    def placeholder_values(self, key):
        key_arn = (key or {}).get("key_arn")
        account_id = key_arn.split(":")[4] if key_arn else None
        if account_id is None and uses_placeholder(self.params["iam_roles"], "<account_id>"):
            sts = aws_client(self.module, "sts")
            account_id = sts.get_caller_identity(aws_retry=True)["Account"]
        return {"<account_id>": account_id, "<kms_key_arn>": key_arn}

    def ensure_present(self):
        result = {"group_ids": {}, "security_groups": [], "kms_key": None, "role_arns": {}, "roles": []}
        if self.params["kms_key"]:
            result["kms_key"] = KmsKeyManager(self.module, self.changes).ensure_present()
        if self.params["security_groups"]:
            result.update(SecurityGroupsManager(self.module, self.changes).ensure_present())
        if self.params["iam_roles"]:
            values = self.placeholder_values(result["kms_key"])
            unknown = [name for name, value in values.items() if value is None]
            needed = [name for name in unknown if uses_placeholder(self.params["iam_roles"], name)]
            if needed and not self.module.check_mode:
                self.module.fail_json(
                    msg=f"IAM policies use {', '.join(needed)}, but no kms_key is given to fill it in"
                )
            result.update(IamRolesManager(self.module, self.changes).ensure_present(values))
        return self.changes.result(**result)

    def ensure_absent(self):
        result = {"group_ids": {}, "security_groups": [], "kms_key": None, "role_arns": {}, "roles": []}
        key = KmsKeyManager(self.module, self.changes) if self.params["kms_key"] else None
        if key is not None:
            key.confirm_delete()
        if self.params["iam_roles"]:
            result.update(IamRolesManager(self.module, self.changes).ensure_absent())
        if self.params["security_groups"]:
            result.update(SecurityGroupsManager(self.module, self.changes).ensure_absent())
        if key is not None:
            result["kms_key"] = key.ensure_absent()
        return self.changes.result(**result)


def main():
    rule = dict(
        protocol=dict(type="str", default="tcp"),
        port=dict(type="int"),
        ports=dict(type="list", elements="int"),
        from_port=dict(type="int"),
        to_port=dict(type="int"),
        cidr_ip=dict(type="list", elements="str"),
        cidr_ipv6=dict(type="list", elements="str"),
        source_group=dict(type="list", elements="str"),
        description=dict(type="str"),
    )
    group = dict(
        name=dict(type="str", required=True),
        description=dict(type="str"),
        tags=dict(type="dict"),
        ingress=dict(type="list", elements="dict", options=rule),
        egress=dict(type="list", elements="dict", options=rule),
    )
    key = dict(
        alias=dict(type="str", required=True),
        description=dict(type="str"),
        enable_key_rotation=dict(type="bool"),
        enabled=dict(type="bool"),
        deletion_window_days=dict(type="int", default=30),
    )
    role = dict(
        name=dict(type="str", required=True),
        assume_role_policy=dict(type="json"),
        description=dict(type="str"),
        path=dict(type="str", default="/"),
        max_session_duration=dict(type="int"),
        managed_policy_arns=dict(type="list", elements="str"),
        inline_policies=dict(type="dict"),
        tags=dict(type="dict"),
    )
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        vpc_id=dict(type="str"),
        security_groups=dict(type="list", elements="dict", options=group),
        purge_rules=dict(type="bool", default=True),
        kms_key=dict(type="dict", options=key, no_log=False),
        iam_roles=dict(type="list", elements="dict", options=role),
        purge_policies=dict(type="bool", default=True),
        tags=dict(type="dict"),
        purge_tags=dict(type="bool", default=True),
        confirm_delete=dict(type="str"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    days = (module.params["kms_key"] or {}).get("deletion_window_days", 30)
    if not 7 <= days <= 30:
        module.fail_json(msg=f"kms_key.deletion_window_days must be from 7 to 30, got {days}")
    try:
        run_manager(module, SecurityTierManager(module), failure="to converge the security tier")
    except ValueError as error:
        module.fail_json(msg=f"Security tier: a policy document is not valid JSON: {error}")


if __name__ == "__main__":
    main()
