#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ecs_ec2_capacity
short_description: EC2 capacity for an ECS cluster, as one unit
version_added: "0.1.0"
description:
  - Ensures, in one call, the EC2 side of an ECS cluster - a container-instance IAM role with the
    C(AmazonEC2ContainerServiceforEC2Role) managed policy and its instance profile; a launch template
    (ECS-optimized AMI, instance type, security groups, user data joining the cluster
    C(ECS_CLUSTER=<cluster>), IMDSv2 required, encrypted root volume); an Auto Scaling group over the
    given subnets (new instances protected from scale-in, tag C(AmazonECSManaged), group metrics
    collected); an ECS capacity provider on that group (managed scaling, managed termination
    protection); and the cluster's capacity providers and default strategy
    (C(FARGATE), C(FARGATE_SPOT) and this provider).
  - "Design: AWS rejects a capacity provider strategy that mixes Fargate and Auto Scaling group
    providers, so a service runs either on this provider (EC2) or on Fargate. The cluster offers both:
    the primary service names this provider in its strategy (M(reelle.infra.ecs_deploy)
    O(reelle.infra.ecs_deploy#module:service.capacity_provider_strategy)), while the cluster's default strategy
    (O(default_capacity_provider_strategy), FARGATE by default) serves one-off tasks and services that
    name no strategy; the eu-west-1 warm standby runs on Fargate."
  - The AMI is pinned, never following AWS's recommendation on its own. O(image_id) is an AMI id, or
    C(latest) - the value of the public SSM parameter O(image_parameter) (the recommended ECS-optimized
    Amazon Linux 2023 AMI) when the launch template is created, then the AMI of its default version
    until O(image_update) moves it to the recommended one. When the recommended AMI differs from the one
    used, the module warns (and returns it as RV(recommended_image_id)).
  - A new launch-template version is created only when the template data differs from the default version,
    and becomes the default version; the group launches C($Default), so new instances use it (running
    instances are not replaced). Creates send a deterministic C(ClientToken); the launch template, the
    group and the role are tagged when created.
  - The cluster is created when it does not exist (name, tags, capacity providers); its other settings
    (Container Insights) and tags belong to M(reelle.infra.ecs_deploy).
  - The group's desired capacity is set on creation; afterwards ECS managed scaling owns it.
  - The launch template gets O(tags) when created; tags of the IAM role, the instance profile, the group and
    the capacity provider are reconciled every run. The role's trust policy (EC2) and description are kept too.
  - A no-op run makes 8 read calls - SSM C(GetParameter), IAM C(GetRole), C(ListAttachedRolePolicies)
    and C(GetInstanceProfile), EC2 C(DescribeLaunchTemplateVersions), Auto Scaling
    C(DescribeAutoScalingGroups), ECS C(DescribeCapacityProviders) and C(DescribeClusters).
  - O(state=absent) takes the provider out of the cluster's providers and strategy, then deletes the
    capacity provider, the group (forced, its instances terminate), the launch template, the instance
    profile and the role. The cluster stays.
  - Emulator (moto 5.2.5) limits - C(autoscaling:disable_metrics_collection) is not implemented
    (skipped, listed in RV(skipped_calls)); moto launches no container instances.
author:
  - the reelle infrastructure authors (@reelle)
options:
  state:
    description: Whether the capacity should exist.
    type: str
    choices: [present, absent]
    default: present
  name:
    description:
      - Name of the launch template, the Auto Scaling group and the capacity provider; the role and
        instance profile are C(<name>-ecs-instance).
      - A capacity provider name may not start with C(aws), C(ecs) or C(fargate).
    type: str
    required: true
  cluster:
    description: ECS cluster the instances join.
    type: str
    required: true
  instance_type:
    description: EC2 instance type.
    type: str
    default: m5.large
  image_id:
    description:
      - AMI of the instances (C(ami-...)), pinned.
      - C(latest) - the recommended AMI (O(image_parameter)) when the launch template is created; afterwards
        the template keeps its AMI unless O(image_update) is set.
    type: str
    default: latest
  image_update:
    description:
      - With O(image_id=latest), move the launch template to the currently recommended AMI (a new template
        version; new instances only). Off - a newer recommended AMI is only reported as a warning.
    type: bool
    default: false
  image_parameter:
    description: Public SSM parameter holding the ECS-optimized AMI id.
    type: str
    default: /aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id
  security_groups:
    description: Security groups of the instances.
    type: list
    elements: str
    default: []
  subnets:
    description: Subnets the group launches into (the private subnets). Required when O(state=present).
    type: list
    elements: str
  root_volume_size:
    description: Root volume size in GiB (encrypted gp3).
    type: int
    default: 30
  root_device_name:
    description: Root device name of the AMI.
    type: str
    default: /dev/xvda
  kms_key_id:
    description: KMS key ARN encrypting the root volume; unset uses the account's default EBS key.
    type: str
  ecs_agent_config:
    description: Extra C(/etc/ecs/ecs.config) settings, e.g. C({ECS_ENABLE_CONTAINER_METADATA true}).
    type: dict
    default: {}
  managed_policy_arns:
    description:
      - Managed policies of the instance role besides C(AmazonEC2ContainerServiceforEC2Role).
      - Attached when missing; a policy no longer listed (or attached to the role elsewhere) stays attached.
    type: list
    elements: str
    default: []
  min_size:
    description: Fewest instances.
    type: int
    default: 1
  max_size:
    description: Most instances.
    type: int
    default: 3
  desired_capacity:
    description: Instances at creation (between O(min_size) and O(max_size)); afterwards managed scaling owns it.
    type: int
  metrics:
    description: Group metrics collected (1-minute granularity).
    type: list
    elements: str
    default: [GroupMinSize, GroupMaxSize, GroupDesiredCapacity, GroupInServiceInstances,
              GroupPendingInstances, GroupStandbyInstances, GroupTerminatingInstances, GroupTotalInstances]
  target_capacity:
    description: Managed scaling's target utilisation of the group, percent (100 - no spare instance).
    type: int
    default: 100
  minimum_scaling_step_size:
    description: Fewest instances managed scaling adds or removes at once.
    type: int
    default: 1
  maximum_scaling_step_size:
    description: Most instances managed scaling adds or removes at once.
    type: int
    default: 10
  instance_warmup_period:
    description: Seconds before a new instance counts in the group's metrics.
    type: int
    default: 300
  managed_termination_protection:
    description: ECS keeps instances running tasks from being terminated by scale-in.
    type: bool
    default: true
  fargate_capacity_providers:
    description: Fargate providers the cluster keeps beside this one.
    type: list
    elements: str
    choices: [FARGATE, FARGATE_SPOT]
    default: [FARGATE, FARGATE_SPOT]
  default_capacity_provider_strategy:
    description:
      - The cluster's default strategy (tasks and services that name neither launch type nor strategy).
        Unset - C([{capacity_provider FARGATE, weight 1}]). It may not mix Fargate and this provider.
    type: list
    elements: dict
    suboptions:
      capacity_provider:
        description: Provider name (this module's O(name), C(FARGATE) or C(FARGATE_SPOT)).
        type: str
        required: true
      weight:
        description: Relative share of the tasks.
        type: int
        default: 1
      base:
        description: Tasks placed on this provider first.
        type: int
        default: 0
  tags:
    description: Tags of every resource the module creates; unset leaves tags alone.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags of the role, instance profile, group and capacity provider not listed in O(tags).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: EC2 capacity for prod's backend (10 tasks of 2 GiB, two awsvpc tasks per m5.large)
  reelle.infra.ecs_ec2_capacity:
    name: reelle-prod-ec2
    cluster: reelle-prod
    instance_type: m5.large
    subnets: "{{ private_subnet_ids }}"
    security_groups: ["{{ app_security_group_id }}"]
    min_size: 3
    max_size: 10
    desired_capacity: 3
    target_capacity: 100
    tags:
      environment: prod

- name: Remove it (the cluster stays)
  reelle.infra.ecs_ec2_capacity:
    state: absent
    name: reelle-prod-ec2
    cluster: reelle-prod
"""

RETURN = r"""
changes:
  description: Plan rows, one per change made (or that would be made in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{"action": "create", "resource": "auto scaling group reelle-prod-ec2", "attributes": []}]
skipped_calls:
  description: Calls not made because the local emulator lacks them (C(service:operation)).
  returned: always
  type: list
  elements: str
  sample: ["autoscaling:disable_metrics_collection"]
capacity_provider_name:
  description: Name of the capacity provider.
  returned: always
  type: str
  sample: reelle-prod-ec2
capacity_provider_arn:
  description: ARN of the capacity provider; null when it would be created (check mode) or was removed.
  returned: always
  type: str
  sample: arn:aws:ecs:us-east-1:123456789012:capacity-provider/reelle-prod-ec2
auto_scaling_group_name:
  description: Name of the Auto Scaling group.
  returned: always
  type: str
  sample: reelle-prod-ec2
auto_scaling_group_arn:
  description: ARN of the group; null when it would be created (check mode) or was removed.
  returned: always
  type: str
  sample: arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1a2b:autoScalingGroupName/reelle-prod-ec2
launch_template_id:
  description: Id of the launch template; null when it would be created (check mode) or was removed.
  returned: always
  type: str
  sample: lt-0123456789abcdef0
launch_template_version:
  description: The template's default version (the one new instances launch).
  returned: always
  type: int
  sample: 2
image_id:
  description: AMI of the template's default version.
  returned: when state is present
  type: str
  sample: ami-05fb4f257abd42992
recommended_image_id:
  description: The recommended ECS-optimized AMI (O(image_parameter)) read this run; null when it could not be read.
  returned: when state is present
  type: str
  sample: ami-0fedcba9876543210
instance_role_arn:
  description: ARN of the container-instance role; null when it would be created or was removed.
  returned: always
  type: str
  sample: arn:aws:iam::123456789012:role/reelle-prod-ec2-ecs-instance
instance_profile_name:
  description: Name of the instance profile.
  returned: always
  type: str
  sample: reelle-prod-ec2-ecs-instance
cluster_capacity_providers:
  description: The cluster's capacity providers as desired.
  returned: when state is present
  type: list
  elements: str
  sample: [FARGATE, FARGATE_SPOT, reelle-prod-ec2]
diff:
  description: Before and after of each resource that differs (with --diff).
  returned: when diff mode is on
  type: dict
  sample: {"before": {"auto_scaling_group": {"MaxSize": 6}}, "after": {"auto_scaling_group": {"MaxSize": 10}}}
"""

import base64

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # AnsibleAWSModule reports missing botocore
    BotoCoreError = ClientError = None

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    ALLOW_MORE_PRESENT,
    ChangeSet,
    arn,
    aws_client,
    changed_attributes,
    client_token,
    differences,
    partition_for,
    run_manager,
    sync_tags,
    tag_dict,
    tag_list,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_ec2 import tag_specifications
from ansible_collections.reelle.infra.plugins.module_utils.reelle_ecs import (
    FARGATE_PROVIDERS,
    EcsCluster,
    provider_strategy,
    strategy_argument_spec,
    sync_ecs_tags,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_ecs import strategy_problem as aws_strategy_problem
from ansible_collections.reelle.infra.plugins.module_utils.reelle_iam import IamRoles, InstanceProfiles

# The AWS managed policy of ECS container instances; its ARN is in the region's partition
# (arn:aws-cn:iam::aws:policy/... in China, arn:aws-us-gov:... in GovCloud).
ECS_INSTANCE_POLICY = "policy/service-role/AmazonEC2ContainerServiceforEC2Role"
LATEST_IMAGE = "latest"
_UNREAD = object()
ASSUME_EC2 = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
MANAGED_TAG = "AmazonECSManaged"


# --- pure helpers ----------------------------------------------------------------


def user_data(cluster, extra):
    """Base64 user data that joins the cluster (and sets extra ECS agent settings)."""
    settings = {"ECS_CLUSTER": cluster, **{key: str(value) for key, value in sorted((extra or {}).items())}}
    lines = "".join(f"{key}={value}\n" for key, value in settings.items())
    script = f"#!/bin/bash\ncat >> /etc/ecs/ecs.config <<'EOF'\n{lines}EOF\n"
    return base64.b64encode(script.encode()).decode()


def strategy_problem(items, own):
    """Why the cluster's default strategy (API shape) cannot be used, or None."""
    problem = aws_strategy_problem(items)
    if problem:
        return problem
    unknown = sorted({item["capacityProvider"] for item in items} - set(FARGATE_PROVIDERS) - {own})
    if unknown:
        return f"unknown capacity providers {', '.join(unknown)} (this module manages {own}, FARGATE, FARGATE_SPOT)"
    return None


def subnets_of(group):
    return sorted(item for item in (group.get("VPCZoneIdentifier") or "").split(",") if item)


# --- the manager -------------------------------------------------------------------


class Ec2CapacityManager:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.changes = ChangeSet(module)
        self.tags = self.params.get("tags")
        self.name = self.params["name"]
        self.resource = f"ECS EC2 capacity {self.name}"  # run_manager's failure
        self.role_name = f"{self.name}-ecs-instance"
        self._clients = {}
        self._template = _UNREAD
        self._recommended = _UNREAD

    def client(self, service):
        if service not in self._clients:
            self._clients[service] = aws_client(self.module, service)
        return self._clients[service]

    # -- validation, before anything is touched

    def validate(self):
        """Fail with a message naming the argument before any call that changes something."""
        problems = [problem for problem in self._problems() if problem]
        if problems:
            self.module.fail_json(msg="; ".join(problems))

    def _problems(self):
        params = self.params
        low, high, desired = params["min_size"], params["max_size"], params.get("desired_capacity")
        yield self._id_problem()
        if self.name.lower().startswith(("aws", "ecs", "fargate")):
            yield f"name {self.name} may not start with aws, ecs or fargate (capacity provider)"
        if low < 0 or low > high:
            yield f"min_size {low} must be between 0 and max_size {high}"
        if desired is not None and not low <= desired <= high:
            yield f"desired_capacity {desired} is outside min_size {low} - max_size {high}"
        if not 1 <= params["target_capacity"] <= 100:
            yield f"target_capacity {params['target_capacity']} must be 1-100 (percent)"
        if params["minimum_scaling_step_size"] > params["maximum_scaling_step_size"]:
            yield "minimum_scaling_step_size exceeds maximum_scaling_step_size"
        if not 1 <= params["root_volume_size"] <= 16384:
            yield f"root_volume_size {params['root_volume_size']} must be 1-16384 GiB"
        problem = strategy_problem(self.default_strategy(), self.name)
        if problem:
            yield f"default_capacity_provider_strategy: {problem}"
        if any(
            "=" in key or key != key.strip() or "\n" in str(value) for key, value in params["ecs_agent_config"].items()
        ):
            yield "ecs_agent_config: keys without '=' or spaces, values on one line"

    def _id_problem(self):
        """Null ids are upstream resources a check run has not created: fine in check mode only."""
        if self.module.check_mode:
            return None
        if not self.params.get("subnets"):
            return "subnets is required when state is present"
        for key in ("subnets", "security_groups"):
            if any(not item for item in self.params.get(key) or []):
                return f"{key} holds a null or empty id (upstream resource missing?)"
        return None

    def default_strategy(self):
        given = self.params.get("default_capacity_provider_strategy")
        if given is None:
            given = [{"capacity_provider": "FARGATE", "weight": 1, "base": 0}]
        return provider_strategy(given)

    # -- IAM: role + instance profile

    def ensure_role(self):
        """The instance role (reelle_iam IamRoles) and its instance profile; the role's ARN (None in check mode)."""
        spec = {
            "name": self.role_name,
            "assume_role_policy": ASSUME_EC2,
            "description": f"ECS container instances of {self.params['cluster']}",
            # Only attached: a policy attached to the role elsewhere stays.
            "managed_policy_arns": [self.instance_policy_arn(), *self.params["managed_policy_arns"]],
            "tags": self.tags,
        }
        role = self.roles().ensure(spec)
        self.profiles().ensure(self.role_name, self.role_name, tags=self.tags)
        return (role or {}).get("Arn")

    def roles(self):
        return IamRoles(self.changes, self.client("iam"), purge_tags=self.params["purge_tags"], purge_policies=False)

    def profiles(self):
        return InstanceProfiles(self.changes, self.client("iam"), purge_tags=self.params["purge_tags"])

    def instance_policy_arn(self):
        return arn(partition_for(self.module.region), "iam", "", "aws", ECS_INSTANCE_POLICY)

    # -- launch template

    def recommended_image(self, required):
        """The recommended ECS-optimized AMI (public SSM parameter), or None when it cannot be read and is optional."""
        if self._recommended is _UNREAD:
            try:
                found = self.client("ssm").get_parameter(Name=self.params["image_parameter"], aws_retry=True)
                self._recommended = found["Parameter"]["Value"]
            except (BotoCoreError, ClientError) as error:
                if required:
                    raise
                self.module.warn(
                    f"Could not read the recommended ECS AMI ({self.params['image_parameter']}): {error}; "
                    "the launch template keeps its AMI."
                )
                self._recommended = None
        return self._recommended

    def resolve_image(self):
        """The AMI of the launch template: pinned, never drifting with AWS's recommendation.

        image_id is an AMI id (the pin), or `latest`: the recommended AMI when the template is created,
        then the AMI of the template's default version, moved to the recommended one only with
        image_update. Either way a recommended AMI other than the one used is reported as a warning.
        """
        wanted = self.params.get("image_id") or LATEST_IMAGE
        current = (self._default_version() or {}).get("LaunchTemplateData", {}).get("ImageId")
        if wanted != LATEST_IMAGE:
            image = wanted
            recommended = self.recommended_image(required=False)
        elif current is None or self.params.get("image_update"):
            image = recommended = self.recommended_image(required=True)
        else:
            image = current
            recommended = self.recommended_image(required=False)
        if recommended and recommended != image:
            how = (
                "set image_update: true (or pin image_id to it) to roll it out"
                if wanted == LATEST_IMAGE
                else "pin image_id to it in the inventory to roll it out"
            )
            self.module.warn(
                f"Launch template {self.name} uses AMI {image}; the recommended ECS-optimized AMI "
                f"({self.params['image_parameter']}) is now {recommended}: {how} (new instances only)."
            )
        return image

    def template_data(self, image_id):
        params = self.params
        ebs = {
            "Encrypted": True,
            "VolumeSize": params["root_volume_size"],
            "VolumeType": "gp3",
            "DeleteOnTermination": True,
        }
        if params.get("kms_key_id"):
            ebs["KmsKeyId"] = params["kms_key_id"]
        data = {
            "ImageId": image_id,
            "InstanceType": params["instance_type"],
            "IamInstanceProfile": {"Name": self.role_name},
            "UserData": user_data(params["cluster"], params["ecs_agent_config"]),
            "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 2},
            "BlockDeviceMappings": [{"DeviceName": params["root_device_name"], "Ebs": ebs}],
            "Monitoring": {"Enabled": True},
        }
        if params["security_groups"]:
            data["SecurityGroupIds"] = params["security_groups"]
        if self.tags:
            data["TagSpecifications"] = [
                *tag_specifications("instance", self.tags),
                *tag_specifications("volume", self.tags),
            ]
        return data

    def _default_version(self):
        if self._template is _UNREAD:
            self._template = self._describe_default_version()
        return self._template

    def _describe_default_version(self):
        try:
            found = self.client("ec2").describe_launch_template_versions(
                LaunchTemplateName=self.name, Versions=["$Default"], aws_retry=True
            )
        except is_boto3_error_code(("InvalidLaunchTemplateName.NotFoundException", "InvalidLaunchTemplateId.NotFound")):
            return None
        versions = found.get("LaunchTemplateVersions", [])
        return versions[0] if versions else None

    def ensure_template(self, image_id):
        ec2 = self.client("ec2")
        resource = f"launch template {self.name}"
        wanted = self.template_data(image_id)
        actual = self._default_version()
        if actual is None:
            kwargs = {"LaunchTemplateName": self.name, "LaunchTemplateData": wanted}
            if self.tags:
                kwargs["TagSpecifications"] = tag_specifications("launch-template", self.tags)
            # Idempotent: the same name and data give the same token (EC2 ClientToken, up to 128 ASCII characters).
            kwargs["ClientToken"] = client_token("ec2", "create_launch_template", self.name, wanted)
            self.changes.note("launch_template", None, wanted)
            made = self.changes.create(resource, ec2, "ec2", "create_launch_template", **kwargs)
            template = (made or {}).get("LaunchTemplate", {})
            return template.get("LaunchTemplateId"), template.get("DefaultVersionNumber")
        template_id = actual["LaunchTemplateId"]
        # moto lists the template's own tags among the data's TagSpecifications: extra items are ignored.
        found = differences(wanted, actual.get("LaunchTemplateData", {}), {"TagSpecifications": ALLOW_MORE_PRESENT})
        if not found:
            return template_id, actual["VersionNumber"]
        current = actual.get("LaunchTemplateData", {})
        self.changes.note("launch_template", {key: current.get(key) for key in wanted}, wanted)
        made = self.changes.update(
            resource,
            changed_attributes(found),
            ec2,
            "ec2",
            "create_launch_template_version",
            LaunchTemplateId=template_id,
            SourceVersion=str(actual["VersionNumber"]),
            LaunchTemplateData=wanted,
            VersionDescription=f"image {image_id}",
            ClientToken=client_token(
                "ec2", "create_launch_template_version", template_id, actual["VersionNumber"], wanted
            ),
        )
        version = (made or {}).get("LaunchTemplateVersion", {}).get("VersionNumber")
        self.changes.update(
            resource,
            ["DefaultVersion"],
            ec2,
            "ec2",
            "modify_launch_template",
            LaunchTemplateId=template_id,
            DefaultVersion=str(version),
        )
        return template_id, version

    # -- Auto Scaling group

    def _group(self):
        found = self.client("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=[self.name], aws_retry=True
        )["AutoScalingGroups"]
        return next((item for item in found if item.get("Status") != "Delete in progress"), None)

    def group_tags(self):
        tags = dict(self.tags or {})
        tags[MANAGED_TAG] = ""
        return tags

    def _tag_rows(self, tags):
        return [
            {
                "ResourceId": self.name,
                "ResourceType": "auto-scaling-group",
                "Key": key,
                "Value": value,
                "PropagateAtLaunch": True,
            }
            for key, value in sorted(tags.items())
        ]

    def ensure_group(self):
        asg = self.client("autoscaling")
        params = self.params
        resource = f"auto scaling group {self.name}"
        actual = self._group()
        template = {"LaunchTemplateName": self.name, "Version": "$Default"}
        wanted = {
            "MinSize": params["min_size"],
            "MaxSize": params["max_size"],
            "NewInstancesProtectedFromScaleIn": params["managed_termination_protection"],
            "LaunchTemplate": template,
        }
        subnets = sorted(params.get("subnets") or [])
        if actual is None:
            kwargs = dict(
                wanted,
                AutoScalingGroupName=self.name,
                DesiredCapacity=params["desired_capacity"]
                if params.get("desired_capacity") is not None
                else params["min_size"],
                VPCZoneIdentifier=",".join(item or "" for item in subnets),
                Tags=self._tag_rows(self.group_tags()),
            )
            self.changes.note("auto_scaling_group", None, kwargs)
            self.changes.create(resource, asg, "autoscaling", "create_auto_scaling_group", **kwargs)
            self._enable_metrics(params["metrics"])
            if self.module.check_mode:
                return None
            return self._group()["AutoScalingGroupARN"]
        found = differences(wanted, actual)
        update = {item["path"].split(".")[0]: wanted[item["path"].split(".")[0]] for item in found}
        if subnets != subnets_of(actual):
            update["VPCZoneIdentifier"] = ",".join(subnets)
        desired = actual.get("DesiredCapacity")
        if desired is not None and not params["min_size"] <= desired <= params["max_size"]:
            update["DesiredCapacity"] = min(max(desired, params["min_size"]), params["max_size"])
        if update:
            self.changes.note("auto_scaling_group", {key: actual.get(key) for key in update}, update)
            self.changes.update(
                resource,
                sorted(update),
                asg,
                "autoscaling",
                "update_auto_scaling_group",
                AutoScalingGroupName=self.name,
                **update,
            )
        self._sync_metrics(actual)
        sync_tags(
            self.changes,
            resource,
            tag_dict(actual.get("Tags")),
            self.group_tags(),
            self.params["purge_tags"] and self.tags is not None,
            lambda add: (asg, "autoscaling", "create_or_update_tags", {"Tags": self._tag_rows(add)}),
            lambda keys: (
                asg,
                "autoscaling",
                "delete_tags",
                {"Tags": [{"ResourceId": self.name, "ResourceType": "auto-scaling-group", "Key": key} for key in keys]},
            ),
        )
        return actual["AutoScalingGroupARN"]

    def _enable_metrics(self, metrics):
        self.changes.update(
            f"auto scaling group {self.name}",
            ["EnabledMetrics"],
            self.client("autoscaling"),
            "autoscaling",
            "enable_metrics_collection",
            AutoScalingGroupName=self.name,
            Metrics=metrics,
            Granularity="1Minute",
        )

    def _sync_metrics(self, actual):
        enabled = {item["Metric"] for item in actual.get("EnabledMetrics") or []}
        wanted = set(self.params["metrics"])
        if wanted - enabled:
            self.changes.note("metrics", sorted(enabled), sorted(wanted))
            # All of them: enabling an enabled metric is a no-op on AWS; moto replaces the list.
            self._enable_metrics(sorted(wanted))
        if enabled - wanted:
            self.changes.update(
                f"auto scaling group {self.name}",
                ["EnabledMetrics"],
                self.client("autoscaling"),
                "autoscaling",
                "disable_metrics_collection",
                AutoScalingGroupName=self.name,
                Metrics=sorted(enabled - wanted),
            )

    # -- capacity provider

    def _provider(self):
        found = self.client("ecs").describe_capacity_providers(
            capacityProviders=[self.name], include=["TAGS"], aws_retry=True
        )
        return next((item for item in found.get("capacityProviders", []) if item.get("status") == "ACTIVE"), None)

    def provider_settings(self):
        params = self.params
        return {
            "managedScaling": {
                "status": "ENABLED",
                "targetCapacity": params["target_capacity"],
                "minimumScalingStepSize": params["minimum_scaling_step_size"],
                "maximumScalingStepSize": params["maximum_scaling_step_size"],
                "instanceWarmupPeriod": params["instance_warmup_period"],
            },
            "managedTerminationProtection": "ENABLED" if params["managed_termination_protection"] else "DISABLED",
        }

    def ensure_provider(self, group_arn):
        ecs = self.client("ecs")
        resource = f"ecs capacity provider {self.name}"
        wanted = self.provider_settings()
        actual = self._provider()
        if actual is None:
            kwargs = {"name": self.name, "autoScalingGroupProvider": dict(wanted, autoScalingGroupArn=group_arn)}
            if self.tags:
                kwargs["tags"] = tag_list(self.tags, "key", "value")
            self.changes.note("capacity_provider", None, kwargs)
            made = self.changes.create(resource, ecs, "ecs", "create_capacity_provider", **kwargs)
            return (made or {}).get("capacityProvider", {}).get("capacityProviderArn")
        current = actual.get("autoScalingGroupProvider", {})
        if group_arn and current.get("autoScalingGroupArn") != group_arn:
            self.module.fail_json(
                msg=(
                    f"Capacity provider {self.name} points at {current.get('autoScalingGroupArn')}, not at group "
                    f"{group_arn}: ECS cannot change a provider's group. Remove it (state=absent) and run again."
                )
            )
        found = differences(wanted, current)
        if found:
            self.changes.note("capacity_provider", {key: current.get(key) for key in wanted}, wanted)
            self.changes.update(
                resource,
                changed_attributes(found),
                ecs,
                "ecs",
                "update_capacity_provider",
                name=self.name,
                autoScalingGroupProvider=wanted,
            )
        arn = actual["capacityProviderArn"]
        sync_ecs_tags(self.changes, ecs, resource, arn, actual.get("tags"), self.tags, self.params["purge_tags"])
        return arn

    # -- the cluster's providers

    def cluster(self):
        return EcsCluster(self.changes, self.client("ecs"), self.params["cluster"])

    def ensure_cluster(self):
        """The cluster's providers: Fargate's and this one, with the default strategy.

        A cluster created here gets the tags; afterwards its settings and tags are ecs_deploy's.
        """
        providers = [*self.params["fargate_capacity_providers"], self.name]
        self.cluster().ensure_present(
            capacity_providers=providers, default_strategy=self.default_strategy(), tags=self.tags, reconcile_tags=False
        )
        return providers

    # -- entry points

    def ensure_present(self):
        self.validate()
        image_id = self.resolve_image()
        role_arn = self.ensure_role()
        template_id, version = self.ensure_template(image_id)
        group_arn = self.ensure_group()
        provider_arn = self.ensure_provider(group_arn)
        providers = self.ensure_cluster()
        return self.result(
            capacity_provider_arn=provider_arn,
            auto_scaling_group_arn=group_arn,
            launch_template_id=template_id,
            launch_template_version=version,
            image_id=image_id,
            recommended_image_id=self._recommended if self._recommended is not _UNREAD else None,
            instance_role_arn=role_arn,
            cluster_capacity_providers=providers,
        )

    def result(self, **outputs):
        """The module result: the names, and the ids and ARNs given (null for what was removed)."""
        ids = ("capacity_provider_arn", "auto_scaling_group_arn", "launch_template_id", "launch_template_version")
        outputs = dict(dict.fromkeys((*ids, "instance_role_arn")), **outputs)
        return self.changes.result(
            capacity_provider_name=self.name,
            auto_scaling_group_name=self.name,
            instance_profile_name=self.role_name,
            **outputs,
        )

    def ensure_absent(self):
        ecs = self.client("ecs")
        self.cluster().remove_capacity_provider(self.name)
        if self._provider() is not None:
            self.changes.delete(
                f"ecs capacity provider {self.name}", ecs, "ecs", "delete_capacity_provider", capacityProvider=self.name
            )
        if self._group() is not None:
            self.changes.delete(
                f"auto scaling group {self.name}",
                self.client("autoscaling"),
                "autoscaling",
                "delete_auto_scaling_group",
                AutoScalingGroupName=self.name,
                ForceDelete=True,
            )
        if self._default_version() is not None:
            self.changes.delete(
                f"launch template {self.name}",
                self.client("ec2"),
                "ec2",
                "delete_launch_template",
                LaunchTemplateName=self.name,
            )
        self._remove_iam()
        return self.result()

    def _remove_iam(self):
        """The instance profile (its role taken out first), then the role (its policies detached first)."""
        self.profiles().delete(self.role_name)
        self.roles().delete(self.role_name)


def argument_spec():
    default_metrics = [
        "GroupMinSize",
        "GroupMaxSize",
        "GroupDesiredCapacity",
        "GroupInServiceInstances",
        "GroupPendingInstances",
        "GroupStandbyInstances",
        "GroupTerminatingInstances",
        "GroupTotalInstances",
    ]
    return dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        name=dict(type="str", required=True),
        cluster=dict(type="str", required=True),
        instance_type=dict(type="str", default="m5.large"),
        image_id=dict(type="str", default=LATEST_IMAGE),
        image_update=dict(type="bool", default=False),
        image_parameter=dict(
            type="str", default="/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
        ),
        security_groups=dict(type="list", elements="str", default=[]),
        subnets=dict(type="list", elements="str"),
        root_volume_size=dict(type="int", default=30),
        root_device_name=dict(type="str", default="/dev/xvda"),
        kms_key_id=dict(type="str"),
        ecs_agent_config=dict(type="dict", default={}),
        managed_policy_arns=dict(type="list", elements="str", default=[]),
        min_size=dict(type="int", default=1),
        max_size=dict(type="int", default=3),
        desired_capacity=dict(type="int"),
        metrics=dict(type="list", elements="str", default=default_metrics),
        target_capacity=dict(type="int", default=100),
        minimum_scaling_step_size=dict(type="int", default=1),
        maximum_scaling_step_size=dict(type="int", default=10),
        instance_warmup_period=dict(type="int", default=300),
        managed_termination_protection=dict(type="bool", default=True),
        fargate_capacity_providers=dict(
            type="list", elements="str", choices=list(FARGATE_PROVIDERS), default=list(FARGATE_PROVIDERS)
        ),
        default_capacity_provider_strategy=strategy_argument_spec(),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )


def main():
    module = AnsibleAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_manager(module, Ec2CapacityManager(module))


if __name__ == "__main__":
    main()
