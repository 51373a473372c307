# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared EC2 layer: filters, Name tags, tags at creation and tag sync through the ChangeSet.

Request shapes are checked with botocore's Stubber (each request is validated
against the EC2 service model); a call the test did not expect fails it.
"""

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import ChangeSet, retry_for
from ansible_collections.reelle.infra.plugins.module_utils.reelle_ec2 import (
    filters,
    name_tag,
    sync_ec2_tags,
    tag_specifications,
)
from botocore.stub import Stubber

VPC = "vpc-0123456789abcdef0"


class FakeModule:
    def __init__(self, check_mode=False):
        self.check_mode = check_mode
        self._diff = True


@pytest.fixture
def ec2():
    """An EC2 client as aws_client() makes it (retrying wrapper), answering from a Stubber."""
    client = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    stub.activate()
    yield RetryingBotoClientWrapper(client, retry_for("ec2")), stub
    stub.assert_no_pending_responses()


def tags(**values):
    return [{"Key": key, "Value": value} for key, value in values.items()]


def test_filters_take_one_value_or_a_list():
    assert filters({"vpc-id": VPC, "tag:Name": ["a", "b"]}) == [
        {"Name": "vpc-id", "Values": [VPC]},
        {"Name": "tag:Name", "Values": ["a", "b"]},
    ]


def test_name_tag():
    assert name_tag({"Tags": tags(Name="net", Tier="public")}) == "net"
    assert name_tag({"Tags": tags(Tier="public")}) is None
    assert name_tag({}) is None


def test_tag_specifications():
    assert tag_specifications("vpc", {"Name": "net"}) == [
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "net"}]}
    ]


def test_tags_are_set_and_purged_but_aws_tags_stay(ec2):
    client, stub = ec2
    stub.add_response("create_tags", {}, {"Resources": [VPC], "Tags": [{"Key": "env", "Value": "prod"}]})
    stub.add_response("delete_tags", {}, {"Resources": [VPC], "Tags": [{"Key": "a-old"}, {"Key": "z-old"}]})
    changes = ChangeSet(FakeModule())
    actual = tags(Name="net", **{"z-old": "1", "a-old": "2", "aws:cloudformation:stack-name": "s", "env": "dev"})
    before, after = sync_ec2_tags(changes, client, "vpc net", VPC, actual, {"Name": "net", "env": "prod"}, True)
    assert changes.changes == [
        {"action": "update", "resource": "vpc net", "attributes": ["tags.env"]},
        {"action": "update", "resource": "vpc net", "attributes": ["tags.a-old", "tags.z-old"]},
    ]
    assert before == {"Name": "net", "z-old": "1", "a-old": "2", "aws:cloudformation:stack-name": "s", "env": "dev"}
    assert after == {"Name": "net", "env": "prod", "aws:cloudformation:stack-name": "s"}


def test_without_purge_other_tags_stay(ec2):
    client, stub = ec2
    stub.add_response("create_tags", {}, {"Resources": [VPC], "Tags": [{"Key": "env", "Value": "prod"}]})
    changes = ChangeSet(FakeModule())
    before, after = sync_ec2_tags(changes, client, "vpc net", VPC, tags(other="x"), {"env": "prod"}, False)
    assert [row["attributes"] for row in changes.changes] == [["tags.env"]]
    assert after == {"other": "x", "env": "prod"}


@pytest.mark.parametrize(
    ("actual", "desired"),
    [
        (tags(Name="net", n="1"), {"Name": "net", "n": 1}),  # AWS stores text: 1 and "1" are one value
        (tags(Name="net", other="x"), None),  # tags not given: left alone
    ],
)
def test_nothing_to_change_makes_no_call(ec2, actual, desired):
    client, _stub = ec2
    changes = ChangeSet(FakeModule())
    before, _after = sync_ec2_tags(changes, client, "vpc net", VPC, actual, desired, True)
    assert changes.changes == [] and before == {tag["Key"]: tag["Value"] for tag in actual}


def test_check_mode_records_the_rows_and_calls_nothing(ec2):
    client, _stub = ec2
    changes = ChangeSet(FakeModule(check_mode=True))
    _before, after = sync_ec2_tags(changes, client, "vpc net", VPC, tags(old="1"), {"Name": "net"}, True)
    assert [row["attributes"] for row in changes.changes] == [["tags.Name"], ["tags.old"]]
    assert after == {"Name": "net"}
