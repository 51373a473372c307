# -*- coding: utf-8 -*-
# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets Manager secrets a module owns: one part for every module that keeps a value in one.

A module that owns a secret (the master credentials of rds_postgres and
aurora_global_database, the AUTH token of elasticache_replication_group, and
meant for the application secrets of ecs_deploy) finds it, restores it when it
is scheduled for deletion, creates it when missing, keeps its settings,
replicas and tags, and schedules its deletion, every mutation through the
module's ChangeSet (check mode, --diff and the plan rows come with it). Values
never reach the output: every value this part generates, creates with or reads
is added to ``module.no_log_values``.

API
---
``OwnedSecret(module, changes, client, name, *, description=None, kms_key_id=None,
replica_regions=None, tags=None, purge_tags=True, kept=("kms_key_id",))``
    One secret; ``client`` is a ``secretsmanager`` client of ``aws_client`` (its
    region is the secret's). ``description`` and ``kms_key_id`` are sent on create;
    those named in ``kept`` (``"description"``, ``"kms_key_id"``) are also kept at
    that value afterwards with one UpdateSecret (KMS keys compared by reelle_aws's
    ``same_kms_key``; None leaves the attribute alone). ``replica_regions``: a list
    of ``{"region": ..., "kms_key_id": ...}``; a listed region without a replica
    gets one (in the create, or ReplicateSecretToRegions); replicas are never
    removed while the secret is kept; None leaves replicas alone. ``tags`` (a
    dict; None leaves them alone) are kept with ``sync_tags`` (``purge_tags``).
    Plan rows name the resource ``secret <name>`` (``.resource``); their
    attributes are ``deleted_date``, ``description``, ``kms_key_id``,
    ``replica_regions``, ``value`` and ``tags.<key>``.

``.describe(refresh=False)``
    DescribeSecret's answer (a secret scheduled for deletion has ``DeletedDate``),
    None when there is no secret. Read once and kept; ``refresh`` reads again.

``.ensure(value)``
    Restore (RestoreSecret) a secret scheduled for deletion; create a missing one
    (CreateSecret with a deterministic ClientRequestToken, so a create retried after
    a lost answer makes no second version); keep settings, replicas and tags of an
    existing one. ``value`` is the SecretString of a create, or a callable that
    returns it, called only when the create is made (nothing is generated in
    check mode). Returns DescribeSecret's or CreateSecret's answer (``ARN``), None
    for a create in check mode; ``.created`` is True when this run creates it.

``.value()``
    The value: the one created in this run, else GetSecretValue's SecretString
    (read once). None in check mode for a secret this run would create.

``.ensure_value(value)``
    Keep the stored value at ``value`` (PutSecretValue when GetSecretValue differs).

``.delete(recovery_window_days=None)``
    Schedule the deletion of an existing secret: its replicas are removed first
    (AWS refuses to delete a replicated secret), then DeleteSecret with
    RecoveryWindowInDays (AWS's 30 days when None). A missing secret, or one
    already scheduled for deletion, is left alone.

``.replica_arns(arn)``
    Region -> ARN of the replicas of ``replica_regions`` (a replica has the
    secret's ARN but for its region); {} without an ARN (check mode).

``generate_password(module, client, length=32)``
    A password from GetRandomPassword (letters and digits: safe in connection
    strings), registered in ``no_log_values``.

``sync_tags(..., note=True)`` (reelle_aws)
    reelle_aws's ``sync_tags``, and the tags before/after in --diff when they change.
"""

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.transformation import scrub_none_parameters
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    client_token,
    same_kms_key,
    sync_tags,
    tag_dict,
    tag_list,
)

SERVICE = "secretsmanager"
PASSWORD_LENGTH = 32
KEPT_ATTRIBUTES = {"description": "Description", "kms_key_id": "KmsKeyId"}


def generate_password(module, client, length=PASSWORD_LENGTH):
    """A new password from Secrets Manager, registered as a no_log value (never output)."""
    answer = client.get_random_password(
        aws_retry=True, PasswordLength=length, ExcludePunctuation=True, IncludeSpace=False
    )
    password = answer["RandomPassword"]
    module.no_log_values.add(password)
    return password


def replica_arn(arn, region):
    """The ARN of a secret's replica in ``region``: the secret's ARN but for its region."""
    parts = parse_aws_arn(arn)
    return f"arn:{parts['partition']}:{parts['service']}:{region}:{parts['account_id']}:{parts['resource']}"


class OwnedSecret:
    """One Secrets Manager secret a module owns (see the module docstring)."""

    def __init__(
        self,
        module,
        changes,
        client,
        name,
        *,
        description=None,
        kms_key_id=None,
        replica_regions=None,
        tags=None,
        purge_tags=True,
        kept=("kms_key_id",),
    ):
        unknown = set(kept) - set(KEPT_ATTRIBUTES)
        if unknown:
            raise ValueError(f"kept names attributes this part does not keep: {sorted(unknown)}")
        self.module = module
        self.changes = changes
        self.client = client
        self.name = name
        self.resource = f"secret {name}"
        self.description = description
        self.kms_key_id = kms_key_id
        self.replica_regions = replica_regions
        self.tags = tags
        self.purge_tags = purge_tags
        self.kept = tuple(kept)
        self.created = False
        self._described = None
        self._read = False
        self._value = None

    def _update(self, attributes, operation, **kwargs):
        return self.changes.update(
            self.resource, attributes, self.client, SERVICE, operation, SecretId=self.name, **kwargs
        )

    def _secret(self, value):
        self._value = value
        if isinstance(value, str):
            self.module.no_log_values.add(value)
        return value

    # --- reads ------------------------------------------------------------------

    def describe(self, refresh=False):
        if refresh or not self._read:
            try:
                self._described = self.client.describe_secret(aws_retry=True, SecretId=self.name)
            except is_boto3_error_code("ResourceNotFoundException"):
                self._described = None
            self._read = True
        return self._described

    def value(self):
        if self._value is None and not (self.created and self.module.check_mode):
            answer = self.client.get_secret_value(aws_retry=True, SecretId=self.name)
            self._secret(answer.get("SecretString"))
        return self._value

    def replica_arns(self, arn):
        if not arn:
            return {}
        return {item["region"]: replica_arn(arn, item["region"]) for item in self.replica_regions or []}

    # --- present ----------------------------------------------------------------

    def _replicas(self, existing=()):
        """AddReplicaRegions entries of the listed regions without a replica."""
        return [
            scrub_none_parameters({"Region": item["region"], "KmsKeyId": item.get("kms_key_id")})
            for item in self.replica_regions or []
            if item["region"] not in existing
        ]

    def ensure(self, value):
        actual = self.describe()
        if actual is None:
            return self.create(value)
        if actual.get("DeletedDate"):
            self.changes.note(self.resource, {"scheduled_for_deletion": True}, {"scheduled_for_deletion": False})
            self._update(["deleted_date"], "restore_secret")
        self.ensure_settings(actual)
        self.ensure_replicas(actual)
        sync_tags(
            self.changes,
            self.resource,
            tag_dict(actual.get("Tags")),
            self.tags,
            self.purge_tags,
            lambda to_set: (self.client, SERVICE, "tag_resource", {"SecretId": self.name, "Tags": tag_list(to_set)}),
            lambda keys: (self.client, SERVICE, "untag_resource", {"SecretId": self.name, "TagKeys": keys}),
            note=True,
        )
        return actual

    def create(self, value):
        self.created = True
        replicas = self._replicas()
        self.changes.note(
            self.resource,
            None,
            scrub_none_parameters(
                {"name": self.name, "kms_key_id": self.kms_key_id, "replica_regions": [r["Region"] for r in replicas]}
            ),
        )
        if not self.module.check_mode:
            self._secret(value() if callable(value) else value)
        return self.changes.create(
            self.resource,
            self.client,
            SERVICE,
            "create_secret",
            **scrub_none_parameters(
                {
                    "Name": self.name,
                    "SecretString": self._value,
                    # Idempotent: a create retried after a lost answer does not fail on the version it made.
                    "ClientRequestToken": client_token(SERVICE, self.name),
                    "Description": self.description,
                    "KmsKeyId": self.kms_key_id,
                    "Tags": tag_list(self.tags) if self.tags else None,
                    "AddReplicaRegions": replicas or None,
                }
            ),
        )

    def ensure_settings(self, actual):
        """One UpdateSecret for the kept attributes that differ."""
        changed = {}
        kept_description = "description" in self.kept and self.description is not None
        if kept_description and actual.get("Description") != self.description:
            changed["description"] = self.description
        if "kms_key_id" in self.kept and not same_kms_key(self.kms_key_id, actual.get("KmsKeyId")):
            changed["kms_key_id"] = self.kms_key_id
        if not changed:
            return
        self.changes.note(
            f"{self.resource} settings",
            {key: actual.get(KEPT_ATTRIBUTES[key]) for key in changed},
            changed,
        )
        self._update(
            sorted(changed), "update_secret", **{KEPT_ATTRIBUTES[key]: value for key, value in changed.items()}
        )

    def ensure_replicas(self, actual):
        existing = {status["Region"] for status in actual.get("ReplicationStatus") or []}
        missing = self._replicas(existing)
        if missing:
            after = existing | {item["Region"] for item in missing}
            self.changes.note(f"{self.resource} replicas", sorted(existing), sorted(after))
            self._update(["replica_regions"], "replicate_secret_to_regions", AddReplicaRegions=missing)

    def ensure_value(self, value):
        self.module.no_log_values.add(value)
        if self.value() == value:
            return
        self.changes.note(f"{self.resource} value", {"value": "(hidden)"}, {"value": "(hidden, changed)"})
        self._update(["value"], "put_secret_value", SecretString=value)
        self._value = value

    # --- absent -----------------------------------------------------------------

    def delete(self, recovery_window_days=None):
        actual = self.describe()
        if actual is None or actual.get("DeletedDate"):
            return
        replicas = [status["Region"] for status in actual.get("ReplicationStatus") or []]
        if replicas:
            # AWS refuses to delete a secret that still has replicas.
            self._update(["replica_regions"], "remove_regions_from_replication", RemoveReplicaRegions=replicas)
        self.changes.note(self.resource, {"name": self.name}, None)
        self.changes.delete(
            self.resource,
            self.client,
            SERVICE,
            "delete_secret",
            SecretId=self.name,
            **scrub_none_parameters({"RecoveryWindowInDays": recovery_window_days}),
        )
