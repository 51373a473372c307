# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""s3_buckets against the real emulator (moto server), plus request shapes with botocore's Stubber."""

import json

import boto3
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import RETRY, retry_for
from ansible_collections.reelle.infra.plugins.modules import s3_buckets
from botocore.exceptions import ClientError
from botocore.stub import Stubber

KEY = "arn:aws:kms:us-east-1:123456789012:key/0b4c3e4f-1a2b-4c5d-8e9f-0a1b2c3d4e5f"
LOGS = "unit-app-logs"
UPLOADS = "unit-user-uploads"


def run(capsys, args, check_mode=False, diff=False):
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        s3_buckets.main()
    return json.loads(capsys.readouterr().out)


def staging_args(**overrides):
    args = {
        "name_prefix": "unit",
        "kms_key_arn": KEY,
        "buckets": [
            {"key": "app-logs", "lifecycle_rules": [{"id": "expire-logs", "expiration_days": 90}]},
            {"key": "user-uploads", "lifecycle_rules": []},
        ],
        "tags": {"project": "reelle"},
    }
    args.update(overrides)
    return args


def s3():
    return boto3.client("s3")


def rows(result):
    return [(row["action"], row["resource"], row["attributes"]) for row in result["changes"]]


def test_create_configures_every_bucket(capsys, emulator):
    result = run(capsys, staging_args())
    assert result["changed"] is True
    assert result["buckets"] == {"app-logs": LOGS, "user-uploads": UPLOADS}
    assert result["bucket_arns"] == {"app-logs": f"arn:aws:s3:::{LOGS}", "user-uploads": f"arn:aws:s3:::{UPLOADS}"}
    assert ("create", f"bucket {LOGS}", []) in rows(result)
    assert ("create", f"bucket {LOGS} lifecycle", []) in rows(result)
    assert ("create", f"bucket {UPLOADS} lifecycle", []) not in rows(result)
    for name in (LOGS, UPLOADS):
        assert s3().get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
        rule = s3().get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule == {
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY},
            "BucketKeyEnabled": True,
        }
        assert all(s3().get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"].values())
        statement = json.loads(s3().get_bucket_policy(Bucket=name)["Policy"])["Statement"][0]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert s3().get_bucket_tagging(Bucket=name)["TagSet"] == [{"Key": "project", "Value": "reelle"}]
    rules = s3().get_bucket_lifecycle_configuration(Bucket=LOGS)["Rules"]
    assert [(rule["ID"], rule["Expiration"]["Days"]) for rule in rules] == [("expire-logs", 90)]
    with pytest.raises(ClientError, match="NoSuchLifecycleConfiguration"):
        s3().get_bucket_lifecycle_configuration(Bucket=UPLOADS)


def test_tls_only_policy_denies_plain_http(capsys, emulator):
    run(capsys, staging_args())
    # The emulator is reached over http: the policy must refuse object writes.
    with pytest.raises(ClientError, match="Forbidden|AccessDenied"):
        s3().put_object(Bucket=UPLOADS, Key="x", Body=b"x")


def test_second_run_changes_nothing(capsys, emulator):
    run(capsys, staging_args())
    result = run(capsys, staging_args())
    assert result["changed"] is False
    assert result["changes"] == [] and result["skipped_calls"] == [] and result["unverified"] == []


def _drift_encryption():
    rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    s3().put_bucket_encryption(Bucket=LOGS, ServerSideEncryptionConfiguration={"Rules": [rule]})


def _drift_public_access_block():
    s3().put_public_access_block(
        Bucket=LOGS,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": False,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


@pytest.mark.parametrize(
    ("drift", "overrides", "expected"),
    [
        (None, {"tags": {"project": "reelle", "team": "platform"}}, [("update", f"bucket {LOGS}", ["tags"])]),
        (
            None,
            {"buckets": [{"key": "app-logs", "lifecycle_rules": [{"id": "expire-logs", "expiration_days": 30}]}]},
            [("update", f"bucket {LOGS}", ["lifecycle"])],
        ),
        (None, {"buckets": [{"key": "app-logs", "versioning": False}]}, [("update", f"bucket {LOGS}", ["versioning"])]),
        (
            None,
            {"buckets": [{"key": "app-logs", "lifecycle_rules": []}]},
            [("update", f"bucket {LOGS}", ["lifecycle"])],
        ),
        (_drift_encryption, {}, [("update", f"bucket {LOGS}", ["encryption"])]),
        (_drift_public_access_block, {}, [("update", f"bucket {LOGS}", ["public_access_block"])]),
        (lambda: s3().delete_bucket_policy(Bucket=LOGS), {}, [("update", f"bucket {LOGS}", ["policy"])]),
    ],
)
def test_update_writes_only_what_differs(capsys, emulator, drift, overrides, expected):
    run(capsys, staging_args())
    if drift:
        drift()
    args = staging_args(**overrides)
    result = run(capsys, args)
    assert [row for row in rows(result) if LOGS in row[1]] == expected
    assert run(capsys, args)["changed"] is False


def test_options_not_set_leave_the_buckets_alone(capsys, emulator):
    run(capsys, staging_args())
    bare = {"name_prefix": "unit", "kms_key_arn": KEY, "buckets": [{"key": "app-logs"}, {"key": "user-uploads"}]}
    assert run(capsys, bare)["changed"] is False
    assert s3().get_bucket_lifecycle_configuration(Bucket=LOGS)["Rules"]


def test_check_mode_on_an_empty_account_creates_nothing(capsys, emulator):
    result = run(capsys, staging_args(kms_key_arn=None), check_mode=True, diff=True)
    assert result["changed"] is True
    assert {row[0] for row in rows(result)} == {"create"}
    assert result["buckets"] == {"app-logs": LOGS, "user-uploads": UPLOADS}
    assert result["diff"]["before"][f"bucket {LOGS}"] is None
    assert s3().list_buckets()["Buckets"] == []


def test_check_mode_diff_against_existing_buckets(capsys, emulator):
    run(capsys, staging_args())
    args = staging_args(buckets=[{"key": "app-logs", "lifecycle_rules": [{"id": "expire-logs", "expiration_days": 7}]}])
    result = run(capsys, args, check_mode=True, diff=True)
    assert result["diff"]["before"][f"bucket {LOGS} lifecycle"][0]["Expiration"] == {"Days": 90}
    assert result["diff"]["after"][f"bucket {LOGS} lifecycle"][0]["Expiration"] == {"Days": 7}
    assert s3().get_bucket_lifecycle_configuration(Bucket=LOGS)["Rules"][0]["Expiration"] == {"Days": 90}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            staging_args(buckets=[{"key": "a", "replication": {"destination_bucket_arn": "arn:aws:s3:::d"}}]),
            "replication needs replication_role_arn",
        ),
        (staging_args(buckets=[{"key": "a"}, {"key": "a"}]), "bucket key 'a' is listed twice"),
        (
            staging_args(
                replication_role_arn="arn:aws:iam::123456789012:role/r",
                buckets=[
                    {"key": "a", "versioning": False, "replication": {"destination_bucket_arn": "arn:aws:s3:::d"}}
                ],
            ),
            "replication needs versioning",
        ),
    ],
)
def test_bad_input_fails_before_touching_anything(capsys, emulator, args, message):
    result = run(capsys, args)
    assert result["failed"] is True and message in result["msg"]
    assert s3().list_buckets()["Buckets"] == []


def _fill(name):
    """Two versions and a delete marker."""
    s3().create_bucket(Bucket=name)
    s3().put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3().put_object(Bucket=name, Key="log.txt", Body=b"1")
    s3().put_object(Bucket=name, Key="log.txt", Body=b"2")
    s3().delete_object(Bucket=name, Key="log.txt")


def test_deleting_a_bucket_with_objects_needs_the_confirmation(capsys, emulator):
    _fill(LOGS)
    run(capsys, staging_args())  # adds the TLS-only policy on top of the objects
    absent = staging_args(state="absent")
    refused = run(capsys, absent)
    assert refused["failed"] is True and refused["refused"] == [LOGS]
    assert {bucket["Name"] for bucket in s3().list_buckets()["Buckets"]} == {LOGS, UPLOADS}

    not_named = run(capsys, dict(absent, confirm_delete_nonempty=True, confirm_delete_names=[UPLOADS]))
    assert not_named["failed"] is True

    planned = run(capsys, dict(absent, confirm_delete_nonempty=True, confirm_delete_names=[LOGS]), check_mode=True)
    assert ("delete", f"bucket {LOGS} objects", []) in rows(planned)
    assert len(s3().list_buckets()["Buckets"]) == 2

    result = run(capsys, dict(absent, confirm_delete_nonempty=True, confirm_delete_names=[LOGS]))
    assert result["changed"] is True
    assert s3().list_buckets()["Buckets"] == []
    assert run(capsys, absent)["changed"] is False


def test_keep_nonempty_keeps_and_reports_buckets_with_objects(capsys, emulator):
    _fill(LOGS)
    run(capsys, staging_args())
    keep = staging_args(state="absent", keep_nonempty=True)
    planned = run(capsys, keep, check_mode=True)
    assert {row[1] for row in rows(planned)} == {f"bucket {UPLOADS}"}
    assert planned["kept_buckets"] == [LOGS]
    assert len(s3().list_buckets()["Buckets"]) == 2

    result = run(capsys, keep)
    assert result["changed"] is True and result["kept_buckets"] == [LOGS]
    assert [bucket["Name"] for bucket in s3().list_buckets()["Buckets"]] == [LOGS]
    again = run(capsys, keep)
    assert again["changed"] is False and again["kept_buckets"] == [LOGS]

    # The explicit confirmation still wins over keeping.
    gone = run(capsys, dict(keep, confirm_delete_nonempty=True, confirm_delete_names=[LOGS]))
    assert gone["kept_buckets"] == [] and s3().list_buckets()["Buckets"] == []


def test_empty_buckets_are_deleted_without_confirmation(capsys, emulator):
    run(capsys, staging_args())
    result = run(capsys, staging_args(state="absent"))
    assert {row[1] for row in rows(result)} == {f"bucket {LOGS}", f"bucket {UPLOADS}"}
    assert s3().list_buckets()["Buckets"] == []


def test_replication_is_idempotent_and_says_what_the_emulator_cannot_verify(capsys, emulator):
    s3().create_bucket(Bucket="unit-replica")
    s3().put_bucket_versioning(Bucket="unit-replica", VersioningConfiguration={"Status": "Enabled"})
    args = staging_args(
        replication_role_arn="arn:aws:iam::123456789012:role/unit-s3-replication",
        buckets=[
            {
                "key": "user-uploads",
                "replication": {
                    "destination_bucket_arn": "arn:aws:s3:::unit-replica",
                    "replica_kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/abc",
                },
            }
        ],
    )
    run(capsys, args)
    rule = s3().get_bucket_replication(Bucket=UPLOADS)["ReplicationConfiguration"]["Rules"][0]
    assert rule["Destination"]["Bucket"] == "arn:aws:s3:::unit-replica"
    again = run(capsys, args)
    assert again["changed"] is False
    assert again["unverified"] == [
        f"{UPLOADS} replication DeleteMarkerReplication",
        f"{UPLOADS} replication SourceSelectionCriteria",
    ]
    args["buckets"][0]["replication"] = {"enabled": False}
    assert rows(run(capsys, args)) == [("update", f"bucket {UPLOADS}", ["replication"])]
    with pytest.raises(ClientError, match="ReplicationConfigurationNotFoundError"):
        s3().get_bucket_replication(Bucket=UPLOADS)


ACCOUNT = "123456789012"
TLS_ONLY = {"Version": "2012-10-17", "Statement": [s3_buckets.tls_only_statement("arn:aws:s3:::unit-b")]}


def statement(**changes):
    return {"Version": "2012-10-17", "Statement": [dict(TLS_ONLY["Statement"][0], **changes)]}


@pytest.mark.parametrize(
    ("desired", "actual", "equal"),
    [
        # What S3 answers for the policy it stored: same meaning, rewritten.
        (TLS_ONLY, json.dumps(TLS_ONLY), True),
        (TLS_ONLY, statement(Resource=["arn:aws:s3:::unit-b/*", "arn:aws:s3:::unit-b"]), True),
        (TLS_ONLY, statement(Action=["s3:*"], Principal={"AWS": "*"}), True),
        (TLS_ONLY, dict(TLS_ONLY, Statement=TLS_ONLY["Statement"][0]), True),
        (
            statement(Principal={"AWS": "123456789012"}),
            statement(Principal={"AWS": "arn:aws:iam::123456789012:root"}),
            True,
        ),
        (None, None, True),
        # Differences.
        (TLS_ONLY, statement(Resource="arn:aws:s3:::unit-b"), False),
        (TLS_ONLY, statement(Condition={"Bool": {"aws:SecureTransport": "true"}}), False),
        (TLS_ONLY, None, False),
        (None, TLS_ONLY, False),
    ],
)
def test_policy_comparison(desired, actual, equal):
    assert s3_buckets.same_policy(desired, actual) is equal


@pytest.mark.parametrize(
    ("desired", "actual", "equal"),
    [
        (
            [{"ID": "a", "Status": "Enabled", "Filter": {"Prefix": ""}}],
            [{"ID": "a", "Status": "Enabled", "Filter": {}}],
            True,
        ),
        (
            [{"ID": "a", "Status": "Enabled", "Filter": {"Prefix": ""}}],
            [{"ID": "a", "Status": "Enabled", "Prefix": ""}],
            True,
        ),
        (
            [{"ID": "a", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 90}}],
            [{"ID": "a", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 30}}],
            False,
        ),
        ([], [{"ID": "a", "Status": "Enabled", "Filter": {}}], False),
        (
            [{"ID": "a", "Status": "Enabled", "Filter": {"Prefix": ""}}],
            [{"ID": "a", "Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}}}],
            False,
        ),
    ],
)
def test_lifecycle_comparison(desired, actual, equal):
    assert s3_buckets.lifecycle_rules_equal(desired, actual) is equal


# --- request shapes on the AWS path (Stubber validates against the service model) ----------


@pytest.fixture
def stubbed(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("REELLE_AWS_TARGET", raising=False)
    for key, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)

    def make(args):
        with patch_module_args(dict(args, _ansible_check_mode=False)):
            module = AnsibleAWSModule(argument_spec=s3_buckets.argument_spec(), supports_check_mode=True)
        manager = s3_buckets.S3Buckets(module)
        client = boto3.client("s3", region_name="us-east-1")
        stub = Stubber(client)
        stub.activate()
        manager.s3 = RetryingBotoClientWrapper(client, RETRY)
        return manager, stub

    return make


def test_replication_on_aws_compares_what_the_emulator_drops(stubbed):
    """On AWS a rule without DeleteMarkerReplication=Enabled is rewritten, with the full request."""
    replication = {
        "destination_bucket_arn": "arn:aws:s3:::unit-replica",
        "replica_kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/abc",
    }
    manager, stub = stubbed(
        staging_args(
            replication_role_arn="arn:aws:iam::123456789012:role/r",
            buckets=[{"key": "user-uploads", "replication": replication}],
        )
    )
    spec = manager.specs["user-uploads"]
    desired = manager.desired_replication(spec)
    as_moto_returns = json.loads(json.dumps(desired))
    as_moto_returns["Rules"][0]["DeleteMarkerReplication"] = {"Status": "Disabled"}
    del as_moto_returns["Rules"][0]["SourceSelectionCriteria"]
    stub.add_response("get_bucket_replication", {"ReplicationConfiguration": as_moto_returns}, {"Bucket": UPLOADS})
    stub.add_response(
        "put_bucket_replication",
        {},
        {
            "Bucket": UPLOADS,
            "ReplicationConfiguration": {
                "Role": "arn:aws:iam::123456789012:role/r",
                "Rules": [
                    {
                        "ID": "crr-user-uploads",
                        "Priority": 1,
                        "Status": "Enabled",
                        "Filter": {"Prefix": ""},
                        "DeleteMarkerReplication": {"Status": "Enabled"},
                        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
                        "Destination": {
                            "Bucket": "arn:aws:s3:::unit-replica",
                            "StorageClass": "STANDARD",
                            "EncryptionConfiguration": {
                                "ReplicaKmsKeyID": "arn:aws:kms:eu-west-1:123456789012:key/abc"
                            },
                        },
                    }
                ],
            },
        },
    )
    before, same = manager.compare(spec, "replication", desired)
    assert same is False and manager.unverified == []
    manager.apply(spec, "replication", "update", before, desired)
    stub.assert_no_pending_responses()


def test_new_bucket_outside_us_east_1_names_its_region(stubbed, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    manager, stub = stubbed(
        {
            "name_prefix": "unit",
            "region": "eu-west-1",
            "buckets": [{"key": "x", "versioning": False}],
            "tls_only": False,
        }
    )
    stub.add_response(
        "create_bucket",
        {},
        {"Bucket": "unit-x", "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}},
    )
    stub.add_response(
        "put_public_access_block",
        {},
        {"Bucket": "unit-x", "PublicAccessBlockConfiguration": s3_buckets.PUBLIC_ACCESS_BLOCK},
    )
    stub.add_response(
        "put_bucket_encryption",
        {},
        {
            "Bucket": "unit-x",
            "ServerSideEncryptionConfiguration": {
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}]
            },
        },
    )
    manager.create_bucket(manager.specs["x"])
    stub.assert_no_pending_responses()
    assert manager.specs["x"]["arn"] == "arn:aws:s3:::unit-x"


def test_a_read_right_after_create_bucket_waits_out_no_such_bucket(stubbed, monkeypatch):
    """S3 may answer NoSuchBucket to a configuration read of a bucket it just listed (eventual consistency)."""
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.001")
    manager, stub = stubbed(staging_args(buckets=[{"key": "app-logs"}]))
    manager.s3 = RetryingBotoClientWrapper(manager.s3.client, retry_for("s3"))
    spec = manager.specs["app-logs"]
    desired = manager.desired_encryption()
    stub.add_client_error("get_bucket_encryption", "NoSuchBucket", "The specified bucket does not exist")
    stub.add_response(
        "get_bucket_encryption", {"ServerSideEncryptionConfiguration": {"Rules": [desired]}}, {"Bucket": LOGS}
    )
    stub.add_client_error("get_bucket_versioning", "NoSuchBucket", "The specified bucket does not exist")
    stub.add_response("get_bucket_versioning", {"Status": "Enabled"}, {"Bucket": LOGS})
    assert manager.compare(spec, "encryption", desired)[1] is True
    assert manager.compare(spec, "versioning", "Enabled") == ("Enabled", True)
    stub.assert_no_pending_responses()


def test_bucket_arns_in_govcloud_name_their_partition(stubbed, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-gov-west-1")
    manager, _stub = stubbed({"name_prefix": "unit", "region": "us-gov-west-1", "buckets": [{"key": "x"}]})
    assert manager.specs["x"]["arn"] == "arn:aws-us-gov:s3:::unit-x"
    assert manager.desired_policy(manager.specs["x"])["Statement"][0]["Resource"][0] == "arn:aws-us-gov:s3:::unit-x"


KEY_ID = KEY.split(":key/")[1]


@pytest.mark.parametrize(
    ("stored", "kms_answers", "same"),
    [
        (KEY_ID, [], True),  # a key id and its ARN are one key: KMS is not asked
        (KEY, [], True),
        ("arn:aws:kms:us-east-1:123456789012:key/another", [], False),
        ("alias/unit", [KEY_ID], True),  # an alias against a key: KMS says which key it names
        ("alias/unit", ["1111aaaa-1a2b-4c5d-8e9f-0a1b2c3d4e5f"], False),
        ("alias/unit", ["AccessDeniedException"], False),  # KMS will not say: a difference, written again
    ],
)
def test_encryption_key_compares_by_the_one_kms_key_rule(stubbed, monkeypatch, stored, kms_answers, same):
    manager, stub = stubbed(staging_args(buckets=[{"key": "app-logs"}]))
    kms = boto3.client("kms", region_name="us-east-1")
    kms_stub = Stubber(kms)
    for answer in kms_answers:
        if answer.endswith("Exception"):
            kms_stub.add_client_error("describe_key", answer, expected_params={"KeyId": "alias/unit"})
        else:
            kms_stub.add_response("describe_key", {"KeyMetadata": {"KeyId": answer}}, {"KeyId": "alias/unit"})
    kms_stub.activate()
    monkeypatch.setattr(s3_buckets, "aws_client", lambda module, service, region: RetryingBotoClientWrapper(kms, RETRY))
    desired = manager.desired_encryption()
    by_default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": stored}
    rule = {"ApplyServerSideEncryptionByDefault": by_default, "BucketKeyEnabled": True}
    stub.add_response(
        "get_bucket_encryption", {"ServerSideEncryptionConfiguration": {"Rules": [rule]}}, {"Bucket": LOGS}
    )
    assert manager.compare(manager.specs["app-logs"], "encryption", desired) == (rule, same)
    stub.assert_no_pending_responses()
    kms_stub.assert_no_pending_responses()


def test_encryption_other_than_the_key_still_differs(stubbed):
    manager, stub = stubbed(staging_args(buckets=[{"key": "app-logs"}]))
    desired = manager.desired_encryption()
    rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}
    stub.add_response(
        "get_bucket_encryption", {"ServerSideEncryptionConfiguration": {"Rules": [rule]}}, {"Bucket": LOGS}
    )
    assert manager.compare(manager.specs["app-logs"], "encryption", desired) == (rule, False)


REPLICA_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1111aaaa-1a2b-4c5d-8e9f-0a1b2c3d4e5f"
REPLICA_ALIAS = "arn:aws:kms:eu-west-1:123456789012:alias/unit-replica"


@pytest.mark.parametrize(
    ("wanted", "stored", "kms_answers", "same"),
    [
        (REPLICA_KEY, REPLICA_KEY, [], True),
        (REPLICA_KEY, REPLICA_KEY.split(":key/")[1], [], True),  # a key id and its ARN are one key
        (REPLICA_KEY, "arn:aws:kms:eu-west-1:123456789012:key/another", [], False),
        (REPLICA_KEY, None, [], False),  # no key on the rule: the key is set
        (REPLICA_ALIAS, "arn:aws:kms:eu-west-1:123456789012:alias/unit-replica", [], True),
        (REPLICA_ALIAS, REPLICA_KEY, [REPLICA_KEY.split(":key/")[1]], True),  # KMS of eu-west-1 says which key
        (REPLICA_ALIAS, REPLICA_KEY, ["2222bbbb-1a2b-4c5d-8e9f-0a1b2c3d4e5f"], False),
    ],
)
def test_replica_key_compares_by_the_one_kms_key_rule(stubbed, monkeypatch, wanted, stored, kms_answers, same):
    replication = {"destination_bucket_arn": "arn:aws:s3:::unit-replica", "replica_kms_key_arn": wanted}
    manager, stub = stubbed(
        staging_args(
            replication_role_arn="arn:aws:iam::123456789012:role/r",
            buckets=[{"key": "user-uploads", "replication": replication}],
        )
    )
    kms = boto3.client("kms", region_name="eu-west-1")
    kms_stub = Stubber(kms)
    for answer in kms_answers:
        kms_stub.add_response("describe_key", {"KeyMetadata": {"KeyId": answer}}, {"KeyId": REPLICA_ALIAS})
    kms_stub.activate()
    regions = []

    def kms_client(module, service, region):
        regions.append(region)
        return RetryingBotoClientWrapper(kms, RETRY)

    monkeypatch.setattr(s3_buckets, "aws_client", kms_client)
    spec = manager.specs["user-uploads"]
    desired = manager.desired_replication(spec)
    as_stored = json.loads(json.dumps(desired))
    destination = as_stored["Rules"][0]["Destination"]
    if stored is None:
        del destination["EncryptionConfiguration"]
    else:
        destination["EncryptionConfiguration"]["ReplicaKmsKeyID"] = stored
    stub.add_response("get_bucket_replication", {"ReplicationConfiguration": as_stored}, {"Bucket": UPLOADS})
    assert manager.compare(spec, "replication", desired) == (as_stored, same)
    assert desired["Rules"][0]["Destination"]["EncryptionConfiguration"] == {"ReplicaKmsKeyID": wanted}  # as sent
    assert regions == ["eu-west-1"] * len(kms_answers)
    stub.assert_no_pending_responses()
    kms_stub.assert_no_pending_responses()


def test_a_replica_key_that_matches_does_not_hide_other_differences(stubbed):
    replication = {"destination_bucket_arn": "arn:aws:s3:::unit-replica", "replica_kms_key_arn": REPLICA_KEY}
    manager, stub = stubbed(
        staging_args(
            replication_role_arn="arn:aws:iam::123456789012:role/r",
            buckets=[{"key": "user-uploads", "replication": replication}],
        )
    )
    spec = manager.specs["user-uploads"]
    desired = manager.desired_replication(spec)
    as_stored = json.loads(json.dumps(desired))
    as_stored["Rules"][0]["Destination"]["StorageClass"] = "GLACIER"
    stub.add_response("get_bucket_replication", {"ReplicationConfiguration": as_stored}, {"Bucket": UPLOADS})
    assert manager.compare(spec, "replication", desired) == (as_stored, False)
