#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ecs_deploy
short_description: Deploy an ECS service as one unit and wait for its rollout
version_added: "0.1.0"
description:
  - Ensures, in one call, an ECS cluster (Container Insights), the CloudWatch log group its
    containers log to, the Secrets Manager secrets its containers read, a task definition,
    a service (Fargate, awsvpc, load balancer, deployment circuit breaker) and the service's
    Application Auto Scaling target and target-tracking policies; then waits until the
    rollout's deployment reports C(rolloutState=COMPLETED).
  - A new task-definition revision is registered only when the desired definition differs
    from the latest C(ACTIVE) revision of the family, after normalising what ECS returns
    (defaults such as C(cpu=0), C(essential=true), C(hostPort), C(protocol=tcp), empty lists,
    health-check timings 30/5/3, C(readOnly=false), C(versionConsistency=enabled), the EFS root
    directory, a role given by name returned as an ARN, and the order of environment variables,
    secrets and port mappings). Tags alone are re-tagged on the existing revision.
  - CreateService sends a C(clientToken) derived from the request, so a create retried after a
    lost answer does not make a second service.
  - The service's C(desiredCount) is set when the service is created; after that Application
    Auto Scaling owns it within its bounds, and the module leaves it alone unless
    O(service.force_desired_count=true). A desired count outside the bounds
    [O(autoscaling.min_capacity), O(autoscaling.max_capacity)] (an out-of-band change, or bounds
    changed by this run) is drift - it is reported as an update of C(desiredCount) (with its before and
    after in --diff) and repaired by clamping it into the bounds.
  - "Tasks on EC2 and Fargate: a service runs either with O(service.launch_type) or with
    O(service.capacity_provider_strategy) (mutually exclusive). AWS rejects a strategy that mixes
    Fargate (C(FARGATE), C(FARGATE_SPOT)) and Auto Scaling group providers, and so does this module,
    before any change. The design this project uses - the primary service names the cluster's EC2
    capacity provider (M(reelle.infra.ecs_ec2_capacity)); the task definition lists both C(EC2) and C(FARGATE) in
    O(task_definition.requires_compatibilities) (awsvpc, Fargate cpu/memory pairs), so the same
    revision runs on Fargate for one-off tasks (the cluster's default strategy) and for the warm
    standby region, which runs on Fargate."
  - When the circuit breaker rolls a deployment back, the module fails with the deployment's
    C(rolloutStateReason) and the service's latest events.
  - Check mode makes no change and accepts null upstream ids (resources that would be created
    by an earlier role in the same check run); it reports the creates and updates it would make.
  - Emulator (moto 5.2.5, C(REELLE_AWS_TARGET=emulator)) limits, reported rather than hidden -
    moto runs no tasks, so a deployment stays C(IN_PROGRESS); the module reads the state once
    and, instead of waiting, lists C(ecs:wait_rollout_completed) in RV(skipped_calls).
    moto's CreateService drops C(healthCheckGracePeriodSeconds), C(deploymentConfiguration),
    C(availabilityZoneRebalancing) and similar settings; attributes the emulator does not
    report are not compared there and are listed in RV(emulator_unverified).
    moto has no Application Auto Scaling C(ListTagsForResource); scalable-target tags are set
    on creation and reconciled only on AWS.
  - O(state=absent) removes the scaling policies, the scalable target, the service and the
    cluster. Task-definition revisions, the log group (log data) and the secrets are kept.
author:
  - the reelle infrastructure authors (@reelle)
options:
  state:
    description: Whether the deployment should exist.
    type: str
    choices: [present, absent]
    default: present
  cluster:
    description: The ECS cluster.
    type: dict
    required: true
    suboptions:
      name:
        description: Cluster name.
        type: str
        required: true
      container_insights:
        description: CloudWatch Container Insights setting; unset leaves it alone.
        type: str
        choices: [enabled, disabled, enhanced]
      retain:
        description:
          - With O(state=absent), leave the cluster (the service and its scaling still go). ECS refuses to delete a
            cluster with registered container instances (C(ClusterContainsContainerInstancesException)), so an EC2
            capacity provider's Auto Scaling group must go between this call and a last one without O(cluster.retain).
        type: bool
        default: false
  log_group:
    description: CloudWatch Logs group the containers log to (C(awslogs) driver).
    type: dict
    suboptions:
      name:
        description: Log group name.
        type: str
        required: true
      retention_days:
        description: Days to keep log events; unset leaves the retention alone.
        type: int
      kms_key_id:
        description: ARN of the KMS key that encrypts the log data; unset leaves it alone.
        type: str
  secrets:
    description:
      - Secrets Manager secrets the containers read. A container's C(secrets[].valueFrom) equal
        to the O(secrets[].name) of one of these is replaced by that secret's ARN.
      - A secret is created with O(secrets[].value), or with a random placeholder when no value
        is given. A placeholder is never overwritten by later runs; a given value is kept in
        sync. Values are never returned.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Secret name.
        type: str
        required: true
      value:
        description: Secret string; omit to create a placeholder once and leave it alone afterwards.
        type: str
      description:
        description: Secret description; unset leaves it alone.
        type: str
      kms_key_id:
        description: ARN of the KMS key that encrypts the secret; unset leaves it alone.
        type: str
  task_definition:
    description: The task definition. Required when O(state=present).
    type: dict
    suboptions:
      family:
        description: Task definition family.
        type: str
        required: true
      cpu:
        description: Task CPU units (Fargate pairs it with O(task_definition.memory)).
        type: int
      memory:
        description: Task memory in MiB.
        type: int
      network_mode:
        description: Docker networking mode.
        type: str
        choices: [awsvpc, bridge, host, none]
        default: awsvpc
      requires_compatibilities:
        description:
          - Launch types the task definition is validated against; C([EC2, FARGATE]) runs the same
            revision on both (network mode C(awsvpc), Fargate's cpu/memory pairs).
        type: list
        elements: str
        default: [FARGATE]
      execution_role_arn:
        description: Role ECS uses to pull images, write logs and read secrets.
        type: str
      task_role_arn:
        description: Role the containers' code runs with.
        type: str
      runtime_platform:
        description: Operating system and CPU architecture.
        type: dict
        suboptions:
          operating_system_family:
            description: Operating system family.
            type: str
            default: LINUX
          cpu_architecture:
            description: CPU architecture.
            type: str
            choices: [X86_64, ARM64]
            default: X86_64
      container_definitions:
        description:
          - Containers, in the ECS API's shape (camelCase keys, as in C(RegisterTaskDefinition)).
          - Environment values are sent as strings (booleans as C(true)/C(false)).
        type: list
        elements: dict
        required: true
      volumes:
        description: Volumes, in the ECS API's shape.
        type: list
        elements: dict
  service:
    description: The ECS service. Required when O(state=present).
    type: dict
    suboptions:
      name:
        description: Service name.
        type: str
        required: true
      desired_count:
        description:
          - Tasks to run when the service is created. Afterwards autoscaling owns the count.
          - Required when O(state=present).
        type: int
      force_desired_count:
        description: Reset the running service's desired count to O(service.desired_count).
        type: bool
        default: false
      launch_type:
        description:
          - Launch type; ECS cannot change it in place, so a change fails.
          - Unset - C(FARGATE), unless O(service.capacity_provider_strategy) is set.
        type: str
        choices: [FARGATE, EC2, EXTERNAL]
      capacity_provider_strategy:
        description:
          - Capacity providers the tasks are placed on, instead of O(service.launch_type).
          - Either Fargate providers (C(FARGATE), C(FARGATE_SPOT)) or Auto Scaling group providers,
            never both (AWS rejects the mix). The providers must be the cluster's.
          - A change updates the service with a new deployment (C(forceNewDeployment)).
        type: list
        elements: dict
        suboptions:
          capacity_provider:
            description: Capacity provider name.
            type: str
            required: true
          weight:
            description: Relative share of the tasks placed on this provider.
            type: int
            default: 1
          base:
            description: Tasks placed on this provider before the weights apply (one provider only).
            type: int
            default: 0
      platform_version:
        description: Fargate platform version; unset leaves it alone.
        type: str
      subnets:
        description: Subnets of the tasks' network interfaces (awsvpc).
        type: list
        elements: str
      security_groups:
        description: Security groups of the tasks' network interfaces (awsvpc).
        type: list
        elements: str
      assign_public_ip:
        description: Whether the tasks get public IP addresses.
        type: bool
        default: false
      load_balancers:
        description: Target groups the service registers its containers with.
        type: list
        elements: dict
        suboptions:
          target_group_arn:
            description: Target group ARN.
            type: str
          container_name:
            description: Container that receives the traffic.
            type: str
            required: true
          container_port:
            description: Port of that container.
            type: int
            required: true
      health_check_grace_period_seconds:
        description: Seconds load balancer health checks are ignored after a task starts.
        type: int
      deployment_circuit_breaker:
        description: Deployment circuit breaker.
        type: dict
        suboptions:
          enable:
            description: Stop a deployment whose tasks do not reach a steady state.
            type: bool
            default: true
          rollback:
            description: Roll back to the last completed deployment when it stops.
            type: bool
            default: true
      minimum_healthy_percent:
        description: Lower limit of running tasks during a deployment, percent of the desired count.
        type: int
      maximum_percent:
        description: Upper limit of running tasks during a deployment, percent of the desired count.
        type: int
      propagate_tags:
        description: Where the tasks' tags come from.
        type: str
        choices: [SERVICE, TASK_DEFINITION, NONE]
      enable_ecs_managed_tags:
        description: Whether ECS adds its own tags to the tasks.
        type: bool
      enable_execute_command:
        description: Whether ECS Exec is enabled.
        type: bool
      availability_zone_rebalancing:
        description: Whether ECS rebalances tasks across availability zones.
        type: str
        choices: [ENABLED, DISABLED]
  autoscaling:
    description: Application Auto Scaling of the service's desired count.
    type: dict
    suboptions:
      min_capacity:
        description: Fewest tasks.
        type: int
        required: true
      max_capacity:
        description: Most tasks.
        type: int
        required: true
      target_tracking_policies:
        description: Target-tracking policies; policies not listed are left alone.
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: Policy name.
            type: str
            required: true
          predefined_metric_type:
            description: Metric tracked.
            type: str
            required: true
            choices: [ALBRequestCountPerTarget, ECSServiceAverageCPUUtilization, ECSServiceAverageMemoryUtilization]
          resource_label:
            description:
              - C(<load balancer ARN suffix>/<target group ARN suffix>), for C(ALBRequestCountPerTarget).
            type: str
          target_value:
            description: Value the metric is kept at (requests per target per minute for C(ALBRequestCountPerTarget)).
            type: float
            required: true
          scale_in_cooldown:
            description: Seconds after a scale-in before another scale-in.
            type: int
          scale_out_cooldown:
            description: Seconds after a scale-out before another scale-out.
            type: int
          disable_scale_in:
            description: Whether the policy never scales in.
            type: bool
  wait:
    description: Wait until the service's primary deployment is C(COMPLETED) (fail when C(FAILED)).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the rollout.
    type: int
    default: 900
  wait_delay:
    description: Seconds between two looks at the rollout.
    type: int
    default: 15
  tags:
    description: Tags of every resource the module creates; unset leaves tags alone.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags not listed in O(tags).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Deploy the backend
  reelle.infra.ecs_deploy:
    cluster:
      name: reelle-staging
      container_insights: enabled
    log_group:
      name: /ecs/reelle-staging/backend
      retention_days: 30
    secrets:
      - name: reelle-staging/datadog-api-key
        value: "{{ datadog_api_key | default(omit) }}"
    task_definition:
      family: reelle-staging-backend
      cpu: 512
      memory: 1024
      execution_role_arn: "{{ execution_role_arn }}"
      task_role_arn: "{{ task_role_arn }}"
      container_definitions:
        - name: backend
          image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/reelle-staging/backend:1.0.0
          portMappings: [{containerPort: 7777}]
        - name: datadog-agent
          image: public.ecr.aws/datadog/agent:7
          essential: false
          secrets: [{name: DD_API_KEY, valueFrom: reelle-staging/datadog-api-key}]
    service:
      name: backend
      desired_count: 3
      subnets: "{{ private_subnet_ids }}"
      security_groups: ["{{ app_security_group_id }}"]
      load_balancers:
        - target_group_arn: "{{ target_group_arn }}"
          container_name: backend
          container_port: 7777
      health_check_grace_period_seconds: 60
      deployment_circuit_breaker: {enable: true, rollback: true}
      minimum_healthy_percent: 100
      maximum_percent: 200
    autoscaling:
      min_capacity: 2
      max_capacity: 3
      target_tracking_policies:
        - name: reelle-staging-requests-per-target
          predefined_metric_type: ALBRequestCountPerTarget
          resource_label: "{{ alb_arn_suffix }}/{{ target_group_arn_suffix }}"
          target_value: 20000
    tags:
      environment: staging

- name: Remove the service, its autoscaling and the cluster (logs and secrets stay)
  reelle.infra.ecs_deploy:
    state: absent
    cluster:
      name: reelle-staging
    service:
      name: backend
"""

RETURN = r"""
changes:
  description: Plan rows, one per change made (or that would be made in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{"action": "create", "resource": "ecs task definition reelle-staging-backend", "attributes": []}]
skipped_calls:
  description: Calls not made because the local emulator lacks them (C(service:operation)).
  returned: always
  type: list
  elements: str
  sample: ["application-autoscaling:list_tags_for_resource", "ecs:wait_rollout_completed"]
emulator_unverified:
  description: Service attributes the emulator did not report, hence not compared there.
  returned: always
  type: list
  elements: str
  sample: ["deploymentConfiguration", "healthCheckGracePeriodSeconds"]
cluster_name:
  description: Cluster name.
  returned: always
  type: str
  sample: reelle-staging
cluster_arn:
  description: Cluster ARN; null when it would be created (check mode) or was removed.
  returned: always
  type: str
  sample: arn:aws:ecs:us-east-1:123456789012:cluster/reelle-staging
log_group_name:
  description: Log group name; null when no log group is managed.
  returned: always
  type: str
  sample: /ecs/reelle-staging/backend
log_group_arn:
  description: Log group ARN; null when it would be created (check mode).
  returned: always
  type: str
  sample: arn:aws:logs:us-east-1:123456789012:log-group:/ecs/reelle-staging/backend
secret_arns:
  description: ARN of each managed secret by name (null when it would be created). Never the value.
  returned: always
  type: dict
  sample:
    reelle-staging/dd-key: arn:aws:secretsmanager:us-east-1:123456789012:secret:reelle-staging/dd-key-AbCdEf
task_definition_arn:
  description: ARN of the revision the service runs (null when a new one would be registered in check mode).
  returned: when state is present
  type: str
  sample: arn:aws:ecs:us-east-1:123456789012:task-definition/reelle-staging-backend:4
task_definition_registered:
  description: Whether a new revision was (or would be) registered.
  returned: when state is present
  type: bool
  sample: false
service_name:
  description: Service name.
  returned: when state is present
  type: str
  sample: backend
service_arn:
  description: Service ARN; null when it would be created (check mode).
  returned: when state is present
  type: str
  sample: arn:aws:ecs:us-east-1:123456789012:service/reelle-staging/backend
desired_count:
  description: The service's desired count as it stands (autoscaling may have changed it).
  returned: when state is present
  type: int
  sample: 3
scalable_target:
  description: The service's scalable target; null when autoscaling is not managed.
  returned: when state is present
  type: dict
  sample: {"resource_id": "service/reelle-staging/backend", "min_capacity": 2, "max_capacity": 3}
scaling_policy_arns:
  description: ARN of each managed target-tracking policy by name (null when it would be created).
  returned: when state is present
  type: dict
  sample: {"reelle-staging-requests-per-target": "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:..."}
rollout:
  description: The service's primary deployment after the wait.
  returned: when state is present
  type: dict
  sample:
    deployment_id: ecs-svc/1234
    state: COMPLETED
    reason: ECS deployment ecs-svc/1234 completed.
    waited: true
diff:
  description: Before and after of each resource that differs (with --diff).
  returned: when diff mode is on
  type: dict
  sample: {"before": {"service": {"taskDefinition": "...:3"}}, "after": {"service": {"taskDefinition": "...:4"}}}
"""

import copy
import secrets as pysecrets
import time

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.transformation import scrub_none_parameters
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    ChangeSet,
    aws_client,
    changed_attributes,
    client_token,
    differences,
    emulator_lacks,
    on_emulator,
    paginate,
    run_manager,
    sync_tags,
    tag_list,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_ecs import (
    ECS_CLIENT_TOKEN_LENGTH,
    FARGATE_PROVIDERS,
    EcsCluster,
    provider_strategy,
    strategy_argument_spec,
    sync_ecs_tags,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_ecs import strategy_problem as aws_strategy_problem
from ansible_collections.reelle.infra.plugins.module_utils.reelle_logs import LogGroup
from ansible_collections.reelle.infra.plugins.module_utils.reelle_secrets import OwnedSecret
from ansible_collections.reelle.infra.plugins.module_utils.reelle_waiters import wait_for

SCALABLE_DIMENSION = "ecs:service:DesiredCount"

# Fargate's CPU units -> the task memory sizes (MiB) it accepts.
FARGATE_MEMORY = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}

# Task-definition keys the module manages; the rest of what ECS returns is ignored.
TASK_DEFINITION_KEYS = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "runtimePlatform",
)

# Container lists ECS may return in any order, with the key that identifies an item.
CONTAINER_SETS = {
    "environment": ("name",),
    "secrets": ("name",),
    "portMappings": ("containerPort", "protocol"),
    "mountPoints": ("containerPath",),
    "volumesFrom": ("sourceContainer",),
    "ulimits": ("name",),
    "dependsOn": ("containerName",),
    "extraHosts": ("hostname",),
    "systemControls": ("namespace",),
    "environmentFiles": ("value",),
}


# --- pure helpers: normalising and comparing ---------------------------------


def compact(value):
    """Drop None, empty lists and empty dicts, recursively.

    Not amazon.aws's scrub_none_parameters (None only): ECS returns a key left out of a task
    definition as an empty list or dict (mountPoints, volumesFrom, runtimePlatform ...), so the
    task definition is normalised, and the registration and CreateService requests are built, without them.
    """
    if isinstance(value, dict):
        items = ((key, compact(item)) for key, item in value.items())
        return {key: item for key, item in items if item not in (None, [], {})}
    if isinstance(value, list):
        return [compact(item) for item in value]
    return value


def env_string(value):
    """ECS stores environment values as strings; YAML booleans become true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if value is None or isinstance(value, str) else str(value)


def _sort_key(item, keys):
    return tuple(str(item.get(key, "")) if isinstance(item, dict) else str(item) for key in keys)


# What ECS fills in when a container definition leaves a key out (ECS API reference: ContainerDefinition,
# HealthCheck, MountPoint, VolumeFrom, PortMapping, EFSVolumeConfiguration). terraform-provider-aws
# (internal/service/ecs/task_definition_equivalency.go) reduces both sides the same way: containers and
# environment/secrets sorted by name, essential defaulting to true, hostPort 0 dropped and, under awsvpc,
# hostPort = containerPort. Normalising both sides keeps a definition AWS has completed equal to the one sent.
# ContainerDefinition.versionConsistency: "By default, the value is enabled."
DEFAULT_VERSION_CONSISTENCY = "enabled"
# Flags whose default is false: ECS may return them as false or leave them out.
CONTAINER_FALSE_FLAGS = ("disableNetworking", "privileged", "readonlyRootFilesystem", "interactive", "pseudoTerminal")
# HealthCheck: "The default value is 30 seconds" (interval), 5 (timeout), 3 (retries); startPeriod is off.
HEALTH_CHECK_DEFAULTS = {"interval": 30, "timeout": 5, "retries": 3}
# Network modes where ECS sets the host port to the container port when it is left out.
HOST_PORT_IS_CONTAINER_PORT = ("awsvpc", "host")


def _normalise_port_mappings(mappings, network_mode):
    for mapping in mappings:
        mapping.setdefault("protocol", "tcp")
        if mapping.get("hostPort") == 0:  # 0: a dynamic host port, as when left out (bridge)
            del mapping["hostPort"]
        if network_mode in HOST_PORT_IS_CONTAINER_PORT and "containerPort" in mapping:
            mapping.setdefault("hostPort", mapping["containerPort"])


def _drop_defaults(container):
    """Remove what ECS reports for a key left out: cpu 0, false flags, readOnly false, versionConsistency."""
    if container.get("cpu") == 0:
        del container["cpu"]
    if container.get("versionConsistency") == DEFAULT_VERSION_CONSISTENCY:
        del container["versionConsistency"]
    for flag in CONTAINER_FALSE_FLAGS:
        if container.get(flag) is False:
            del container[flag]
    for key in ("mountPoints", "volumesFrom"):
        for item in container.get(key, []):
            if item.get("readOnly") is False:
                del item["readOnly"]


def normalise_container(container, network_mode):
    """A container definition with ECS's defaults applied and its sets sorted."""
    result = compact(copy.deepcopy(container))
    result.setdefault("essential", True)
    _drop_defaults(result)
    _normalise_port_mappings(result.get("portMappings", []), network_mode)
    health = result.get("healthCheck")
    if isinstance(health, dict):
        for key, value in HEALTH_CHECK_DEFAULTS.items():
            health.setdefault(key, value)
    for item in result.get("environment", []):
        item["value"] = env_string(item.get("value"))
    for key, identity in CONTAINER_SETS.items():
        if key in result:
            result[key] = sorted(result[key], key=lambda item, identity=identity: _sort_key(item, identity))
    return result


def normalise_volume(volume):
    """A task volume with ECS's defaults (EFS root "/" and transit encryption DISABLED when left out)."""
    result = compact(copy.deepcopy(volume))
    efs = result.get("efsVolumeConfiguration")
    if isinstance(efs, dict):
        if efs.get("rootDirectory") == "/":
            del efs["rootDirectory"]
        if efs.get("transitEncryption") == "DISABLED":
            del efs["transitEncryption"]
    return result


def normalise_task_definition(definition):
    """The managed part of a task definition, comparable with what ECS returns."""
    result = compact({key: copy.deepcopy(definition.get(key)) for key in TASK_DEFINITION_KEYS})
    # "If no network mode is specified, the default is bridge" (RegisterTaskDefinition networkMode).
    network_mode = result.setdefault("networkMode", "bridge")
    containers = [normalise_container(item, network_mode) for item in result.get("containerDefinitions", [])]
    result["containerDefinitions"] = sorted(containers, key=lambda item: str(item.get("name")))
    for key in ("cpu", "memory"):
        if key in result:
            result[key] = str(result[key])
    if "requiresCompatibilities" in result:
        result["requiresCompatibilities"] = sorted(result["requiresCompatibilities"])
    if "volumes" in result:
        volumes = [normalise_volume(item) for item in result["volumes"]]
        result["volumes"] = sorted(volumes, key=lambda item: str(item.get("name")))
    return result


def same_role(desired, actual):
    """A role given by name matches the ARN ECS returns for it (taskRoleArn accepts "the short name or full ARN")."""
    if not desired or not actual or desired == actual or desired.startswith("arn:"):
        return desired == actual
    return actual.endswith(f":role/{desired}") or actual.endswith(f"/{desired}")


def _label(item, index):
    return item.get("name", index) if isinstance(item, dict) else index


def diff_paths(desired, actual, path=""):
    """Paths where two normalised documents differ (strict: extra keys count)."""
    if isinstance(desired, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(desired) | set(actual)):
            found.extend(diff_paths(desired.get(key), actual.get(key), f"{path}.{key}" if path else key))
        return found
    if isinstance(desired, list) and isinstance(actual, list) and len(desired) == len(actual):
        found = []
        for index, (left, right) in enumerate(zip(desired, actual, strict=True)):
            found.extend(diff_paths(left, right, f"{path}[{_label(left, index)}]"))
        return found
    return [] if desired == actual else [path or "."]


def null_paths(value, path="", empty_is_null=True):
    """Paths holding a null (or, for ids, empty-string) value: an upstream output not created yet."""
    if value is None or (empty_is_null and value == ""):
        return [path]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in null_paths(item, f"{path}.{key}", empty_is_null)]
    if isinstance(value, list):
        return [
            found for index, item in enumerate(value) for found in null_paths(item, f"{path}[{index}]", empty_is_null)
        ]
    return []


def fargate_problem(cpu, memory):
    """Why a Fargate cpu/memory pair is invalid, or None."""
    if cpu is None or memory is None:
        return "Fargate task definitions need task_definition.cpu and task_definition.memory"
    if cpu not in FARGATE_MEMORY:
        return f"Fargate accepts task cpu {sorted(FARGATE_MEMORY)}, not {cpu}"
    if memory not in FARGATE_MEMORY[cpu]:
        sizes = FARGATE_MEMORY[cpu]
        return f"Fargate cpu {cpu} accepts memory {sizes[0]}-{sizes[-1]} MiB in its steps, not {memory}"
    return None


def strategy_problem(items, compatibilities):
    """Why a service's capacity provider strategy cannot work, or None."""
    strategy = provider_strategy(items)
    problem = aws_strategy_problem(strategy)
    if problem:
        return f"service.capacity_provider_strategy: {problem}"
    names = [item["capacityProvider"] for item in strategy]
    needed = "FARGATE" if any(name in FARGATE_PROVIDERS for name in names) else "EC2"
    if names and needed not in compatibilities:
        return (
            f"service.capacity_provider_strategy places tasks on {needed} capacity, but "
            f"task_definition.requires_compatibilities is {compatibilities}: add {needed}"
        )
    return None


def clamp(count, low, high):
    """The desired count autoscaling's bounds allow (count itself when inside them)."""
    return min(max(count, low), high)


def primary_deployment(service):
    for deployment in (service or {}).get("deployments", []):
        if deployment.get("status") == "PRIMARY":
            return deployment
    return None


# --- the parts of a deployment ------------------------------------------------


class Part:
    """Shared state of the resources one module call manages."""

    def __init__(self, module, changes):
        self.module = module
        self.params = module.params
        self.changes = changes
        self.tags = module.params.get("tags")
        self.purge_tags = module.params.get("purge_tags")
        self._clients = {}

    def client(self, service):
        if service not in self._clients:
            self._clients[service] = aws_client(self.module, service)
        return self._clients[service]


class Cluster(Part):
    """The cluster's settings (Container Insights) and tags; its capacity providers are ecs_ec2_capacity's."""

    def cluster(self):
        return EcsCluster(self.changes, self.client("ecs"), self.params["cluster"]["name"])

    def ensure_present(self):
        settings = {"containerInsights": self.params["cluster"].get("container_insights")}
        return self.cluster().ensure_present(settings=settings, tags=self.tags, purge_tags=self.purge_tags)

    def ensure_absent(self):
        if not self.params["cluster"].get("retain"):
            self.cluster().ensure_absent()


class Logs(Part):
    """The log group the containers log to."""

    def ensure_present(self):
        """(name, ARN) of the log group; (None, None) when none is managed."""
        spec = self.params.get("log_group")
        if not spec:
            return None, None
        group = LogGroup(self.changes, self.client("logs"), spec["name"], diff_key="log_group")
        arn = group.ensure_present(spec.get("retention_days"), spec.get("kms_key_id"), self.tags, self.purge_tags)
        return spec["name"], arn


class Secrets(Part):
    """Secrets Manager secrets the containers read, each a reelle_secrets OwnedSecret; values never leave the module."""

    def ensure_present(self):
        """Name -> ARN of each secret (None for one that would be created in check mode)."""
        return {spec["name"]: self._ensure(spec) for spec in self.params.get("secrets") or []}

    def _ensure(self, spec):
        secret = OwnedSecret(
            self.module,
            self.changes,
            self.client("secretsmanager"),
            spec["name"],
            description=spec.get("description"),
            kms_key_id=spec.get("kms_key_id"),
            tags=self.tags,
            purge_tags=self.purge_tags,
            kept=("description", "kms_key_id"),
        )
        value = spec.get("value")
        # Created with the given value, or a random placeholder (made only when the create is, never in check mode).
        answer = secret.ensure(lambda: value or pysecrets.token_urlsafe(32))
        if value and not secret.created:
            # A given value is kept in sync; a placeholder is never overwritten.
            secret.ensure_value(value)
        return (answer or {}).get("ARN")


class TaskDefinition(Part):
    def containers(self, secret_arns):
        """The container definitions with managed secrets' names replaced by their ARNs."""
        containers = copy.deepcopy(self.params["task_definition"]["container_definitions"])
        for container in containers:
            for item in container.get("environment") or []:
                item["value"] = env_string(item.get("value"))
            for item in container.get("secrets") or []:
                item["valueFrom"] = secret_arns.get(item.get("valueFrom"), item.get("valueFrom"))
        return containers

    def desired(self, secret_arns):
        spec = self.params["task_definition"]
        containers = self.containers(secret_arns)
        platform = spec.get("runtime_platform") or {}
        return compact(
            {
                "family": spec["family"],
                "taskRoleArn": spec.get("task_role_arn"),
                "executionRoleArn": spec.get("execution_role_arn"),
                "networkMode": spec.get("network_mode"),
                "containerDefinitions": containers,
                "volumes": spec.get("volumes"),
                "requiresCompatibilities": spec.get("requires_compatibilities"),
                "cpu": None if spec.get("cpu") is None else str(spec["cpu"]),
                "memory": None if spec.get("memory") is None else str(spec["memory"]),
                "runtimePlatform": {
                    "operatingSystemFamily": platform.get("operating_system_family"),
                    "cpuArchitecture": platform.get("cpu_architecture"),
                },
            }
        )

    def latest(self, family):
        try:
            found = self.client("ecs").describe_task_definition(taskDefinition=family, include=["TAGS"], aws_retry=True)
        except is_boto3_error_code("ClientException"):  # no ACTIVE revision of the family
            return None, None
        if found["taskDefinition"].get("status", "ACTIVE") != "ACTIVE":
            return None, None
        return found["taskDefinition"], found.get("tags")

    def ensure_present(self, secret_arns):
        """(ARN of the revision to run, whether a new revision is registered)."""
        ecs = self.client("ecs")
        desired = self.desired(secret_arns)
        family = desired["family"]
        resource = f"ecs task definition {family}"
        actual, actual_tags = self.latest(family)
        wanted = normalise_task_definition(desired)
        current = normalise_task_definition(actual) if actual else None
        for key in ("taskRoleArn", "executionRoleArn"):
            if current and same_role(wanted.get(key), current.get(key)):
                wanted[key] = current[key]
        if current == wanted:
            arn = actual["taskDefinitionArn"]
            revision = f"{resource}:{actual['revision']}"
            sync_ecs_tags(self.changes, ecs, revision, arn, actual_tags, self.tags, self.purge_tags)
            return arn, False
        self.changes.note("task_definition", current, wanted)
        kwargs = dict(desired, tags=tag_list(self.tags, "key", "value") or None)
        if current is None:
            registered = self.changes.create(resource, ecs, "ecs", "register_task_definition", **compact(kwargs))
        else:
            registered = self.changes.update(
                resource, diff_paths(wanted, current), ecs, "ecs", "register_task_definition", **compact(kwargs)
            )
        return (registered or {}).get("taskDefinition", {}).get("taskDefinitionArn"), True


class Service(Part):
    def desired(self):
        spec = self.params["service"]
        network = None
        if spec.get("subnets") is not None or spec.get("security_groups") is not None:
            network = {
                "awsvpcConfiguration": {
                    "subnets": spec.get("subnets"),
                    "securityGroups": spec.get("security_groups"),
                    "assignPublicIp": "ENABLED" if spec.get("assign_public_ip") else "DISABLED",
                }
            }
        balancers = spec.get("load_balancers")
        if balancers is not None:
            balancers = [
                {
                    "targetGroupArn": item.get("target_group_arn"),
                    "containerName": item["container_name"],
                    "containerPort": item["container_port"],
                }
                for item in balancers
            ]
        deployment = scrub_none_parameters(
            {
                "deploymentCircuitBreaker": spec.get("deployment_circuit_breaker"),
                "minimumHealthyPercent": spec.get("minimum_healthy_percent"),
                "maximumPercent": spec.get("maximum_percent"),
            }
        )
        strategy = provider_strategy(spec.get("capacity_provider_strategy")) or None
        return {
            "launchType": spec.get("launch_type") or (None if strategy else "FARGATE"),
            "capacityProviderStrategy": strategy,
            "platformVersion": spec.get("platform_version"),
            "networkConfiguration": network,
            "loadBalancers": balancers,
            "healthCheckGracePeriodSeconds": spec.get("health_check_grace_period_seconds"),
            "deploymentConfiguration": deployment or None,
            "propagateTags": spec.get("propagate_tags"),
            "enableECSManagedTags": spec.get("enable_ecs_managed_tags"),
            "enableExecuteCommand": spec.get("enable_execute_command"),
            "availabilityZoneRebalancing": spec.get("availability_zone_rebalancing"),
        }

    def describe(self):
        cluster = self.params["cluster"]["name"]
        name = self.params["service"]["name"]
        try:
            found = self.client("ecs").describe_services(
                cluster=cluster, services=[name], include=["TAGS"], aws_retry=True
            )
        except is_boto3_error_code("ClusterNotFoundException"):
            return None
        active = [item for item in found.get("services", []) if item.get("status") == "ACTIVE"]
        return active[0] if active else None

    def ensure_present(self, task_definition_arn, registered):
        """(service description after the change or None in check mode, whether it changed, unverified keys)."""
        actual = self.describe()
        if actual is None:
            return self._create(task_definition_arn), True, []
        desired = self.desired()
        unverified = []
        if on_emulator():
            unverified = sorted(key for key, value in desired.items() if value is not None and key not in actual)
            for key in unverified:
                desired[key] = None
        self._refuse_replacement(desired, actual)
        desired.pop("launchType")
        found = differences(desired, actual)
        update = {item["path"].split(".")[0]: desired[item["path"].split(".")[0]] for item in found}
        if registered or actual.get("taskDefinition") != task_definition_arn:
            update["taskDefinition"] = task_definition_arn
        if "capacityProviderStrategy" in update:
            # ECS moves the tasks only with a new deployment.
            update["forceNewDeployment"] = True
        spec = self.params["service"]
        count = self._desired_count(actual.get("desiredCount"))
        if count is not None:
            update["desiredCount"] = count
        sync_ecs_tags(
            self.changes,
            self.client("ecs"),
            f"ecs service {actual['serviceName']}",
            actual["serviceArn"],
            actual.get("tags"),
            self.tags,
            self.purge_tags,
        )
        if not update:
            return actual, False, unverified
        self.changes.note("service", {key: actual.get(key) for key in update}, update)
        updated = self.changes.update(
            f"ecs service {spec['name']}",
            sorted(update),
            self.client("ecs"),
            "ecs",
            "update_service",
            cluster=self.params["cluster"]["name"],
            service=spec["name"],
            **update,
        )
        return (updated or {}).get("service"), True, unverified

    def _desired_count(self, current):
        """The desired count to set on a running service, or None to leave it alone.

        Forced: the given count. Otherwise autoscaling owns the count inside its bounds; a count
        outside them is drift and is clamped into them.
        """
        spec = self.params["service"]
        if spec.get("force_desired_count") and spec.get("desired_count") is not None:
            return spec["desired_count"] if current != spec["desired_count"] else None
        scaling = self.params.get("autoscaling")
        if not scaling or current is None:
            return None
        wanted = clamp(current, scaling["min_capacity"], scaling["max_capacity"])
        return wanted if wanted != current else None

    def _refuse_replacement(self, desired, actual):
        if desired["launchType"] and actual.get("capacityProviderStrategy"):
            self.module.fail_json(
                msg=(
                    f"Service {actual['serviceName']} runs on a capacity provider strategy, wanted launch type "
                    f"{desired['launchType']}: set service.capacity_provider_strategy instead, or remove the service "
                    "(state=absent) and deploy again."
                )
            )
        if desired["launchType"] and actual.get("launchType") and desired["launchType"] != actual["launchType"]:
            self.module.fail_json(
                msg=(
                    f"Service {actual['serviceName']} runs on {actual['launchType']}, wanted {desired['launchType']}: "
                    "ECS cannot change the launch type in place. Remove the service (state=absent) and deploy again."
                )
            )

    def _create(self, task_definition_arn):
        spec = self.params["service"]
        kwargs = dict(
            compact(self.desired()),
            cluster=self.params["cluster"]["name"],
            serviceName=spec["name"],
            taskDefinition=task_definition_arn,
            desiredCount=spec["desired_count"],
            schedulingStrategy="REPLICA",
            tags=tag_list(self.tags, "key", "value") or None,
        )
        kwargs = {key: value for key, value in kwargs.items() if value is not None}
        self.changes.note("service", None, kwargs)
        # Idempotent create: the same service and request give the same token, so a CreateService retried after a
        # lost answer returns the service already made. ECS allows "up to 36 ASCII characters" (CreateService).
        kwargs["clientToken"] = client_token("ecs", "create_service", kwargs, length=ECS_CLIENT_TOKEN_LENGTH)
        created = self.changes.create(
            f"ecs service {spec['name']}", self.client("ecs"), "ecs", "create_service", **kwargs
        )
        return (created or {}).get("service")

    def ensure_absent(self):
        actual = self.describe()
        if actual is None:
            return
        ecs = self.client("ecs")
        cluster = self.params["cluster"]["name"]
        name = actual["serviceName"]
        deleted = self.changes.delete(
            f"ecs service {name}",
            ecs,
            "ecs",
            "delete_service",
            cluster=cluster,
            service=name,
            force=True,
        )
        if deleted is not None:
            # The cluster can only go once the service has drained: poll for INACTIVE.
            delay = max(self.params["wait_delay"], 1)
            wait_for(ecs, "services_inactive", self.params["wait_timeout"], delay, cluster=cluster, services=[name])


class Autoscaling(Part):
    def __init__(self, module, changes):
        super().__init__(module, changes)
        self._found = None

    def resource_id(self):
        return f"service/{self.params['cluster']['name']}/{self.params['service']['name']}"

    def scope(self):
        return {"ServiceNamespace": "ecs", "ResourceId": self.resource_id(), "ScalableDimension": SCALABLE_DIMENSION}

    def ensure_present(self):
        spec = self.params.get("autoscaling")
        if not spec:
            return None, {}
        target = self._ensure_target(spec)
        return target, {policy["name"]: self._ensure_policy(policy) for policy in spec["target_tracking_policies"]}

    def _target(self):
        client = self.client("application-autoscaling")
        found = client.describe_scalable_targets(
            ServiceNamespace="ecs",
            ResourceIds=[self.resource_id()],
            ScalableDimension=SCALABLE_DIMENSION,
            aws_retry=True,
        ).get("ScalableTargets", [])
        return found[0] if found else None

    def _ensure_target(self, spec):
        client = self.client("application-autoscaling")
        resource = f"scalable target {self.resource_id()}"
        actual = self._target()
        wanted = {"MinCapacity": spec["min_capacity"], "MaxCapacity": spec["max_capacity"]}
        summary = {
            "resource_id": self.resource_id(),
            "min_capacity": wanted["MinCapacity"],
            "max_capacity": wanted["MaxCapacity"],
        }
        if actual is None:
            kwargs = dict(self.scope(), **wanted)
            if self.tags:
                kwargs["Tags"] = self.tags
            self.changes.create(resource, client, "application-autoscaling", "register_scalable_target", **kwargs)
            self.changes.note("scalable_target", None, wanted)
            return summary
        diff = differences(wanted, actual)
        if diff:
            self.changes.note("scalable_target", {key: actual.get(key) for key in wanted}, wanted)
            self.changes.update(
                resource,
                changed_attributes(diff),
                client,
                "application-autoscaling",
                "register_scalable_target",
                **self.scope(),
                **wanted,
            )
        arn = actual.get("ScalableTargetARN")
        if arn and self.tags is not None:
            listed = self.changes.call(client, "application-autoscaling", "list_tags_for_resource", ResourceARN=arn)
            sync_tags(
                self.changes,
                resource,
                None if listed is None else listed.get("Tags", {}),
                self.tags,
                self.purge_tags,
                lambda add: (client, "application-autoscaling", "tag_resource", {"ResourceARN": arn, "Tags": add}),
                lambda keys: (
                    client,
                    "application-autoscaling",
                    "untag_resource",
                    {"ResourceARN": arn, "TagKeys": keys},
                ),
            )
        return summary

    def _policies(self):
        if self._found is None:
            client = self.client("application-autoscaling")
            found = paginate(client, "describe_scaling_policies", "ScalingPolicies", **self.scope())
            self._found = {item["PolicyName"]: item for item in found}
        return self._found

    def _ensure_policy(self, policy):
        client = self.client("application-autoscaling")
        name = policy["name"]
        wanted = scrub_none_parameters(
            {
                "TargetValue": policy["target_value"],
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": policy["predefined_metric_type"],
                    "ResourceLabel": policy.get("resource_label"),
                },
                "ScaleInCooldown": policy.get("scale_in_cooldown"),
                "ScaleOutCooldown": policy.get("scale_out_cooldown"),
                "DisableScaleIn": policy.get("disable_scale_in"),
            }
        )
        actual = self._policies().get(name)
        current = (actual or {}).get("TargetTrackingScalingPolicyConfiguration")
        found = differences(wanted, current) if actual else [{"path": "."}]
        if actual and actual.get("PolicyType") != "TargetTrackingScaling":
            found.append({"path": "PolicyType"})
        if not found:
            return actual["PolicyARN"]
        kwargs = dict(
            self.scope(),
            PolicyName=name,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=wanted,
        )
        resource = f"scaling policy {name}"
        self.changes.note(f"scaling_policy {name}", current, wanted)
        if actual is None:
            made = self.changes.create(resource, client, "application-autoscaling", "put_scaling_policy", **kwargs)
        else:
            made = self.changes.update(
                resource, changed_attributes(found), client, "application-autoscaling", "put_scaling_policy", **kwargs
            )
        return (made or {}).get("PolicyARN", (actual or {}).get("PolicyARN"))

    def ensure_absent(self):
        client = self.client("application-autoscaling")
        for name in sorted(self._policies()):
            self.changes.delete(
                f"scaling policy {name}",
                client,
                "application-autoscaling",
                "delete_scaling_policy",
                PolicyName=name,
                **self.scope(),
            )
        if self._target() is not None:
            self.changes.delete(
                f"scalable target {self.resource_id()}",
                client,
                "application-autoscaling",
                "deregister_scalable_target",
                **self.scope(),
            )


class RolloutWaiter(Part):
    """Polls the service until the deployment started for it is COMPLETED or FAILED."""

    sleep = staticmethod(time.sleep)
    clock = staticmethod(time.monotonic)

    def wait(self, service):
        primary = primary_deployment(service)
        if primary is None:
            return {"deployment_id": None, "state": None, "reason": None, "waited": False}
        deployment_id = primary["id"]
        deadline = self.clock() + self.params["wait_timeout"]
        deployment = primary
        waited = False
        while True:
            state = deployment.get("rolloutState")
            if state in (None, "COMPLETED"):
                return self._summary(deployment, waited)
            if state == "FAILED":
                self._fail(service, deployment, "failed")
            if emulator_lacks("ecs", "wait_rollout_completed"):
                self.changes.skipped_calls.append("ecs:wait_rollout_completed")
                return self._summary(deployment, waited)
            if self.clock() >= deadline:
                self._fail(service, deployment, f"did not complete within {self.params['wait_timeout']} s")
            self.sleep(self.params["wait_delay"])
            waited = True
            service = self._describe(service)
            deployment = next((item for item in service.get("deployments", []) if item["id"] == deployment_id), None)
            if deployment is None:
                self._fail(service, {"id": deployment_id}, "was replaced (rolled back or superseded)")

    @staticmethod
    def _summary(deployment, waited):
        return {
            "deployment_id": deployment["id"],
            "state": deployment.get("rolloutState"),
            "reason": deployment.get("rolloutStateReason"),
            "waited": waited,
        }

    def _describe(self, service):
        found = self.client("ecs").describe_services(
            cluster=service["clusterArn"], services=[service["serviceName"]], aws_retry=True
        )
        return found["services"][0]

    def _fail(self, service, deployment, what):
        primary = primary_deployment(service) or {}
        events = [event.get("message") for event in service.get("events", [])[:5]]
        reason = deployment.get("rolloutStateReason") or "no reason given"
        self.module.fail_json(
            msg=(
                f"ECS deployment {deployment['id']} of service {service['serviceName']} {what}: {reason}. "
                f"The service now runs {primary.get('taskDefinition', 'nothing')} "
                f"(deployment {primary.get('id')}, {primary.get('rolloutState')})."
            ),
            rollout={
                "deployment_id": deployment["id"],
                "state": deployment.get("rolloutState"),
                "reason": deployment.get("rolloutStateReason"),
                "waited": True,
            },
            events=events,
        )


# --- the manager ---------------------------------------------------------------


class EcsDeployManager:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.changes = ChangeSet(module)
        self.resource = f"ECS deployment on cluster {module.params['cluster']['name']}"  # run_manager's failure
        clients = {}
        self.parts = {}
        for name, kind in (
            ("cluster", Cluster),
            ("log_group", Logs),
            ("secrets", Secrets),
            ("task_definition", TaskDefinition),
            ("service", Service),
            ("autoscaling", Autoscaling),
            ("rollout", RolloutWaiter),
        ):
            part = kind(module, self.changes)
            part._clients = clients  # one client per AWS service for the whole call
            self.parts[name] = part

    def validate(self):
        if self.params["service"].get("desired_count") is None:
            self.module.fail_json(msg="service.desired_count is required when state is present")
        spec = self.params["task_definition"]
        if "FARGATE" in (spec.get("requires_compatibilities") or []):
            problem = fargate_problem(spec.get("cpu"), spec.get("memory"))
            if problem:
                self.module.fail_json(msg=problem)
        reserved = sum(
            int(item.get("memory") or item.get("memoryReservation") or 0) for item in spec["container_definitions"]
        )
        if spec.get("memory") and reserved > spec["memory"]:
            self.module.fail_json(
                msg=f"The containers reserve {reserved} MiB, more than the task's {spec['memory']} MiB memory"
            )
        scaling = self.params.get("autoscaling")
        if scaling and scaling["min_capacity"] > scaling["max_capacity"]:
            self.module.fail_json(
                msg=f"autoscaling.min_capacity {scaling['min_capacity']} exceeds max_capacity {scaling['max_capacity']}"
            )
        self.validate_placement(spec, scaling)

    def validate_placement(self, spec, scaling):
        service = self.params["service"]
        compatibilities = spec.get("requires_compatibilities") or []
        problem = strategy_problem(service.get("capacity_provider_strategy"), compatibilities)
        if problem:
            self.module.fail_json(msg=problem)
        launch_type = service.get("launch_type") or (None if service.get("capacity_provider_strategy") else "FARGATE")
        if launch_type in ("EC2", "FARGATE") and launch_type not in compatibilities:
            self.module.fail_json(
                msg=(
                    f"service.launch_type {launch_type} is not in "
                    f"task_definition.requires_compatibilities {compatibilities}"
                )
            )
        count = service["desired_count"]
        if scaling and clamp(count, scaling["min_capacity"], scaling["max_capacity"]) != count:
            self.module.fail_json(
                msg=(
                    f"service.desired_count {count} is outside the autoscaling bounds "
                    f"[{scaling['min_capacity']}, {scaling['max_capacity']}]"
                )
            )

    def refuse_nulls(self, secret_arns):
        """Null upstream ids are fine in check mode (not created yet); a real run needs them."""
        if self.module.check_mode:
            return
        service = self.params["service"]
        policies = (self.params.get("autoscaling") or {}).get("target_tracking_policies", [])
        # Container fields may be empty strings (an empty environment value); ids may not.
        containers = self.parts["task_definition"].containers(secret_arns)
        missing = null_paths(containers, "task_definition.container_definitions", empty_is_null=False)
        documents = {
            "service.subnets": service.get("subnets") or [],
            "service.security_groups": service.get("security_groups") or [],
            "service.load_balancers": [item.get("target_group_arn") for item in service.get("load_balancers") or []],
            "autoscaling.target_tracking_policies": [
                item.get("resource_label")
                for item in policies
                if item["predefined_metric_type"] == "ALBRequestCountPerTarget"
            ],
        }
        missing += [path for prefix, value in documents.items() for path in null_paths(value, prefix)]
        if missing:
            self.module.fail_json(msg=f"Null or empty ids (upstream resources missing?) at: {', '.join(missing)}")

    def ensure_present(self):
        self.validate()
        cluster_arn = self.parts["cluster"].ensure_present()
        log_group_name, log_group_arn = self.parts["log_group"].ensure_present()
        secret_arns = self.parts["secrets"].ensure_present()
        self.refuse_nulls(secret_arns)
        task_definition_arn, registered = self.parts["task_definition"].ensure_present(secret_arns)
        service, service_changed, unverified = self.parts["service"].ensure_present(task_definition_arn, registered)
        scalable_target, policy_arns = self.parts["autoscaling"].ensure_present()
        rollout = {"deployment_id": None, "state": None, "reason": None, "waited": False}
        if service is not None:
            rollout = (
                self.parts["rollout"].wait(service)
                if self.params["wait"]
                else self.parts["rollout"]._summary(primary_deployment(service) or {"id": None}, False)
            )
        return self.changes.result(
            cluster_name=self.params["cluster"]["name"],
            cluster_arn=cluster_arn,
            log_group_name=log_group_name,
            log_group_arn=log_group_arn,
            secret_arns=secret_arns,
            task_definition_arn=task_definition_arn,
            task_definition_registered=registered,
            service_name=self.params["service"]["name"],
            service_arn=(service or {}).get("serviceArn"),
            desired_count=(service or {}).get("desiredCount", self.params["service"].get("desired_count")),
            scalable_target=scalable_target,
            scaling_policy_arns=policy_arns,
            rollout=rollout,
            emulator_unverified=unverified,
        )

    def ensure_absent(self):
        if self.params.get("service"):
            self.parts["autoscaling"].ensure_absent()
            self.parts["service"].ensure_absent()
        self.parts["cluster"].ensure_absent()
        return self.changes.result(
            cluster_name=self.params["cluster"]["name"],
            cluster_arn=None,
            log_group_name=(self.params.get("log_group") or {}).get("name"),
            log_group_arn=None,
            secret_arns={},
            emulator_unverified=[],
        )


def argument_spec():
    policy = dict(
        name=dict(type="str", required=True),
        predefined_metric_type=dict(
            type="str",
            required=True,
            choices=[
                "ALBRequestCountPerTarget",
                "ECSServiceAverageCPUUtilization",
                "ECSServiceAverageMemoryUtilization",
            ],
        ),
        resource_label=dict(type="str"),
        target_value=dict(type="float", required=True),
        scale_in_cooldown=dict(type="int"),
        scale_out_cooldown=dict(type="int"),
        disable_scale_in=dict(type="bool"),
    )
    task_definition = dict(
        family=dict(type="str", required=True),
        cpu=dict(type="int"),
        memory=dict(type="int"),
        network_mode=dict(type="str", default="awsvpc", choices=["awsvpc", "bridge", "host", "none"]),
        requires_compatibilities=dict(type="list", elements="str", default=["FARGATE"]),
        execution_role_arn=dict(type="str"),
        task_role_arn=dict(type="str"),
        runtime_platform=dict(
            type="dict",
            options=dict(
                operating_system_family=dict(type="str", default="LINUX"),
                cpu_architecture=dict(type="str", default="X86_64", choices=["X86_64", "ARM64"]),
            ),
        ),
        container_definitions=dict(type="list", elements="dict", required=True),
        volumes=dict(type="list", elements="dict"),
    )
    service = dict(
        name=dict(type="str", required=True),
        desired_count=dict(type="int"),
        force_desired_count=dict(type="bool", default=False),
        launch_type=dict(type="str", choices=["FARGATE", "EC2", "EXTERNAL"]),
        capacity_provider_strategy=strategy_argument_spec(),
        platform_version=dict(type="str"),
        subnets=dict(type="list", elements="str"),
        security_groups=dict(type="list", elements="str"),
        assign_public_ip=dict(type="bool", default=False),
        load_balancers=dict(
            type="list",
            elements="dict",
            options=dict(
                target_group_arn=dict(type="str"),
                container_name=dict(type="str", required=True),
                container_port=dict(type="int", required=True),
            ),
        ),
        health_check_grace_period_seconds=dict(type="int"),
        deployment_circuit_breaker=dict(
            type="dict", options=dict(enable=dict(type="bool", default=True), rollback=dict(type="bool", default=True))
        ),
        minimum_healthy_percent=dict(type="int"),
        maximum_percent=dict(type="int"),
        propagate_tags=dict(type="str", choices=["SERVICE", "TASK_DEFINITION", "NONE"]),
        enable_ecs_managed_tags=dict(type="bool"),
        enable_execute_command=dict(type="bool"),
        availability_zone_rebalancing=dict(type="str", choices=["ENABLED", "DISABLED"]),
    )
    return dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        cluster=dict(
            type="dict",
            required=True,
            options=dict(
                name=dict(type="str", required=True),
                container_insights=dict(type="str", choices=["enabled", "disabled", "enhanced"]),
                retain=dict(type="bool", default=False),
            ),
        ),
        log_group=dict(
            type="dict",
            options=dict(
                name=dict(type="str", required=True),
                retention_days=dict(type="int"),
                kms_key_id=dict(type="str"),
            ),
        ),
        secrets=dict(
            type="list",
            elements="dict",
            no_log=False,
            default=[],
            options=dict(
                name=dict(type="str", required=True),
                value=dict(type="str", no_log=True),
                description=dict(type="str"),
                kms_key_id=dict(type="str"),
            ),
        ),
        task_definition=dict(type="dict", options=task_definition),
        service=dict(type="dict", options=service, mutually_exclusive=[("launch_type", "capacity_provider_strategy")]),
        autoscaling=dict(
            type="dict",
            options=dict(
                min_capacity=dict(type="int", required=True),
                max_capacity=dict(type="int", required=True),
                target_tracking_policies=dict(type="list", elements="dict", default=[], options=policy),
            ),
        ),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=900),
        wait_delay=dict(type="int", default=15),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )


def main():
    module = AnsibleAWSModule(
        argument_spec=argument_spec(),
        required_if=[("state", "present", ["task_definition", "service"])],
        supports_check_mode=True,
    )
    run_manager(module, EcsDeployManager(module))


if __name__ == "__main__":
    main()
