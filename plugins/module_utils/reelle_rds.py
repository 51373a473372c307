# -*- coding: utf-8 -*-
# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the RDS modules (rds_postgres, aurora_global_database) share.

- Engine versions: ``version_tuple``, ``version_change`` (how a running version
  compares with the desired one) and ``engine_upgrade`` (the ModifyDB* arguments
  of an upgrade).
- Reads: ``describe_or_none`` (a describe whose NotFound codes mean "absent").
- Parameter groups: ``parameter_value`` (what RDS stores for a value) and
  ``parameter_batches`` (ModifyDB[Cluster]ParameterGroup takes 20 at a time).
- DB subnet groups: ``ensure_db_subnet_group`` and ``delete_db_subnet_group``.
- Tags: ``sync_rds_tags`` (AddTagsToResource / RemoveTagsFromResource).
- Waiting: ``wait_for`` (botocore's RDS waiters at their 30 s pace, for the
  module's wait_timeout by reelle_waiters' one rule).
- ``MasterSecret``: the master credentials, generated into a Secrets Manager
  secret the module owns (reelle_secrets' ``OwnedSecret``), read back only to
  create the database, and set anew on the database when the secret was lost.

KMS keys are compared with reelle_aws's ``same_kms_key``.
"""

import json

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.transformation import scrub_none_parameters
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    changed_attributes,
    differences,
    sync_tags,
    tag_list,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_secrets import (
    OwnedSecret,
    generate_password,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_waiters import wait_for as _wait_for

# botocore's RDS waiters (DBInstanceAvailable, DBClusterAvailable, ...Deleted) poll every 30 s.
WAIT_DELAY = 30
# ModifyDBParameterGroup and ModifyDBClusterParameterGroup take at most 20 parameters per call.
PARAMETER_BATCH = 20
# The call that sets a new master password, per kind of database: (operation, identifier argument).
MASTER_PASSWORD_CALLS = {
    "db_instance": ("modify_db_instance", "DBInstanceIdentifier"),
    "db_cluster": ("modify_db_cluster", "DBClusterIdentifier"),
}


def version_tuple(version):
    """(15, 4) for "15.4"; stops at the first part that is not a number."""
    parts = []
    for part in str(version or "").split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def version_change(desired, actual):
    """How actual compares with desired: None (satisfied), minor-upgrade, major-upgrade, downgrade, newer."""
    wanted, running = version_tuple(desired), version_tuple(actual)
    if not wanted or not running or running[: len(wanted)] == wanted:
        return None
    if wanted[0] < running[0]:
        return "downgrade"
    if wanted[0] > running[0]:
        return "major-upgrade"
    return "minor-upgrade" if wanted > running[: len(wanted)] else "newer"


def engine_upgrade(desired, actual):
    """The ModifyDBInstance / ModifyDBCluster / ModifyGlobalCluster arguments of a due upgrade ({} when none is)."""
    change = version_change(desired, actual)
    if change not in ("minor-upgrade", "major-upgrade"):
        return {}
    upgrade = {"EngineVersion": desired}
    if change == "major-upgrade":
        upgrade["AllowMajorVersionUpgrade"] = True
    return upgrade


def describe_or_none(codes, call, **kwargs):
    """A describe call's answer, or None when AWS answers one of the NotFound ``codes``."""
    try:
        return call(aws_retry=True, **kwargs)
    except is_boto3_error_code(list(codes)):
        return None


def parameter_value(value):
    """A parameter's value as RDS stores it: booleans as 1/0, everything as text."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def parameter_batches(values, apply_method):
    """The Parameters lists of ModifyDB[Cluster]ParameterGroup calls, 20 a call, by name.

    ``apply_method``: a method name for all, or a function of the parameter's name.
    """
    method = apply_method if callable(apply_method) else (lambda name: apply_method)
    items = sorted(values.items())
    return [
        [
            {"ParameterName": name, "ParameterValue": value, "ApplyMethod": method(name)}
            for name, value in items[start : start + PARAMETER_BATCH]
        ]
        for start in range(0, len(items), PARAMETER_BATCH)
    ]


def sync_rds_tags(changes, client, label, arn, current, desired, purge):
    """Keep an RDS resource's tags (current and desired as dicts; desired None leaves them alone)."""
    if arn is None:
        return
    sync_tags(
        changes,
        label,
        current,
        desired,
        purge,
        lambda to_set: (client, "rds", "add_tags_to_resource", {"ResourceName": arn, "Tags": tag_list(to_set)}),
        lambda keys: (client, "rds", "remove_tags_from_resource", {"ResourceName": arn, "TagKeys": keys}),
        note=True,
    )


def wait_for(client, waiter, timeout, **kwargs):
    """Wait with botocore's RDS ``waiter`` at AWS's pace for ``timeout`` seconds (reelle_waiters; WaiterError after)."""
    _wait_for(client, waiter, timeout, WAIT_DELAY, **kwargs)


# --- DB subnet groups ---------------------------------------------------------------


def describe_db_subnet_group(client, name):
    answer = describe_or_none(("DBSubnetGroupNotFoundFault",), client.describe_db_subnet_groups, DBSubnetGroupName=name)
    return ((answer or {}).get("DBSubnetGroups") or [None])[0]


def ensure_db_subnet_group(changes, client, label, name, actual, subnet_ids, description, tags, keep_description=None):
    """Create the DB subnet group or keep its subnets (and ``keep_description``, when set).

    ``actual``: the described group or None; ``description``: that of a new group;
    ``subnet_ids`` None (or empty) leaves an existing group's subnets alone.
    Tags are set on create; comparing them afterwards is the caller's choice.
    """
    desired = scrub_none_parameters({"DBSubnetGroupDescription": keep_description, "SubnetIds": subnet_ids or None})
    if actual is None:
        changes.note(label, None, dict(desired, DBSubnetGroupDescription=keep_description or description))
        return changes.create(
            label,
            client,
            "rds",
            "create_db_subnet_group",
            DBSubnetGroupName=name,
            DBSubnetGroupDescription=keep_description or description,
            SubnetIds=subnet_ids or [],
            Tags=tag_list(tags),
        )
    current = {
        "DBSubnetGroupDescription": actual.get("DBSubnetGroupDescription"),
        "SubnetIds": [subnet["SubnetIdentifier"] for subnet in actual.get("Subnets", [])],
    }
    found = differences(desired, current)
    if not found:
        return None
    changes.note(label, current, desired)
    return changes.update(
        label,
        changed_attributes(found),
        client,
        "rds",
        "modify_db_subnet_group",
        DBSubnetGroupName=name,
        DBSubnetGroupDescription=keep_description or current["DBSubnetGroupDescription"] or description,
        SubnetIds=desired.get("SubnetIds", current["SubnetIds"]),
    )


def delete_db_subnet_group(changes, client, label, name):
    """Delete the DB subnet group if it exists."""
    if describe_db_subnet_group(client, name) is not None:
        changes.note(label, {"DBSubnetGroupName": name}, None)
        changes.delete(label, client, "rds", "delete_db_subnet_group", DBSubnetGroupName=name)


# --- the master secret ----------------------------------------------------------------


class MasterSecret:
    """The master credentials of an RDS database in a Secrets Manager secret the module owns.

    The secret holds JSON: ``username``, ``password`` and ``details`` (engine,
    port, dbname, the database's identifier). The password is generated with
    GetRandomPassword when the secret is created, read back only when the
    database has to be created, and never output. ``secret`` is the
    ``OwnedSecret`` (settings, tags, replicas and deletion follow its rules).
    """

    def __init__(self, module, changes, client, name, username, details, **secret):
        self.module = module
        self.changes = changes
        self.username = username
        self.details = details
        self.secret = OwnedSecret(module, changes, client, name, **secret)
        self._password = None

    def describe(self):
        return self.secret.describe()

    def _new_value(self):
        self._password = generate_password(self.module, self.secret.client)
        return json.dumps({"username": self.username, "password": self._password, **self.details})

    def ensure(self, database=None):
        """The secret as described (or created); created anew with a new password when missing.

        ``database``: (label, client, kind, identifier) of the existing database
        (kind ``db_instance`` or ``db_cluster``), None when it does not exist. A
        database whose secret was lost runs with a password nobody holds any
        more: it gets the new one.
        """
        answer = self.secret.ensure(self._new_value)
        if self.secret.created and database is not None:
            label, client, kind, identifier = database
            operation, key = MASTER_PASSWORD_CALLS[kind]
            self.changes.update(
                label,
                ["MasterUserPassword"],
                client,
                "rds",
                operation,
                MasterUserPassword=self._password,
                ApplyImmediately=True,
                **{key: identifier},
            )
        return answer

    def password(self):
        """The master password (None in check mode when it is not known): generated now or read from the secret."""
        if self._password is None and not self.module.check_mode:
            self._password = json.loads(self.secret.value())["password"]
            self.module.no_log_values.add(self._password)
        return self._password

    def delete(self, recovery_window_days):
        self.secret.delete(recovery_window_days)
