# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aws_load_balancer against the real emulator (moto server).

Every call the module makes is served by moto 5.2.5: botocore validates each
request against the service model before it is sent to the emulator all the
same. The Stubber tests at the end show what moto does not: ACM's later pages
and its "in use" answers while a deleted load balancer drains.

Wiping the emulator and making the first subnet cost seconds, so the tests of
this file share one wiped emulator and one VPC; each test names its own load
balancer, target group and certificate domain (the `lb` fixture).
"""

import datetime
import itertools
import json
from types import SimpleNamespace

import boto3
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.reelle.infra.plugins.modules import aws_load_balancer

SERIAL = itertools.count(1)


def run(capsys, args, check_mode=False, diff=False):
    """Run the module's main() with args; return its JSON result."""
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        aws_load_balancer.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def shared_emulator(emulator_server):
    """One wiped emulator for this file; the environment points boto3 at it."""
    emulator_server.reset()
    with pytest.MonkeyPatch.context() as patch:
        for key, value in emulator_server.env.items():
            patch.setenv(key, value)
        yield emulator_server


@pytest.fixture(scope="module")
def upstream(shared_emulator):
    """What the network and security roles would have made: VPC, two public subnets, two groups."""
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{index}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for index, zone in enumerate(("us-east-1a", "us-east-1b"))
    ]
    groups = [ec2.create_security_group(GroupName=f"alb{i}", Description="alb", VpcId=vpc)["GroupId"] for i in (1, 2)]
    return {"vpc_id": vpc, "subnets": subnets, "security_groups": groups}


@pytest.fixture
def lb(upstream, shared_emulator, monkeypatch):
    """This test's names, and the staging-like module arguments for them."""
    for key, value in shared_emulator.env.items():
        monkeypatch.setenv(key, value)
    serial = next(SERIAL)
    names = SimpleNamespace(name=f"unit-lb-{serial}", tg=f"unit-lb-{serial}-app", domain=f"api{serial}.unit.example")

    def args(**overrides):
        result = {
            "name": names.name,
            "subnets": upstream["subnets"],
            "security_groups": upstream["security_groups"][:1],
            "idle_timeout": 60,
            "http2": True,
            "deletion_protection": False,
            "drop_invalid_header_fields": True,
            "target_group": {
                "name": names.tg,
                "port": 7777,
                "vpc_id": upstream["vpc_id"],
                "deregistration_delay": 30,
                "health_check": {
                    "path": "/health",
                    "port": "traffic-port",
                    "protocol": "HTTP",
                    "matcher": "200",
                    "interval": 15,
                    "timeout": 5,
                    "healthy_threshold": 2,
                    "unhealthy_threshold": 3,
                },
            },
            "domain_name": names.domain,
            "tags": {"project": "reelle", "environment": "unit"},
        }
        result.update(overrides)
        return result

    names.args = args
    names.upstream = upstream
    return names


def elb():
    return boto3.client("elbv2")


def certificates(domain):
    found = boto3.client("acm").list_certificates()["CertificateSummaryList"]
    return [item for item in found if item["DomainName"] == domain]


def load_balancers(name):
    try:
        return elb().describe_load_balancers(Names=[name])["LoadBalancers"]
    except elb().exceptions.LoadBalancerNotFoundException:
        return []


def target_groups(name):
    try:
        return elb().describe_target_groups(Names=[name])["TargetGroups"]
    except elb().exceptions.TargetGroupNotFoundException:
        return []


def attributes(lb_arn):
    found = elb().describe_load_balancer_attributes(LoadBalancerArn=lb_arn)["Attributes"]
    return {item["Key"]: item["Value"] for item in found}


def test_create_makes_alb_target_group_listeners_and_one_certificate(capsys, lb):
    result = run(capsys, lb.args())
    assert result["changed"]
    assert [row["resource"] for row in result["changes"] if row["action"] == "create"] == [
        f"target group {lb.tg}",
        f"load balancer {lb.name}",
        f"self-signed certificate {lb.domain}",
        "listener 80",
        "listener 443",
    ]
    [alb] = load_balancers(lb.name)
    assert alb["Scheme"] == "internet-facing"
    assert sorted(zone["SubnetId"] for zone in alb["AvailabilityZones"]) == sorted(lb.upstream["subnets"])
    assert result["load_balancer_arn"] == alb["LoadBalancerArn"]
    assert result["load_balancer_dns_name"] == alb["DNSName"]
    assert alb["LoadBalancerArn"].endswith(":loadbalancer/" + result["load_balancer_arn_suffix"])
    assert result["load_balancer_arn_suffix"].startswith(f"app/{lb.name}/")
    assert result["target_group_arn_suffix"].startswith(f"targetgroup/{lb.tg}/")
    assert attributes(alb["LoadBalancerArn"])["idle_timeout.timeout_seconds"] == "60"
    assert attributes(alb["LoadBalancerArn"])["routing.http2.enabled"] == "true"

    [tg] = target_groups(lb.tg)
    assert (tg["Port"], tg["Protocol"], tg["TargetType"], tg["HealthCheckPath"]) == (7777, "HTTP", "ip", "/health")
    assert (tg["HealthyThresholdCount"], tg["UnhealthyThresholdCount"]) == (2, 3)

    found = elb().describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
    listeners = {item["Port"]: item for item in found}
    redirect = listeners[80]["DefaultActions"][0]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"] == {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}
    https = listeners[443]
    assert https["Protocol"] == "HTTPS"
    assert https["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["Certificates"] == [{"CertificateArn": result["certificate_arn"]}]
    assert https["DefaultActions"][0]["TargetGroupArn"] == tg["TargetGroupArn"]
    assert result["https_listener_arn"] == https["ListenerArn"]

    [certificate] = certificates(lb.domain)
    assert certificate["CertificateArn"] == result["certificate_arn"]
    assert result["certificate_self_signed"] is True


def test_private_key_never_appears_in_the_output(capsys, lb):
    args = dict(lb.args(), _ansible_check_mode=False, _ansible_diff=True)
    with patch_module_args(args), pytest.raises(SystemExit):
        aws_load_balancer.main()
    out = capsys.readouterr().out
    assert "PRIVATE KEY" not in out
    assert "BEGIN CERTIFICATE" not in out


def test_second_run_changes_nothing_and_does_not_reimport(capsys, lb):
    first = run(capsys, lb.args())
    second = run(capsys, lb.args())
    assert not second["changed"], second["changes"]
    assert second["changes"] == []
    assert second["certificate_arn"] == first["certificate_arn"]
    assert len(certificates(lb.domain)) == 1
    for key in ("load_balancer_arn", "target_group_arn", "https_listener_arn", "load_balancer_dns_name"):
        assert second[key] == first[key]


@pytest.mark.parametrize(
    ("override", "resource", "attribute"),
    [
        ({"idle_timeout": 120}, "load balancer", "idle_timeout.timeout_seconds"),
        ({"http2": False}, "load balancer", "routing.http2.enabled"),
        ({"ssl_policy": "ELBSecurityPolicy-TLS13-1-3-2021-06"}, "listener 443", "SslPolicy"),
        ({"redirect_status_code": "HTTP_302"}, "listener 80", "DefaultActions"),
        ({"tags": {"project": "reelle"}}, "tags of", "tags.environment"),
    ],
)
def test_update_changes_only_what_differs_then_settles(capsys, lb, override, resource, attribute):
    run(capsys, lb.args())
    result = run(capsys, lb.args(**override))
    assert result["changed"]
    assert all(row["action"] == "update" and row["resource"].startswith(resource) for row in result["changes"])
    assert all(attribute in row["attributes"] for row in result["changes"])
    assert not run(capsys, lb.args(**override))["changed"]


def test_health_check_and_security_group_updates(capsys, lb):
    run(capsys, lb.args())
    args = lb.args(security_groups=lb.upstream["security_groups"][1:])
    args["target_group"]["health_check"]["path"] = "/ready"
    result = run(capsys, args)
    assert {(row["resource"], tuple(row["attributes"])) for row in result["changes"]} == {
        (f"load balancer {lb.name}", ("security_groups",)),
        (f"target group {lb.tg}", ("HealthCheckPath",)),
    }
    assert target_groups(lb.tg)[0]["HealthCheckPath"] == "/ready"
    assert load_balancers(lb.name)[0]["SecurityGroups"] == lb.upstream["security_groups"][1:]


def test_unset_options_leave_the_resource_alone(capsys, lb):
    run(capsys, lb.args(idle_timeout=120))
    args = lb.args()
    for key in ("idle_timeout", "http2", "deletion_protection", "drop_invalid_header_fields", "tags", "subnets"):
        args.pop(key)
    args["target_group"] = {"name": lb.tg, "port": 7777}
    result = run(capsys, args)
    assert not result["changed"], result["changes"]
    assert attributes(result["load_balancer_arn"])["idle_timeout.timeout_seconds"] == "120"


def test_check_mode_on_an_empty_account_reports_creates_with_null_ids(capsys, lb):
    args = {
        "name": lb.name,
        "subnets": [None, None],
        "security_groups": [None],
        "target_group": {"name": lb.tg, "port": 7777, "vpc_id": None},
        "domain_name": lb.domain,
        "tags": {"project": "reelle"},
    }
    result = run(capsys, args, check_mode=True)
    assert result["changed"]
    assert [row["action"] for row in result["changes"]] == ["create"] * 5
    null_ids = (
        "load_balancer_arn",
        "target_group_arn",
        "https_listener_arn",
        "certificate_arn",
        "load_balancer_arn_suffix",
    )
    assert all(result[key] is None for key in null_ids)
    assert load_balancers(lb.name) == []
    assert target_groups(lb.tg) == []
    assert certificates(lb.domain) == []


def test_check_mode_plans_an_internal_alb_whose_certificate_would_be_requested_first(capsys, lb):
    """prod on an empty account: the ACM certificate (edge role) is not known yet and nothing may be self-signed."""
    args = {
        "name": lb.name,
        "scheme": "internal",
        "subnets": [None, None],
        "security_groups": [None],
        "target_group": {"name": lb.tg, "port": 7777, "vpc_id": None},
        "certificate_arn": None,
    }
    result = run(capsys, args, check_mode=True)
    assert not result.get("failed"), result.get("msg")
    assert [row["resource"] for row in result["changes"]] == [
        f"target group {lb.tg}",
        f"load balancer {lb.name}",
        "listener 80",
        "listener 443",
    ]
    assert result["certificate_arn"] is None and result["certificate_self_signed"] is False
    # Outside check mode the missing certificate fails before anything is made.
    real = run(capsys, dict(args, subnets=lb.upstream["subnets"]))
    assert real["failed"] and "https needs certificate_arn" in real["msg"]
    assert load_balancers(lb.name) == [] and target_groups(lb.tg) == []


def test_check_mode_on_an_existing_alb_reports_the_update_without_making_it(capsys, lb):
    run(capsys, lb.args())
    result = run(capsys, lb.args(idle_timeout=300), check_mode=True)
    assert result["changed"]
    assert result["changes"] == [
        {"action": "update", "resource": f"load balancer {lb.name}", "attributes": ["idle_timeout.timeout_seconds"]}
    ]
    assert attributes(result["load_balancer_arn"])["idle_timeout.timeout_seconds"] == "60"


def test_diff_shows_before_and_after(capsys, lb):
    run(capsys, lb.args())
    result = run(capsys, lb.args(idle_timeout=90), diff=True)
    key = f"load balancer {lb.name} attributes"
    assert result["diff"]["before"][key]["idle_timeout.timeout_seconds"] == "60"
    assert result["diff"]["after"][key]["idle_timeout.timeout_seconds"] == "90"


def test_given_certificate_arn_is_used_and_nothing_is_imported(capsys, lb):
    # Stands in for an ACM-issued certificate of the real domain.
    certificate, key = aws_load_balancer.self_signed_certificate("issued.unit.example", 90)
    arn = boto3.client("acm").import_certificate(Certificate=certificate, PrivateKey=key)["CertificateArn"]
    result = run(capsys, lb.args(certificate_arn=arn, domain_name=None))
    assert result["certificate_arn"] == arn
    assert result["certificate_self_signed"] is False
    assert certificates(lb.domain) == []
    https = elb().describe_listeners(ListenerArns=[result["https_listener_arn"]])["Listeners"][0]
    assert https["Certificates"] == [{"CertificateArn": arn}]
    assert not run(capsys, lb.args(certificate_arn=arn, domain_name=None))["changed"]


def test_https_off_forwards_http_and_removes_the_https_listener(capsys, lb):
    run(capsys, lb.args())
    result = run(capsys, lb.args(https=False))
    assert {"action": "delete", "resource": "listener 443", "attributes": []} in result["changes"]
    listeners = elb().describe_listeners(LoadBalancerArn=result["load_balancer_arn"])["Listeners"]
    assert [(item["Port"], item["DefaultActions"][0]["Type"]) for item in listeners] == [(80, "forward")]
    assert result["https_listener_arn"] is None
    assert not run(capsys, lb.args(https=False))["changed"]


def test_certificate_near_expiry_is_reimported_in_place(capsys, lb):
    first = run(capsys, lb.args(certificate_validity_days=10))
    second = run(capsys, lb.args(certificate_validity_days=365))
    assert second["changes"] == [
        {"action": "update", "resource": f"self-signed certificate {lb.domain}", "attributes": ["expiry"]}
    ]
    assert second["certificate_arn"] == first["certificate_arn"]
    [certificate] = certificates(lb.domain)
    assert certificate["NotAfter"] > datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=300)
    assert not run(capsys, lb.args())["changed"]


def test_certificate_of_another_load_balancer_is_not_taken(capsys, lb):
    mine = run(capsys, lb.args())["certificate_arn"]
    other = lb.args(name=f"{lb.name}-b")
    other["target_group"] = dict(other["target_group"], name=f"{lb.tg}-b")
    theirs = run(capsys, other)["certificate_arn"]
    assert len(certificates(lb.domain)) == 2
    assert theirs != mine


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"name": "x" * 33}, "at most 32"),
        ({"name": "bad_name"}, "letters, digits and hyphens"),
        ({"domain_name": None}, "needs certificate_arn, or domain_name"),
        ({"target_group": {"name": "unit-lb-no-port"}}, "target_group (with name and port) is required"),
        ({"subnets": None}, "subnets (at least two"),
        ({"idle_timeout": "soon"}, "idle_timeout"),
    ],
)
def test_bad_input_fails_before_the_load_balancer_is_made(capsys, lb, override, message):
    result = run(capsys, lb.args(**override))
    assert result["failed"]
    assert message in result["msg"]
    assert load_balancers(lb.name) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scheme": "internal"}, "changing the scheme"),
        ({"target_group": {"port": 8080}}, "Port"),
        ({"target_group": {"target_type": "instance"}}, "TargetType"),
    ],
)
def test_changes_that_force_replacement_fail_with_a_message(capsys, lb, change, message):
    run(capsys, lb.args())
    args = lb.args()
    if "target_group" in change:
        args["target_group"] = dict(args["target_group"], **change["target_group"])
    else:
        args.update(change)
    result = run(capsys, args)
    assert result["failed"]
    assert message in result["msg"]
    assert "Delete it first" in result["msg"]


def test_a_scheme_change_fails_before_anything_is_changed(capsys, lb):
    created = run(capsys, lb.args())
    args = lb.args(scheme="internal", idle_timeout=120)
    args["target_group"] = dict(args["target_group"], deregistration_delay=5)
    planned = run(capsys, args, check_mode=True)
    result = run(capsys, args)
    for answer in (planned, result):
        assert answer["failed"] and "AWS cannot do it in place. Nothing was changed." in answer["msg"]
    assert not result.get("changes")
    (balancer,) = load_balancers(lb.name)
    assert balancer["Scheme"] == "internet-facing" and balancer["LoadBalancerArn"] == created["load_balancer_arn"]
    assert attributes(balancer["LoadBalancerArn"])["idle_timeout.timeout_seconds"] == "60"
    group = target_groups(lb.tg)[0]["TargetGroupArn"]
    found = elb().describe_target_group_attributes(TargetGroupArn=group)["Attributes"]
    assert {item["Key"]: item["Value"] for item in found}["deregistration_delay.timeout_seconds"] == "30"


def test_an_internal_alb_presents_the_given_acm_certificate_and_converges(capsys, lb):
    """prod: internal, reached through API Gateway's VPC link; the listener presents the origin's ACM certificate."""
    certificate = boto3.client("acm").request_certificate(DomainName=lb.domain, ValidationMethod="DNS")[
        "CertificateArn"
    ]
    args = lb.args(scheme="internal", certificate_arn=certificate)
    created = run(capsys, args)
    assert not created.get("failed"), created.get("msg")
    (balancer,) = load_balancers(lb.name)
    assert balancer["Scheme"] == "internal"
    listeners = elb().describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]
    https = next(item for item in listeners if item["Port"] == 443)
    assert https["ListenerArn"] == created["https_listener_arn"]
    assert https["Certificates"] == [{"CertificateArn": certificate}]
    assert created["certificate_arn"] == certificate and created["certificate_self_signed"] is False
    assert certificates(lb.domain) == [
        item for item in certificates(lb.domain) if item["CertificateArn"] == certificate
    ]
    assert not run(capsys, args)["changed"]


def test_absent_deletes_everything_and_respects_deletion_protection(capsys, lb):
    run(capsys, lb.args(deletion_protection=True))
    absent = {"name": lb.name, "target_group": {"name": lb.tg}, "domain_name": lb.domain, "state": "absent"}
    refused = run(capsys, absent)
    assert refused["failed"]
    assert "deletion protection" in refused["msg"]
    assert len(load_balancers(lb.name)) == 1

    result = run(capsys, dict(absent, deletion_protection=False))
    assert result["changed"]
    assert [row["action"] for row in result["changes"]] == ["update", "delete", "delete", "delete"]
    assert load_balancers(lb.name) == []
    assert target_groups(lb.tg) == []
    assert certificates(lb.domain) == []
    assert not run(capsys, absent)["changed"]


# --- AWS's rules and pages, without the emulator -----------------------------

# CreateLoadBalancer/CreateTargetGroup Name: at most 32 characters, only alphanumerics or hyphens, not beginning or
# ending with a hyphen; a load balancer name must not begin with "internal-" (ELBv2 API reference).
BAD_NAMES = [
    ("x" * 33, "at most 32"),
    ("bad_name", "letters, digits and hyphens"),
    ("-leading", "begin or end with a hyphen"),
    ("trailing-", "begin or end with a hyphen"),
    ("caf\u00e9-lb", "letters, digits and hyphens"),
    ("", "at most 32"),
]


class ValidatingModule:
    """Enough of AnsibleAWSModule for validate(): parameters and a fail_json that stops."""

    class Failed(Exception):
        pass

    def __init__(self, **params):
        defaults = {name: spec.get("default") for name, spec in aws_load_balancer.argument_spec().items()}
        self.params = dict(defaults, state="present", https=False, **params)
        self.check_mode = False

    def fail_json(self, **kwargs):
        raise self.Failed(kwargs["msg"])


def validate(**params):
    module = ValidatingModule(**params)
    manager = aws_load_balancer.LoadBalancerManager.__new__(aws_load_balancer.LoadBalancerManager)
    manager.module, manager.params, manager.name = module, module.params, module.params["name"]
    manager.tg_params = module.params["target_group"] or {}
    manager.validate()


@pytest.mark.parametrize(("name", "message"), [*BAD_NAMES, ("internal-api", 'must not begin with "internal-"')])
def test_bad_load_balancer_names_are_refused_before_any_call(name, message):
    with pytest.raises(ValidatingModule.Failed) as failed:
        validate(name=name, target_group={"name": "tg-ok", "port": 80})
    assert message in str(failed.value) and f"name {name!r}" in str(failed.value)


@pytest.mark.parametrize(("name", "message"), BAD_NAMES)
def test_bad_target_group_names_are_refused_before_any_call(name, message):
    with pytest.raises(ValidatingModule.Failed) as failed:
        validate(name="lb-ok", target_group={"name": name, "port": 80})
    assert message in str(failed.value) and "target_group.name" in str(failed.value)


@pytest.mark.parametrize("name", ["a", "reelle-prod-alb", "A1-b2-C3", "x" * 32, "internal"])
def test_good_names_pass(name):
    validate(name=name, target_group={"name": name, "port": 80})


def test_internal_prefix_is_allowed_for_target_groups():
    validate(name="lb-ok", target_group={"name": "internal-tg", "port": 80})


def test_the_self_signed_certificate_is_found_on_a_later_acm_page(monkeypatch):
    from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
    from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import RETRY
    from botocore.stub import Stubber

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("REELLE_AWS_TARGET", raising=False)
    client = boto3.client("acm", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/2"
    with Stubber(client) as stub:
        includes = {"Includes": {"keyTypes": ["RSA_2048"]}}
        stub.add_response(
            "list_certificates",
            {
                "CertificateSummaryList": [
                    {"CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/1", "DomainName": "other.test"}
                ],
                "NextToken": "t1",
            },
            includes,
        )
        stub.add_response(
            "list_certificates",
            {"CertificateSummaryList": [{"CertificateArn": arn, "DomainName": "lb.test", "Type": "IMPORTED"}]},
            dict(includes, NextToken="t1"),
        )
        stub.add_response(
            "list_tags_for_certificate",
            {"Tags": [{"Key": aws_load_balancer.MARKER_TAG, "Value": "lb-ok"}]},
            {"CertificateArn": arn},
        )
        manager = aws_load_balancer.LoadBalancerManager.__new__(aws_load_balancer.LoadBalancerManager)
        manager.name = "lb-ok"
        manager._acm = RetryingBotoClientWrapper(client, RETRY)
        found = manager._find_self_signed("lb.test")
        stub.assert_no_pending_responses()
    assert found["CertificateArn"] == arn


def test_the_generated_certificate_is_deleted_once_acm_no_longer_reports_it_in_use(monkeypatch):
    """ACM answers ResourceInUseException for a while after the load balancer is gone: the delete waits it out."""
    from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
    from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import ChangeSet, retry_for
    from botocore.stub import Stubber

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("REELLE_AWS_TARGET", raising=False)
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.01")
    credentials = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    elb, acm = boto3.client("elbv2", **credentials), boto3.client("acm", **credentials)
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/1"
    module = SimpleNamespace(check_mode=False, _diff=False)
    manager = aws_load_balancer.LoadBalancerManager.__new__(aws_load_balancer.LoadBalancerManager)
    manager.module, manager.name, manager.tg_params, manager.changes = module, "lb-ok", {}, ChangeSet(module)
    manager.params = {"domain_name": "lb.test", "certificate_arn": None}
    manager.elb = RetryingBotoClientWrapper(elb, retry_for("elbv2"))
    manager._acm = RetryingBotoClientWrapper(acm, retry_for("acm"))
    with Stubber(elb) as elb_stub, Stubber(acm) as acm_stub:
        elb_stub.add_client_error(
            "describe_load_balancers", "LoadBalancerNotFound", expected_params={"Names": ["lb-ok"]}
        )
        acm_stub.add_response(
            "list_certificates",
            {"CertificateSummaryList": [{"CertificateArn": arn, "DomainName": "lb.test", "Type": "IMPORTED"}]},
            {"Includes": {"keyTypes": ["RSA_2048"]}},
        )
        acm_stub.add_response(
            "list_tags_for_certificate",
            {"Tags": [{"Key": aws_load_balancer.MARKER_TAG, "Value": "lb-ok"}]},
            {"CertificateArn": arn},
        )
        for _attempt in range(2):
            acm_stub.add_client_error(
                "delete_certificate", "ResourceInUseException", expected_params={"CertificateArn": arn}
            )
        acm_stub.add_response("delete_certificate", {}, {"CertificateArn": arn})
        result = manager.ensure_absent()
        acm_stub.assert_no_pending_responses()
    assert result["changes"] == [{"action": "delete", "resource": "self-signed certificate lb.test", "attributes": []}]
