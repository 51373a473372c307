#!/usr/bin/python
# -*- coding: utf-8 -*-

# MIT License (see the project's README)

DOCUMENTATION = r"""
---
module: aws_kms_key
short_description: A customer-managed KMS key found by its alias
description:
  - Creates or updates a symmetric encryption KMS key and its alias, key rotation, description and
    tags. The alias identifies the key; a no-op run costs three calls
    (C(DescribeKey) by alias, C(GetKeyRotationStatus), C(ListResourceTags)).
  - A key that is pending deletion is restored (deletion cancelled, key enabled).
  - Deleting a key makes everything encrypted with it unreadable, so O(state=absent)
    (which schedules the deletion) needs O(confirm_delete) equal to the alias.
  - In check mode against an empty account the key's id and ARN are returned as null.
version_added: 0.1.0
author: reelle platform team
options:
  alias:
    description: Alias of the key, with or without the C(alias/) prefix.
    type: str
    required: true
  state:
    description: V(present) creates or updates the key; V(absent) schedules its deletion.
    type: str
    choices: [present, absent]
    default: present
  description:
    description: Description of the key. Unset leaves it alone (a new key gets the alias).
    type: str
  enable_key_rotation:
    description: Automatic yearly rotation of the key material. Unset leaves it alone.
    type: bool
  enabled:
    description: Whether the key can be used. Unset leaves it alone.
    type: bool
  tags:
    description: Tags of the key. Unset leaves them alone.
    type: dict
  purge_tags:
    description: When O(tags) is set, remove tags not given (C(aws:) tags are never touched).
    type: bool
    default: true
  deletion_window_days:
    description: Waiting period for O(state=absent), 7 to 30 days.
    type: int
    default: 30
  confirm_delete:
    description: Must equal O(alias) (with the C(alias/) prefix) for O(state=absent) to schedule the deletion.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Converge the environment's data key
  aws_kms_key:
    alias: alias/reelle-staging
    description: reelle-staging data encryption
    enable_key_rotation: true
    tags: {project: reelle}
  register: key
"""

RETURN = r"""
key_id:
  description: Id of the key (null in check mode when it would be created).
  type: str
  returned: always
  sample: 1234abcd-12ab-34cd-56ef-1234567890ab
key_arn:
  description: ARN of the key (null in check mode when it would be created).
  type: str
  returned: always
  sample: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
alias:
  description: The alias, with its C(alias/) prefix.
  type: str
  returned: always
  sample: alias/reelle-staging
key_state:
  description: State of the key.
  type: str
  returned: when the key exists
  sample: Enabled
key_rotation_enabled:
  description: Whether rotation is on.
  type: bool
  returned: when O(state=present)
  sample: true
changes:
  description: The plan, one row per change made (also in check mode).
  type: list
  elements: dict
  returned: always
  sample: [{action: update, resource: "kms key alias/reelle-staging", attributes: [enable_key_rotation]}]
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

KMS_TAG = {"key": "TagKey", "value": "TagValue"}


class KmsKeyManager:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        alias = module.params["alias"]
        self.alias = alias if alias.startswith("alias/") else f"alias/{alias}"
        self.label = f"kms key {self.alias}"
        self.kms = aws_client(module, "kms")
        self.changes = ChangeSet(module)

    def find_key(self):
        try:
            return self.kms.describe_key(aws_retry=True, KeyId=self.alias)["KeyMetadata"]
        except ClientError as error:
            if error.response["Error"]["Code"] == "NotFoundException":
                return None
            raise

    def update(self, attributes, operation, **kwargs):
        return self.changes.update(self.label, attributes, self.kms, "kms", operation, **kwargs)

    def create_key(self):
        tags = self.params["tags"] or {}
        created = self.changes.create(
            self.label,
            self.kms,
            "kms",
            "create_key",
            Description=self.params["description"] if self.params["description"] is not None else self.alias,
            KeyUsage="ENCRYPT_DECRYPT",
            KeySpec="SYMMETRIC_DEFAULT",
            Tags=tag_list(tags, KMS_TAG["key"], KMS_TAG["value"]),
        )
        rotation = bool(self.params["enable_key_rotation"])
        self.changes.note(
            self.label, None, {"description": self.params["description"], "rotation": rotation, "tags": tags}
        )
        if created is None:
            return self.changes.result(alias=self.alias, key_id=None, key_arn=None, key_rotation_enabled=rotation)
        key = created["KeyMetadata"]
        self.changes.call(self.kms, "kms", "create_alias", AliasName=self.alias, TargetKeyId=key["KeyId"])
        if rotation:
            self.changes.call(self.kms, "kms", "enable_key_rotation", KeyId=key["KeyId"])
        if self.params["enabled"] is False:
            self.changes.call(self.kms, "kms", "disable_key", KeyId=key["KeyId"])
        return self.changes.result(
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
            if self.params["enabled"] is not False:
                self.update(["enabled"], "enable_key", KeyId=key_id)
                state = "Enabled"
        elif self.params["enabled"] is True and state == "Disabled":
            self.update(["enabled"], "enable_key", KeyId=key_id)
            state = "Enabled"
        elif self.params["enabled"] is False and state == "Enabled":
            self.update(["enabled"], "disable_key", KeyId=key_id)
            state = "Disabled"
        return state

    def ensure_tags(self, key_id):
        if self.params["tags"] is None:
            return None
        pages = RETRY(paginate)(self.kms, "list_resource_tags", "Tags", KeyId=key_id)
        actual = tag_dict(pages, KMS_TAG["key"], KMS_TAG["value"])
        desired = self.params["tags"]
        to_set = {key: value for key, value in desired.items() if actual.get(key) != value}
        to_unset = []
        if self.params["purge_tags"]:
            to_unset = sorted(key for key in actual if key not in desired and not key.startswith("aws:"))
        if to_set:
            tags = tag_list(to_set, KMS_TAG["key"], KMS_TAG["value"])
            self.update([f"tags.{key}" for key in sorted(to_set)], "tag_resource", KeyId=key_id, Tags=tags)
        if to_unset:
            self.update([f"tags.{key}" for key in to_unset], "untag_resource", KeyId=key_id, TagKeys=to_unset)
        return actual

    def ensure_present(self):
        key = self.find_key()
        if key is None:
            return self.create_key()
        key_id = key["KeyId"]
        before = {"description": key.get("Description"), "key_state": key["KeyState"]}
        after = dict(before)
        state = self.ensure_state(key)
        after["key_state"] = state
        description = self.params["description"]
        if description is not None and key.get("Description") != description:
            self.update(["description"], "update_key_description", KeyId=key_id, Description=description)
            after["description"] = description
        rotation = self.kms.get_key_rotation_status(aws_retry=True, KeyId=key_id)["KeyRotationEnabled"]
        before["rotation"] = rotation
        wanted = self.params["enable_key_rotation"]
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
        return self.changes.result(
            alias=self.alias, key_id=key_id, key_arn=key["Arn"], key_state=state, key_rotation_enabled=rotation
        )

    def ensure_absent(self):
        if self.params["confirm_delete"] != self.alias:
            self.module.fail_json(
                msg=(
                    f"Refusing to delete KMS key {self.alias}: data encrypted with it becomes unreadable. "
                    f"Set confirm_delete to {self.alias!r} to confirm."
                )
            )
        key = self.find_key()
        if key is None or key["KeyState"] == "PendingDeletion":
            return self.changes.result(alias=self.alias, key_id=key and key["KeyId"], key_arn=key and key["Arn"])
        self.changes.delete(self.label, self.kms, "kms", "delete_alias", AliasName=self.alias)
        if not self.module.check_mode:
            self.changes.call(
                self.kms,
                "kms",
                "schedule_key_deletion",
                KeyId=key["KeyId"],
                PendingWindowInDays=self.params["deletion_window_days"],
            )
        self.changes.note(self.label, {"key_state": key["KeyState"]}, {"key_state": "PendingDeletion"})
        return self.changes.result(
            alias=self.alias, key_id=key["KeyId"], key_arn=key["Arn"], key_state="PendingDeletion"
        )


def main():
    argument_spec = dict(
        alias=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        description=dict(type="str"),
        enable_key_rotation=dict(type="bool"),
        enabled=dict(type="bool"),
        tags=dict(type="dict"),
        purge_tags=dict(type="bool", default=True),
        deletion_window_days=dict(type="int", default=30),
        confirm_delete=dict(type="str"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    days = module.params["deletion_window_days"]
    if not 7 <= days <= 30:
        module.fail_json(msg=f"deletion_window_days must be from 7 to 30, got {days}")
    manager = KmsKeyManager(module)
    try:
        result = manager.ensure_present() if module.params["state"] == "present" else manager.ensure_absent()
    except (BotoCoreError, ClientError) as error:
        module.fail_json_aws(error, msg=f"KMS key {manager.alias}: AWS call failed")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
