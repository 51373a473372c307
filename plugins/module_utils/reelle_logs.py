# -*- coding: utf-8 -*-
# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A CloudWatch Logs log group for any module: created with its KMS key and tags, its retention,
KMS key and tags kept in line. Every mutation goes through the caller's ChangeSet; the logs
client is the caller's, from ``aws_client``."""

from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    PROPAGATION_SECONDS,
    paginate,
    same_kms_key,
    sync_tags,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_waiters import poll


def find_log_group(logs, name):
    """The log group named exactly ``name``, or None (DescribeLogGroups matches a prefix)."""
    found = paginate(logs, "describe_log_groups", "logGroups", logGroupNamePrefix=name)
    return next((item for item in found if item["logGroupName"] == name), None)


def log_group_arn(group):
    """A log group's ARN without the ``:*`` DescribeLogGroups appends to ``arn`` (the form tagging calls take)."""
    return group.get("logGroupArn") or group["arn"].removesuffix(":*")


class LogGroup:
    """One log group. Options left unset (None) leave the group's attribute alone."""

    def __init__(self, changes, logs, name, diff_key=None):
        self.changes = changes
        self.logs = logs
        self.name = name
        self.resource = f"log group {name}"
        self.diff_key = diff_key or f"log_group {name}"

    def ensure_present(self, retention_days=None, kms_key_id=None, tags=None, purge_tags=True):
        """Create the group or bring it in line; its ARN (None when check mode creates it)."""
        actual = find_log_group(self.logs, self.name)
        if actual is None:
            return self._create(retention_days, kms_key_id, tags)
        self._sync_retention(actual, retention_days)
        self._sync_kms_key(actual, kms_key_id)
        arn = log_group_arn(actual)
        if tags is not None:
            current = self.logs.list_tags_for_resource(resourceArn=arn, aws_retry=True).get("tags", {})
            sync_tags(
                self.changes,
                self.resource,
                current,
                tags,
                purge_tags,
                lambda add: (self.logs, "logs", "tag_resource", {"resourceArn": arn, "tags": add}),
                lambda keys: (self.logs, "logs", "untag_resource", {"resourceArn": arn, "tagKeys": keys}),
            )
        return arn

    def _create(self, retention_days, kms_key_id, tags):
        kwargs = {"logGroupName": self.name}
        if kms_key_id:
            kwargs["kmsKeyId"] = kms_key_id
        if tags:
            kwargs["tags"] = tags
        self.changes.create(self.resource, self.logs, "logs", "create_log_group", **kwargs)
        if retention_days:
            self._put_retention(retention_days)
        self.changes.note(self.diff_key, None, {"name": self.name, "retention_in_days": retention_days})
        if self.changes.module.check_mode:
            return None
        # CreateLogGroup answers no ARN, and DescribeLogGroups is eventually consistent:
        # read until the new group is listed (AWS's propagation window, as for other creates).
        found, listed = poll(lambda: find_log_group(self.logs, self.name), bool, PROPAGATION_SECONDS, 2)
        if not listed:
            self.changes.module.fail_json(msg=f"{self.resource} created, not listed after {PROPAGATION_SECONDS} s")
        return log_group_arn(found)

    def _put_retention(self, days):
        self.changes.update(
            self.resource,
            ["retention_in_days"],
            self.logs,
            "logs",
            "put_retention_policy",
            logGroupName=self.name,
            retentionInDays=days,
        )

    def _sync_retention(self, actual, days):
        if not days or actual.get("retentionInDays") == days:
            return
        self.changes.note(
            self.diff_key, {"retention_in_days": actual.get("retentionInDays")}, {"retention_in_days": days}
        )
        self._put_retention(days)

    def _sync_kms_key(self, actual, key):
        # An alias against the key ARN AWS reports cannot be told apart without KMS: left alone (same_kms_key).
        if same_kms_key(key, actual.get("kmsKeyId")):
            return
        self.changes.update(
            self.resource,
            ["kms_key_id"],
            self.logs,
            "logs",
            "associate_kms_key",
            logGroupName=self.name,
            kmsKeyId=key,
        )
