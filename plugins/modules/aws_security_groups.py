#!/usr/bin/python
# -*- coding: utf-8 -*-

# MIT License (see the project's README)

DOCUMENTATION = r"""
---
module: aws_security_groups
short_description: A set of VPC security groups and all their rules in one call
description:
  - Creates or updates several security groups of one VPC and their ingress and egress
    rules. Rules may name other groups of the same call as their source (C(alb) -> C(app)
    -> C(database)), so a whole tier is one task.
  - One C(DescribeSecurityGroups) call (filtered by VPC and group names) serves the no-op
    path. Rules are compared as a set (protocol, ports, source); with O(purge_rules) a
    rule that is not listed is revoked, so nothing else is open.
  - A group whose description differs cannot be changed in place; the module fails
    instead of replacing it.
  - In check mode against an empty account O(vpc_id) may be null (the VPC would be
    created); the groups and rules are then reported as creates and their ids are null.
version_added: 0.1.0
author: reelle platform team
options:
  vpc_id:
    description:
      - VPC of the groups. Null is accepted in check mode only (the VPC would be created).
    type: str
  state:
    description:
      - V(present) creates or updates the groups; V(absent) deletes them (after revoking the
        rules by which they refer to each other).
    type: str
    choices: [present, absent]
    default: present
  security_groups:
    description: The groups, in any order.
    type: list
    elements: dict
    required: true
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
        description:
          - Inbound rules. Unset leaves the group's inbound rules alone.
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
          - Outbound rules, same shape as O(security_groups[].ingress). Unset leaves the group's
            outbound rules alone (a new group allows all outbound traffic).
        type: list
        elements: dict
        suboptions: *rule
  tags:
    description: Tags of every group. Unset leaves tags other than C(Name) alone.
    type: dict
  purge_tags:
    description: When O(tags) is set, remove tags not given (C(aws:) tags are never touched).
    type: bool
    default: true
  purge_rules:
    description: Revoke rules that are not listed (for the directions that are given).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Converge the tier's security groups
  aws_security_groups:
    vpc_id: "{{ network.vpc_id }}"
    tags: {project: reelle}
    security_groups:
      - name: reelle-staging-alb
        description: "ALB: HTTP/HTTPS from anywhere"
        ingress:
          - {port: 80, cidr_ip: [0.0.0.0/0], description: HTTP}
          - {port: 443, cidr_ip: [0.0.0.0/0], description: HTTPS}
        egress:
          - {protocol: all, cidr_ip: [0.0.0.0/0]}
      - name: reelle-staging-app
        description: "App tasks: 7777 from the ALB"
        ingress:
          - {port: 7777, source_group: [reelle-staging-alb], description: app from ALB}
        egress:
          - {protocol: all, cidr_ip: [0.0.0.0/0]}
  register: groups
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
changes:
  description: The plan, one row per group or rule set created, updated or deleted.
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

import contextlib

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible.module_utils.reelle_aws import RETRY, ChangeSet, aws_client, paginate, tag_dict, tag_list
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

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
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.ec2 = aws_client(module, "ec2")
        self.changes = ChangeSet(module)
        self.names = [group["name"] for group in self.params["security_groups"]]

    def find_groups(self):
        vpc_id = self.params["vpc_id"]
        if vpc_id is None:
            return {}
        filters = [{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": self.names}]
        groups = RETRY(paginate)(self.ec2, "describe_security_groups", "SecurityGroups", Filters=filters)
        return {group["GroupName"]: group for group in groups}

    def ensure_tags(self, label, group_id, actual_tags, desired):
        actual = tag_dict(actual_tags)
        to_set = {key: value for key, value in desired.items() if actual.get(key) != value}
        to_unset = []
        if self.params["purge_tags"] and self.params["tags"] is not None:
            to_unset = sorted(key for key in actual if key not in desired and not key.startswith("aws:"))
        if to_set:
            attributes = [f"tags.{key}" for key in sorted(to_set)]
            self.changes.update(
                label, attributes, self.ec2, "ec2", "create_tags", Resources=[group_id], Tags=tag_list(to_set)
            )
        if to_unset:
            self.changes.update(
                label,
                [f"tags.{key}" for key in to_unset],
                self.ec2,
                "ec2",
                "delete_tags",
                Resources=[group_id],
                Tags=[{"Key": key} for key in to_unset],
            )

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
                TagSpecifications=[{"ResourceType": "security-group", "Tags": tag_list(tags)}],
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
        self.ensure_tags(label, existing["GroupId"], existing.get("Tags"), tags)
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
            if removed:
                rows = [f"-{describe_rule(key, names)}" for key in removed]
                self.changes.update(
                    label,
                    sorted(rows),
                    self.ec2,
                    "ec2",
                    revoke,
                    GroupId=group_id,
                    IpPermissions=ip_permissions(removed),
                )
            if added:
                rows = [f"+{describe_rule(key, names)}" for key in added]
                self.changes.update(
                    label,
                    sorted(rows),
                    self.ec2,
                    "ec2",
                    authorize,
                    GroupId=group_id,
                    IpPermissions=ip_permissions(added),
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
        return self.changes.result(group_ids=group_ids, security_groups=groups)

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
        return self.changes.result(group_ids={name: None for name in self.names}, security_groups=[])


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
    argument_spec = dict(
        vpc_id=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        security_groups=dict(
            type="list",
            elements="dict",
            required=True,
            options=dict(
                name=dict(type="str", required=True),
                description=dict(type="str"),
                tags=dict(type="dict"),
                ingress=dict(type="list", elements="dict", options=rule),
                egress=dict(type="list", elements="dict", options=rule),
            ),
        ),
        tags=dict(type="dict"),
        purge_tags=dict(type="bool", default=True),
        purge_rules=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    manager = SecurityGroupsManager(module)
    try:
        result = manager.ensure_present() if module.params["state"] == "present" else manager.ensure_absent()
    except (BotoCoreError, ClientError) as error:
        module.fail_json_aws(error, msg="Security groups: AWS call failed")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
