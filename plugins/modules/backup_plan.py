#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: backup_plan
short_description: Manage an AWS Backup vault, plan and tag-based selection in one call
description:
  - Creates and updates a KMS-encrypted AWS Backup vault, a backup plan whose rules target it (cron schedule,
    retention, optional copy to another vault, optional continuous backup), and a selection of the resources
    carrying given tags, with the IAM role AWS Backup assumes for it (passed in, or created here).
  - One call per role; the no-op path reads the vault, the plan and the role once each.
  - amazon.aws.backup_vault fails on create against the local emulator and amazon.aws.backup_selection
    cannot run there at all; this module keeps the same job in one task.
  - Options that are not set leave the attribute as it is. The vault holds recovery points (data) and is never
    replaced; deleting it needs O(confirm_delete_vault).
  - In emulator mode (moto, C(REELLE_AWS_TARGET=emulator)) the calls it lacks (selections, plan updates)
    are skipped and listed in RV(skipped_calls).
author:
  - the reelle infrastructure authors (@reelle)
options:
  state:
    description:
      - Whether the plan (with its selection and created role) should exist.
      - With V(absent) the vault stays unless O(confirm_delete_vault) names it.
    type: str
    choices: [present, absent]
    default: present
  vault_name:
    description:
      - Name of the backup vault the rules store recovery points in.
    type: str
    required: true
  vault_kms_key_arn:
    description:
      - ARN of the KMS key that encrypts the vault. Cannot change once the vault exists.
    type: str
  plan_name:
    description:
      - Name of the backup plan.
      - Not set - the vault alone (for example the destination of another region's copies); O(rules) and
        O(selection) must then be unset too.
    type: str
  rules:
    description:
      - The plan's rules; the list is the whole set (rules not listed are removed from the plan).
      - Options not set in a rule keep the plan's current value (AWS defaults on creation).
      - Required to create the plan.
    type: list
    elements: dict
    suboptions:
      name:
        description: Rule name.
        type: str
        required: true
      target_vault_name:
        description: Vault of the rule's recovery points. Defaults to O(vault_name).
        type: str
      schedule:
        description: Schedule, a cron expression such as V(cron(0 5 * * ? *)) (daily at 05:00).
        type: str
      schedule_timezone:
        description: Time zone of the schedule (AWS default V(Etc/UTC)).
        type: str
      start_window_minutes:
        description: Minutes after the scheduled time within which a job must start.
        type: int
      completion_window_minutes:
        description: Minutes within which a started job must complete.
        type: int
      retention_days:
        description: Days recovery points are kept (1-36500; at most 35 with continuous backup).
        type: int
      enable_continuous_backup:
        description: Continuous backup (point-in-time restore) for supported resources.
        type: bool
      copy_actions:
        description: Copies of each recovery point to other vaults (for example in another region).
        type: list
        elements: dict
        suboptions:
          destination_vault_arn:
            description: ARN of the destination vault.
            type: str
            required: true
          retention_days:
            description: Days the copy is kept.
            type: int
  selection:
    description:
      - Resources the plan backs up, chosen by tag. Not set leaves the plan's selections alone.
      - A selection cannot be changed in place; a changed selection is deleted and created again (it holds no data).
    type: dict
    suboptions:
      name:
        description: Selection name.
        type: str
        required: true
      tags:
        description: Tags (key -> value, all must match) of the resources to back up.
        type: dict
        required: true
      resources:
        description: Resource ARNs (wildcards allowed) the selection is limited to; all resources when not set.
        type: list
        elements: str
      iam_role_arn:
        description:
          - Role AWS Backup assumes for the selection.
          - When not set, the module creates O(selection.iam_role_name).
        type: str
      iam_role_name:
        description:
          - Name of the role the module creates (trusting backup.amazonaws.com, with AWS's
            AWSBackupServiceRolePolicyForBackup attached) when O(selection.iam_role_arn) is not set.
          - An existing role of that name gets that trust policy, description, policy and O(tags); other
            policies attached to it stay.
          - Defaults to O(plan_name) followed by V(-backup).
        type: str
  confirm_delete_vault:
    description:
      - With O(state=absent), must equal O(vault_name) to delete the vault too.
      - A vault that still holds recovery points (backups) is kept, with a warning (AWS refuses to delete it).
    type: str
notes:
  - Check mode is supported. Against an empty account, an upstream KMS key ARN may be null; the creates are reported
    and the ids returned are null.
  - The emulator's ListTags answers for plan and vault ARNs sent by boto3, so tags are compared there too.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Daily backups kept 30 days of everything tagged backup=daily
  reelle.infra.backup_plan:
    vault_name: reelle-staging-vault
    vault_kms_key_arn: "{{ aws_security_outputs.kms_key_arn }}"
    plan_name: reelle-staging-plan
    rules:
      - name: reelle-staging-daily
        schedule: cron(0 5 * * ? *)
        start_window_minutes: 60
        completion_window_minutes: 180
        retention_days: 30
    selection:
      name: reelle-staging-by-tag
      tags:
        backup: daily
    tags:
      environment: staging

- name: Hourly, with continuous backup and a copy to the failover region
  reelle.infra.backup_plan:
    vault_name: reelle-prod-vault
    plan_name: reelle-prod-plan
    rules:
      - name: reelle-prod-hourly
        schedule: cron(0 * * * ? *)
        retention_days: 30
        enable_continuous_backup: true
        copy_actions:
          - destination_vault_arn: arn:aws:backup:eu-west-1:123456789012:backup-vault:reelle-prod-euw1-vault
            retention_days: 30
    selection:
      name: reelle-prod-by-tag
      tags:
        backup: hourly
      iam_role_arn: arn:aws:iam::123456789012:role/reelle-prod-backup
"""

RETURN = r"""
vault_name:
  description: Name of the vault.
  returned: always
  type: str
  sample: reelle-staging-vault
vault_arn:
  description: ARN of the vault; null when it would be created (check mode).
  returned: always
  type: str
  sample: arn:aws:backup:us-east-1:123456789012:backup-vault:reelle-staging-vault
plan_id:
  description: Id of the plan; null when it would be created or is absent.
  returned: always
  type: str
  sample: 8a3b1c9e-2f4d-4e6a-9b7c-0d1e2f3a4b5c
plan_arn:
  description: ARN of the plan; null when it would be created or is absent.
  returned: always
  type: str
  sample: arn:aws:backup:us-east-1:123456789012:backup-plan:8a3b1c9e-2f4d-4e6a-9b7c-0d1e2f3a4b5c
plan_version_id:
  description: Version of the plan; null when it would be created or is absent.
  returned: always
  type: str
  sample: ZTA2ZjQ5YTEtYjQ1Ni00ZjVhLWE5NjUtYzBmZDNkYzE3Y2Iz
rules:
  description: The plan's rules as AWS Backup reports them (snake_case), or as they are being set.
  returned: always
  type: list
  elements: dict
  sample:
    - rule_name: reelle-staging-daily
      schedule_expression: cron(0 5 * * ? *)
      lifecycle: {delete_after_days: 30}
selection_id:
  description: Id of the selection; null when unknown (would be created, or the emulator cannot list selections).
  returned: always
  type: str
  sample: 1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718
iam_role_arn:
  description: ARN of the role the selection uses; null when it would be created or no selection is managed.
  returned: always
  type: str
  sample: arn:aws:iam::123456789012:role/reelle-staging-plan-backup
changes:
  description: The plan - one row per create, update or delete made (or, in check mode, that would be made).
  returned: always
  type: list
  elements: dict
  sample: [{action: update, resource: backup plan reelle-staging-plan, attributes: [rules]}]
skipped_calls:
  description: Calls the local emulator cannot serve, skipped there (made on AWS), as service:operation.
  returned: always
  type: list
  elements: str
  sample: ["backup:list_backup_selections"]
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.transformation import scrub_none_parameters
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    ChangeSet,
    arn,
    aws_client,
    differences,
    emulator_lacks,
    paginate,
    partition_for,
    run_manager,
    same_kms_key,
    snake,
    sync_tags,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_iam import IamRoles, iam_client

# The AWS managed policy of AWS Backup's service role; its ARN names the region's partition.
BACKUP_POLICY = "policy/service-role/AWSBackupServiceRolePolicyForBackup"
ASSUME_ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"}, "Action": "sts:AssumeRole"},
    ],
}
# Fields of a rule UpdateBackupPlan / CreateBackupPlan accept (BackupRuleInput).
RULE_INPUT_KEYS = (
    "RuleName",
    "TargetBackupVaultName",
    "ScheduleExpression",
    "StartWindowMinutes",
    "CompletionWindowMinutes",
    "Lifecycle",
    "RecoveryPointTags",
    "CopyActions",
    "EnableContinuousBackup",
    "ScheduleExpressionTimezone",
    "IndexActions",
)


def _lifecycle(days):
    return None if days is None else {"DeleteAfterDays": days}


def rule_input(rule, vault_name):
    """A rule option as a BackupRuleInput (unset options omitted)."""
    copies = rule["copy_actions"]
    return scrub_none_parameters(
        dict(
            RuleName=rule["name"],
            TargetBackupVaultName=rule["target_vault_name"] or vault_name,
            ScheduleExpression=rule["schedule"],
            ScheduleExpressionTimezone=rule["schedule_timezone"],
            StartWindowMinutes=rule["start_window_minutes"],
            CompletionWindowMinutes=rule["completion_window_minutes"],
            Lifecycle=_lifecycle(rule["retention_days"]),
            EnableContinuousBackup=rule["enable_continuous_backup"],
            # scrub_none_parameters descends into the copies: an unset retention is omitted there too.
            CopyActions=None
            if copies is None
            else [
                {
                    "DestinationBackupVaultArn": copy["destination_vault_arn"],
                    "Lifecycle": _lifecycle(copy["retention_days"]),
                }
                for copy in copies
            ],
        )
    )


def merged_rule(desired, actual):
    """The rule to send: the current rule's settings, overridden by the desired ones (one level deep)."""
    rule = {key: value for key, value in (actual or {}).items() if key in RULE_INPUT_KEYS}
    for key, value in desired.items():
        current = rule.get(key)
        rule[key] = dict(current, **value) if isinstance(value, dict) and isinstance(current, dict) else value
    return rule


def rules_differ(desired, actual):
    """Paths where the plan's rules differ from the desired ones (by rule name)."""
    by_name = {rule["RuleName"]: dict({"CopyActions": []}, **rule) for rule in actual}
    found = []
    for rule in desired:
        current = by_name.pop(rule["RuleName"], None)
        if current is None:
            found.append(f"rules.{rule['RuleName']}")
            continue
        found.extend(f"rules.{rule['RuleName']}.{item['path']}" for item in differences(rule, current))
    found.extend(f"rules.{name}" for name in by_name)
    return found


def selection_input(selection, role_arn):
    return scrub_none_parameters(
        dict(
            SelectionName=selection["name"],
            IamRoleArn=role_arn,
            ListOfTags=[
                {"ConditionType": "STRINGEQUALS", "ConditionKey": key, "ConditionValue": str(value)}
                for key, value in sorted(selection["tags"].items())
            ],
            Resources=selection["resources"],
        )
    )


class BackupPlanManager:
    """Brings a vault, a plan, its tag selection and the selection's role to the desired state."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.changes = ChangeSet(module)
        self.backup = aws_client(module, "backup")
        self.policy_arn = arn(partition_for(module.region), "iam", "", "aws", BACKUP_POLICY)
        self._roles = None
        self.kept_vault = None

    @property
    def roles(self):
        """The selection's role, by reelle_iam; other policies attached to it stay (purge_policies off)."""
        if self._roles is None:
            self._roles = IamRoles(self.changes, iam_client(self.module), self.params["purge_tags"], False)
        return self._roles

    def fail(self, msg):
        self.module.fail_json(msg=msg, changes=self.changes.changes)

    @property
    def role_name(self):
        selection = self.params["selection"]
        if not selection or selection["iam_role_arn"]:
            return None
        return selection["iam_role_name"] or f"{self.params['plan_name']}-backup"

    def validate(self):
        problems = []
        for rule in self.params["rules"] or []:
            days = rule["retention_days"]
            if days is not None and not 1 <= days <= 36500:
                problems.append(f"rule {rule['name']}: retention_days must be between 1 and 36500, not {days}")
            if rule["enable_continuous_backup"] and days is not None and days > 35:
                problems.append(f"rule {rule['name']}: continuous backup keeps at most 35 days, not {days}")
            for window in ("start_window_minutes", "completion_window_minutes"):
                if rule[window] is not None and rule[window] < 60:
                    problems.append(f"rule {rule['name']}: {window} must be at least 60")
        names = [rule["name"] for rule in self.params["rules"] or []]
        if len(names) != len(set(names)):
            problems.append("rule names must be unique")
        selection = self.params["selection"]
        if self.params["plan_name"] is None and (self.params["rules"] is not None or selection is not None):
            problems.append("rules and selection need plan_name (without it the module manages the vault alone)")
        if selection is not None and not selection["tags"]:
            problems.append("selection.tags must name at least one tag")
        if problems:
            self.fail("Invalid parameters: " + "; ".join(problems))

    # --- tags ---------------------------------------------------------------

    def ensure_tags(self, resource, arn):
        """Keep a vault's or plan's tags at `tags` (read only when tags are set)."""
        if self.params["tags"] is None or arn is None:
            return
        sync_tags(
            self.changes,
            resource,
            self.backup.list_tags(aws_retry=True, ResourceArn=arn).get("Tags") or {},
            self.params["tags"],
            self.params["purge_tags"],
            lambda to_set: (self.backup, "backup", "tag_resource", {"ResourceArn": arn, "Tags": to_set}),
            lambda keys: (self.backup, "backup", "untag_resource", {"ResourceArn": arn, "TagKeyList": keys}),
            note=True,
        )

    # --- vault --------------------------------------------------------------

    def describe_vault(self):
        try:
            return self.backup.describe_backup_vault(aws_retry=True, BackupVaultName=self.params["vault_name"])
        # AWS answers AccessDenied, not ResourceNotFound, for a vault that does not exist.
        except is_boto3_error_code(["ResourceNotFoundException", "AccessDeniedException"]):
            return None

    def ensure_vault(self):
        name = self.params["vault_name"]
        key = self.params["vault_kms_key_arn"]
        resource = f"backup vault {name}"
        vault = self.describe_vault()
        if vault is None:
            created = self.changes.create(
                resource,
                self.backup,
                "backup",
                "create_backup_vault",
                **scrub_none_parameters(
                    dict(BackupVaultName=name, EncryptionKeyArn=key, BackupVaultTags=self.params["tags"] or None)
                ),
            )
            self.changes.note(resource, None, scrub_none_parameters(dict(encryption_key_arn=key)))
            return (created or {}).get("BackupVaultArn")
        if not same_kms_key(key, vault.get("EncryptionKeyArn")):
            self.fail(
                f"{resource} is encrypted with {vault.get('EncryptionKeyArn')}, not {key}: the key of a vault "
                "cannot change. Its recovery points stay there; use a new vault name (and keep or delete the old "
                "vault explicitly)."
            )
        self.ensure_tags(resource, vault["BackupVaultArn"])
        return vault["BackupVaultArn"]

    # --- IAM role of the selection -------------------------------------------

    def ensure_role(self):
        """The selection's role ARN: as given, or of the module's own role (None while it would be created)."""
        selection = self.params["selection"]
        if not selection:
            return None
        if selection["iam_role_arn"]:
            return selection["iam_role_arn"]
        role = self.roles.ensure(
            dict(
                name=self.role_name,
                assume_role_policy=ASSUME_ROLE_POLICY,
                description=f"AWS Backup role of plan {self.params['plan_name']}",
                managed_policy_arns=[self.policy_arn],
                tags=self.params["tags"],
            )
        )
        return role and role["Arn"]

    # --- plan ---------------------------------------------------------------

    def find_plan(self):
        """The plan (GetBackupPlan) named plan_name, or None."""
        name = self.params["plan_name"]
        for summary in paginate(self.backup, "list_backup_plans", "BackupPlansList"):
            if summary.get("BackupPlanName") == name and not summary.get("DeletionDate"):
                return self.backup.get_backup_plan(aws_retry=True, BackupPlanId=summary["BackupPlanId"])
        return None

    def desired_rules(self):
        return [rule_input(rule, self.params["vault_name"]) for rule in self.params["rules"] or []]

    def ensure_plan(self):
        """(plan, created): plan is None when it would be created in check mode."""
        name = self.params["plan_name"]
        resource = f"backup plan {name}"
        plan = self.find_plan()
        desired = self.desired_rules()
        if plan is None:
            if not desired:
                self.fail(f"rules are required to create {resource}")
            created = self.changes.create(
                resource,
                self.backup,
                "backup",
                "create_backup_plan",
                **scrub_none_parameters(
                    dict(
                        BackupPlan={"BackupPlanName": name, "Rules": desired},
                        BackupPlanTags=self.params["tags"] or None,
                    )
                ),
            )
            self.changes.note(resource, None, {"rules": desired})
            if created is None:
                return None, True
            created["BackupPlan"] = {"BackupPlanName": name, "Rules": desired}
            return created, True
        actual = plan["BackupPlan"].get("Rules") or []
        if self.params["rules"] is not None:
            found = rules_differ(desired, actual)
            if found:
                current = {rule["RuleName"]: rule for rule in actual}
                rules = [merged_rule(rule, current.get(rule["RuleName"])) for rule in desired]
                response = self.changes.update(
                    resource,
                    sorted(set(found)),
                    self.backup,
                    "backup",
                    "update_backup_plan",
                    BackupPlanId=plan["BackupPlanId"],
                    BackupPlan={"BackupPlanName": name, "Rules": rules},
                )
                self.changes.note(resource, {"rules": actual}, {"rules": rules})
                plan = dict(plan, BackupPlan={"BackupPlanName": name, "Rules": rules})
                if response is not None:
                    plan["VersionId"] = response.get("VersionId", plan.get("VersionId"))
        self.ensure_tags(resource, plan["BackupPlanArn"])
        return plan, False

    # --- selection ----------------------------------------------------------

    def find_selection(self, plan_id):
        """(selection, known): known is False when the emulator cannot list selections."""
        if emulator_lacks("backup", "list_backup_selections"):
            self.changes.skipped_calls.append("backup:list_backup_selections")
            return None, False
        name = self.params["selection"]["name"]
        for item in paginate(self.backup, "list_backup_selections", "BackupSelectionsList", BackupPlanId=plan_id):
            if item["SelectionName"] == name:
                selection = self.backup.get_backup_selection(
                    aws_retry=True, BackupPlanId=plan_id, SelectionId=item["SelectionId"]
                )
                return selection, True
        return None, True

    def ensure_selection(self, plan, plan_created, role_arn):
        selection = self.params["selection"]
        if not selection:
            return None
        resource = f"backup selection {selection['name']}"
        plan_id = (plan or {}).get("BackupPlanId")
        desired = selection_input(selection, role_arn)
        # A plan created in this run has no selections yet: nothing to list.
        current, known = (None, True) if plan_id is None or plan_created else self.find_selection(plan_id)
        if not known and not plan_created:
            return None  # the emulator cannot read selections back; created with the plan
        if current is not None:
            found = differences(desired, current["BackupSelection"])
            if not found:
                return current["SelectionId"]
            self.changes.delete(
                resource,
                self.backup,
                "backup",
                "delete_backup_selection",
                BackupPlanId=plan_id,
                SelectionId=current["SelectionId"],
            )
            self.changes.note(resource, current["BackupSelection"], desired)
        else:
            self.changes.note(resource, None, desired)
        created = self.changes.create(
            resource, self.backup, "backup", "create_backup_selection", BackupPlanId=plan_id, BackupSelection=desired
        )
        return (created or {}).get("SelectionId")

    # --- entry points -------------------------------------------------------

    def outputs(self, vault_arn=None, plan=None, selection_id=None, role_arn=None):
        plan = plan or {}
        rules = (plan.get("BackupPlan") or {}).get("Rules")
        if rules is None and self.params["state"] == "present":
            rules = self.desired_rules()
        return dict(
            vault_name=self.params["vault_name"],
            vault_arn=vault_arn,
            plan_id=plan.get("BackupPlanId"),
            plan_arn=plan.get("BackupPlanArn"),
            plan_version_id=plan.get("VersionId"),
            rules=[snake(rule) for rule in rules or []],
            selection_id=selection_id,
            iam_role_arn=role_arn,
        )

    def ensure_present(self):
        self.validate()
        vault_arn = self.ensure_vault()
        if self.params["plan_name"] is None:
            return self.changes.result(**self.outputs(vault_arn))
        role_arn = self.ensure_role()
        plan, plan_created = self.ensure_plan()
        selection_id = self.ensure_selection(plan, plan_created, role_arn)
        return self.changes.result(**self.outputs(vault_arn, plan, selection_id, role_arn))

    def ensure_absent(self):
        plan = None if self.params["plan_name"] is None else self.find_plan()
        if plan is not None:
            self.delete_selections(plan["BackupPlanId"])
            self.changes.delete(
                f"backup plan {self.params['plan_name']}",
                self.backup,
                "backup",
                "delete_backup_plan",
                BackupPlanId=plan["BackupPlanId"],
            )
            self.changes.note(f"backup plan {self.params['plan_name']}", {"rules": plan["BackupPlan"]["Rules"]}, None)
        self.delete_role()
        self.delete_vault()
        return self.changes.result(**self.outputs(), kept_vault=self.kept_vault)

    def delete_selections(self, plan_id):
        if emulator_lacks("backup", "list_backup_selections"):
            self.changes.skipped_calls.append("backup:list_backup_selections")
            return
        for item in paginate(self.backup, "list_backup_selections", "BackupSelectionsList", BackupPlanId=plan_id):
            self.changes.delete(
                f"backup selection {item['SelectionName']}",
                self.backup,
                "backup",
                "delete_backup_selection",
                BackupPlanId=plan_id,
                SelectionId=item["SelectionId"],
            )

    def delete_role(self):
        if self.role_name is not None:
            self.roles.delete(self.role_name)

    def delete_vault(self):
        name = self.params["vault_name"]
        if self.params["confirm_delete_vault"] != name:
            return
        vault = self.describe_vault()
        if vault is None:
            return
        points = vault.get("NumberOfRecoveryPoints", 0)
        if points:
            # The recovery points are the environment's backups: AWS refuses to delete the vault
            # while it holds them, and they are what a teardown must leave behind.
            self.module.warn(f"backup vault {name} holds {points} recovery points: kept")
            self.kept_vault = name
            return
        self.changes.delete(f"backup vault {name}", self.backup, "backup", "delete_backup_vault", BackupVaultName=name)


def argument_spec():
    copy_action = dict(
        destination_vault_arn=dict(type="str", required=True),
        retention_days=dict(type="int"),
    )
    rule = dict(
        name=dict(type="str", required=True),
        target_vault_name=dict(type="str"),
        schedule=dict(type="str"),
        schedule_timezone=dict(type="str"),
        start_window_minutes=dict(type="int"),
        completion_window_minutes=dict(type="int"),
        retention_days=dict(type="int"),
        enable_continuous_backup=dict(type="bool"),
        copy_actions=dict(type="list", elements="dict", options=copy_action),
    )
    selection = dict(
        name=dict(type="str", required=True),
        tags=dict(type="dict", required=True),
        resources=dict(type="list", elements="str"),
        iam_role_arn=dict(type="str"),
        iam_role_name=dict(type="str"),
    )
    return dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        vault_name=dict(type="str", required=True),
        vault_kms_key_arn=dict(type="str", no_log=False),
        plan_name=dict(type="str"),
        rules=dict(type="list", elements="dict", options=rule),
        selection=dict(type="dict", options=selection),
        confirm_delete_vault=dict(type="str"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )


def main():
    module = AnsibleAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    name = module.params["plan_name"] or module.params["vault_name"]
    run_manager(module, BackupPlanManager(module), failure=f"to manage backup plan {name}")


if __name__ == "__main__":
    main()
