#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: s3_buckets
short_description: All of an environment's S3 buckets in one call
description:
  - Ensures a set of buckets named C(<name_prefix>-<key>), each with versioning, SSE-KMS default
    encryption with an S3 bucket key, the public access block (all four settings on), a bucket policy
    that denies requests not made over TLS, lifecycle rules, tags and, optionally, replication to a
    bucket in another region.
  - One ListBuckets call finds which buckets exist. For an existing bucket the module reads only what
    it manages (versioning, encryption, public access block, policy, and - when set - lifecycle, tags,
    replication); a new bucket is configured without reading anything back.
  - Options that are not set leave the matching configuration of an existing bucket alone.
  - Deleting (O(state=absent)) an empty bucket needs nothing more. A bucket that holds objects (or
    object versions) is only emptied and deleted when O(confirm_delete_nonempty=true) and its name is in
    O(confirm_delete_names); otherwise the module fails before it touches any bucket.
  - The AWS emulator moto does not store a replication rule's C(DeleteMarkerReplication) (it always
    answers Disabled) nor its C(SourceSelectionCriteria). On the emulator these two are therefore not
    compared, and RV(unverified) says so; on AWS they are.
options:
  state:
    description: Whether the buckets should exist.
    type: str
    choices: [present, absent]
    default: present
  name_prefix:
    description: Prefix of every bucket name (C(<name_prefix>-<key>)).
    type: str
    required: true
  buckets:
    description: The buckets.
    type: list
    elements: dict
    required: true
    suboptions:
      key:
        description: Short name of the bucket; the key of RV(buckets) and RV(bucket_arns).
        type: str
        required: true
      name:
        description: Full bucket name, instead of C(<name_prefix>-<key>).
        type: str
      versioning:
        description: Keep object versions (true) or suspend versioning (false; a never versioned bucket stays so).
        type: bool
        default: true
      lifecycle_rules:
        description:
          - The bucket's lifecycle rules, the whole set.
          - V([]) removes the lifecycle configuration; not set - left alone.
        type: list
        elements: dict
        suboptions:
          id:
            description: Rule id.
            type: str
            required: true
          enabled:
            description: Whether the rule is enabled.
            type: bool
            default: true
          prefix:
            description: Only objects under this key prefix (all objects when empty).
            type: str
            default: ""
          expiration_days:
            description: Expire current objects this many days after creation.
            type: int
          transitions:
            description: Move current objects to another storage class after some days.
            type: list
            elements: dict
            suboptions:
              days:
                description: Days after creation.
                type: int
                required: true
              storage_class:
                description: Target storage class.
                type: str
                default: STANDARD_IA
                choices: [STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE]
          noncurrent_version_expiration_days:
            description: Expire noncurrent versions this many days after they became noncurrent.
            type: int
          abort_incomplete_multipart_upload_days:
            description: Abort incomplete multipart uploads after this many days.
            type: int
      policy_statements:
        description: Further bucket policy statements, besides the TLS-only one.
        type: list
        elements: dict
      replication:
        description: Replicate new objects to a bucket in another region. Not set - left alone.
        type: dict
        suboptions:
          enabled:
            description: False removes the replication configuration.
            type: bool
            default: true
          destination_bucket_arn:
            description: ARN of the destination bucket (versioned).
            type: str
          replica_kms_key_arn:
            description:
              - KMS key the replicas are encrypted with in the destination region (key ARN or alias ARN).
              - A key ARN and its key id, or an alias ARN and the key it names, are the same key (no change).
            type: str
          storage_class:
            description: Storage class of the replicas.
            type: str
            default: STANDARD
          delete_marker_replication:
            description: Replicate delete markers.
            type: bool
            default: true
          replicate_kms_encrypted_objects:
            description: Replicate objects encrypted with SSE-KMS (needs O(buckets[].replication.replica_kms_key_arn)).
            type: bool
            default: true
  kms_key_arn:
    description:
      - KMS key of the default SSE-KMS encryption. Not set - the AWS managed key C(aws/s3).
      - In check mode against an empty account it may be null (the key would be created by an earlier role).
    type: str
  bucket_key_enabled:
    description: Use an S3 bucket key (fewer KMS requests).
    type: bool
    default: true
  public_access_block:
    description: Turn all four public access block settings on. False - left alone.
    type: bool
    default: true
  tls_only:
    description: The bucket policy denies every request not made over TLS (C(aws:SecureTransport) false).
    type: bool
    default: true
  replication_role_arn:
    description: IAM role S3 assumes to replicate (for buckets with O(buckets[].replication)).
    type: str
  confirm_delete_nonempty:
    description: With O(state=absent), allow emptying buckets that hold objects (only those in O(confirm_delete_names)).
    type: bool
    default: false
  confirm_delete_names:
    description: With O(state=absent), full names of the buckets whose objects may be deleted.
    type: list
    elements: str
    default: []
  keep_nonempty:
    description:
      - With O(state=absent), keep buckets that hold objects and are not confirmed for deletion
        (listed in RV(kept_buckets)) instead of failing; the other buckets are deleted.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
author:
  - the reelle infrastructure authors (@reelle)
"""

EXAMPLES = r"""
- name: Ensure the staging buckets
  reelle.infra.s3_buckets:
    name_prefix: reelle-staging
    kms_key_arn: "{{ aws_security_outputs.kms_key_arn }}"
    buckets:
      - key: app-logs
        lifecycle_rules:
          - id: expire-logs
            expiration_days: 90
      - key: user-uploads
        lifecycle_rules: []
    tags:
      project: reelle

- name: Prod - replicate to eu-west-1 and move old objects to STANDARD_IA
  reelle.infra.s3_buckets:
    name_prefix: reelle-prod
    kms_key_arn: "{{ aws_security_outputs.kms_key_arn }}"
    replication_role_arn: arn:aws:iam::123456789012:role/reelle-prod-s3-replication
    buckets:
      - key: user-uploads
        lifecycle_rules:
          - id: transition-standard-ia
            transitions: [{days: 30, storage_class: STANDARD_IA}]
          - id: expire-noncurrent
            noncurrent_version_expiration_days: 30
        replication:
          destination_bucket_arn: arn:aws:s3:::reelle-prod-user-uploads-replica
          replica_kms_key_arn: arn:aws:kms:eu-west-1:123456789012:key/0b4c3e4f-1a2b-4c5d-8e9f-0a1b2c3d4e5f

- name: Delete the staging buckets, logs and all
  reelle.infra.s3_buckets:
    state: absent
    name_prefix: reelle-staging
    buckets: [{key: app-logs}, {key: user-uploads}]
    confirm_delete_nonempty: true
    confirm_delete_names: [reelle-staging-app-logs]

- name: Teardown - delete the empty buckets, keep (and report) those holding objects
  reelle.infra.s3_buckets:
    state: absent
    name_prefix: reelle-staging
    buckets: [{key: app-logs}, {key: user-uploads}]
    keep_nonempty: true
"""

RETURN = r"""
kept_buckets:
  description: With O(state=absent) and O(keep_nonempty), buckets kept because they hold objects.
  returned: always
  type: list
  elements: str
  sample: [reelle-staging-user-uploads]
buckets:
  description: Bucket name per key.
  returned: always
  type: dict
  sample: {app-logs: reelle-staging-app-logs, user-uploads: reelle-staging-user-uploads}
bucket_arns:
  description: Bucket ARN per key.
  returned: always
  type: dict
  sample: {app-logs: "arn:aws:s3:::reelle-staging-app-logs"}
changes:
  description: The plan - one row per create, update or delete made (or, in check mode, that would be made).
  returned: always
  type: list
  elements: dict
  sample: [{action: update, resource: bucket reelle-staging-app-logs, attributes: [lifecycle]}]
skipped_calls:
  description: Calls the local emulator cannot serve that were skipped (C(service:operation)); empty on AWS.
  returned: always
  type: list
  elements: str
  sample: []
unverified:
  description: Settings the emulator does not store, so they were written but not compared.
  returned: always
  type: list
  elements: str
  sample: ["reelle-prod-user-uploads replication DeleteMarkerReplication"]
"""

import contextlib
import json
import os

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import ClientError

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    RETRY,
    ChangeSet,
    arn,
    aws_client,
    differences,
    on_emulator,
    paginate,
    partition_for,
    retry_on,
    run_manager,
    same_kms_key,
    same_policy,
    tag_dict,
    tag_list,
)

NOT_FOUND = {
    "encryption": ("ServerSideEncryptionConfigurationNotFoundError",),
    "public_access_block": ("NoSuchPublicAccessBlockConfiguration",),
    "policy": ("NoSuchBucketPolicy",),
    "lifecycle": ("NoSuchLifecycleConfiguration",),
    "tags": ("NoSuchTagSet",),
    "replication": ("ReplicationConfigurationNotFoundError",),
}
# What moto 5.2.5 does not store in a replication rule.
EMULATOR_DROPS_IN_REPLICATION = ("DeleteMarkerReplication", "SourceSelectionCriteria")
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
DELETE_BATCH = 1000


def tls_only_statement(arn):
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def lifecycle_rule_to_api(rule):
    api = {
        "ID": rule["id"],
        "Status": "Enabled" if rule["enabled"] else "Disabled",
        "Filter": {"Prefix": rule["prefix"] or ""},
    }
    if rule.get("expiration_days"):
        api["Expiration"] = {"Days": rule["expiration_days"]}
    if rule.get("transitions"):
        api["Transitions"] = [
            {"Days": item["days"], "StorageClass": item["storage_class"]} for item in rule["transitions"]
        ]
    if rule.get("noncurrent_version_expiration_days"):
        api["NoncurrentVersionExpiration"] = {"NoncurrentDays": rule["noncurrent_version_expiration_days"]}
    if rule.get("abort_incomplete_multipart_upload_days"):
        api["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": rule["abort_incomplete_multipart_upload_days"]}
    return api


def lifecycle_rule_view(api):
    """A rule as the API returns it, in a comparable form (Filter {} and Prefix "" are the same)."""
    found = api.get("Filter")
    prefix = api.get("Prefix", "") if found is None else found.get("Prefix", "")
    return {
        "ID": api.get("ID"),
        "Status": api.get("Status"),
        "Filter": {"Prefix": prefix} if not found or set(found) <= {"Prefix"} else found,
        "Expiration": api.get("Expiration"),
        "Transitions": sorted(
            (
                {"Days": item.get("Days"), "StorageClass": item.get("StorageClass")}
                for item in api.get("Transitions", [])
            ),
            key=lambda item: (item["Days"] or 0, item["StorageClass"] or ""),
        )
        or None,
        "NoncurrentVersionExpiration": (
            {"NoncurrentDays": api["NoncurrentVersionExpiration"].get("NoncurrentDays")}
            if api.get("NoncurrentVersionExpiration")
            else None
        ),
        "AbortIncompleteMultipartUpload": api.get("AbortIncompleteMultipartUpload"),
    }


def replica_key(rule):
    """The ReplicaKmsKeyID of a replication rule (None for no rule or no key)."""
    return (((rule or {}).get("Destination") or {}).get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")


def lifecycle_rules_equal(desired_api, actual_api):
    def ordered(rules):
        return sorted((lifecycle_rule_view(rule) for rule in rules), key=lambda rule: rule["ID"] or "")

    return ordered(desired_api) == ordered(actual_api)


class S3Buckets:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.changes = ChangeSet(module)
        self.s3 = aws_client(module, "s3")
        self.region = module.region
        self.unverified = []
        self.kept = []
        self.step = "listing the buckets"
        self.specs = {}
        for spec in self.params["buckets"]:
            name = spec["name"] or f"{self.params['name_prefix']}-{spec['key']}"
            if spec["key"] in self.specs:
                module.fail_json(msg=f"bucket key {spec['key']!r} is listed twice")
            # S3 ARNs name neither region nor account: arn:<partition>:s3:::<bucket>.
            bucket_arn = arn(partition_for(self.region), "s3", "", "", name)
            self.specs[spec["key"]] = dict(spec, name=name, arn=bucket_arn)

    # --- reads ----------------------------------------------------------------

    def existing_names(self):
        names = [spec["name"] for spec in self.specs.values()]
        common = os.path.commonprefix(names)
        found = paginate(self.s3, "list_buckets", "Buckets", **({"Prefix": common} if common else {}))
        return {bucket["Name"] for bucket in found} & set(names)

    def read(self, what, call, bucket):
        """A setting of a listed bucket. S3 is eventually consistent right after CreateBucket (an
        interrupted run's bucket may be listed yet answer NoSuchBucket): the bucket exists, so retry."""
        try:
            return retry_on({"NoSuchBucket"}, call, aws_retry=True, Bucket=bucket)
        except is_boto3_error_code(NOT_FOUND.get(what, ())):
            return None

    # --- desired state ----------------------------------------------------------

    def desired_encryption(self):
        default = {"SSEAlgorithm": "aws:kms"}
        if self.params["kms_key_arn"]:
            default["KMSMasterKeyID"] = self.params["kms_key_arn"]
        return {"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": self.params["bucket_key_enabled"]}

    def desired_policy(self, spec):
        statements = [tls_only_statement(spec["arn"])] if self.params["tls_only"] else []
        statements += spec["policy_statements"] or []
        return {"Version": "2012-10-17", "Statement": statements} if statements else None

    def desired_replication(self, spec):
        wanted = spec["replication"]
        if not wanted or not wanted["enabled"]:
            return None
        destination = {"Bucket": wanted["destination_bucket_arn"], "StorageClass": wanted["storage_class"]}
        if wanted["replica_kms_key_arn"]:
            destination["EncryptionConfiguration"] = {"ReplicaKmsKeyID": wanted["replica_kms_key_arn"]}
        rule = {
            "ID": f"crr-{spec['key']}",
            "Priority": 1,
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "DeleteMarkerReplication": {"Status": "Enabled" if wanted["delete_marker_replication"] else "Disabled"},
            "Destination": destination,
        }
        if wanted["replicate_kms_encrypted_objects"]:
            rule["SourceSelectionCriteria"] = {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
        return {"Role": self.params["replication_role_arn"], "Rules": [rule]}

    # --- present --------------------------------------------------------------

    def validate(self):
        problems = []
        for spec in self.specs.values():
            wanted = spec["replication"]
            if wanted and wanted["enabled"]:
                if not wanted["destination_bucket_arn"] and not self.module.check_mode:
                    problems.append(f"{spec['name']}: replication needs destination_bucket_arn")
                if not self.params["replication_role_arn"] and not self.module.check_mode:
                    problems.append(f"{spec['name']}: replication needs replication_role_arn")
                if spec["versioning"] is False:
                    problems.append(f"{spec['name']}: replication needs versioning")
        if problems:
            self.module.fail_json(msg="Invalid bucket settings: " + "; ".join(problems), problems=problems)

    def ensure_present(self):
        self.validate()
        existing = self.existing_names()
        for spec in self.specs.values():
            if spec["name"] in existing:
                self.update_bucket(spec)
            else:
                self.create_bucket(spec)
        return self.result()

    def put(self, spec, what, action, operation, before, after, **kwargs):
        """One write: a new bucket's setting is a create row of its own, an existing one's an update row."""
        name = spec["name"]
        self.changes.note(f"bucket {name} {what}", before, after)
        self.step = f"{operation} on {name}"
        if action == "create":
            self.changes.create(f"bucket {name} {what}", self.s3, "s3", operation, Bucket=name, **kwargs)
        else:
            self.changes.update(f"bucket {name}", [what], self.s3, "s3", operation, Bucket=name, **kwargs)

    def create_bucket(self, spec):
        name = spec["name"]
        self.step = f"creating bucket {name}"
        location = (
            {} if self.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
        )
        self.changes.note(f"bucket {name}", None, {"name": name})
        self.changes.create(f"bucket {name}", self.s3, "s3", "create_bucket", Bucket=name, **location)
        for what, desired in self.desired_settings(spec).items():
            if desired is not None:
                self.apply(spec, what, "create", None, desired)

    def desired_settings(self, spec):
        """Each managed setting's desired state (None: leave alone), in the order they are applied."""
        versioning = None if spec["versioning"] is None else ("Enabled" if spec["versioning"] else "Suspended")
        lifecycle = None
        if spec["lifecycle_rules"] is not None:
            lifecycle = [lifecycle_rule_to_api(rule) for rule in spec["lifecycle_rules"]]
        return {
            "public_access_block": PUBLIC_ACCESS_BLOCK if self.params["public_access_block"] else None,
            "versioning": versioning,
            "encryption": self.desired_encryption(),
            "policy": self.desired_policy(spec),
            "lifecycle": lifecycle,
            "tags": self.params["tags"],
            "replication": self.desired_replication(spec) if spec["replication"] is not None else None,
        }

    def apply(self, spec, what, action, before, desired):
        """Write one setting (the write call of each setting, or its delete when it goes)."""
        if what == "versioning":
            if before is None and desired == "Suspended":
                return  # never versioned: nothing to suspend
            self.put(
                spec,
                what,
                action,
                "put_bucket_versioning",
                before,
                desired,
                VersioningConfiguration={"Status": desired},
            )
        elif what == "encryption":
            self.put(
                spec,
                what,
                action,
                "put_bucket_encryption",
                before,
                desired,
                ServerSideEncryptionConfiguration={"Rules": [desired]},
            )
        elif what == "public_access_block":
            self.put(
                spec, what, action, "put_public_access_block", before, desired, PublicAccessBlockConfiguration=desired
            )
        elif what == "policy":
            self.put(spec, what, action, "put_bucket_policy", before, desired, Policy=json.dumps(desired))
        else:
            self.apply_optional(spec, what, action, before, desired)

    def apply_optional(self, spec, what, action, before, desired):
        """Settings that can be removed as a whole: lifecycle, tags, replication."""
        calls = {
            "lifecycle": ("put_bucket_lifecycle_configuration", "delete_bucket_lifecycle", "LifecycleConfiguration"),
            "tags": ("put_bucket_tagging", "delete_bucket_tagging", "Tagging"),
            "replication": ("put_bucket_replication", "delete_bucket_replication", "ReplicationConfiguration"),
        }
        put, delete, argument = calls[what]
        if what == "lifecycle":
            body = {"Rules": desired}
        elif what == "tags":
            if not self.params["purge_tags"]:
                desired = dict(before or {}, **desired)
            body = {"TagSet": tag_list(desired)}
        else:
            body = desired
        if what != "replication" and not desired or what == "replication" and desired is None:
            if before:
                self.put(spec, what, "update", delete, before, None)
            return
        self.put(spec, what, action, put, before, desired, **{argument: body})

    def update_bucket(self, spec):
        name = spec["name"]
        for what, desired in self.desired_settings(spec).items():
            if desired is None and not (what == "replication" and spec["replication"] is not None):
                continue
            self.step = f"reading the {what} of bucket {name}"
            before, same = self.compare(spec, what, desired)
            if not same:
                self.apply(spec, what, "update", before, desired)

    def compare(self, spec, what, desired):
        """(what the bucket has, whether it already is what we want)."""
        name = spec["name"]
        if what == "versioning":
            actual = self.read(what, self.s3.get_bucket_versioning, name).get("Status")
            return actual, actual == desired
        if what == "encryption":
            answer = self.read(what, self.s3.get_bucket_encryption, name)
            rules = ((answer or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules") or [None]
            return rules[0], rules[0] is not None and self.same_encryption(desired, rules[0])
        if what == "public_access_block":
            answer = self.read(what, self.s3.get_public_access_block, name)
            actual = (answer or {}).get("PublicAccessBlockConfiguration")
            return actual, actual == desired
        if what == "policy":
            answer = self.read(what, self.s3.get_bucket_policy, name)
            actual = json.loads(answer["Policy"]) if answer else None
            return actual, same_policy(desired, actual)
        if what == "lifecycle":
            answer = self.read(what, self.s3.get_bucket_lifecycle_configuration, name)
            actual = (answer or {}).get("Rules") or []
            return actual, lifecycle_rules_equal(desired, actual)
        if what == "tags":
            return self.compare_tags(name, desired)
        return self.compare_replication(spec, desired)

    def same_encryption(self, desired, actual):
        """The default encryption; the key by the one KMS key rule (an id and its ARN are one key)."""
        key = "ApplyServerSideEncryptionByDefault.KMSMasterKeyID"
        wanted = desired["ApplyServerSideEncryptionByDefault"].get("KMSMasterKeyID")
        found = (actual.get("ApplyServerSideEncryptionByDefault") or {}).get("KMSMasterKeyID")
        return not differences(desired, actual, {key: "ignore"}) and same_kms_key(wanted, found, self.key_id)

    def key_id(self, key, region=None):
        """The key id an alias names (KMS DescribeKey in ``region``), or the alias as given when KMS will not say."""
        try:
            kms = aws_client(self.module, "kms", region=region)
            return kms.describe_key(aws_retry=True, KeyId=key)["KeyMetadata"]["KeyId"]
        except ClientError:
            return key

    def replica_key_id(self, key):
        """key_id of a replica key: an alias ARN names the destination's region, where KMS knows it."""
        return self.key_id(key, (parse_aws_arn(key) or {}).get("region"))

    def compare_tags(self, name, desired):
        actual = tag_dict((self.read("tags", self.s3.get_bucket_tagging, name) or {}).get("TagSet"))
        to_set, to_unset = compare_aws_tags(actual, desired, self.params["purge_tags"])
        return actual, not (to_set or to_unset)

    def compare_replication(self, spec, desired):
        answer = self.read("replication", self.s3.get_bucket_replication, spec["name"])
        actual = (answer or {}).get("ReplicationConfiguration")
        if desired is None or actual is None:
            return actual, desired is None and actual is None
        compared = json.loads(json.dumps(desired))
        if on_emulator():
            for rule in compared["Rules"]:
                for key in EMULATOR_DROPS_IN_REPLICATION:
                    if rule.pop(key, None) is not None:
                        self.unverified.append(f"{spec['name']} replication {key}")
        keys_match = self.same_replica_keys(compared, actual)
        found = differences(compared, actual, {"Rules": "strict"})
        return actual, keys_match and not found and len(actual.get("Rules", [])) == len(compared["Rules"])

    def same_replica_keys(self, compared, actual):
        """Each rule's replica key by the one KMS key rule; taken out of ``compared``, whose rest compares as is."""
        current = {rule.get("ID"): rule for rule in actual.get("Rules", [])}
        same = all(
            same_kms_key(replica_key(rule), replica_key(current.get(rule["ID"])), self.replica_key_id)
            for rule in compared["Rules"]
        )
        for rule in compared["Rules"]:
            rule["Destination"].pop("EncryptionConfiguration", None)
        return same

    # --- absent ---------------------------------------------------------------

    def object_versions(self, name):
        """Every version and delete marker; one listing for both (paginate() collects one key)."""

        def collect():
            versions = []
            for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=name):
                versions.extend(page.get("Versions", []))
                versions.extend(page.get("DeleteMarkers", []))
            return versions

        return [{"Key": item["Key"], "VersionId": item["VersionId"]} for item in RETRY(collect)()]

    def holds_objects(self, name):
        answer = self.s3.list_object_versions(aws_retry=True, Bucket=name, MaxKeys=1)
        return bool(answer.get("Versions") or answer.get("DeleteMarkers"))

    def ensure_absent(self):
        existing = self.existing_names()
        confirmed = set(self.params["confirm_delete_names"]) if self.params["confirm_delete_nonempty"] else set()
        doomed = []
        refused = []
        for spec in self.specs.values():
            if spec["name"] not in existing:
                continue
            self.step = f"looking into bucket {spec['name']}"
            nonempty = self.holds_objects(spec["name"])
            if nonempty and spec["name"] not in confirmed:
                refused.append(spec["name"])
                continue
            doomed.append((spec, nonempty))
        if refused and self.params["keep_nonempty"]:
            self.kept = refused
        elif refused:
            self.module.fail_json(
                msg=f"Refusing to delete buckets that hold objects: {', '.join(refused)}. Set confirm_delete_nonempty: "
                "true and list them in confirm_delete_names to delete them with their objects",
                refused=refused,
            )
        for spec, nonempty in doomed:
            self.delete_bucket(spec, nonempty)
        return self.result()

    def delete_bucket(self, spec, nonempty):
        name = spec["name"]
        label = f"bucket {name}"
        if nonempty:
            # The TLS-only policy (or any other) could deny the deletes: it goes first.
            self.step = f"emptying bucket {name}"
            self.changes.delete(f"{label} policy", self.s3, "s3", "delete_bucket_policy", Bucket=name)
            versions = self.object_versions(name)
            self.changes.note(f"{label} objects", len(versions), 0)
            for start in range(0, len(versions), DELETE_BATCH):
                answer = self.changes.delete(
                    f"{label} objects",
                    self.s3,
                    "s3",
                    "delete_objects",
                    Bucket=name,
                    Delete={"Objects": versions[start : start + DELETE_BATCH], "Quiet": True},
                )
                if answer and answer.get("Errors"):
                    errors = answer["Errors"]
                    self.module.fail_json(msg=f"Could not delete {len(errors)} objects of {name}", errors=errors[:10])
        self.step = f"deleting bucket {name}"
        self.changes.note(label, {"name": name}, None)
        self.changes.delete(label, self.s3, "s3", "delete_bucket", Bucket=name)

    # --- results --------------------------------------------------------------

    def result(self):
        return self.changes.result(
            buckets={key: spec["name"] for key, spec in self.specs.items()},
            bucket_arns={key: spec["arn"] for key, spec in self.specs.items()},
            unverified=sorted(set(self.unverified)),
            kept_buckets=sorted(self.kept),
        )


def argument_spec():
    lifecycle_rule = dict(
        id=dict(required=True),
        enabled=dict(type="bool", default=True),
        prefix=dict(default=""),
        expiration_days=dict(type="int"),
        transitions=dict(
            type="list",
            elements="dict",
            options=dict(
                days=dict(type="int", required=True),
                storage_class=dict(
                    default="STANDARD_IA",
                    choices=[
                        "STANDARD_IA",
                        "ONEZONE_IA",
                        "INTELLIGENT_TIERING",
                        "GLACIER_IR",
                        "GLACIER",
                        "DEEP_ARCHIVE",
                    ],
                ),
            ),
        ),
        noncurrent_version_expiration_days=dict(type="int"),
        abort_incomplete_multipart_upload_days=dict(type="int"),
    )
    replication = dict(
        enabled=dict(type="bool", default=True),
        destination_bucket_arn=dict(),
        replica_kms_key_arn=dict(no_log=False),
        storage_class=dict(default="STANDARD"),
        delete_marker_replication=dict(type="bool", default=True),
        replicate_kms_encrypted_objects=dict(type="bool", default=True),
    )
    bucket = dict(
        key=dict(required=True, no_log=False),
        name=dict(),
        versioning=dict(type="bool", default=True),
        lifecycle_rules=dict(type="list", elements="dict", options=lifecycle_rule),
        policy_statements=dict(type="list", elements="dict"),
        replication=dict(type="dict", options=replication),
    )
    return dict(
        state=dict(default="present", choices=["present", "absent"]),
        name_prefix=dict(required=True),
        buckets=dict(type="list", elements="dict", required=True, options=bucket),
        kms_key_arn=dict(no_log=False),
        bucket_key_enabled=dict(type="bool", default=True),
        public_access_block=dict(type="bool", default=True),
        tls_only=dict(type="bool", default=True),
        replication_role_arn=dict(),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        confirm_delete_nonempty=dict(type="bool", default=False),
        confirm_delete_names=dict(type="list", elements="str", default=[]),
        keep_nonempty=dict(type="bool", default=False),
    )


def main():
    module = AnsibleAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_manager(module, S3Buckets(module))


if __name__ == "__main__":
    main()
