# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aws_edge: against the emulator (moto server), and Stubber tests for the calls it lacks."""

import json

import boto3
import botocore.client
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.reelle.infra.plugins.modules import aws_edge as module_under_test
from botocore.stub import ANY, Stubber

ZONE = "edge.example.com"
RECORD = f"api.{ZONE}"
USE1 = {"dns": "t-alb-use1-123.us-east-1.elb.amazonaws.com", "zone": "Z35SXDOTRQ7X7K"}
EUW1 = {"dns": "t-alb-euw1-456.eu-west-1.elb.amazonaws.com", "zone": "Z32O12XQLNTSW2"}


def run(args, capsys, check_mode=False, diff=False):
    """Run the module's main() with these args; the parsed JSON result."""
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        module_under_test.main()
    return json.loads(capsys.readouterr().out)


def records(primary="us-east-1"):
    return [
        {
            "set_identifier": region,
            "failover": "PRIMARY" if region == primary else "SECONDARY",
            "alias_dns_name": alb["dns"],
            "alias_hosted_zone_id": alb["zone"],
        }
        for region, alb in (("us-east-1", USE1), ("eu-west-1", EUW1))
    ]


def edge(primary="us-east-1", **cloudfront):
    """The prod edge: HTTP API -> us-east-1 ALB, CloudFront -> API, Route53 failover across both ALBs."""
    return dict(
        name="t-edge",
        region="us-east-1",
        api={"integration_uri": f"http://{USE1['dns']}/{{proxy}}"},
        cloudfront=cloudfront,
        route53={
            "zone_name": ZONE,
            "record_name": RECORD,
            "health_check": {"type": "HTTP", "resource_path": "/health"},
            "records": records(primary),
        },
        tags={"environment": "test"},
    )


@pytest.fixture
def calls(monkeypatch):
    """Every AWS call the module makes, as service:operation."""
    made = []
    real = botocore.client.BaseClient._make_api_call

    def counting(self, operation, params):
        made.append(f"{self.meta.service_model.service_name}:{operation}")
        return real(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    return made


def apigw():
    return boto3.client("apigatewayv2", region_name="us-east-1")


def cloudfront():
    return boto3.client("cloudfront", region_name="us-east-1")


def route53():
    return boto3.client("route53", region_name="us-east-1")


def distributions():
    return cloudfront().list_distributions()["DistributionList"].get("Items", [])


def failover_records(zone_id):
    sets = route53().list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {item["SetIdentifier"]: item for item in sets if item["Type"] == "A"}


def health_checks():
    return route53().list_health_checks()["HealthChecks"]


def nothing_exists():
    return (
        apigw().get_apis()["Items"] == []
        and distributions() == []
        and route53().list_hosted_zones()["HostedZones"] == []
        and health_checks() == []
    )


# --- against the emulator ---------------------------------------------------


def test_create_builds_api_distribution_zone_health_checks_and_failover_records(emulator, capsys):
    result = run(edge(), capsys)
    assert result["changed"]
    assert [(row["action"], row["resource"]) for row in result["changes"]] == [
        ("create", "http api t-edge-api"),
        ("create", "http api t-edge-api integration"),
        ("create", "http api t-edge-api route ANY /{proxy+}"),
        ("create", "http api t-edge-api route $default"),
        ("create", "http api t-edge-api stage $default"),
        ("create", "cloudfront distribution t-edge API"),
        ("create", f"route53 zone {ZONE}"),
        ("create", f"route53 health check {RECORD} us-east-1"),
        ("create", f"route53 health check {RECORD} eu-west-1"),
        ("create", f"route53 records {RECORD}"),
    ]
    # The API proxies everything to the ALB through an auto-deployed $default stage.
    api = apigw().get_api(ApiId=result["api_id"])
    assert api["ProtocolType"] == "HTTP" and api["Tags"] == {"environment": "test"}
    assert result["api_endpoint"] == api["ApiEndpoint"]
    integration = apigw().get_integrations(ApiId=result["api_id"])["Items"]
    assert [(i["IntegrationType"], i["IntegrationUri"], i["TimeoutInMillis"]) for i in integration] == [
        ("HTTP_PROXY", f"http://{USE1['dns']}/{{proxy}}", 29000)
    ]
    routes = apigw().get_routes(ApiId=result["api_id"])["Items"]
    assert {r["RouteKey"]: r["Target"] for r in routes} == {
        "ANY /{proxy+}": f"integrations/{integration[0]['IntegrationId']}",
        "$default": f"integrations/{integration[0]['IntegrationId']}",
    }
    stage = apigw().get_stage(ApiId=result["api_id"], StageName="$default")
    assert stage["AutoDeploy"] is True
    # CloudFront: the API's execute-api domain over HTTPS only, viewers redirected to HTTPS, TLSv1.2_2021.
    config = cloudfront().get_distribution_config(Id=result["distribution_id"])["DistributionConfig"]
    origin = config["Origins"]["Items"][0]
    assert origin["DomainName"] == api["ApiEndpoint"].removeprefix("https://")
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert sorted(config["DefaultCacheBehavior"]["AllowedMethods"]["Items"]) == module_under_test.ALL_METHODS
    assert config["DefaultCacheBehavior"]["DefaultTTL"] == 0 and config["DefaultCacheBehavior"]["MaxTTL"] == 0
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert config["Enabled"] and config["PriceClass"] == "PriceClass_100"
    assert result["distribution_domain_name"].endswith(".cloudfront.net")
    assert result["distribution_arn"].endswith(f"distribution/{result['distribution_id']}")
    # Route53: PRIMARY us-east-1 and SECONDARY eu-west-1 alias records, each with its health check.
    found = failover_records(result["zone_id"])
    assert {key: item["Failover"] for key, item in found.items()} == {"us-east-1": "PRIMARY", "eu-west-1": "SECONDARY"}
    assert found["us-east-1"]["AliasTarget"]["EvaluateTargetHealth"] is True
    assert module_under_test._dns(found["eu-west-1"]["AliasTarget"]["DNSName"]) == EUW1["dns"]
    assert found["eu-west-1"]["AliasTarget"]["HostedZoneId"] == EUW1["zone"]
    assert {key: item["HealthCheckId"] for key, item in found.items()} == result["health_check_ids"]
    checks = {check["Id"]: check["HealthCheckConfig"] for check in health_checks()}
    assert checks[result["health_check_ids"]["eu-west-1"]]["FullyQualifiedDomainName"] == EUW1["dns"]
    assert {
        (c["Type"], c["ResourcePath"], c["Port"], c["RequestInterval"], c["FailureThreshold"]) for c in checks.values()
    } == {("HTTP", "/health", 80, 30, 3)}
    assert result["record_fqdn"] == RECORD and result["zone_name_servers"]
    assert all(len(check["CallerReference"]) <= 64 for check in health_checks())  # Route53's limit


def test_second_run_changes_nothing_with_eleven_read_calls(emulator, capsys, calls):
    run(edge(), capsys)
    calls.clear()
    result = run(edge(), capsys)
    assert not result["changed"] and result["changes"] == []
    assert sorted(calls) == sorted(
        [
            "apigatewayv2:GetApis",
            "apigatewayv2:GetIntegrations",
            "apigatewayv2:GetRoutes",
            "apigatewayv2:GetStages",
            "cloudfront:ListDistributions",
            "cloudfront:ListTagsForResource",
            "route53:ListHostedZonesByName",
            "route53:ListResourceRecordSets",
            "route53:ListTagsForResource",
            "route53:ListHealthChecks",
            "route53:ListTagsForResources",
        ]
    )
    assert result["skipped_calls"] == []


def test_check_mode_on_an_empty_account_creates_nothing_and_accepts_null_alb_names(emulator, capsys):
    args = edge()
    args["api"]["integration_uri"] = None
    for record in args["route53"]["records"]:
        record["alias_dns_name"] = None
    result = run(args, capsys, check_mode=True)
    assert result["changed"]
    assert {row["action"] for row in result["changes"]} == {"create"}
    assert len(result["changes"]) == 10
    assert result["api_id"] is None and result["distribution_id"] is None and result["zone_id"] is None
    assert nothing_exists()


def test_null_alb_names_fail_outside_check_mode_before_anything_is_touched(emulator, capsys):
    args = edge()
    args["route53"]["records"][1]["alias_dns_name"] = None
    result = run(args, capsys)
    assert result["failed"] and "null only in check mode" in result["msg"]
    assert "route53.records[eu-west-1].alias_dns_name" in result["msg"]
    assert "route53.records[eu-west-1].health_check_fqdn" in result["msg"]
    assert "us-east-1" not in result["msg"]
    assert nothing_exists()


def test_the_old_alb_option_names_still_work(emulator, capsys):
    args = edge()
    for record in args["route53"]["records"]:
        record["alb_dns_name"] = record.pop("alias_dns_name")
        record["alb_hosted_zone_id"] = record.pop("alias_hosted_zone_id")
    created = run(args, capsys)
    assert not created.get("failed"), created.get("msg")
    found = failover_records(created["zone_id"])
    assert found["eu-west-1"]["AliasTarget"]["HostedZoneId"] == EUW1["zone"]
    assert not run(edge(), capsys)["changed"]


def test_flip_primary_to_eu_west_1_is_one_upsert_of_both_records(emulator, capsys, calls):
    created = run(edge(), capsys)
    calls.clear()
    result = run(edge(primary="eu-west-1"), capsys, diff=True)
    assert result["changes"] == [
        {
            "action": "update",
            "resource": f"route53 records {RECORD}",
            "attributes": ["eu-west-1.failover", "us-east-1.failover"],
        }
    ]
    assert calls.count("route53:ChangeResourceRecordSets") == 1
    assert not [call for call in calls if call.split(":")[1].startswith(("Create", "Delete"))]
    found = failover_records(created["zone_id"])
    assert {key: item["Failover"] for key, item in found.items()} == {"us-east-1": "SECONDARY", "eu-west-1": "PRIMARY"}
    # Same zone, same health checks, same distribution: nothing was replaced.
    assert (result["zone_id"], result["health_check_ids"], result["distribution_id"]) == (
        created["zone_id"],
        created["health_check_ids"],
        created["distribution_id"],
    )
    assert result["diff"]["after"][f"route53 records {RECORD}"]["eu-west-1"]["failover"] == "PRIMARY"
    assert not run(edge(primary="eu-west-1"), capsys)["changed"]
    assert run(edge(), capsys)["changes"][0]["attributes"] == ["eu-west-1.failover", "us-east-1.failover"]


def test_origin_change_updates_the_distribution_in_place(emulator, capsys, calls):
    created = run(edge(), capsys)
    calls.clear()
    standby = {"origin_domain_name": EUW1["dns"], "origin_protocol_policy": "http-only"}
    result = run(edge(**standby), capsys)
    assert result["changes"] == [
        {
            "action": "update",
            "resource": "cloudfront distribution t-edge API",
            "attributes": ["origin.domain_name", "origin.protocol_policy"],
        }
    ]
    assert "cloudfront:UpdateDistribution" in calls and "cloudfront:CreateDistribution" not in calls
    assert result["distribution_id"] == created["distribution_id"] and len(distributions()) == 1
    config = cloudfront().get_distribution_config(Id=created["distribution_id"])["DistributionConfig"]
    assert config["Origins"]["Items"][0]["DomainName"] == EUW1["dns"]
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert not run(edge(**standby), capsys)["changed"]


@pytest.mark.parametrize(
    ("change", "resource", "attributes"),
    [
        ({"cloudfront": {"price_class": "PriceClass_All"}}, "cloudfront distribution t-edge API", ["price_class"]),
        (
            {"api": {"integration_uri": f"http://{EUW1['dns']}/{{proxy}}", "timeout_ms": 10000}},
            "http api t-edge-api integration",
            ["IntegrationUri", "TimeoutInMillis"],
        ),
        ({"tags": {"environment": "other"}}, "http api t-edge-api", ["tags.environment"]),
        (
            {"cloudfront": {"logging_bucket": "t-logs.s3.amazonaws.com", "logging_prefix": "cf/"}},
            "cloudfront distribution t-edge API",
            ["logging.bucket", "logging.enabled", "logging.prefix"],
        ),
    ],
)
def test_an_update_changes_only_what_differs(emulator, capsys, change, resource, attributes):
    run(edge(), capsys)
    result = run(dict(edge(), **change), capsys)
    rows = [row for row in result["changes"] if row["resource"] == resource]
    assert rows == [{"action": "update", "resource": resource, "attributes": attributes}]
    assert all(row["action"] == "update" for row in result["changes"])
    assert not run(dict(edge(), **change), capsys)["changed"]


def test_health_check_settings_are_updated_in_place_and_interval_changes_replace_the_check(emulator, capsys):
    created = run(edge(), capsys)
    args = edge()
    args["route53"]["health_check"] = {"type": "HTTP", "resource_path": "/ready", "failure_threshold": 2}
    result = run(args, capsys)
    assert {row["action"] for row in result["changes"]} == {"update"}
    assert result["health_check_ids"] == created["health_check_ids"]
    assert {c["HealthCheckConfig"]["ResourcePath"] for c in health_checks()} == {"/ready"}
    args["route53"]["health_check"]["request_interval"] = 10
    replaced = run(args, capsys)
    assert [row["action"] for row in replaced["changes"]].count("delete") == 2
    assert set(replaced["health_check_ids"].values()).isdisjoint(created["health_check_ids"].values())
    assert {c["HealthCheckConfig"]["RequestInterval"] for c in health_checks()} == {10}
    found = failover_records(created["zone_id"])
    assert {key: item["HealthCheckId"] for key, item in found.items()} == replaced["health_check_ids"]
    assert not run(args, capsys)["changed"]


def test_absent_removes_everything_it_created(emulator, capsys):
    run(edge(), capsys)
    absent = dict(edge(), state="absent")
    planned = run(absent, capsys, check_mode=True)
    assert planned["changed"] and not nothing_exists()
    result = run(absent, capsys)
    assert [(row["action"], row["resource"].split(" ")[0]) for row in result["changes"]] == [
        ("delete", "route53"),
        ("delete", "route53"),
        ("delete", "route53"),
        ("delete", "route53"),
        ("update", "cloudfront"),
        ("delete", "cloudfront"),
        ("delete", "http"),
    ]
    assert nothing_exists()
    assert not run(absent, capsys)["changed"]


def test_absent_keeps_a_zone_holding_other_records(emulator, capsys):
    created = run(edge(), capsys)
    route53().change_resource_record_sets(
        HostedZoneId=created["zone_id"],
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": f"www.{ZONE}.",
                        "Type": "CNAME",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": "example.org"}],
                    },
                }
            ]
        },
    )
    result = run(dict(edge(), state="absent"), capsys)
    assert f"route53 zone {ZONE}" not in [row["resource"] for row in result["changes"]]
    assert route53().list_hosted_zones()["HostedZones"] and failover_records(created["zone_id"]) == {}
    assert health_checks() == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"record_name": "api.other.com"}, "is not inside route53.zone_name"),
        ({"health_check": {"resource_path": "health"}}, "resource_path must start with /"),
        ({"health_check": {"request_interval": 15}}, "request_interval must be 10 or 30"),
        ({"records": records() + [dict(records()[0], set_identifier="x")]}, "exactly one PRIMARY"),
        ({"records": [dict(item, failover="SECONDARY") for item in records()]}, "exactly one PRIMARY"),
    ],
)
def test_bad_route53_input_fails_before_anything_is_touched(emulator, capsys, change, message):
    args = edge()
    args["route53"] = dict(args["route53"], **change)
    result = run(args, capsys)
    assert result["failed"] and message in result["msg"]
    assert nothing_exists()


@pytest.mark.parametrize(
    ("cloudfront", "api", "message"),
    [
        ({"aliases": ["api.example.com"]}, {}, "aliases require cloudfront.acm_certificate_arn"),
        (
            {"acm_certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/x"},
            {},
            "ACM certificate in us-east-1",
        ),
        ({"forwarded_headers": ["Host"]}, {}, "must not forward Host"),
        ({}, {"integration_uri": "ftp://x"}, "api.integration_uri must be an http"),
        ({}, {"timeout_ms": 40000}, "api.timeout_ms must be between 50 and 30000"),
    ],
)
def test_bad_edge_input_fails_before_anything_is_touched(emulator, capsys, cloudfront, api, message):
    args = edge(**cloudfront)
    args["api"].update(api)
    result = run(args, capsys)
    assert result["failed"] and message in result["msg"]
    assert nothing_exists()


def test_normalises_the_emulators_cloudfront_quirks():
    """moto reports legacy ForwardedValues and sni-only with the default certificate; AWS reports TLSv1 there."""
    desired = {"origin": {"id": "api"}, "certificate": {"minimum_protocol_version": "TLSv1.2_2021"}}
    config = {
        "ViewerCertificate": {
            "CloudFrontDefaultCertificate": True,
            "SSLSupportMethod": "sni-only",
            "MinimumProtocolVersion": "TLSv1",
        },
        "DefaultCacheBehavior": {"CachePolicyId": "4135ea2d", "ForwardedValues": {"QueryString": False}},
    }
    view = module_under_test.EdgeManager.actual_view(config, desired)
    assert view["certificate"]["minimum_protocol_version"] == "TLSv1.2_2021"
    assert "forwarded" not in view and view["cache_policy_id"] == "4135ea2d"
    assert module_under_test._dns("DualStack.T-ALB.us-east-1.elb.amazonaws.com.") == "t-alb.us-east-1.elb.amazonaws.com"


# --- calls the emulator lacks: request shapes on AWS (Stubber) --------------


@pytest.fixture
def aws(monkeypatch):
    """Real AWS request shapes: no emulator; the module's clients are stubbed."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("REELLE_AWS_TARGET", raising=False)
    clients, stubs = {}, {}
    for service in ("apigatewayv2",):
        clients[service] = boto3.client(
            service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        stubs[service] = Stubber(clients[service])
        stubs[service].activate()

    def client(self, service, retry_decorator=None, **kwargs):
        return RetryingBotoClientWrapper(clients[service], retry_decorator) if retry_decorator else clients[service]

    monkeypatch.setattr(AnsibleAWSModule, "client", client)
    yield stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()


def test_stage_access_logs_are_turned_on_with_update_stage(aws, capsys):
    stub = aws["apigatewayv2"]
    uri = f"http://{USE1['dns']}/{{proxy}}"
    stub.add_response(
        "get_apis",
        {
            "Items": [
                {
                    "ApiId": "a1",
                    "Name": "t-edge-api",
                    "ProtocolType": "HTTP",
                    "RouteSelectionExpression": "x",
                    "Tags": {},
                }
            ]
        },
        {},
    )
    stub.add_response(
        "get_integrations",
        {
            "Items": [
                {
                    "IntegrationId": "i1",
                    "IntegrationType": "HTTP_PROXY",
                    "IntegrationMethod": "ANY",
                    "IntegrationUri": uri,
                    "PayloadFormatVersion": "1.0",
                    "TimeoutInMillis": 29000,
                    "ConnectionType": "INTERNET",
                }
            ]
        },
        {"ApiId": "a1"},
    )
    stub.add_response(
        "get_routes",
        {"Items": [{"RouteId": "r1", "RouteKey": "$default", "Target": "integrations/i1"}]},
        {"ApiId": "a1"},
    )
    stub.add_response("get_stages", {"Items": [{"StageName": "$default", "AutoDeploy": True}]}, {"ApiId": "a1"})
    log_group = "arn:aws:logs:us-east-1:123456789012:log-group:/t/edge"
    stub.add_response(
        "update_stage",
        {"StageName": "$default"},
        {
            "ApiId": "a1",
            "StageName": "$default",
            "AutoDeploy": True,
            "AccessLogSettings": {"DestinationArn": log_group, "Format": ANY},
        },
    )
    args = {
        "name": "t-edge",
        "region": "us-east-1",
        "api": {"integration_uri": uri, "routes": ["$default"], "access_log_destination_arn": log_group},
    }
    result = run(args, capsys)
    assert result["changes"] == [
        {"action": "update", "resource": "http api t-edge-api stage $default", "attributes": ["AccessLogSettings"]}
    ]
    assert result["skipped_calls"] == []


def test_update_stage_is_skipped_on_the_emulator(emulator, capsys):
    log_group = "arn:aws:logs:us-east-1:123456789012:log-group:/t/edge"
    run(edge(), capsys)
    args = edge()
    args["api"]["access_log_destination_arn"] = log_group
    result = run(args, capsys)
    assert result["changes"][0]["attributes"] == ["AccessLogSettings"]
    assert result["skipped_calls"] == ["apigatewayv2:update_stage"]


# --- CloudFront on AWS: keep what the module does not manage -----------------

DIST_ID = "E2QWRUHAPOMQZL"
DIST_ARN = f"arn:aws:cloudfront::123456789012:distribution/{DIST_ID}"


@pytest.fixture
def cf(monkeypatch):
    """A stubbed CloudFront client on AWS (no emulator)."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("REELLE_AWS_TARGET", raising=False)
    client = boto3.client("cloudfront", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    stub.activate()

    def make(self, service, retry_decorator=None, **kwargs):
        assert service == "cloudfront", service
        return RetryingBotoClientWrapper(client, retry_decorator) if retry_decorator else client

    monkeypatch.setattr(AnsibleAWSModule, "client", make)
    yield stub
    stub.assert_no_pending_responses()


def unmanaged_config(origin="old.example.com"):
    """A distribution as AWS returns it, with settings the module does not manage."""
    return {
        "CallerReference": "made-by-hand-2024",
        "Aliases": {"Quantity": 1, "Items": ["api.example.com"]},
        "DefaultRootObject": "",
        "Origins": {
            "Quantity": 2,
            "Items": [
                {
                    "Id": "api",
                    "DomainName": origin,
                    "OriginPath": "/v1",
                    "CustomHeaders": {"Quantity": 1, "Items": [{"HeaderName": "X-Origin-Verify", "HeaderValue": "s"}]},
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "https-only",
                        "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
                        "OriginReadTimeout": 60,
                        "OriginKeepaliveTimeout": 5,
                    },
                    "ConnectionAttempts": 3,
                    "ConnectionTimeout": 10,
                },
                {
                    "Id": "static",
                    "DomainName": "static.s3.amazonaws.com",
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                },
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "api",
            "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": {
                "Quantity": 7,
                "Items": ["GET", "HEAD", "POST", "PUT", "PATCH", "OPTIONS", "DELETE"],
                "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
            },
            "Compress": True,
            "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
            "FunctionAssociations": {
                "Quantity": 1,
                "Items": [
                    {"FunctionARN": "arn:aws:cloudfront::123456789012:function/rw", "EventType": "viewer-request"}
                ],
            },
            "ResponseHeadersPolicyId": "67f7725c-6f97-4210-82d7-5512b31e9d03",
        },
        "CacheBehaviors": {"Quantity": 0},
        "CustomErrorResponses": {
            "Quantity": 1,
            "Items": [
                {"ErrorCode": 503, "ResponsePagePath": "/503.html", "ResponseCode": "503", "ErrorCachingMinTTL": 10}
            ],
        },
        "Comment": "t-edge API",
        "Logging": {"Enabled": True, "IncludeCookies": True, "Bucket": "logs.s3.amazonaws.com", "Prefix": "cf/"},
        "PriceClass": "PriceClass_100",
        "Enabled": True,
        "ViewerCertificate": {
            "CloudFrontDefaultCertificate": False,
            "ACMCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
            "SSLSupportMethod": "sni-only",
            "MinimumProtocolVersion": "TLSv1.2_2021",
            "Certificate": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
            "CertificateSource": "acm",
        },
        "Restrictions": {"GeoRestriction": {"RestrictionType": "blacklist", "Quantity": 1, "Items": ["KP"]}},
        "WebACLId": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/abc",
        "HttpVersion": "http2",
        "IsIPV6Enabled": True,
    }


def summary_of(config):
    return dict(
        {key: config[key] for key in config if key not in ("CallerReference", "Logging", "DefaultRootObject")},
        Id=DIST_ID,
        ARN=DIST_ARN,
        Status="Deployed",
        LastModifiedTime="2026-01-01T00:00:00Z",
        DomainName="d111111abcdef8.cloudfront.net",
        Staging=False,
    )


def test_an_update_keeps_every_setting_the_module_does_not_manage(cf, capsys):
    current = unmanaged_config()
    cf.add_response(
        "list_distributions",
        {
            "DistributionList": {
                "Marker": "",
                "MaxItems": 100,
                "IsTruncated": False,
                "Quantity": 1,
                "Items": [summary_of(current)],
            }
        },
        {},
    )
    cf.add_response("get_distribution_config", {"DistributionConfig": current, "ETag": "E1"}, {"Id": DIST_ID})
    wanted = json.loads(json.dumps(current))
    wanted["Origins"]["Items"][0]["DomainName"] = "new.example.com"
    cf.add_response(
        "update_distribution",
        {
            "Distribution": {
                "Id": DIST_ID,
                "ARN": DIST_ARN,
                "Status": "InProgress",
                "LastModifiedTime": "2026-01-01T00:00:00Z",
                "InProgressInvalidationBatches": 0,
                "DomainName": "d111111abcdef8.cloudfront.net",
                "DistributionConfig": wanted,
            },
            "ETag": "E2",
        },
        {"Id": DIST_ID, "IfMatch": "E1", "DistributionConfig": wanted},
    )
    args = {
        "name": "t-edge",
        "region": "us-east-1",
        "cloudfront": {
            "origin_domain_name": "new.example.com",
            "cache_policy_id": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
            "acm_certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
        },
    }
    result = run(args, capsys)
    assert not result.get("failed"), result.get("msg")
    assert result["changes"] == [
        {"action": "update", "resource": "cloudfront distribution t-edge API", "attributes": ["origin.domain_name"]}
    ]


def test_a_create_sends_a_deterministic_caller_reference(cf, capsys):
    references = []

    class Reference:
        __hash__ = None

        def __eq__(self, other):
            references.append(other)
            return True

    for _ in range(2):
        cf.add_response(
            "list_distributions",
            {"DistributionList": {"Marker": "", "MaxItems": 100, "IsTruncated": False, "Quantity": 0}},
            {},
        )
        cf.add_response(
            "create_distribution",
            {
                "Distribution": {
                    "Id": DIST_ID,
                    "ARN": DIST_ARN,
                    "Status": "InProgress",
                    "LastModifiedTime": "2026-01-01T00:00:00Z",
                    "InProgressInvalidationBatches": 0,
                    "DomainName": "d1.cloudfront.net",
                    "DistributionConfig": unmanaged_config(),
                },
                "ETag": "E1",
                "Location": "x",
            },
            {"DistributionConfig": Reference()},
        )
        args = {"name": "t-edge", "region": "us-east-1", "cloudfront": {"origin_domain_name": "new.example.com"}}
        assert not run(args, capsys).get("failed")
    first, second = (config["CallerReference"] for config in references)
    assert first == second and "t-edge" in first


def test_the_deploy_waiter_polls_at_cloudfronts_pace_scaled_in_tests(monkeypatch):
    seen = {}

    class Waiter:
        def wait(self, **kwargs):
            seen.update(kwargs["WaiterConfig"])

    class Client:
        def get_waiter(self, name):
            assert name == "distribution_deployed"
            return Waiter()

    monkeypatch.delenv("REELLE_AWS_TARGET", raising=False)
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.1")
    manager = module_under_test.EdgeManager.__new__(module_under_test.EdgeManager)
    manager.params = {"wait_timeout": 1800}
    manager._clients = {"cloudfront": Client()}
    manager.wait_deployed(DIST_ID)
    assert seen["Delay"] == pytest.approx(3.0)
    assert seen["MaxAttempts"] == 600


@pytest.mark.parametrize(("region", "partition"), [("us-east-1", "aws"), ("cn-north-1", "aws-cn")])
def test_the_api_arn_is_in_the_regions_partition(region, partition):
    manager = module_under_test.EdgeManager.__new__(module_under_test.EdgeManager)

    class Meta:
        region_name = region

    class Client:
        meta = Meta()

    manager._clients = {"apigatewayv2": Client()}
    assert manager.api_arn("a1") == f"arn:{partition}:apigateway:{region}::/apis/a1"


# --- prod's chain: per region a private API behind a custom domain; once CloudFront and the records ----------

ORIGIN = f"api-origin.{ZONE}"
VIEWER = f"api.{ZONE}"


def private_backend(region, cidr="10.9", name="t-alb"):
    """What the network, security and load balancer roles make in a region: private subnets, the ALB's group,
    an internal ALB with an HTTPS listener presenting a certificate for the origin name."""
    ec2 = boto3.client("ec2", region_name=region)
    vpc = ec2.create_vpc(CidrBlock=f"{cidr}.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"{cidr}.{index}.0/24", AvailabilityZone=f"{region}{zone}")["Subnet"][
            "SubnetId"
        ]
        for index, zone in enumerate("ab")
    ]
    group = ec2.create_security_group(GroupName=f"{name}-alb", Description="alb", VpcId=vpc)["GroupId"]
    acm = boto3.client("acm", region_name=region)
    certificate = acm.request_certificate(DomainName=ORIGIN, ValidationMethod="DNS")["CertificateArn"]
    elb = boto3.client("elbv2", region_name=region)
    balancer = elb.create_load_balancer(Name=name, Subnets=subnets, SecurityGroups=[group], Scheme="internal")
    target_group = elb.create_target_group(Name=name, Protocol="HTTP", Port=7777, VpcId=vpc, TargetType="ip")
    listener = elb.create_listener(
        LoadBalancerArn=balancer["LoadBalancers"][0]["LoadBalancerArn"],
        Protocol="HTTPS",
        Port=443,
        Certificates=[{"CertificateArn": certificate}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group["TargetGroups"][0]["TargetGroupArn"]}],
    )["Listeners"][0]["ListenerArn"]
    return {
        "region": region,
        "subnets": subnets,
        "group": group,
        "listener": listener,
        "certificate": certificate,
        "vpc": vpc,
        "ec2": ec2,
    }


def regional(backend, **api):
    """One region's API as the role's api entry point calls it."""
    spec = {
        "integration_uri": backend["listener"],
        "integration_tls_server_name": ORIGIN,
        "vpc_link": {"subnet_ids": backend["subnets"], "security_group_ids": [backend["group"]]},
        "custom_domain": {"domain_name": ORIGIN, "certificate_arn": backend["certificate"]},
    }
    spec.update(api)
    return dict(name="t-edge", region=backend["region"], api=spec, tags={"environment": "test"})


def viewer_certificate():
    return boto3.client("acm", region_name="us-east-1").request_certificate(DomainName=VIEWER, ValidationMethod="DNS")[
        "CertificateArn"
    ]


def chain(apis, certificate, primary="us-east-1"):
    """The global call: CloudFront on api.<zone> to the failover name, records to both regions' APIs."""
    return dict(
        name="t-edge",
        region="us-east-1",
        cloudfront={
            "origin_domain_name": ORIGIN,
            "aliases": [VIEWER],
            "acm_certificate_arn": certificate,
            "minimum_protocol_version": "TLSv1.2_2021",
        },
        route53={
            "zone_name": ZONE,
            "record_name": ORIGIN,
            "health_check": {"type": "HTTPS", "resource_path": "/health"},
            "records": [
                {
                    "set_identifier": region,
                    "failover": "PRIMARY" if region == primary else "SECONDARY",
                    "alias_dns_name": api["custom_domain_target"],
                    "alias_hosted_zone_id": api["custom_domain_hosted_zone_id"],
                    "health_check_fqdn": api["api_endpoint"].removeprefix("https://"),
                }
                for region, api in apis.items()
            ],
            "distribution_records": [VIEWER],
        },
        tags={"environment": "test"},
    )


def test_a_region_gets_a_private_integration_through_a_vpc_link_and_a_custom_domain(emulator, capsys):
    backend = private_backend("eu-west-1")
    result = run(regional(backend), capsys)
    assert not result.get("failed"), result.get("msg")
    assert [(row["action"], row["resource"]) for row in result["changes"]] == [
        ("create", "vpc link t-edge-api"),
        ("create", "http api t-edge-api"),
        ("create", "http api t-edge-api integration"),
        ("create", "http api t-edge-api route ANY /{proxy+}"),
        ("create", "http api t-edge-api route $default"),
        ("create", "http api t-edge-api stage $default"),
        ("create", f"api domain name {ORIGIN}"),
        ("create", f"api domain name {ORIGIN} mapping $default"),
    ]
    gateway = boto3.client("apigatewayv2", region_name="eu-west-1")
    link = gateway.get_vpc_link(VpcLinkId=result["vpc_link_id"])
    assert sorted(link["SubnetIds"]) == sorted(backend["subnets"]) and link["SecurityGroupIds"] == [backend["group"]]
    assert link["Tags"] == {"environment": "test"}
    # Every route goes to one HTTP_PROXY integration: the VPC link to the ALB's HTTPS listener, TLS verified
    # against the origin name (the listener's certificate).
    (integration,) = gateway.get_integrations(ApiId=result["api_id"])["Items"]
    assert (integration["IntegrationType"], integration["ConnectionType"], integration["ConnectionId"]) == (
        "HTTP_PROXY",
        "VPC_LINK",
        result["vpc_link_id"],
    )
    assert integration["IntegrationUri"] == backend["listener"]
    assert integration["TlsConfig"] == {"ServerNameToVerify": ORIGIN}
    routes = gateway.get_routes(ApiId=result["api_id"])["Items"]
    assert {route["Target"] for route in routes} == {f"integrations/{integration['IntegrationId']}"}
    # The regional custom domain (the region's certificate, TLS 1.2) maps the whole domain to $default.
    domain = gateway.get_domain_name(DomainName=ORIGIN)
    assert domain["DomainNameConfigurations"][0] == {
        "CertificateArn": backend["certificate"],
        "EndpointType": "REGIONAL",
        "SecurityPolicy": "TLS_1_2",
    }
    (mapping,) = gateway.get_api_mappings(DomainName=ORIGIN)["Items"]
    assert (mapping["ApiId"], mapping["Stage"], mapping["ApiMappingKey"]) == (result["api_id"], "$default", "")
    assert result["api_endpoint"] == f"https://{result['api_id']}.execute-api.eu-west-1.amazonaws.com"
    assert result["custom_domain_name"] == ORIGIN
    # moto returns no regional target: stand-ins, and the gap is listed.
    assert result["custom_domain_target"] == f"{result['api_id']}.execute-api.eu-west-1.amazonaws.com"
    assert result["custom_domain_hosted_zone_id"] == module_under_test.EMULATOR_TARGET_ZONE
    assert result["skipped_calls"] == ["apigatewayv2:regional_domain_name"]


def test_a_region_converged_again_changes_nothing_with_seven_read_calls(emulator, capsys, calls):
    backend = private_backend("us-east-1")
    created = run(regional(backend), capsys)
    calls.clear()
    result = run(regional(backend), capsys)
    assert not result["changed"] and result["changes"] == []
    assert (result["api_id"], result["vpc_link_id"]) == (created["api_id"], created["vpc_link_id"])
    assert sorted(calls) == sorted(
        [
            "apigatewayv2:GetApis",
            "apigatewayv2:GetVpcLinks",
            "apigatewayv2:GetIntegrations",
            "apigatewayv2:GetRoutes",
            "apigatewayv2:GetStages",
            "apigatewayv2:GetDomainName",
            "apigatewayv2:GetApiMappings",
        ]
    )


def test_a_region_in_check_mode_on_an_empty_account_plans_everything_and_accepts_nulls(emulator, capsys):
    args = regional(
        {"region": "eu-west-1", "subnets": [None, None], "group": None, "listener": None, "certificate": None}
    )
    args["api"]["vpc_link"]["security_group_ids"] = []
    result = run(args, capsys, check_mode=True, diff=True)
    assert not result.get("failed"), result.get("msg")
    assert {row["action"] for row in result["changes"]} == {"create"}
    assert [row["resource"] for row in result["changes"]][0] == "vpc link t-edge-api"
    assert result["changes"][-1]["resource"] == f"api domain name {ORIGIN} mapping $default"
    assert result["api_id"] is None and result["vpc_link_id"] is None and result["custom_domain_target"] is None
    gateway = boto3.client("apigatewayv2", region_name="eu-west-1")
    assert gateway.get_apis()["Items"] == [] and gateway.get_vpc_links()["Items"] == []
    assert gateway.get_domain_names()["Items"] == []
    integration = result["diff"]["after"]["http api t-edge-api integration"]
    assert (integration["ConnectionType"], integration["TlsConfig"]) == ("VPC_LINK", {"ServerNameToVerify": ORIGIN})


def test_a_region_with_unknown_upstream_ids_fails_outside_check_mode_before_anything_is_touched(emulator, capsys):
    args = regional({"region": "eu-west-1", "subnets": [None], "group": None, "listener": None, "certificate": None})
    result = run(args, capsys)
    assert result["failed"]
    for name in (
        "api.integration_uri",
        "api.vpc_link.subnet_ids",
        "api.vpc_link.security_group_ids",
        "api.custom_domain.certificate_arn",
    ):
        assert name in result["msg"]
    assert boto3.client("apigatewayv2", region_name="eu-west-1").get_vpc_links()["Items"] == []


def test_other_subnets_replace_the_vpc_link_and_move_the_integration_before_the_old_one_goes(emulator, capsys):
    backend = private_backend("us-east-1")
    created = run(regional(backend), capsys)
    extra = backend["ec2"].create_subnet(VpcId=backend["vpc"], CidrBlock="10.9.9.0/24", AvailabilityZone="us-east-1c")
    moved = dict(backend, subnets=[*backend["subnets"], extra["Subnet"]["SubnetId"]])
    result = run(regional(moved), capsys)
    assert [(row["action"], row["resource"]) for row in result["changes"]] == [
        ("create", "vpc link t-edge-api"),
        ("update", "http api t-edge-api integration"),
        ("delete", f"vpc link t-edge-api {created['vpc_link_id']}"),
    ]
    assert result["changes"][1]["attributes"] == ["ConnectionId"]
    gateway = boto3.client("apigatewayv2", region_name="us-east-1")
    assert [link["VpcLinkId"] for link in gateway.get_vpc_links()["Items"]] == [result["vpc_link_id"]]
    (integration,) = gateway.get_integrations(ApiId=created["api_id"])["Items"]
    assert integration["ConnectionId"] == result["vpc_link_id"] != created["vpc_link_id"]
    assert not run(regional(moved), capsys)["changed"]


def test_a_public_integration_becomes_private_in_place(emulator, capsys):
    """Today's prod: an HTTP_PROXY over the internet; the next run moves it behind the VPC link."""
    backend = private_backend("us-east-1")
    public = dict(name="t-edge", region="us-east-1", api={"integration_uri": f"https://{VIEWER}/{{proxy}}"})
    created = run(public, capsys)
    result = run(regional(backend, custom_domain=None), capsys)
    rows = {row["resource"]: row for row in result["changes"]}
    assert rows["http api t-edge-api integration"]["action"] == "update"
    assert rows["http api t-edge-api integration"]["attributes"] == [
        "ConnectionId",
        "ConnectionType",
        "IntegrationUri",
        "TlsConfig",
    ]
    (integration,) = boto3.client("apigatewayv2", region_name="us-east-1").get_integrations(ApiId=created["api_id"])[
        "Items"
    ]
    assert (integration["ConnectionType"], integration["IntegrationUri"]) == ("VPC_LINK", backend["listener"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"integration_uri": "https://backend.example.com/{proxy}"}, "listener ARN with api.vpc_link"),
        (
            {"integration_uri": "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/t/1"},
            "listener ARN with api.vpc_link",
        ),
        ({"vpc_link": None}, "integration_tls_server_name applies to a private integration"),
        (
            {"custom_domain": {"domain_name": ORIGIN, "certificate_arn": "arn:aws:acm:eu-west-1:1:certificate/x"}},
            "must be an ACM certificate in us-east-1",
        ),
    ],
)
def test_bad_regional_input_fails_before_anything_is_touched(emulator, capsys, change, message):
    fake = {
        "region": "us-east-1",
        "subnets": ["subnet-1"],
        "group": "sg-1",
        "listener": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/t/1/2",
        "certificate": "arn:aws:acm:us-east-1:123456789012:certificate/x",
    }
    args = regional(fake, **change)
    if change.get("vpc_link", "") is None:
        args["api"]["integration_uri"] = "https://backend.example.com/{proxy}"
    result = run(args, capsys)
    assert result["failed"] and message in result["msg"]
    assert nothing_exists()


def test_absent_removes_the_regions_domain_api_and_vpc_link(emulator, capsys):
    backend = private_backend("eu-west-1")
    created = run(regional(backend), capsys)
    planned = run(dict(regional(backend), state="absent"), capsys, check_mode=True)
    result = run(dict(regional(backend), state="absent"), capsys)
    assert [(row["action"], row["resource"]) for row in result["changes"]] == [
        ("delete", f"api domain name {ORIGIN}"),
        ("delete", "http api t-edge-api"),
        ("delete", f"vpc link t-edge-api {created['vpc_link_id']}"),
    ]
    assert result["changes"] == planned["changes"]
    gateway = boto3.client("apigatewayv2", region_name="eu-west-1")
    assert gateway.get_apis()["Items"] == [] and gateway.get_vpc_links()["Items"] == []
    assert gateway.get_domain_names()["Items"] == []
    assert not run(dict(regional(backend), state="absent"), capsys)["changed"]


def both_regions(capsys):
    apis = {}
    for region, cidr in (("us-east-1", "10.9"), ("eu-west-1", "10.8")):
        apis[region] = run(regional(private_backend(region, cidr)), capsys)
        assert not apis[region].get("failed"), apis[region].get("msg")
    return apis


def test_the_chain_cloudfront_on_the_viewer_name_to_the_failover_name_across_both_apis(emulator, capsys):
    apis = both_regions(capsys)
    certificate = viewer_certificate()
    result = run(chain(apis, certificate), capsys)
    assert not result.get("failed"), result.get("msg")
    assert [(row["action"], row["resource"]) for row in result["changes"]] == [
        ("create", "cloudfront distribution t-edge API"),
        ("create", f"route53 zone {ZONE}"),
        ("create", f"route53 health check {ORIGIN} us-east-1"),
        ("create", f"route53 health check {ORIGIN} eu-west-1"),
        ("create", f"route53 records {ORIGIN}"),
        ("create", f"route53 records {VIEWER}"),
    ]
    # CloudFront: alias api.<zone> on the us-east-1 certificate, SNI, TLSv1.2_2021; HTTPS only to api-origin.
    config = cloudfront().get_distribution_config(Id=result["distribution_id"])["DistributionConfig"]
    assert config["Aliases"]["Items"] == [VIEWER]
    certificate_config = config["ViewerCertificate"]
    assert certificate_config["ACMCertificateArn"] == certificate
    assert certificate_config["CloudFrontDefaultCertificate"] is False
    assert (certificate_config["SSLSupportMethod"], certificate_config["MinimumProtocolVersion"]) == (
        "sni-only",
        "TLSv1.2_2021",
    )
    origin = config["Origins"]["Items"][0]
    assert origin["DomainName"] == ORIGIN
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["CustomOriginConfig"]["OriginSslProtocols"]["Items"] == ["TLSv1.2"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    # api.<zone>: alias A and AAAA to the distribution (CloudFront's zone, no target health).
    sets = route53().list_resource_record_sets(HostedZoneId=result["zone_id"])["ResourceRecordSets"]
    viewer = {item["Type"]: item for item in sets if module_under_test._dns(item["Name"]) == VIEWER}
    assert sorted(viewer) == ["A", "AAAA"]
    for item in viewer.values():
        target = item["AliasTarget"]
        assert (target["HostedZoneId"], module_under_test._dns(target["DNSName"]), target["EvaluateTargetHealth"]) == (
            "Z2FDTNDATAQYW2",
            result["distribution_domain_name"],
            False,
        )
        assert "SetIdentifier" not in item
    # api-origin.<zone>: PRIMARY us-east-1's custom domain, SECONDARY eu-west-1's, each with an HTTPS check
    # on that region's own API endpoint host.
    failover = {item["SetIdentifier"]: item for item in sets if module_under_test._dns(item["Name"]) == ORIGIN}
    assert {key: item["Failover"] for key, item in failover.items()} == {
        "us-east-1": "PRIMARY",
        "eu-west-1": "SECONDARY",
    }
    checks = {check["Id"]: check["HealthCheckConfig"] for check in health_checks()}
    for region, item in failover.items():
        assert module_under_test._dns(item["AliasTarget"]["DNSName"]) == apis[region]["custom_domain_target"]
        assert item["AliasTarget"]["HostedZoneId"] == apis[region]["custom_domain_hosted_zone_id"]
        check = checks[item["HealthCheckId"]]
        assert check["FullyQualifiedDomainName"] == f"{apis[region]['api_id']}.execute-api.{region}.amazonaws.com"
        assert (check["Type"], check["Port"], check["ResourcePath"], check["EnableSNI"]) == (
            "HTTPS",
            443,
            "/health",
            True,
        )
        assert (check["RequestInterval"], check["FailureThreshold"]) == (30, 3)
    assert result["record_fqdn"] == ORIGIN and result["distribution_records"] == [VIEWER]


def test_the_chain_converged_again_changes_nothing(emulator, capsys, calls):
    apis = both_regions(capsys)
    certificate = viewer_certificate()
    run(chain(apis, certificate), capsys)
    calls.clear()
    again = run(chain(apis, certificate), capsys)
    assert not again["changed"], again["changes"]
    assert sorted(calls) == sorted(
        [
            "cloudfront:ListDistributions",
            "cloudfront:ListTagsForResource",
            "route53:ListHostedZonesByName",
            "route53:ListResourceRecordSets",
            "route53:ListTagsForResource",
            "route53:ListHealthChecks",
            "route53:ListTagsForResources",
        ]
    )


def test_the_old_failover_set_on_the_viewer_name_goes_in_the_batch_that_points_it_at_cloudfront(emulator, capsys):
    """Today's prod: api.<zone> holds the failover records (to the ALBs) with their health checks."""
    old = edge()
    del old["api"], old["cloudfront"]
    old_checks = run(old, capsys)["health_check_ids"]
    apis = both_regions(capsys)
    result = run(chain(apis, viewer_certificate()), capsys)
    rows = {row["resource"]: row for row in result["changes"]}
    assert rows[f"route53 records {VIEWER}"]["action"] == "update"
    assert rows[f"route53 records {VIEWER}"]["attributes"] == [
        "A.created",
        "A.eu-west-1.deleted",
        "A.us-east-1.deleted",
        "AAAA.created",
    ]
    for check_id in old_checks.values():
        assert rows[f"route53 health check {check_id}"]["action"] == "delete"
    assert set(result["health_check_ids"].values()) == {check["Id"] for check in health_checks()}
    sets = route53().list_resource_record_sets(HostedZoneId=result["zone_id"])["ResourceRecordSets"]
    assert not [item for item in sets if module_under_test._dns(item["Name"]) == VIEWER and item.get("SetIdentifier")]


def test_the_zone_alone(emulator, capsys, calls):
    result = run(dict(name="t-edge", region="us-east-1", route53={"zone_name": ZONE}), capsys)
    assert [(row["action"], row["resource"]) for row in result["changes"]] == [("create", f"route53 zone {ZONE}")]
    assert result["zone_id"] and result["record_fqdn"] is None and result["health_check_ids"] == {}
    calls.clear()
    again = run(dict(name="t-edge", region="us-east-1", route53={"zone_name": ZONE}), capsys)
    assert not again["changed"] and again["zone_id"] == result["zone_id"]
    assert sorted(calls) == ["route53:ListHostedZonesByName", "route53:ListResourceRecordSets"]


@pytest.mark.parametrize(
    ("route53", "cloudfront", "message"),
    [
        ({"record_name": None}, {}, "route53.records need route53.record_name"),
        ({"distribution_records": ["www.other.com"]}, {}, "is not inside route53.zone_name"),
        ({"distribution_records": [f"www.{ZONE}"]}, {}, "is not one of cloudfront.aliases"),
        ({"distribution_records": [ORIGIN]}, {"aliases": [ORIGIN]}, "is also route53.record_name"),
        ({"health_check": {"port": 70000}}, {}, "route53.health_check.port must be between 1 and 65535"),
    ],
)
def test_bad_chain_input_fails_before_anything_is_touched(emulator, capsys, route53, cloudfront, message):
    apis = {
        "us-east-1": {
            "custom_domain_target": "d-1.execute-api.us-east-1.amazonaws.com",
            "custom_domain_hosted_zone_id": "Z1UJRXOUMOOFQ8",
            "api_endpoint": "https://a1.execute-api.us-east-1.amazonaws.com",
        }
    }
    args = chain(apis, "arn:aws:acm:us-east-1:123456789012:certificate/x")
    args["route53"].update(route53)
    args["cloudfront"].update(cloudfront)
    result = run(args, capsys)
    assert result["failed"] and message in result["msg"]
    assert nothing_exists()


def test_a_records_own_health_check_path_must_start_with_a_slash(emulator, capsys):
    args = edge()
    args["route53"]["records"][0]["health_check_path"] = "health"
    result = run(args, capsys)
    assert result["failed"] and "route53.records[us-east-1].health_check_path must start with /" in result["msg"]


# --- the private API on AWS: waits and the calls moto lacks (Stubber) ---------------------------------------

LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/t-alb/50dc6c495c0c9188/f2f7dc8e"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/new"
TAGS = {"environment": "test"}


def aws_regional(**api):
    spec = {
        "integration_uri": LISTENER,
        "integration_tls_server_name": ORIGIN,
        "vpc_link": {"subnet_ids": ["subnet-a", "subnet-b"], "security_group_ids": ["sg-1"]},
        "custom_domain": {"domain_name": ORIGIN, "certificate_arn": CERT},
        "routes": ["$default"],
    }
    spec.update(api)
    return dict(name="t-edge", region="us-east-1", api=spec, tags=TAGS)


def vpc_link(status, link_id="vl1", subnets=("subnet-a", "subnet-b")):
    return {
        "VpcLinkId": link_id,
        "Name": "t-edge-api",
        "SubnetIds": list(subnets),
        "SecurityGroupIds": ["sg-1"],
        "Tags": TAGS,
        "VpcLinkStatus": status,
    }


def existing_api(stub, link_id="vl1"):
    """GetApis .. GetStages of an API that is as wanted (private integration through link_id)."""
    stub.add_response(
        "get_integrations",
        {
            "Items": [
                {
                    "IntegrationId": "i1",
                    "IntegrationType": "HTTP_PROXY",
                    "IntegrationMethod": "ANY",
                    "IntegrationUri": LISTENER,
                    "PayloadFormatVersion": "1.0",
                    "TimeoutInMillis": 29000,
                    "ConnectionType": "VPC_LINK",
                    "ConnectionId": link_id,
                    "TlsConfig": {"ServerNameToVerify": ORIGIN},
                }
            ]
        },
        {"ApiId": "a1"},
    )
    stub.add_response(
        "get_routes",
        {"Items": [{"RouteId": "r1", "RouteKey": "$default", "Target": "integrations/i1"}]},
        {"ApiId": "a1"},
    )
    stub.add_response("get_stages", {"Items": [{"StageName": "$default", "AutoDeploy": True}]}, {"ApiId": "a1"})


def the_api():
    return {
        "ApiId": "a1",
        "Name": "t-edge-api",
        "ProtocolType": "HTTP",
        "RouteSelectionExpression": "x",
        "ApiEndpoint": "https://a1.execute-api.us-east-1.amazonaws.com",
        "Tags": TAGS,
    }


def domain_answer(certificate=CERT, status="AVAILABLE"):
    return {
        "DomainName": ORIGIN,
        "Tags": TAGS,
        "DomainNameConfigurations": [
            {
                "ApiGatewayDomainName": "d-abcde12345.execute-api.us-east-1.amazonaws.com",
                "HostedZoneId": "Z1UJRXOUMOOFQ8",
                "CertificateArn": certificate,
                "EndpointType": "REGIONAL",
                "SecurityPolicy": "TLS_1_2",
                "DomainNameStatus": status,
            }
        ],
    }


def test_a_new_vpc_link_is_waited_for_until_available_before_the_integration_names_it(aws, capsys, monkeypatch):
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.001")
    stub = aws["apigatewayv2"]
    stub.add_response("get_apis", {"Items": [the_api()]}, {})
    stub.add_response("get_vpc_links", {"Items": []}, {})
    stub.add_response(
        "create_vpc_link",
        vpc_link("PENDING"),
        {"Name": "t-edge-api", "SubnetIds": ["subnet-a", "subnet-b"], "SecurityGroupIds": ["sg-1"], "Tags": TAGS},
    )
    stub.add_response("get_vpc_link", vpc_link("PENDING"), {"VpcLinkId": "vl1"})
    stub.add_response("get_vpc_link", vpc_link("AVAILABLE"), {"VpcLinkId": "vl1"})
    existing_api(stub)
    stub.add_response("get_domain_name", domain_answer(), {"DomainName": ORIGIN})
    stub.add_response(
        "get_api_mappings",
        {"Items": [{"ApiMappingId": "m1", "ApiMappingKey": "", "ApiId": "a1", "Stage": "$default"}]},
        {"DomainName": ORIGIN},
    )
    result = run(aws_regional(), capsys)
    assert not result.get("failed"), result.get("msg")
    assert result["changes"] == [{"action": "create", "resource": "vpc link t-edge-api", "attributes": []}]
    # On AWS the target is API Gateway's: nothing stands in, nothing is skipped.
    assert (result["custom_domain_target"], result["custom_domain_hosted_zone_id"]) == (
        "d-abcde12345.execute-api.us-east-1.amazonaws.com",
        "Z1UJRXOUMOOFQ8",
    )
    assert result["skipped_calls"] == []


def test_a_failed_vpc_link_fails_the_task_with_awss_reason(aws, capsys, monkeypatch):
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.001")
    stub = aws["apigatewayv2"]
    stub.add_response("get_apis", {"Items": [the_api()]}, {})
    stub.add_response("get_vpc_links", {"Items": []}, {})
    stub.add_response("create_vpc_link", vpc_link("PENDING"), None)
    failed = dict(vpc_link("FAILED"), VpcLinkStatusMessage="Subnet subnet-b is in an unsupported availability zone")
    stub.add_response("get_vpc_link", failed, {"VpcLinkId": "vl1"})
    result = run(aws_regional(), capsys)
    assert result["failed"]
    assert "vpc link t-edge-api (vl1) FAILED: Subnet subnet-b is in an unsupported availability zone" in result["msg"]


def test_a_failed_vpc_link_found_later_is_replaced(aws, capsys, monkeypatch):
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.001")
    stub = aws["apigatewayv2"]
    stub.add_response("get_apis", {"Items": [the_api()]}, {})
    stub.add_response("get_vpc_links", {"Items": [vpc_link("FAILED", "vl0")]}, {})
    stub.add_response("create_vpc_link", vpc_link("AVAILABLE", "vl1"), None)
    existing_api(stub, link_id="vl0")
    stub.add_response(
        "update_integration",
        {"IntegrationId": "i1"},
        {"ApiId": "a1", "IntegrationId": "i1", "ConnectionId": "vl1"},
    )
    stub.add_response("delete_vpc_link", {}, {"VpcLinkId": "vl0"})
    stub.add_response("get_domain_name", domain_answer(), {"DomainName": ORIGIN})
    stub.add_response(
        "get_api_mappings",
        {"Items": [{"ApiMappingId": "m1", "ApiMappingKey": "", "ApiId": "a1", "Stage": "$default"}]},
        {"DomainName": ORIGIN},
    )
    result = run(aws_regional(), capsys)
    assert [(row["action"], row["resource"]) for row in result["changes"]] == [
        ("create", "vpc link t-edge-api"),
        ("update", "http api t-edge-api integration"),
        ("delete", "vpc link t-edge-api vl0"),
    ]


def test_a_new_certificate_updates_the_domain_name_waits_while_updating_and_remaps_the_api(aws, capsys, monkeypatch):
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.001")
    stub = aws["apigatewayv2"]
    stub.add_response("get_apis", {"Items": [the_api()]}, {})
    stub.add_response("get_vpc_links", {"Items": [vpc_link("AVAILABLE")]}, {})
    existing_api(stub)
    stub.add_response("get_domain_name", domain_answer(certificate=CERT.replace("new", "old")), {"DomainName": ORIGIN})
    stub.add_response(
        "update_domain_name",
        domain_answer(status="UPDATING"),
        {
            "DomainName": ORIGIN,
            "DomainNameConfigurations": [
                {"CertificateArn": CERT, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}
            ],
        },
    )
    stub.add_response(
        "get_api_mappings",
        {"Items": [{"ApiMappingId": "m1", "ApiMappingKey": "", "ApiId": "a0", "Stage": "$default"}]},
        {"DomainName": ORIGIN},
    )
    stub.add_response("get_domain_name", domain_answer(status="UPDATING"), {"DomainName": ORIGIN})
    stub.add_response("get_domain_name", domain_answer(), {"DomainName": ORIGIN})
    stub.add_response(
        "update_api_mapping",
        {"ApiMappingId": "m1", "ApiId": "a1", "Stage": "$default"},
        {"DomainName": ORIGIN, "ApiMappingId": "m1", "ApiId": "a1", "Stage": "$default"},
    )
    result = run(aws_regional(), capsys)
    assert not result.get("failed"), result.get("msg")
    assert result["changes"] == [
        {"action": "update", "resource": f"api domain name {ORIGIN}", "attributes": ["CertificateArn"]},
        {"action": "update", "resource": f"api domain name {ORIGIN} mapping $default", "attributes": ["ApiId"]},
    ]
    assert result["skipped_calls"] == []


def test_on_aws_a_domain_name_without_a_regional_target_fails_instead_of_guessing(aws, capsys):
    stub = aws["apigatewayv2"]
    stub.add_response("get_apis", {"Items": [the_api()]}, {})
    stub.add_response("get_vpc_links", {"Items": [vpc_link("AVAILABLE")]}, {})
    existing_api(stub)
    answer = domain_answer()
    del answer["DomainNameConfigurations"][0]["ApiGatewayDomainName"]
    stub.add_response("get_domain_name", answer, {"DomainName": ORIGIN})
    stub.add_response(
        "get_api_mappings",
        {"Items": [{"ApiMappingId": "m1", "ApiMappingKey": "", "ApiId": "a1", "Stage": "$default"}]},
        {"DomainName": ORIGIN},
    )
    result = run(aws_regional(), capsys)
    assert result["failed"] and "API Gateway reported no regional target" in result["msg"]


def test_an_inactive_vpc_link_is_accepted_as_it_is(aws, capsys):
    """AWS: no traffic for 60 days makes a link INACTIVE; the next request reprovisions it - nothing to wait for."""
    stub = aws["apigatewayv2"]
    stub.add_response("get_apis", {"Items": [the_api()]}, {})
    stub.add_response("get_vpc_links", {"Items": [vpc_link("INACTIVE")]}, {})
    existing_api(stub)
    stub.add_response("get_domain_name", domain_answer(), {"DomainName": ORIGIN})
    stub.add_response(
        "get_api_mappings",
        {"Items": [{"ApiMappingId": "m1", "ApiMappingKey": "", "ApiId": "a1", "Stage": "$default"}]},
        {"DomainName": ORIGIN},
    )
    result = run(aws_regional(), capsys)
    assert not result.get("failed"), result.get("msg")
    assert result["changes"] == [] and result["vpc_link_id"] == "vl1"


def test_moto_reports_the_default_certificate_flag_beside_an_acm_certificate():
    """With an ACM certificate the default one is not in use: TLSv1.2_2021 and sni-only are compared as set."""
    desired = {"origin": {"id": "api"}, "certificate": {"minimum_protocol_version": "TLSv1.2_2021"}}
    config = {
        "ViewerCertificate": {
            "CloudFrontDefaultCertificate": True,
            "ACMCertificateArn": CERT,
            "SSLSupportMethod": "sni-only",
            "MinimumProtocolVersion": "TLSv1",
        }
    }
    view = module_under_test.EdgeManager.actual_view(config, desired)
    assert view["certificate"]["default"] is False
    # Not masked as the default certificate's TLSv1 would be: a real difference from TLSv1.2_2021.
    assert view["certificate"]["minimum_protocol_version"] == "TLSv1"
