# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""acm_certificate: moto in-process for the flows it serves, botocore's Stubber for AWS's own sequences.

moto 5.2.5 serves every call the module makes (RequestCertificate, DescribeCertificate with its
ResourceRecord, ListCertificates with key types, tags, DeleteCertificate; Route53 GetHostedZone,
ListResourceRecordSets, ChangeResourceRecordSets; EC2 DescribeRegions). It publishes the records at
once and issues a certificate ACM_VALIDATION_WAIT seconds after the request, so what AWS does in between
(records published late, PENDING_VALIDATION polls then ISSUED, a FAILED validation) is stubbed: the
Stubber also checks every request against the service model. Test setup reaches into moto's backend only
for what no API does: mark a certificate in use by another service, or FAILED.
"""

import datetime
import json
import re

import boto3
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import retry_for
from ansible_collections.reelle.infra.plugins.modules import acm_certificate
from botocore.stub import ANY, Stubber
from moto import mock_aws, settings
from moto.acm.models import acm_backends
from moto.core import DEFAULT_ACCOUNT_ID

REGION = "eu-west-1"
ZONE = "reelle.example"
DOMAIN = f"api-origin.{ZONE}"


def run(capsys, args, check_mode=False, diff=False):
    """Run the module's main() with args; return its JSON result."""
    with patch_module_args(dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)), pytest.raises(SystemExit):
        acm_certificate.main()
    return json.loads(capsys.readouterr().out)


def aws_env(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("REELLE_AWS_TARGET", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "REELLE_AWS_TIME_SCALE": "0.01",
    }.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def zone(monkeypatch):
    """moto in-process with a public hosted zone for ZONE; its id."""
    aws_env(monkeypatch)
    with mock_aws():
        created = boto3.client("route53").create_hosted_zone(Name=ZONE, CallerReference="unit")
        yield created["HostedZone"]["Id"].split("/")[-1]


def args(zone_id, **overrides):
    base = {
        "region": REGION,
        "domain_name": DOMAIN,
        "validation_zone_id": zone_id,
        "wait": False,
        "tags": {"environment": "test"},
        "shared_record_regions": [REGION],
    }
    base.update(overrides)
    return base


def certificates(region=REGION):
    acm = boto3.client("acm", region_name=region)
    summaries = acm.list_certificates(Includes={"keyTypes": acm_certificate.KEY_TYPES})["CertificateSummaryList"]
    return {
        item["CertificateArn"]: acm.describe_certificate(CertificateArn=item["CertificateArn"]) for item in summaries
    }


def cnames(zone_id):
    records = boto3.client("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {item["Name"]: item["ResourceRecords"][0]["Value"] for item in records if item["Type"] == "CNAME"}


def retrying(client, service):
    """A client as aws_client() wraps it."""
    return RetryingBotoClientWrapper(client, retry_for(service))


def backend_certificate(arn, region=REGION):
    return acm_backends[DEFAULT_ACCOUNT_ID][region].get_certificate(arn)


# --- input, before any call ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "limit", "problem"),
    [
        ("api.reelle.example", 64, None),
        ("*.reelle.example", 64, None),
        ("xn--bcher-kva.example", 64, None),
        ("API.Reelle.Example", 64, None),
        ("a" * 60 + ".example", 64, "longer than 64"),  # the first name is the certificate's CN
        ("a" * 60 + ".example", 253, None),  # other names may be longer
        ("api.reelle.example.", 64, "must not end with a period"),
        ("localhost", 64, "at least two labels"),
        ("api.*.example", 64, "only as the leftmost label"),
        ("ap*.example", 64, "a whole label"),
        ("-api.example", 64, "letters, digits or hyphens"),
        ("api_x.example", 64, "letters, digits or hyphens"),
        ("b" * 64 + ".example", 253, "letters, digits or hyphens"),
        ("bücher.example", 64, "punycode"),
        ("api.example.c", 64, "at least two characters"),
        ("", 64, "must be a domain name"),
    ],
)
def test_name_problems(name, limit, problem):
    problems = acm_certificate.name_problems("domain_name", name, limit)
    if problem is None:
        assert problems == []
    else:
        assert problems and problem in problems[0]


@pytest.mark.parametrize(
    ("wanted_key", "certificate", "reusable"),
    [
        (None, {"Status": "ISSUED", "SubjectAlternativeNames": [DOMAIN], "KeyAlgorithm": "EC-prime256v1"}, True),
        # DescribeCertificate spells the key RSA-2048 where RequestCertificate takes RSA_2048.
        (
            "RSA_2048",
            {"Status": "PENDING_VALIDATION", "SubjectAlternativeNames": [DOMAIN], "KeyAlgorithm": "RSA-2048"},
            True,
        ),
        ("EC_prime256v1", {"Status": "ISSUED", "SubjectAlternativeNames": [DOMAIN], "KeyAlgorithm": "RSA-2048"}, False),
        (None, {"Status": "ISSUED", "SubjectAlternativeNames": [DOMAIN.upper()], "KeyAlgorithm": "RSA-2048"}, True),
        (
            None,
            {"Status": "ISSUED", "SubjectAlternativeNames": [DOMAIN, f"www.{ZONE}"], "KeyAlgorithm": "RSA-2048"},
            False,
        ),
        (
            None,
            {"Status": "VALIDATION_TIMED_OUT", "SubjectAlternativeNames": [DOMAIN], "KeyAlgorithm": "RSA-2048"},
            False,
        ),
        (None, {"Status": "EXPIRED", "SubjectAlternativeNames": [DOMAIN], "KeyAlgorithm": "RSA-2048"}, False),
    ],
)
def test_which_certificate_is_reused(wanted_key, certificate, reusable):
    manager = acm_certificate.AcmCertificateManager.__new__(acm_certificate.AcmCertificateManager)
    manager.params, manager.names = {"key_algorithm": wanted_key}, [DOMAIN]
    assert manager.reusable(certificate) is reusable


@pytest.mark.parametrize(
    ("names", "outside"),
    [
        ([DOMAIN, f"*.{ZONE}", ZONE], []),
        (["reelle.example.org", "otherreelle.example"], ["otherreelle.example", "reelle.example.org"]),
    ],
)
def test_outside_zone(names, outside):
    assert acm_certificate.outside_zone(names, ZONE + ".") == outside


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"domain_name": "api..reelle.example"}, "letters, digits or hyphens"),
        ({"subject_alternative_names": ["www.*.reelle.example"]}, "only as the leftmost label"),
        ({"subject_alternative_names": [f"n{index}.{ZONE}" for index in range(100)]}, "at most 100 names"),
        ({"wait_timeout": -1}, "wait_timeout must not be negative"),
        ({"region": None}, "region is required"),
    ],
)
def test_bad_input_fails_before_any_call(monkeypatch, capsys, overrides, message):
    aws_env(monkeypatch)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)

    def no_client(*_args, **_kwargs):
        raise AssertionError("an AWS client was made")

    monkeypatch.setattr(acm_certificate, "aws_client", no_client)
    result = run(capsys, args("Z0123", **overrides))
    assert result["failed"] is True
    assert message in result["msg"]


def test_zone_is_checked_before_any_change(zone, capsys):
    outside = run(capsys, args(zone, subject_alternative_names=["www.other.example"]))
    assert outside["failed"] is True
    assert "www.other.example not inside the hosted zone" in outside["msg"]
    missing = run(capsys, args(None))
    assert missing["failed"] is True and "validation_zone_id is required" in missing["msg"]
    unknown = run(capsys, args("ZNOSUCHZONE"))
    assert unknown["failed"] is True and "is not a Route53 hosted zone" in unknown["msg"]
    private = boto3.client("route53").create_hosted_zone(
        Name=ZONE,
        CallerReference="private",
        HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": REGION, "VPCId": "vpc-0123456789abcdef0"},
    )["HostedZone"]["Id"]
    refused = run(capsys, args(private.split("/")[-1]))
    assert refused["failed"] is True and "is private" in refused["msg"]
    assert certificates() == {}
    assert cnames(zone) == {}


# --- moto: create, no-op, check mode, resume -------------------------------------------------


def test_check_mode_requests_nothing(zone, capsys):
    result = run(capsys, args(zone), check_mode=True)
    assert result["changed"] is True
    assert result["status"] == "would be requested"
    assert result["certificate_arn"] is None
    assert [row["action"] for row in result["changes"]] == ["create", "create"]
    assert certificates() == {}
    assert cnames(zone) == {}


def test_check_mode_without_a_zone_yet_plans_the_request(zone, capsys):
    """Against an empty account the zone's id is null in check mode: the module plans, never fails."""
    result = run(capsys, args(None), check_mode=True)
    assert result["changed"] is True and result["status"] == "would be requested"
    assert certificates() == {}


def test_create_then_noop(zone, capsys):
    created = run(capsys, args(zone, subject_alternative_names=[f"www.{ZONE}", DOMAIN]), diff=True)
    assert created["changed"] is True
    assert created["status"] == "PENDING_VALIDATION"
    assert created["subject_alternative_names"] == [DOMAIN, f"www.{ZONE}"]
    assert [row["resource"] for row in created["changes"]][0] == f"acm certificate {DOMAIN} in {REGION}"
    found = certificates()
    assert list(found) == [created["certificate_arn"]]
    certificate = found[created["certificate_arn"]]["Certificate"]
    assert sorted(certificate["SubjectAlternativeNames"]) == [DOMAIN, f"www.{ZONE}"]
    tags = boto3.client("acm", region_name=REGION).list_tags_for_certificate(CertificateArn=created["certificate_arn"])
    assert {item["Key"]: item.get("Value") for item in tags["Tags"]} == {
        "environment": "test",
        "reelle:certificate": DOMAIN,
    }
    # Every record ACM published is in the zone, with the value ACM gave.
    wanted = {
        option["ResourceRecord"]["Name"]: option["ResourceRecord"]["Value"]
        for option in certificate["DomainValidationOptions"]
    }
    assert cnames(zone) == wanted
    assert {item["name"]: item["value"] for item in created["validation_records"]} == wanted
    again = run(capsys, args(zone, subject_alternative_names=[f"www.{ZONE}"]))
    assert again["changed"] is False, again["changes"]
    assert again["certificate_arn"] == created["certificate_arn"]
    assert len(certificates()) == 1


def test_tags_are_reconciled_and_the_marker_kept(zone, capsys):
    created = run(capsys, args(zone))
    result = run(capsys, args(zone, tags={"owner": "platform"}))
    assert result["changed"] is True
    assert sorted(attr for row in result["changes"] for attr in row["attributes"]) == ["tags.environment", "tags.owner"]
    tags = boto3.client("acm", region_name=REGION).list_tags_for_certificate(CertificateArn=created["certificate_arn"])
    assert {item["Key"] for item in tags["Tags"]} == {"owner", "reelle:certificate"}
    assert run(capsys, args(zone, tags={"owner": "platform"}))["changed"] is False


def test_a_resumed_run_writes_nothing_and_waits_again(zone, capsys, monkeypatch):
    created = run(capsys, args(zone))
    assert created["status"] == "PENDING_VALIDATION"
    records_before = cnames(zone)
    monkeypatch.setattr(settings, "ACM_VALIDATION_WAIT", 1)  # moto issues it one second after the request
    resumed = run(capsys, args(zone, wait=True, wait_timeout=30))
    assert resumed["changed"] is False, resumed["changes"]
    assert resumed["certificate_arn"] == created["certificate_arn"]
    assert resumed["status"] == "ISSUED"
    assert cnames(zone) == records_before
    assert len(certificates()) == 1


def test_create_and_wait_until_issued(zone, capsys, monkeypatch):
    monkeypatch.setattr(settings, "ACM_VALIDATION_WAIT", 1)
    result = run(capsys, args(zone, wait=True, wait_timeout=60))
    assert result["changed"] is True
    assert result["status"] == "ISSUED"
    assert isinstance(result["waited_seconds"], int) and result["waited_seconds"] >= 0


def test_a_lost_request_answer_gets_the_same_certificate_back(zone, capsys, monkeypatch):
    """When ListCertificates does not show the certificate yet, the same request carries the same token."""
    first = run(capsys, args(zone))
    monkeypatch.setattr(acm_certificate.AcmCertificateManager, "find_ours", lambda self: [])
    second = run(capsys, args(zone))
    assert second["certificate_arn"] == first["certificate_arn"]
    assert len(certificates()) == 1


def test_wildcard_and_base_name_share_one_record(zone, capsys):
    result = run(capsys, args(zone, domain_name=f"*.{ZONE}", subject_alternative_names=[ZONE]))
    assert result["changed"] is True
    assert len(result["validation_records"]) == 1
    assert list(cnames(zone)) == [result["validation_records"][0]["name"]]


def test_a_record_deleted_by_hand_is_written_again(zone, capsys):
    created = run(capsys, args(zone))
    record = created["validation_records"][0]
    boto3.client("route53").change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "DELETE",
                    "ResourceRecordSet": {
                        "Name": record["name"],
                        "Type": "CNAME",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": record["value"]}],
                    },
                }
            ]
        },
    )
    result = run(capsys, args(zone))
    assert result["changes"] == [
        {"action": "create", "resource": f"route53 validation record {record['name']}", "attributes": []}
    ]
    assert cnames(zone) == {record["name"]: record["value"]}


# --- replacement: FAILED, other names ------------------------------------------------------


def test_a_failed_certificate_is_replaced(zone, capsys):
    first = run(capsys, args(zone))
    backend_certificate(first["certificate_arn"]).status = "FAILED"
    result = run(capsys, args(zone))
    assert result["changed"] is True
    assert result["certificate_arn"] != first["certificate_arn"]  # not ACM's answer to the first token
    create, delete = result["changes"]
    assert create["action"] == "create"
    assert create["attributes"] == [f"replaces {first['certificate_arn']} (status FAILED)"]
    assert delete == {
        "action": "delete",
        "resource": f"acm certificate {DOMAIN} in {REGION} {first['certificate_arn']}",
        "attributes": [],
    }
    assert list(certificates()) == [result["certificate_arn"]]
    assert cnames(zone)  # the same names: the records stay for the new certificate


def test_other_names_are_a_new_certificate_and_a_dropped_name_loses_its_record(zone, capsys):
    first = run(capsys, args(zone, subject_alternative_names=[f"www.{ZONE}"]))
    assert len(cnames(zone)) == 2
    result = run(capsys, args(zone))
    assert result["certificate_arn"] != first["certificate_arn"]
    assert result["changes"][0]["attributes"] == [f"replaces {first['certificate_arn']} (subject_alternative_names)"]
    assert list(certificates()) == [result["certificate_arn"]]
    assert sorted(cnames(zone)) == [result["validation_records"][0]["name"]]
    (dropped,) = [item for item in first["validation_records"] if item["name"].endswith(f".www.{ZONE}.")]
    assert result["changes"][-1] == {
        "action": "delete",
        "resource": f"route53 validation record {dropped['name']}",
        "attributes": [],
    }


def test_a_replaced_certificate_in_use_is_kept_and_reported(zone, capsys):
    first = run(capsys, args(zone))
    acm_backends[DEFAULT_ACCOUNT_ID][REGION].set_certificate_in_use_by(first["certificate_arn"], "apigateway-domain")
    result = run(capsys, args(zone, subject_alternative_names=[f"www.{ZONE}"]))
    assert result["changed"] is True
    assert result["kept_certificates"] == [
        {
            "certificate_arn": first["certificate_arn"],
            "status": "PENDING_VALIDATION",
            "in_use_by": ["apigateway-domain"],
        }
    ]
    assert "still use it" in json.dumps(result.get("warnings", []))
    assert set(certificates()) == {first["certificate_arn"], result["certificate_arn"]}
    # The next run keeps the new one and still keeps the old one.
    again = run(capsys, args(zone, subject_alternative_names=[f"www.{ZONE}"]))
    assert again["changed"] is False and again["certificate_arn"] == result["certificate_arn"]


def test_an_issued_certificate_wins_over_a_newer_duplicate(zone, capsys):
    first = run(capsys, args(zone))
    backend_certificate(first["certificate_arn"]).status = "ISSUED"
    duplicate = boto3.client("acm", region_name=REGION).request_certificate(
        DomainName=DOMAIN,
        ValidationMethod="DNS",
        Tags=[{"Key": "reelle:certificate", "Value": DOMAIN}, {"Key": "environment", "Value": "test"}],
    )["CertificateArn"]
    result = run(capsys, args(zone))
    assert result["certificate_arn"] == first["certificate_arn"]
    assert result["status"] == "ISSUED"
    assert [row["resource"] for row in result["changes"]] == [f"acm certificate {DOMAIN} in {REGION} {duplicate}"]
    assert list(certificates()) == [first["certificate_arn"]]
    assert cnames(zone)  # the records of the kept certificate's names stay


def test_another_owners_certificate_is_never_touched(zone, capsys):
    acm = boto3.client("acm", region_name=REGION)
    foreign = acm.request_certificate(DomainName=DOMAIN, ValidationMethod="DNS")["CertificateArn"]
    result = run(capsys, args(zone))
    assert result["certificate_arn"] != foreign
    assert foreign in certificates()
    run(capsys, args(zone, state="absent"))
    assert list(certificates()) == [foreign]


# --- absent ----------------------------------------------------------------------------------


def test_absent_refuses_a_certificate_in_use(zone, capsys):
    created = run(capsys, args(zone))
    acm_backends[DEFAULT_ACCOUNT_ID][REGION].set_certificate_in_use_by(created["certificate_arn"], "cloudfront-e1")
    result = run(capsys, args(zone, state="absent"))
    assert result["failed"] is True
    assert "cloudfront-e1" in result["msg"] and created["certificate_arn"] in result["msg"]
    assert list(certificates()) == [created["certificate_arn"]]
    assert cnames(zone)


def test_absent_deletes_the_certificate_and_its_records(zone, capsys):
    run(capsys, args(zone))
    planned = run(capsys, args(zone, state="absent"), check_mode=True)
    assert [row["action"] for row in planned["changes"]] == ["delete", "delete"]
    assert len(certificates()) == 1 and cnames(zone)
    result = run(capsys, args(zone, state="absent"))
    assert result["changed"] is True
    assert certificates() == {}
    assert cnames(zone) == {}
    assert run(capsys, args(zone, state="absent"))["changed"] is False


def test_absent_keeps_a_record_another_region_renews_through(zone, capsys):
    """ACM gives the same record to the same name in every region of an account (moto does too)."""
    run(capsys, args(zone, region="us-east-1"))
    run(capsys, args(zone))
    result = run(capsys, args(zone, state="absent", shared_record_regions=["us-east-1"]))
    assert [row["action"] for row in result["changes"]] == ["delete"]
    assert "is kept" in json.dumps(result.get("warnings", []))
    assert certificates() == {}
    assert len(certificates("us-east-1")) == 1
    assert len(cnames(zone)) == 1


# --- Stubber: what AWS does that moto does not --------------------------------------------------

ARN = f"arn:aws:acm:{REGION}:123456789012:certificate/0f2c6d3e-1234-4f00-9a1b-0123456789ab"
RECORD = {"Name": f"_3f1a9c.{DOMAIN}.", "Type": "CNAME", "Value": "_7bd2e1.mhbtsbpdnt.acm-validations.aws."}
WWW_RECORD = {"Name": f"_44aa01.www.{ZONE}.", "Type": "CNAME", "Value": "_9c0e2b.mhbtsbpdnt.acm-validations.aws."}


@pytest.fixture
def stubs(monkeypatch):
    """ACM and Route53 clients as aws_client() makes them, answering from Stubbers, on the AWS path."""
    aws_env(monkeypatch)
    clients, stubbers = {}, {}
    for service in ("acm", "route53"):
        client = boto3.client(service, region_name=REGION)
        stubbers[service] = Stubber(client)
        stubbers[service].activate()
        clients[service] = retrying(client, service)
    monkeypatch.setattr(acm_certificate, "aws_client", lambda _module, service, region=None: clients[service])
    yield stubbers
    for stub in stubbers.values():
        stub.assert_no_pending_responses()
        stub.deactivate()


def option(name, record=None, status="PENDING_VALIDATION"):
    found = {"DomainName": name, "ValidationDomain": name, "ValidationStatus": status, "ValidationMethod": "DNS"}
    if record:
        found["ResourceRecord"] = record
    return found


def described(options, status="PENDING_VALIDATION", **extra):
    names = [item["DomainName"] for item in options]
    certificate = {
        "CertificateArn": ARN,
        "DomainName": DOMAIN,
        "SubjectAlternativeNames": names,
        "DomainValidationOptions": options,
        "Status": status,
        "Type": "AMAZON_ISSUED",
        "KeyAlgorithm": "EC-prime256v1",  # AWS's spelling in DescribeCertificate
        "InUseBy": [],
    }
    certificate.update(extra)
    return {"Certificate": certificate}


def expect_zone_and_empty_list(stubs):
    stubs["route53"].add_response(
        "get_hosted_zone",
        {
            "HostedZone": {"Id": "/hostedzone/Z0123", "Name": f"{ZONE}.", "CallerReference": "x", "Config": {}},
            "DelegationSet": {"NameServers": ["ns-1.awsdns-01.org"]},
        },
        {"Id": "Z0123"},
    )
    stubs["acm"].add_response(
        "list_certificates", {"CertificateSummaryList": []}, {"Includes": {"keyTypes": acm_certificate.KEY_TYPES}}
    )


def expect_request(stubs, sans=None):
    request = {
        "DomainName": DOMAIN,
        "ValidationMethod": "DNS",
        "IdempotencyToken": ANY,
        "Tags": [{"Key": "reelle:certificate", "Value": DOMAIN}],
        "KeyAlgorithm": "EC_prime256v1",
    }
    if sans:
        request["SubjectAlternativeNames"] = sans
    stubs["acm"].add_response("request_certificate", {"CertificateArn": ARN}, request)


def expect_records_written(stubs, records):
    for record in records:
        stubs["route53"].add_response(
            "list_resource_record_sets",
            {"ResourceRecordSets": [], "IsTruncated": False, "MaxItems": "1"},
            {"HostedZoneId": "Z0123", "StartRecordName": record["Name"], "StartRecordType": "CNAME", "MaxItems": "1"},
        )
    changes = [
        {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": record["Name"],
                "Type": "CNAME",
                "TTL": 60,
                "ResourceRecords": [{"Value": record["Value"]}],
            },
        }
        for record in records
    ]
    stubs["route53"].add_response(
        "change_resource_record_sets",
        {"ChangeInfo": {"Id": "/change/C1", "Status": "PENDING", "SubmittedAt": datetime.datetime(2026, 1, 1)}},
        {"HostedZoneId": "Z0123", "ChangeBatch": {"Comment": f"ACM validation of {DOMAIN}", "Changes": changes}},
    )


STUB_ARGS = {
    "region": REGION,
    "domain_name": DOMAIN,
    "validation_zone_id": "/hostedzone/Z0123",
    "key_algorithm": "EC_prime256v1",
    "wait": False,
}


def test_records_published_late_are_polled_for_then_written_in_one_batch(stubs, capsys):
    expect_zone_and_empty_list(stubs)
    expect_request(stubs, sans=[f"www.{ZONE}"])
    acm = stubs["acm"]
    acm.add_client_error("describe_certificate", "ResourceNotFoundException", expected_params={"CertificateArn": ARN})
    acm.add_response(
        "describe_certificate", described([option(DOMAIN), option(f"www.{ZONE}")]), {"CertificateArn": ARN}
    )
    acm.add_response(
        "describe_certificate", described([option(DOMAIN, RECORD), option(f"www.{ZONE}")]), {"CertificateArn": ARN}
    )
    acm.add_response(
        "describe_certificate",
        described([option(DOMAIN, RECORD), option(f"www.{ZONE}", WWW_RECORD)]),
        {"CertificateArn": ARN},
    )
    expect_records_written(stubs, [RECORD, WWW_RECORD])
    result = run(capsys, dict(STUB_ARGS, subject_alternative_names=[f"www.{ZONE}"]))
    assert result["changed"] is True, result
    assert result["status"] == "PENDING_VALIDATION"
    assert [item["name"] for item in result["validation_records"]] == [RECORD["Name"], WWW_RECORD["Name"]]


def test_the_request_token_is_acms_shape_and_follows_the_request():
    """IdempotencyToken: 1-32 word characters (ACM); another request or replacement, another token."""
    token = acm_certificate.client_token
    one = token(REGION, DOMAIN, [], None, {"reelle:certificate": DOMAIN}, [], length=32)
    assert re.fullmatch(r"\w{32}", one)
    assert one == token(REGION, DOMAIN, [], None, {"reelle:certificate": DOMAIN}, [], length=32)
    assert one != token(REGION, DOMAIN, [], None, {"reelle:certificate": DOMAIN}, [ARN], length=32)


def test_the_validation_waiter_polls_until_issued(stubs, capsys):
    expect_zone_and_empty_list(stubs)
    expect_request(stubs)
    acm = stubs["acm"]
    acm.add_response("describe_certificate", described([option(DOMAIN, RECORD)]), {"CertificateArn": ARN})
    expect_records_written(stubs, [RECORD])
    for _poll in range(2):  # the waiter's polls: still pending
        acm.add_response("describe_certificate", described([option(DOMAIN, RECORD)]), {"CertificateArn": ARN})
    issued = described([option(DOMAIN, RECORD, "SUCCESS")], status="ISSUED")
    acm.add_response("describe_certificate", issued, {"CertificateArn": ARN})  # the waiter's success
    acm.add_response("describe_certificate", issued, {"CertificateArn": ARN})  # the result's read
    result = run(capsys, dict(STUB_ARGS, wait=True, wait_timeout=60))
    assert result["status"] == "ISSUED"
    assert result["certificate_arn"] == ARN
    assert isinstance(result["waited_seconds"], int)


def test_a_validation_that_fails_while_waiting_fails_the_task_with_acms_reason(stubs, capsys):
    expect_zone_and_empty_list(stubs)
    expect_request(stubs)
    acm = stubs["acm"]
    acm.add_response("describe_certificate", described([option(DOMAIN, RECORD)]), {"CertificateArn": ARN})
    expect_records_written(stubs, [RECORD])
    failed = described([option(DOMAIN, RECORD, "FAILED")], status="FAILED", FailureReason="CAA_ERROR")
    acm.add_response("describe_certificate", failed, {"CertificateArn": ARN})  # the waiter's failure state
    acm.add_response("describe_certificate", failed, {"CertificateArn": ARN})  # read for the message
    result = run(capsys, dict(STUB_ARGS, wait=True, wait_timeout=60))
    assert result["failed"] is True
    assert "FAILED" in result["msg"] and "CAA_ERROR" in result["msg"]
    assert result["certificate_arn"] == ARN


def test_a_wait_that_runs_out_says_a_rerun_resumes(stubs, capsys):
    expect_zone_and_empty_list(stubs)
    expect_request(stubs)
    acm = stubs["acm"]
    acm.add_response("describe_certificate", described([option(DOMAIN, RECORD)]), {"CertificateArn": ARN})
    expect_records_written(stubs, [RECORD])
    # wait_timeout 0: the waiter polls once, then gives up; one more read for the message.
    for _poll in range(2):
        acm.add_response("describe_certificate", described([option(DOMAIN, RECORD)]), {"CertificateArn": ARN})
    result = run(capsys, dict(STUB_ARGS, wait=True, wait_timeout=0))
    assert result["failed"] is True
    assert "PENDING_VALIDATION" in result["msg"] and "a re-run waits again" in result["msg"]


def test_unset_shared_record_regions_checks_every_enabled_region(monkeypatch):
    """EC2 DescribeRegions (enabled regions only, by default) names the regions; the module's own is always in."""
    aws_env(monkeypatch)
    ec2 = boto3.client("ec2", region_name=REGION)
    manager = acm_certificate.AcmCertificateManager.__new__(acm_certificate.AcmCertificateManager)
    manager.module, manager.region = None, "ap-south-2"
    with Stubber(ec2) as stub:
        stub.add_response("describe_regions", {"Regions": [{"RegionName": "us-east-1"}, {"RegionName": REGION}]}, {})
        monkeypatch.setattr(acm_certificate, "aws_client", lambda _module, service, region=None: retrying(ec2, service))
        manager.params = {"shared_record_regions": None}
        assert manager.shared_regions() == ["ap-south-2", REGION, "us-east-1"]
        manager.params = {"shared_record_regions": ["us-east-1"]}
        assert manager.shared_regions() == ["ap-south-2", "us-east-1"]
        stub.assert_no_pending_responses()


def test_a_certificate_acm_fails_at_once_is_reported(stubs, capsys):
    expect_zone_and_empty_list(stubs)
    expect_request(stubs)
    failed = described([option(DOMAIN, status="FAILED")], status="FAILED", FailureReason="DOMAIN_NOT_ALLOWED")
    stubs["acm"].add_response("describe_certificate", failed, {"CertificateArn": ARN})
    result = run(capsys, STUB_ARGS)
    assert result["failed"] is True and "DOMAIN_NOT_ALLOWED" in result["msg"]
