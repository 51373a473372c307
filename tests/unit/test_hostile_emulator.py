# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The recording emulator's hostile profile: throttles, server errors, eventual consistency, IAM propagation,
validation and region outages, each answered as the real service answers it (tests/support/faults.py).

One emulator process serves the module; each test sets its own profile. Clients make one attempt
(``total_max_attempts: 1``) so the raw fault reaches the test, and botocore's own standard-mode retry
classification is asked whether it treats the answer as a throttle.
"""

import contextlib
import functools
import json

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config
from botocore.parsers import create_parser
from botocore.retries.standard import RetryEventAdapter, ThrottlingErrorDetector, TransientRetryableChecker

from tests.support import aws_validation
from tests.support.faults import FaultMiddleware, error_response
from tests.support.recording_emulator import RecordingEmulator, load_profile

pytestmark = pytest.mark.emulator

# botocore reads "max_attempts" as retries (total = max_attempts + 1); "total_max_attempts" is the attempts.
ONE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1})
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        # IAM's 1000+ managed policies cost seconds after every reset and none of these tests needs them.
        patch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")
        emulator = RecordingEmulator(tmp_path_factory.mktemp("hostile"), profile={"seed": 1})
    yield emulator
    emulator.stop()


@pytest.fixture
def hostile(server):
    """The emulator, wiped; call it with a profile to set."""
    server.reset()

    def set_profile(**profile):
        server.set_profile(profile)
        return server

    set_profile()
    return set_profile


@functools.cache
def _session(region):
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)


def client(server, name, region="us-east-1", config=ONE_ATTEMPT):
    """A new client (its own event handlers) of a session kept per region: sessions are slow to load."""
    return _session(region).client(name, endpoint_url=server.endpoint, config=config)


class Classified:
    """Botocore's standard-mode verdicts on the last answer a client got (from its needs-retry event)."""

    def __init__(self, aws_client):
        self.throttling = self.transient = None
        self.detector = ThrottlingErrorDetector(RetryEventAdapter())
        aws_client.meta.events.register("needs-retry", self.record)

    def record(self, **kwargs):
        self.throttling = self.detector.is_throttling_error(**kwargs)
        context = RetryEventAdapter().create_retry_context(**kwargs)
        self.transient = TransientRetryableChecker().is_retryable(context)


def fails(call, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as error:
        call(**kwargs)
    return error.value.response


# --- throttling and server errors ---------------------------------------------------------------

THROTTLES = [
    # (client, operation, kwargs, code, HTTP status)
    ("ec2", "describe_vpcs", {}, "RequestLimitExceeded", 503),
    ("rds", "describe_db_instances", {}, "Throttling", 400),
    ("elasticache", "describe_replication_groups", {}, "Throttling", 400),
    ("iam", "list_roles", {}, "Throttling", 400),
    ("sts", "get_caller_identity", {}, "Throttling", 400),
    ("autoscaling", "describe_auto_scaling_groups", {}, "Throttling", 400),
    ("elbv2", "describe_load_balancers", {}, "Throttling", 400),
    ("cloudwatch", "describe_alarms", {}, "Throttling", 400),  # JSON with x-amzn-query-error
    ("sns", "list_topics", {}, "Throttling", 400),
    ("ecs", "list_clusters", {}, "ThrottlingException", 400),
    ("logs", "describe_log_groups", {}, "ThrottlingException", 400),
    ("kms", "list_keys", {}, "ThrottlingException", 400),
    ("secretsmanager", "list_secrets", {}, "ThrottlingException", 400),
    ("backup", "list_backup_plans", {}, "ThrottlingException", 400),
    ("application-autoscaling", "describe_scalable_targets", {"ServiceNamespace": "ecs"}, "ThrottlingException", 400),
    ("ecr", "describe_repositories", {}, "ThrottlingException", 400),
    ("apigatewayv2", "get_apis", {}, "TooManyRequestsException", 429),
    ("s3", "list_buckets", {}, "SlowDown", 503),
    ("route53", "list_hosted_zones", {}, "Throttling", 400),
    ("route53", "create_hosted_zone", {"Name": "example.com", "CallerReference": "r1"}, "PriorRequestNotComplete", 400),
    ("cloudfront", "list_distributions", {}, "Throttling", 400),
]


@pytest.mark.parametrize(("service", "operation", "kwargs", "code", "status"), THROTTLES)
def test_each_service_throttles_with_its_own_code_and_botocore_sees_a_throttle(
    hostile, service, operation, kwargs, code, status
):
    server = hostile(seed=3, throttle_rate=1.0, max_streak=100)
    aws = client(server, service)
    verdict = Classified(aws)
    response = fails(getattr(aws, operation), **kwargs)
    assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    assert response["Error"]["Message"]
    assert verdict.throttling is True
    assert server.profile_counts()["throttle"] == 1
    assert server.requests()[-1]["fault"] == "throttle"


@pytest.mark.parametrize(
    ("service", "operation", "codes"),
    [
        ("ec2", "describe_vpcs", {500: "InternalError", 503: "ServiceUnavailable"}),
        ("iam", "list_roles", {500: "InternalFailure", 503: "ServiceUnavailable"}),
        ("ecs", "list_clusters", {500: "InternalFailure", 503: "ServiceUnavailable"}),
        ("s3", "list_buckets", {500: "InternalError", 503: "ServiceUnavailable"}),
    ],
)
def test_server_errors_are_500_or_503_and_transient_not_throttling(hostile, service, operation, codes):
    server = hostile(seed=5, error_rate=1.0, max_streak=100)
    aws = client(server, service)
    verdict = Classified(aws)
    seen = set()
    for _ in range(8):
        response = fails(getattr(aws, operation))
        status = response["ResponseMetadata"]["HTTPStatusCode"]
        assert response["Error"]["Code"] == codes[status]
        assert verdict.transient is True and verdict.throttling is False
        seen.add(status)
    assert seen == {500, 503}
    assert server.profile_counts()["error"] == 8


# --- seeding and the streak bound ---------------------------------------------------------------


def _fault_pattern(server, seed):
    server.set_profile({"seed": seed, "throttle_rate": 0.4, "error_rate": 0.2, "max_streak": 100})
    ec2 = client(server, "ec2")
    mark = server.mark()
    for index in range(20):
        with contextlib.suppress(botocore.exceptions.ClientError):
            ec2.describe_vpcs(VpcIds=[f"vpc-{index:08x}"])
    return [entry.get("fault") for entry in server.since(mark)]


def test_same_seed_same_faults_other_seed_other_faults(hostile):
    server = hostile()
    first, again, other = _fault_pattern(server, 11), _fault_pattern(server, 11), _fault_pattern(server, 12)
    assert first == again
    assert first != other
    assert {"throttle", "error"} <= set(first) and None in first


def test_one_request_is_never_faulted_more_than_max_streak_times_in_a_row(hostile):
    server = hostile(seed=1, throttle_rate=1.0, max_streak=3)
    ec2 = client(server, "ec2")
    codes = []
    for _ in range(5):
        try:
            ec2.describe_vpcs()
            codes.append("ok")
        except botocore.exceptions.ClientError as error:
            codes.append(error.response["Error"]["Code"])
    assert codes == ["RequestLimitExceeded"] * 3 + ["ok", "RequestLimitExceeded"]
    # Another request (another body) has a streak of its own.
    assert fails(ec2.describe_subnets)["Error"]["Code"] == "RequestLimitExceeded"


def test_a_retrying_client_gets_through(hostile):
    server = hostile(seed=1, throttle_rate=1.0, max_streak=1)
    ec2 = client(server, "ec2", config=Config(retries={"mode": "standard", "total_max_attempts": 2}))
    assert ec2.describe_vpcs()["Vpcs"]
    assert [entry.get("fault") for entry in server.requests()[-2:]] == ["throttle", None]


# --- eventual consistency -----------------------------------------------------------------------


def _vpc(ec2):
    return ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]


def _subnet(ec2, vpc):
    return ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]


def _eip(ec2):
    return ec2.allocate_address(Domain="vpc")["AllocationId"]


def _launch_template(ec2, _context):
    data = {"InstanceType": "t3.micro"}
    return ec2.create_launch_template(LaunchTemplateName="lt", LaunchTemplateData=data)["LaunchTemplate"][
        "LaunchTemplateId"
    ]


# (name, prerequisites made without lag -> context, create(ec2, context) -> id, use(ec2, id), NotFound code)
CONSISTENCY = [
    ("vpc", lambda ec2: None, lambda ec2, _: _vpc(ec2),
     lambda ec2, i: ec2.modify_vpc_attribute(VpcId=i, EnableDnsSupport={"Value": True}), "InvalidVpcID.NotFound"),
    ("subnet", _vpc, _subnet,
     lambda ec2, i: ec2.modify_subnet_attribute(SubnetId=i, MapPublicIpOnLaunch={"Value": True}),
     "InvalidSubnetID.NotFound"),
    ("security group", _vpc, lambda ec2, vpc: ec2.create_security_group(GroupName="g", Description="d", VpcId=vpc)[
        "GroupId"], lambda ec2, i: ec2.create_tags(Resources=[i], Tags=[{"Key": "k", "Value": "v"}]),
     "InvalidGroup.NotFound"),
    ("route table", _vpc, lambda ec2, vpc: ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"],
     lambda ec2, i: ec2.describe_route_tables(RouteTableIds=[i]), "InvalidRouteTableID.NotFound"),
    ("internet gateway", lambda ec2: None,
     lambda ec2, _: ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"],
     lambda ec2, i: ec2.describe_internet_gateways(InternetGatewayIds=[i]), "InvalidInternetGatewayID.NotFound"),
    ("nat gateway", lambda ec2: (_subnet(ec2, _vpc(ec2)), _eip(ec2)),
     lambda ec2, c: ec2.create_nat_gateway(SubnetId=c[0], AllocationId=c[1])["NatGateway"]["NatGatewayId"],
     lambda ec2, i: ec2.describe_nat_gateways(NatGatewayIds=[i]), "NatGatewayNotFound"),
    ("eip allocation", lambda ec2: None, lambda ec2, _: _eip(ec2),
     lambda ec2, i: ec2.describe_addresses(AllocationIds=[i]), "InvalidAllocationID.NotFound"),
    ("launch template", lambda ec2: None, _launch_template,
     lambda ec2, i: ec2.describe_launch_template_versions(LaunchTemplateId=i), "InvalidLaunchTemplateId.NotFound"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "before", "create", "use", "code"), CONSISTENCY, ids=[row[0] for row in CONSISTENCY])
def test_a_new_ec2_id_is_not_found_for_k_requests_then_found(hostile, name, before, create, use, code):
    server = hostile()
    ec2 = client(server, "ec2")
    context = before(ec2)
    server.set_profile({"seed": 2, "consistency_lag": 2})
    new_id = create(ec2, context)
    for _ in range(2):
        response = fails(use, ec2=ec2, i=new_id)
        assert response["Error"]["Code"] == code
        assert new_id in response["Error"]["Message"]
    use(ec2, new_id)
    assert server.profile_counts()["consistency"] == 2


def test_a_route_to_a_new_nat_gateway_gets_the_target_not_found(hostile):
    server = hostile()
    ec2 = client(server, "ec2")
    vpc = _vpc(ec2)
    subnet, allocation = _subnet(ec2, vpc), _eip(ec2)
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    server.set_profile({"consistency_lag": 1})
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    route = {"RouteTableId": table, "DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": nat}
    response = fails(ec2.create_route, **route)
    assert response["Error"] == {
        "Code": "InvalidNatGatewayID.NotFound",
        "Message": f"The natGateway ID '{nat}' does not exist",
    }
    ec2.create_route(**route)


def test_filters_do_not_count_as_naming_an_id(hostile):
    server = hostile(consistency_lag=1)
    ec2 = client(server, "ec2")
    vpc = _vpc(ec2)
    ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
    assert fails(ec2.describe_vpcs, VpcIds=[vpc])["Error"] == {
        "Code": "InvalidVpcID.NotFound",
        "Message": f"The vpc ID '{vpc}' does not exist",
    }
    ec2.describe_vpcs(VpcIds=[vpc])


def test_a_new_bucket_is_no_such_bucket_for_k_requests(hostile):
    server = hostile(consistency_lag=2)
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="reelle-lagging")
    tagging = {"TagSet": [{"Key": "k", "Value": "v"}]}
    for _ in range(2):
        response = fails(s3.put_bucket_tagging, Bucket="reelle-lagging", Tagging=tagging)
        assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == ("NoSuchBucket", 404)
        assert response["Error"]["BucketName"] == "reelle-lagging"
    s3.put_bucket_tagging(Bucket="reelle-lagging", Tagging=tagging)
    assert [entry.get("fault") for entry in server.requests()[-4:]] == [None, "consistency", "consistency", None]


def test_reset_forgets_lagging_ids(hostile, server):
    hostile(consistency_lag=5)
    ec2 = client(server, "ec2")
    vpc = _vpc(ec2)
    server.reset()
    with pytest.raises(botocore.exceptions.ClientError) as error:
        ec2.describe_vpcs(VpcIds=[vpc])  # moto forgot it too: its own NotFound, not ours
    assert server.requests()[-1].get("fault") is None
    assert error.value.response["Error"]["Code"] == "InvalidVpcID.NotFound"


# --- IAM propagation ----------------------------------------------------------------------------


def _role_and_profile(server):
    iam = client(server, "iam")
    role = iam.create_role(RoleName="reelle-node", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.create_instance_profile(InstanceProfileName="reelle-node")
    iam.add_role_to_instance_profile(InstanceProfileName="reelle-node", RoleName="reelle-node")
    return role


def _run_instances(server, role):
    ec2 = client(server, "ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    kwargs = {"ImageId": image, "MinCount": 1, "MaxCount": 1, "IamInstanceProfile": {"Name": "reelle-node"}}
    return lambda: ec2.run_instances(**kwargs)


def _auto_scaling_group(server, role):
    ec2, autoscaling = client(server, "ec2"), client(server, "autoscaling")
    data = {"ImageId": "ami-12c6146b", "InstanceType": "t3.micro", "IamInstanceProfile": {"Name": "reelle-node"}}
    template = ec2.create_launch_template(LaunchTemplateName="nodes", LaunchTemplateData=data)
    template_id = template["LaunchTemplate"]["LaunchTemplateId"]
    kwargs = {
        "AutoScalingGroupName": "nodes",
        "LaunchTemplate": {"LaunchTemplateId": template_id, "Version": "$Latest"},
        "MinSize": 0,
        "MaxSize": 1,
        "AvailabilityZones": ["us-east-1a"],
    }
    return lambda: autoscaling.create_auto_scaling_group(**kwargs)


def _backup_selection(server, role):
    backup = client(server, "backup")
    rule = {"RuleName": "daily", "TargetBackupVaultName": "Default"}
    plan = backup.create_backup_plan(BackupPlan={"BackupPlanName": "p", "Rules": [rule]})["BackupPlanId"]
    selection = {"SelectionName": "all", "IamRoleArn": role, "Resources": ["*"]}
    return lambda: backup.create_backup_selection(BackupPlanId=plan, BackupSelection=selection)


def _rds_monitoring(server, role):
    rds = client(server, "rds")
    kwargs = {
        "DBInstanceIdentifier": "db1",
        "DBInstanceClass": "db.t3.micro",
        "Engine": "postgres",
        "MasterUsername": "reelle",
        "MasterUserPassword": "password123",
        "AllocatedStorage": 20,
        "MonitoringInterval": 60,
        "MonitoringRoleArn": role,
    }
    return lambda: rds.create_db_instance(**kwargs)


def _ecs_service(server, role):
    ecs = client(server, "ecs")
    ecs.create_cluster(clusterName="c")
    container = {"name": "app", "image": "nginx", "memory": 128}
    ecs.register_task_definition(family="app", containerDefinitions=[container])
    return lambda: ecs.create_service(cluster="c", serviceName="app", taskDefinition="app", desiredCount=0, role=role)


IAM_PROPAGATION = [
    ("ec2 RunInstances", _run_instances, "InvalidParameterValue",
     "Value (reelle-node) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"),
    ("autoscaling via launch template", _auto_scaling_group, "ValidationError",
     "You must use a valid fully-formed launch template. Value (reelle-node) for parameter iamInstanceProfile.name "
     "is invalid. Invalid IAM Instance Profile name"),
    ("backup selection", _backup_selection, "InvalidParameterValueException",
     "IAM Role arn:aws:iam::123456789012:role/reelle-node cannot be assumed by AWS Backup"),
    ("rds monitoring role", _rds_monitoring, "InvalidParameterValue",
     "IAM role ARN value is invalid or does not include the required permissions for: ENHANCED_MONITORING"),
    ("ecs service role", _ecs_service, "InvalidParameterException",
     "Unable to assume role and validate the specified targetGroupArn. Please verify that the ECS service role being "
     "passed has the proper permissions."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "prepare", "code", "message"), IAM_PROPAGATION, ids=[row[0] for row in IAM_PROPAGATION]
)
def test_a_new_role_or_profile_cannot_be_passed_for_k_requests(hostile, name, prepare, code, message):
    server = hostile(seed=4, iam_propagation_lag=2)
    role = _role_and_profile(server)
    call = prepare(server, role)
    for _ in range(2):
        response = fails(call)
        assert (response["Error"]["Code"], response["Error"]["Message"]) == (code, message)
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    if name == "backup selection":  # moto has no CreateBackupSelection: the third attempt reaches moto's 500
        with pytest.raises(botocore.exceptions.ClientError):
            call()
    else:
        call()
    assert server.requests()[-1].get("fault") is None
    assert server.profile_counts()["iam_propagation"] == 2


# --- validation ---------------------------------------------------------------------------------

TOKEN = "Abcdefgh12345678!&#$^<>-"
VALIDATION = [
    # (client, operation, kwargs, code or None when AWS accepts it)
    ("elasticache", "create_replication_group",
     {"ReplicationGroupId": "rg1", "ReplicationGroupDescription": "d", "AuthToken": "with_underscore_1234",
      "TransitEncryptionEnabled": True, "Engine": "redis", "CacheNodeType": "cache.t3.micro"},
     ("InvalidParameterValue", "Invalid AuthToken provided.")),
    ("elasticache", "create_replication_group",
     {"ReplicationGroupId": "rg2", "ReplicationGroupDescription": "d", "AuthToken": "short!",
      "TransitEncryptionEnabled": True, "Engine": "redis", "CacheNodeType": "cache.t3.micro"},
     ("InvalidParameterValue", "Invalid AuthToken provided.")),
    ("elasticache", "create_replication_group",
     {"ReplicationGroupId": "rg3", "ReplicationGroupDescription": "d", "AuthToken": TOKEN,
      "TransitEncryptionEnabled": True, "Engine": "redis", "CacheNodeType": "cache.t3.micro"}, None),
    ("elbv2", "create_load_balancer", {"Name": "internal-web", "Subnets": ["subnet-1", "subnet-2"]},
     ("ValidationError", "The load balancer name 'internal-web' cannot begin with 'internal-'")),
    ("elbv2", "create_load_balancer", {"Name": "a" * 33, "Subnets": ["subnet-1", "subnet-2"]},
     ("ValidationError", f"The load balancer name '{'a' * 33}' cannot be longer than '32' characters")),
    ("elbv2", "create_load_balancer", {"Name": "web_1", "Subnets": ["subnet-1", "subnet-2"]},
     ("ValidationError", "The load balancer name 'web_1' can only contain characters that are alphanumeric "
      "characters and hyphens(-)")),
    ("elbv2", "create_load_balancer", {"Name": "web-", "Subnets": ["subnet-1", "subnet-2"]},
     ("ValidationError", "The load balancer name 'web-' cannot end with a hyphen(-)")),
    ("iam", "create_role", {"RoleName": "r" * 65, "AssumeRolePolicyDocument": TRUST},
     ("ValidationError", f"1 validation error detected: Value '{'r' * 65}' at 'roleName' failed to satisfy "
      "constraint: Member must have length less than or equal to 64")),
    ("s3", "create_bucket", {"Bucket": "Reelle_Uploads"}, ("InvalidBucketName", "The specified bucket is not valid.")),
    ("rds", "create_db_instance",
     {"DBInstanceIdentifier": "db1", "DBInstanceClass": "db.t3.micro", "Engine": "postgres", "MasterUsername": "u",
      "MasterUserPassword": "pass@word123", "AllocatedStorage": 20},
     ("InvalidParameterValue", "The parameter MasterUserPassword is not a valid password. Only printable ASCII "
      "characters besides '/', '@', '\"', ' ' may be used.")),
]  # fmt: skip


@pytest.mark.parametrize(("service", "operation", "kwargs", "error"), VALIDATION)
def test_validation_rules_moto_skips(hostile, service, operation, kwargs, error):
    server = hostile(validation=True)
    aws = client(server, service)
    if error is None:
        getattr(aws, operation)(**kwargs)
        assert server.profile_counts()["validation"] == 0
        return
    response = fails(getattr(aws, operation), **kwargs)
    assert (response["Error"]["Code"], response["Error"]["Message"]) == error
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert server.requests()[-1]["fault"] == "validation"


def test_validation_is_off_unless_asked(hostile):
    server = hostile(throttle_rate=0)
    elasticache = client(server, "elasticache")
    elasticache.create_replication_group(
        ReplicationGroupId="rg1", ReplicationGroupDescription="d", AuthToken="with_underscore_1234"
    )


@pytest.mark.parametrize(
    ("token", "valid"),
    [
        ("a" * 16, True),
        ("a" * 128, True),
        ("a" * 15, False),
        ("a" * 129, False),
        (TOKEN, True),
        ("abcdefghijklmnop@", False),
        ("abcdefghijklmnop ", False),
        ("abcdefghijklmnop/", False),
        ("abcdefghijklmnop%", False),
        ("abcdefghijklmnopé", False),
    ],
)
def test_auth_token_rule(token, valid):
    assert (aws_validation.check("elasticache", "ModifyReplicationGroup", {"AuthToken": token}) is None) == valid


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("reelle-uploads", True),
        ("reelle.logs.2026", True),
        ("ab", False),
        ("a" * 64, False),
        ("Reelle", False),
        ("-reelle", False),
        ("reelle..logs", False),
        ("192.168.1.1", False),
        ("xn--reelle", False),
        ("reelle-alias", True),
        ("reelle-s3alias", False),  # suffix reserved for access point aliases
        ("reelle--x-s3", False),  # suffix reserved for directory buckets
    ],
)
def test_bucket_name_rule(name, valid):
    assert (aws_validation.check("s3", "CreateBucket", {"Bucket": name}) is None) == valid


def test_every_rule_names_its_error_and_doc():
    for rule in aws_validation.RULES:
        assert rule.code and rule.message and rule.doc.startswith("https://docs.aws.amazon.com/")


# --- region outage ------------------------------------------------------------------------------


def test_a_region_outage_drops_the_connection_without_an_http_answer(hostile):
    server = hostile(outage_regions=["us-east-1"])
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        client(server, "ec2", "us-east-1").describe_vpcs()
    assert client(server, "ec2", "eu-west-1").describe_vpcs()["Vpcs"]
    # Global control planes sign us-east-1: they are down with it.
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        client(server, "iam", "eu-west-1").list_roles()
    entries = server.requests()[-3:]
    assert [(entry["region"], entry.get("fault")) for entry in entries] == [
        ("us-east-1", "outage"),
        ("eu-west-1", None),
        ("eu-west-1", "outage"),  # the log keeps the credential scope; IAM's endpoint is in us-east-1
    ]
    assert server.profile_counts()["outage"] == 2


def test_an_outage_is_retried_then_raised_by_botocore(hostile):
    server = hostile(outage_regions=["eu-west-1"])
    sts = client(server, "sts", "eu-west-1", config=Config(retries={"mode": "standard", "total_max_attempts": 2}))
    mark = server.mark()
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        sts.get_caller_identity()
    assert [entry.get("fault") for entry in server.since(mark)] == ["outage", "outage"]


# --- control --------------------------------------------------------------------------------------


def test_profile_control_api_and_log_fields(hostile, server):
    hostile(seed=9, throttle_rate=0.0, consistency_lag=1)
    assert server.profile() == {"seed": 9, "throttle_rate": 0.0, "consistency_lag": 1}
    assert set(server.profile_counts()) == {
        "throttle",
        "error",
        "consistency",
        "iam_propagation",
        "validation",
        "outage",
    }
    client(server, "ec2", "ap-southeast-2").describe_vpcs()
    entry = server.requests()[-1]
    assert entry["region"] == "ap-southeast-2" and "fault" not in entry
    assert not any(entry["service"] == "reelle-api" for entry in server.requests())


def test_middleware_without_a_server_passes_through_when_off():
    def app(environ, start_response):
        start_response("200 OK", [])
        return [b"moto"]

    middleware = FaultMiddleware(app, {})
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": None, "CONTENT_LENGTH": "0"}
    assert middleware(environ, lambda status, headers: None) == [b"moto"]
    assert middleware.get_profile() == {}
    with pytest.raises(ValueError):
        middleware.set_profile([])


@pytest.mark.parametrize(
    ("protocol", "environ", "headers"),
    [
        ("smithy-rpc-v2-cbor", {"HTTP_X_AMZN_QUERY_MODE": "true"}, {"x-amzn-query-error": "Throttling;Sender"}),
        ("json", {"CONTENT_TYPE": "application/x-amz-json-1.0"}, {}),
        ("query", {"reelle.service": "rds", "reelle.params": {"Version": "2014-10-31"}}, {}),
        ("rest-xml", {"reelle.service": "cloudfront"}, {}),
    ],
)
def test_error_bodies_parse_with_botocore(protocol, environ, headers):
    wire = {"smithy-rpc-v2-cbor": "cbor"}.get(protocol, protocol)
    status, answer_headers, body = error_response(environ, wire, 400, "Throttling", "Rate exceeded")
    answer_headers = {name.lower(): value for name, value in answer_headers}
    assert headers.items() <= answer_headers.items()
    parsed = create_parser(protocol).parse(
        {"status_code": int(status.split()[0]), "headers": answer_headers, "body": body}, None
    )
    assert (parsed["Error"]["Code"], parsed["Error"]["Message"]) == ("Throttling", "Rate exceeded")


def test_profile_from_json_or_file(tmp_path):
    profile = {"seed": 7, "throttle_rate": 0.25, "outage_regions": ["eu-west-1"]}
    (tmp_path / "hostile.json").write_text(json.dumps(profile))
    assert load_profile(json.dumps(profile)) == load_profile(str(tmp_path / "hostile.json")) == profile
    assert load_profile("") == {}
