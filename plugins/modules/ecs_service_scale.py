#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ecs_service_scale
short_description: Scale an existing ECS service and its autoscaling bounds, touching nothing else
version_added: "0.1.0"
description:
  - Sets the desired count of an existing ECS service and the C(MinCapacity)/C(MaxCapacity) of its
    Application Auto Scaling scalable target, in one region, then waits until the service is steady.
    It calls ECS and Application Auto Scaling only - no IAM, no task definition, no other region - so
    a disaster-recovery failover can grow the warm standby while us-east-1 (where IAM's endpoint
    lives) is down. Everything else about the service stays as M(reelle.infra.ecs_deploy) left it.
  - "Reads: one C(DescribeServices) and one C(DescribeScalableTargets). Writes only what differs:
    C(RegisterScalableTarget) with the new bounds (the target's C(SuspendedState) is sent back as it
    is; its role and tags are left out, so they stay) and C(UpdateService) with C(desiredCount) alone
    (never a task definition, never C(forceNewDeployment))."
  - "Order: when the count grows, the bounds are raised first and the count set afterwards; when it
    shrinks (failback), the count is lowered first and the bounds afterwards. AWS documents that a
    C(RegisterScalableTarget) on an existing target moves a current capacity outside the new bounds
    inside them, and that scaling policies never scale outside them: growing, the raised minimum
    pulls the count the same way this module then sets it (never past it: O(desired_count) lies
    inside the new bounds); shrinking, the lowered maximum finds the count already inside and moves
    nothing. When the count found after the wait is not the one set (Application Auto Scaling or
    someone else changed it meanwhile), the module warns; a second run sets it again."
  - Without O(desired_count), a service with a scalable target has its count brought inside the
    (new) bounds - raised to O(min_capacity) when below it, lowered to O(max_capacity) when above it -
    and is otherwise left alone.
  - Fails before any change when the service (or its cluster) does not exist or is C(DRAINING) or
    C(INACTIVE) (the standby must have been converged by C(playbooks/site.yml) first), when the
    minimum exceeds the maximum, when O(desired_count) is outside the bounds, when bounds are given
    for a service without a scalable target, and for a C(DAEMON) service.
  - With O(wait=true) (also when nothing changed) it waits until the service is steady - the rule of
    AWS's ECS C(services_stable) waiter, one deployment and C(runningCount == desiredCount) - polling
    every 15 s for up to O(wait_timeout) seconds, and fails with the counts, deployments and latest
    events when it is not. Check mode makes no change and does not wait; it reports the changes a
    run would make.
  - Emulator (moto 5.2.5, C(REELLE_AWS_TARGET=emulator)) limits, reported rather than hidden - moto
    runs no tasks; a service it reports short of its count is looked at once and, instead of waiting,
    C(ecs:wait_rollout_completed) is listed in RV(skipped_calls) (as M(reelle.infra.ecs_deploy) does).
author:
  - the reelle infrastructure authors (@reelle)
options:
  cluster:
    description: Name of the ECS cluster the service runs in.
    type: str
    required: true
  service:
    description: Name of the ECS service.
    type: str
    required: true
  desired_count:
    description:
      - Tasks the service should run; must lie inside the scalable target's bounds (the new ones
        when O(min_capacity)/O(max_capacity) are given).
      - Unset, the count is only brought inside the bounds (see the description).
    type: int
  min_capacity:
    description:
      - C(MinCapacity) of the service's Application Auto Scaling scalable target; unset keeps the
        target's. The service must already have a scalable target.
    type: int
  max_capacity:
    description:
      - C(MaxCapacity) of the service's scalable target; unset keeps the target's. The service must
        already have a scalable target.
    type: int
  wait:
    description: Wait until the service is steady (one deployment, C(runningCount == desiredCount)).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the service to become steady.
    type: int
    default: 600
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: DR failover - grow the warm standby to prod's size
  reelle.infra.ecs_service_scale:
    region: eu-west-1
    cluster: reelle-prod-euw1
    service: reelle-prod-backend
    desired_count: 5
    min_capacity: 5
    max_capacity: 10
    wait: true
    wait_timeout: 600
  register: scaled

- name: DR failback - back to warm standby (the count goes down first, then the bounds)
  reelle.infra.ecs_service_scale:
    region: eu-west-1
    cluster: reelle-prod-euw1
    service: reelle-prod-backend
    desired_count: 2
    min_capacity: 2
    max_capacity: 10

- name: Raise the floor only; a count below it is raised to it
  reelle.infra.ecs_service_scale:
    region: eu-west-1
    cluster: reelle-prod-euw1
    service: reelle-prod-backend
    min_capacity: 4
    wait: false
"""

RETURN = r"""
changes:
  description: Plan rows, one per change made (or that would be made in check mode), in the order made.
  returned: always
  type: list
  elements: dict
  sample:
    - {"action": "update", "resource": "scalable target service/reelle-prod-euw1/reelle-prod-backend",
       "attributes": ["MaxCapacity", "MinCapacity"]}
    - {"action": "update", "resource": "ecs service reelle-prod-backend", "attributes": ["desiredCount"]}
skipped_calls:
  description: Calls not made because the local emulator lacks them (C(service:operation)).
  returned: always
  type: list
  elements: str
  sample: ["ecs:wait_rollout_completed"]
desired_count:
  description: The service's desired count after the run (in check mode, the count a run would set).
  returned: always
  type: int
  sample: 5
running_count:
  description: Tasks running when last looked at (after the wait, when there was one).
  returned: always
  type: int
  sample: 5
min_capacity:
  description: The scalable target's C(MinCapacity) after the run; null when the service has no scalable target.
  returned: always
  type: int
  sample: 5
max_capacity:
  description: The scalable target's C(MaxCapacity) after the run; null when the service has no scalable target.
  returned: always
  type: int
  sample: 10
previous:
  description: The desired count and bounds found before the run (what a failback returns to).
  returned: always
  type: dict
  sample: {"desired_count": 2, "min_capacity": 2, "max_capacity": 10}
task_definition:
  description: ARN of the task definition the service runs (left as it was).
  returned: always
  type: str
  sample: arn:aws:ecs:eu-west-1:123456789012:task-definition/reelle-prod-backend:7
waited_seconds:
  description: Seconds spent waiting for the service to become steady (0 when it already was, or no wait).
  returned: always
  type: int
  sample: 95
diff:
  description: Before and after of the desired count and the bounds that differ (with --diff).
  returned: when diff mode is on
  type: dict
  sample: {"before": {"service": {"desiredCount": 2}}, "after": {"service": {"desiredCount": 5}}}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    ChangeSet,
    aws_client,
    changed_attributes,
    differences,
    run_manager,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_ecs import (
    clamp,
    find_scalable_target,
    find_service,
    scalable_target_scope,
    service_resource_id,
    wait_service_stable,
)

BOUNDS = ("min_capacity", "max_capacity")


class EcsServiceScale:
    """Plan from one look at the service and its scalable target, refuse bad input, then write what differs."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.changes = ChangeSet(module)
        self.cluster = module.params["cluster"]
        self.name = module.params["service"]
        self.resource_id = service_resource_id(self.cluster, self.name)
        self.step = f"to read ECS service {self.name} on cluster {self.cluster}"  # run_manager's failure
        self.ecs = None
        self.scaling = None

    def where(self):
        return f"cluster {self.cluster} ({self.module.region})"

    # --- input -------------------------------------------------------------------------------

    def validate(self):
        """What the options alone say is wrong, before any call."""
        for key in ("desired_count", *BOUNDS, "wait_timeout"):
            if (self.params.get(key) or 0) < 0:
                self.module.fail_json(msg=f"{key} must be 0 or more, got {self.params[key]}")
        low, high = (self.params.get(key) for key in BOUNDS)
        if low is not None and high is not None and low > high:
            self.module.fail_json(msg=f"min_capacity {low} exceeds max_capacity {high}")
        count = self.params.get("desired_count")
        if count is not None and low is not None and high is not None and not low <= count <= high:
            self.module.fail_json(msg=f"desired_count {count} is outside [min_capacity {low}, max_capacity {high}]")

    def refuse_service(self, service):
        if service is None:
            self.module.fail_json(
                msg=(
                    f"ECS service {self.name} was not found in {self.where()}: the cluster or the service does not "
                    "exist. This module only scales a service that exists - the standby must have been converged "
                    "by playbooks/site.yml (roles/aws_compute) first."
                )
            )
        if service.get("status") != "ACTIVE":
            self.module.fail_json(
                msg=(
                    f"ECS service {self.name} in {self.where()} is {service.get('status')} (deleted): nothing to "
                    "scale. The standby must have been converged by playbooks/site.yml (roles/aws_compute) first."
                )
            )
        if service.get("schedulingStrategy") == "DAEMON":
            self.module.fail_json(
                msg=f"ECS service {self.name} is a DAEMON service: it runs one task per container instance, no count"
            )

    def bounds(self, target):
        """(min, max) after the run, None for both without a scalable target; fails on bounds that cannot be."""
        given = {key: self.params.get(key) for key in BOUNDS}
        if target is None:
            named = [key for key, value in given.items() if value is not None]
            if named:
                self.module.fail_json(
                    msg=(
                        f"{' and '.join(named)} given, but ECS service {self.name} in {self.where()} has no "
                        f"Application Auto Scaling scalable target ({self.resource_id}, ecs:service:DesiredCount). "
                        "Register it by converging the service with playbooks/site.yml (roles/aws_compute), or "
                        "leave the bounds out to set only desired_count."
                    )
                )
            return None, None
        low = target["MinCapacity"] if given["min_capacity"] is None else given["min_capacity"]
        high = target["MaxCapacity"] if given["max_capacity"] is None else given["max_capacity"]
        if low > high:
            kept = "max_capacity" if given["max_capacity"] is None else "min_capacity"
            self.module.fail_json(
                msg=(
                    f"min_capacity {low} exceeds max_capacity {high} ({kept} as the scalable target "
                    f"{self.resource_id} has it): give {kept} too"
                )
            )
        return low, high

    def count(self, current, low, high):
        """The desired count after the run; fails on a given count outside the bounds."""
        wanted = self.params.get("desired_count")
        if wanted is None:
            return current if low is None else clamp(current, low, high)
        if low is not None and not low <= wanted <= high:
            self.module.fail_json(
                msg=(
                    f"desired_count {wanted} is outside the autoscaling bounds [{low}, {high}] of {self.resource_id}: "
                    "Application Auto Scaling would move it back inside them. Give min_capacity/max_capacity "
                    "that include it."
                )
            )
        return wanted

    # --- writes ------------------------------------------------------------------------------

    def set_bounds(self, target, low, high):
        if target is None:
            return
        wanted = {"MinCapacity": low, "MaxCapacity": high}
        found = differences(wanted, target)
        if not found:
            return
        self.step = f"to register the bounds [{low}, {high}] of scalable target {self.resource_id}"
        self.changes.note("scalable_target", {key: target.get(key) for key in wanted}, wanted)
        kwargs = dict(scalable_target_scope(self.cluster, self.name), **wanted)
        if target.get("SuspendedState"):
            # Unset parameters are left as they are (RegisterScalableTarget); sent back all the same, as read.
            kwargs["SuspendedState"] = target["SuspendedState"]
        self.changes.update(
            f"scalable target {self.resource_id}",
            changed_attributes(found),
            self.scaling,
            "application-autoscaling",
            "register_scalable_target",
            **kwargs,
        )

    def set_count(self, service, count):
        """The service as UpdateService answers it (the same one when nothing changes or in check mode)."""
        if count == service["desiredCount"]:
            return service
        self.step = f"to set the desired count of ECS service {self.name} to {count}"
        self.changes.note("service", {"desiredCount": service["desiredCount"]}, {"desiredCount": count})
        updated = self.changes.update(
            f"ecs service {self.name}",
            ["desiredCount"],
            self.ecs,
            "ecs",
            "update_service",
            cluster=self.cluster,
            service=self.name,
            desiredCount=count,
        )
        return (updated or {}).get("service") or service

    # --- the run -----------------------------------------------------------------------------

    def ensure_present(self):
        self.validate()
        self.ecs = aws_client(self.module, "ecs")
        self.scaling = aws_client(self.module, "application-autoscaling")
        service = find_service(self.ecs, self.cluster, self.name)
        self.refuse_service(service)
        self.step = f"to read the scalable target {self.resource_id}"
        target = find_scalable_target(self.scaling, self.cluster, self.name)
        low, high = self.bounds(target)
        current = service["desiredCount"]
        count = self.count(current, low, high)
        # Growing: bounds, then count. Shrinking: count, then bounds (see DOCUMENTATION).
        if count > current:
            self.set_bounds(target, low, high)
            service = self.set_count(service, count)
        else:
            service = self.set_count(service, count)
            self.set_bounds(target, low, high)
        service, waited = self.wait(service)
        return self.changes.result(
            desired_count=count if self.module.check_mode else service.get("desiredCount"),
            running_count=service.get("runningCount"),
            min_capacity=low,
            max_capacity=high,
            previous={
                "desired_count": current,
                "min_capacity": (target or {}).get("MinCapacity"),
                "max_capacity": (target or {}).get("MaxCapacity"),
            },
            task_definition=service.get("taskDefinition"),
            waited_seconds=waited,
        )

    def wait(self, service):
        if not self.params["wait"] or self.module.check_mode:
            return service, 0
        self.step = f"while waiting for ECS service {self.name} to become steady"
        timeout = self.params["wait_timeout"]
        last, outcome, waited = wait_service_stable(self.changes, self.ecs, service, timeout)
        if outcome in ("stable", "skipped"):
            if last.get("desiredCount") != service.get("desiredCount"):
                self.module.warn(
                    f"ECS service {self.name} wants {last.get('desiredCount')} tasks after the wait, not "
                    f"{service.get('desiredCount')}: Application Auto Scaling (or someone else) changed the count "
                    "meanwhile."
                )
            return last, waited
        if outcome == "gone":
            status = last.get("status")
            what = f"was deleted while waiting ({status if status != 'ACTIVE' else 'MISSING'})"
        else:
            what = f"did not become steady within {timeout} s"
        deployments = [
            f"{item.get('status')} {item.get('taskDefinition', '').rsplit('/', 1)[-1]} "
            f"{item.get('runningCount')}/{item.get('desiredCount')} running"
            for item in last.get("deployments") or []
        ]
        self.module.fail_json(
            msg=(
                f"ECS service {self.name} in {self.where()} {what}: {last.get('runningCount')} of "
                f"{last.get('desiredCount')} tasks running, {last.get('pendingCount', 0)} pending, "
                f"{len(deployments)} deployment(s) ({'; '.join(deployments) or 'none'}). The changes listed were "
                "made; run again to wait again, or look at the service's events."
            ),
            changes=self.changes.changes,
            skipped_calls=sorted(set(self.changes.skipped_calls)),
            desired_count=last.get("desiredCount"),
            running_count=last.get("runningCount"),
            waited_seconds=waited,
            events=[event.get("message") for event in (last.get("events") or [])[:5]],
        )


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            cluster=dict(type="str", required=True),
            service=dict(type="str", required=True),
            desired_count=dict(type="int"),
            min_capacity=dict(type="int"),
            max_capacity=dict(type="int"),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=600),
        ),
        supports_check_mode=True,
    )
    run_manager(module, EcsServiceScale(module))


if __name__ == "__main__":
    main()
