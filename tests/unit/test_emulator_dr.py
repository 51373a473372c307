# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a region-outage DR drill needs from the recording emulator, against a real emulator process.

* Aurora global database failover and switchover (tests/support/global_db.py): with us-east-1 out, a
  failover with AllowDataLoss signed for eu-west-1 makes eu-west-1 the writer without a request reaching
  us-east-1; AWS's answer shape, errors and (with a lifecycle profile) FailoverState while it runs.
* Route 53's data plane (tests/support/route53_dns.py): a DNS server answering failover alias records by
  health checks evaluated against the outage, asked through the lookup plugin reelle.infra.dns_answer
  (loaded by Ansible's plugin loader in a process of its own), and GetHealthCheckStatus.
* PATCH of the profile: the outage goes on and off, the rest of the profile stays.
"""

import copy
import json
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import botocore.exceptions
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest
from botocore.config import Config

from tests.support.recording_emulator import RecordingEmulator

pytestmark = pytest.mark.emulator

ROOT = Path(__file__).resolve().parents[2]
ONE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=10)
GLOBAL_ID = "reelle-prod-global"
ZONE = "example.com"
PRIMARY_API = "abc123.execute-api.us-east-1.amazonaws.com"
SECONDARY_API = "def456.execute-api.eu-west-1.amazonaws.com"
PRIMARY_ALB = "reelle-prod-1.us-east-1.elb.amazonaws.com"
SECONDARY_ALB = "reelle-prod-2.eu-west-1.elb.amazonaws.com"

LOOKUP = """
import json, sys
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import init_plugin_loader, lookup_loader
init_plugin_loader([sys.argv[1]])
plugin = lookup_loader.get("reelle.infra.dns_answer")
results = []
for call in json.loads(sys.argv[2]):
    try:
        results.append({"values": plugin.run(call["terms"], variables={}, **call.get("options", {}))})
    except Exception as error:
        kind = "AnsibleLookupError" if isinstance(error, AnsibleLookupError) else type(error).__name__
        results.append({"error": kind, "message": str(error)})
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    emulator = RecordingEmulator(
        tmp_path_factory.mktemp("dr"),
        environ={"MOTO_IAM_LOAD_MANAGED_POLICIES": "false"},  # no IAM here
    )
    yield emulator
    emulator.stop()


@pytest.fixture
def emulator(server):
    server.reset()
    server.set_profile({})
    return server


def client(server, service, region):
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=server.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=ONE_ATTEMPT,
    )


def lookups(server, *calls):
    """Run reelle.infra.dns_answer through Ansible's plugin loader, once per call ({"terms", "options"})."""
    calls = copy.deepcopy(calls)
    for call in calls:
        call.setdefault("options", {}).setdefault("resolver", server.dns_resolver)
    output = subprocess.run(
        [sys.executable, "-c", LOOKUP, str(ROOT / "collections"), json.dumps(calls)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


# --- Aurora global database -------------------------------------------------------------------------


def global_database(emulator):
    """A global cluster with its writer in us-east-1 and a secondary in eu-west-1: (us, eu, arns)."""
    us, eu = client(emulator, "rds", "us-east-1"), client(emulator, "rds", "eu-west-1")
    us.create_global_cluster(GlobalClusterIdentifier=GLOBAL_ID, Engine="aurora-postgresql", EngineVersion="15.4")
    common = {"Engine": "aurora-postgresql", "EngineVersion": "15.4", "GlobalClusterIdentifier": GLOBAL_ID}
    primary = us.create_db_cluster(
        DBClusterIdentifier="reelle-prod-aurora",
        MasterUsername="reelle",
        MasterUserPassword="secret-password",
        **common,
    )["DBCluster"]
    secondary = eu.create_db_cluster(DBClusterIdentifier="reelle-prod-standby-aurora", **common)["DBCluster"]
    return us, eu, {"us-east-1": primary["DBClusterArn"], "eu-west-1": secondary["DBClusterArn"]}


def roles(rds):
    """{DBClusterArn: IsWriter} of the global cluster, and its FailoverState (None when none)."""
    glob = rds.describe_global_clusters(GlobalClusterIdentifier=GLOBAL_ID)["GlobalClusters"][0]
    members = {member["DBClusterArn"]: member["IsWriter"] for member in glob["GlobalClusterMembers"]}
    writer = next(member for member in glob["GlobalClusterMembers"] if member["IsWriter"])
    assert sorted(writer["Readers"]) == sorted(arn for arn, writes in members.items() if not writes)
    return members, glob.get("FailoverState"), glob["Status"]


def test_failover_with_data_loss_while_us_east_1_is_out_then_switchover_back(emulator):
    us, eu, arns = global_database(emulator)
    assert roles(eu)[0] == {arns["us-east-1"]: True, arns["eu-west-1"]: False}

    emulator.patch_profile({"outage_regions": ["us-east-1"]})
    mark = emulator.mark()
    with pytest.raises(botocore.exceptions.ConnectionClosedError):  # the outage is on: us-east-1 is not there
        us.describe_db_clusters(DBClusterIdentifier="reelle-prod-aurora")
    answer = eu.failover_global_cluster(
        GlobalClusterIdentifier=GLOBAL_ID, TargetDbClusterIdentifier=arns["eu-west-1"], AllowDataLoss=True
    )["GlobalCluster"]
    # AWS's answer: the operation starting, the old roles still shown.
    assert answer["Status"] == "failing-over"
    assert answer["FailoverState"] == {
        "Status": "pending",
        "FromDbClusterArn": arns["us-east-1"],
        "ToDbClusterArn": arns["eu-west-1"],
        "IsDataLossAllowed": True,
    }
    assert {m["DBClusterArn"]: m["IsWriter"] for m in answer["GlobalClusterMembers"]}[arns["us-east-1"]] is True
    # Read back from the surviving region: eu-west-1 writes, us-east-1 is a reader member.
    members, state, status = roles(eu)
    assert members == {arns["us-east-1"]: False, arns["eu-west-1"]: True}
    assert (state, status) == (None, "available")
    standby = eu.describe_db_clusters(DBClusterIdentifier="reelle-prod-standby-aurora")["DBClusters"][0]
    assert standby["GlobalClusterIdentifier"] == GLOBAL_ID and standby["Status"] == "available"
    served = emulator.since(mark)
    to_us_east_1 = [entry for entry in served if entry["region"] == "us-east-1"]
    assert [(entry["operation"], entry.get("fault")) for entry in to_us_east_1] == [("DescribeDBClusters", "outage")]
    assert {entry["operation"] for entry in served if entry["region"] == "eu-west-1"} == {
        "FailoverGlobalCluster",
        "DescribeGlobalClusters",
        "DescribeDBClusters",
    }

    emulator.patch_profile({"outage_regions": []})
    # The point-of-failure snapshot of the old primary, visible once its region answers again.
    snapshots = us.describe_db_cluster_snapshots(DBClusterIdentifier="reelle-prod-aurora")["DBClusterSnapshots"]
    failover = [s for s in snapshots if s["DBClusterSnapshotIdentifier"].startswith("rds:unplanned-global-failover-")]
    assert len(failover) == 1 and failover[0]["SnapshotType"] == "automated"
    assert failover[0]["DBClusterSnapshotIdentifier"].startswith("rds:unplanned-global-failover-reelle-prod-aurora-")

    answer = eu.switchover_global_cluster(
        GlobalClusterIdentifier=GLOBAL_ID, TargetDbClusterIdentifier=arns["us-east-1"]
    )
    assert answer["GlobalCluster"]["Status"] == "switching-over"
    assert answer["GlobalCluster"]["FailoverState"]["IsDataLossAllowed"] is False
    assert roles(us)[0] == roles(eu)[0] == {arns["us-east-1"]: True, arns["eu-west-1"]: False}
    # A switchover takes no snapshot.
    snapshots = us.describe_db_cluster_snapshots(DBClusterIdentifier="reelle-prod-aurora")["DBClusterSnapshots"]
    assert len([s for s in snapshots if "unplanned-global-failover" in s["DBClusterSnapshotIdentifier"]]) == 1


def test_failover_without_data_loss_is_a_switchover_by_identifier(emulator):
    _, eu, arns = global_database(emulator)
    answer = eu.failover_global_cluster(
        GlobalClusterIdentifier=GLOBAL_ID, TargetDbClusterIdentifier="reelle-prod-standby-aurora", Switchover=True
    )["GlobalCluster"]
    assert (answer["Status"], answer["FailoverState"]["IsDataLossAllowed"]) == ("switching-over", False)
    assert roles(eu)[0] == {arns["us-east-1"]: False, arns["eu-west-1"]: True}


@pytest.mark.parametrize(
    ("kwargs", "code", "status"),
    [
        ({"GlobalClusterIdentifier": "no-such-global"}, "GlobalClusterNotFoundFault", 404),
        ({"TargetDbClusterIdentifier": "no-such-cluster"}, "DBClusterNotFoundFault", 404),
        (
            {"TargetDbClusterIdentifier": "arn:aws:rds:eu-west-1:123456789012:cluster:no-such-cluster"},
            "DBClusterNotFoundFault",
            404,
        ),
        ({"TargetDbClusterIdentifier": "lonely"}, "InvalidDBClusterStateFault", 400),
        ({"TargetDbClusterIdentifier": "us-east-1"}, "InvalidDBClusterStateFault", 400),
        ({"AllowDataLoss": True, "Switchover": True}, "InvalidParameterCombination", 400),
    ],
)
def test_failover_errors_change_nothing(emulator, kwargs, code, status):
    _, eu, arns = global_database(emulator)
    eu.create_db_cluster(
        DBClusterIdentifier="lonely", Engine="aurora-postgresql", MasterUsername="a", MasterUserPassword="b" * 8
    )
    request = {"GlobalClusterIdentifier": GLOBAL_ID, "TargetDbClusterIdentifier": arns["eu-west-1"], **kwargs}
    if request["TargetDbClusterIdentifier"] == "us-east-1":  # the writer already
        request["TargetDbClusterIdentifier"] = arns["us-east-1"]
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        eu.failover_global_cluster(**request)
    error = raised.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    if "AllowDataLoss" not in kwargs:
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            eu.switchover_global_cluster(**request)
        assert raised.value.response["Error"]["Code"] == code
    assert roles(eu)[0] == {arns["us-east-1"]: True, arns["eu-west-1"]: False}


def test_failover_state_reported_while_it_runs_with_a_lifecycle(emulator):
    _, eu, arns = global_database(emulator)
    emulator.set_profile({"lifecycle": {"describes": 2}})
    eu.failover_global_cluster(
        GlobalClusterIdentifier=GLOBAL_ID, TargetDbClusterIdentifier=arns["eu-west-1"], AllowDataLoss=True
    )
    expected_state = {
        "Status": "failing-over",
        "FromDbClusterArn": arns["us-east-1"],
        "ToDbClusterArn": arns["eu-west-1"],
        "IsDataLossAllowed": True,
    }
    for _ in range(2):  # while it runs: the old roles, Status and FailoverState failing-over
        assert roles(eu) == ({arns["us-east-1"]: True, arns["eu-west-1"]: False}, expected_state, "failing-over")
    assert roles(eu) == ({arns["us-east-1"]: False, arns["eu-west-1"]: True}, None, "available")


# --- Route 53's data plane ----------------------------------------------------------------------------


def failover_zone(emulator):
    """example.com: api (failover aliases with health checks), origin (CNAME), www (A), txt; (route53, checks)."""
    route53 = client(emulator, "route53", "us-east-1")
    zone_id = route53.create_hosted_zone(Name=ZONE, CallerReference="dr")["HostedZone"]["Id"]

    def check(name, fqdn):
        config = {"Type": "HTTPS", "FullyQualifiedDomainName": fqdn, "Port": 443, "ResourcePath": "/health"}
        return route53.create_health_check(CallerReference=name, HealthCheckConfig=config)["HealthCheck"]["Id"]

    checks = {
        "primary": check("primary", PRIMARY_API),
        "secondary": check("secondary", SECONDARY_API),
        "origin": check("origin", f"origin.{ZONE}"),  # no region in the name: the CNAME leads to one
    }

    def alias(role, target, health_check):
        return {
            "Name": f"api.{ZONE}",
            "Type": "A",
            "SetIdentifier": f"api-{role.lower()}",
            "Failover": role,
            "HealthCheckId": health_check,
            "AliasTarget": {"HostedZoneId": "Z35SXDOTRQ7X7K", "DNSName": target, "EvaluateTargetHealth": True},
        }

    records = [
        alias("PRIMARY", PRIMARY_ALB, checks["primary"]),
        alias("SECONDARY", SECONDARY_ALB, checks["secondary"]),
        {"Name": f"origin.{ZONE}", "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": PRIMARY_ALB}]},
        {"Name": f"www.{ZONE}", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "192.0.2.10"}]},
        {"Name": f"txt.{ZONE}", "Type": "TXT", "TTL": 300, "ResourceRecords": [{"Value": '"v=drill"'}]},
        {"Name": f"deep.below.{ZONE}", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "192.0.2.11"}]},
    ]
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": record} for record in records]},
    )
    return route53, checks


def test_failover_record_follows_the_outage_through_the_lookup_plugin(emulator):
    failover_zone(emulator)
    api = {"terms": [f"api.{ZONE}"], "options": {"qtype": "A"}}
    before = lookups(emulator, api, {"terms": [f"www.{ZONE}", f"txt.{ZONE}"], "options": {"qtype": "A"}})
    assert before[0] == {"values": [PRIMARY_ALB]}
    assert before[1] == {"values": ["192.0.2.10"]}  # txt.example.com has no A record: nothing for it
    emulator.patch_profile({"outage_regions": ["us-east-1"]})
    during = lookups(emulator, api, {"terms": [f"txt.{ZONE}"], "options": {"qtype": "TXT"}})
    assert during == [{"values": [SECONDARY_ALB]}, {"values": ["v=drill"]}]
    emulator.patch_profile({"outage_regions": None})
    after = lookups(emulator, api)
    assert after == [{"values": [PRIMARY_ALB]}]


def ask(emulator, name, qtype="A"):
    query = dns.message.make_query(name, qtype)
    return dns.query.udp(query, "127.0.0.1", port=emulator.dns_port, timeout=5)


def test_dns_answers_rcodes_and_health_evaluation(emulator):
    route53, checks = failover_zone(emulator)
    answer = ask(emulator, f"api.{ZONE}")
    assert answer.rcode() == dns.rcode.NOERROR and answer.flags & dns.flags.AA
    assert [rrset.to_text() for rrset in answer.answer] == [f"api.{ZONE}. 60 IN CNAME {PRIMARY_ALB}."]
    assert ask(emulator, f"nothing.{ZONE}").rcode() == dns.rcode.NXDOMAIN
    assert ask(emulator, f"nothing.{ZONE}").authority[0].rdtype == dns.rdatatype.SOA
    assert ask(emulator, f"below.{ZONE}").rcode() == dns.rcode.NOERROR  # a name with names below it
    assert ask(emulator, "api.example.org").rcode() == dns.rcode.REFUSED

    # The health check of origin.example.com (no region in its name) follows its CNAME to us-east-1.
    emulator.patch_profile({"outage_regions": ["eu-west-1"]})
    status = {
        name: route53.get_health_check_status(HealthCheckId=hc)["HealthCheckObservations"]
        for name, hc in checks.items()
    }
    assert {name: {o["StatusReport"]["Status"].split(":")[0] for o in obs} for name, obs in status.items()} == {
        "primary": {"Success"},
        "secondary": {"Failure"},
        "origin": {"Success"},
    }
    assert len(status["primary"]) == 8  # Route 53's default checker regions
    assert ask(emulator, f"api.{ZONE}").answer[0][0].target.to_text() == f"{PRIMARY_ALB}."
    emulator.patch_profile({"outage_regions": ["us-east-1", "eu-west-1"]})
    # Both unhealthy: Route 53 answers the primary.
    assert ask(emulator, f"api.{ZONE}").answer[0][0].target.to_text() == f"{PRIMARY_ALB}."
    emulator.patch_profile({"outage_regions": ["us-east-1"]})
    with pytest.raises(botocore.exceptions.ConnectionClosedError):  # Route 53's control plane is in us-east-1
        route53.get_health_check_status(HealthCheckId=checks["origin"])
    emulator.patch_profile({"outage_regions": ["ap-south-1"]})
    observations = route53.get_health_check_status(HealthCheckId=checks["origin"])["HealthCheckObservations"]
    assert {o["StatusReport"]["Status"].split(":")[0] for o in observations} == {"Success"}


def test_lookup_plugin_errors(emulator):
    failover_zone(emulator)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # bound, never answers
        silent.bind(("127.0.0.1", 0))
        quiet = f"127.0.0.1:{silent.getsockname()[1]}"
        results = lookups(
            emulator,
            {"terms": [f"nothing.{ZONE}"]},
            {"terms": [f"api.{ZONE}"], "options": {"resolver": quiet, "timeout": 1}},
            {"terms": ["api.example.org"]},
            {"terms": [f"www.{ZONE}"], "options": {"qtype": "NOPE"}},
            {"terms": [f"www.{ZONE}"], "options": {"resolver": "127.0.0.1:99999"}},
            {"terms": [f"www.{ZONE}"], "options": {"qtype": "AAAA"}},
        )
    errors = [(result.get("error"), result.get("message", "")) for result in results]
    assert errors[0][0] == "AnsibleLookupError" and "NXDOMAIN" in errors[0][1] and f"nothing.{ZONE}" in errors[0][1]
    assert errors[1][0] == "AnsibleLookupError" and "did not answer within 1" in errors[1][1] and quiet in errors[1][1]
    assert errors[2][0] == "AnsibleLookupError" and "refused or failed" in errors[2][1] and "REFUSED" in errors[2][1]
    assert errors[3][0] == "AnsibleLookupError" and "unknown DNS record type 'NOPE'" in errors[3][1]
    assert errors[4][0] == "AnsibleLookupError" and "port must be 1-65535" in errors[4][1]
    assert results[5] == {"values": []}  # the name exists without AAAA records


def test_patch_merges_into_the_profile_and_post_replaces_it(emulator):
    emulator.set_profile({"seed": 7, "throttle_rate": 0.0, "validation": True})
    state = emulator.patch_profile({"outage_regions": ["us-east-1"]})
    assert state["profile"] == {"seed": 7, "throttle_rate": 0.0, "validation": True, "outage_regions": ["us-east-1"]}
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        client(emulator, "sts", "us-east-1").get_caller_identity()
    assert emulator.profile_counts()["outage"] == 1  # PATCH keeps the counts going
    state = emulator.patch_profile({"outage_regions": None})
    assert state["profile"] == {"seed": 7, "throttle_rate": 0.0, "validation": True}
    assert state["counts"]["outage"] == 1
    assert client(emulator, "sts", "us-east-1").get_caller_identity()["Account"] == "123456789012"
    assert emulator.set_profile({"outage_regions": ["eu-west-1"]})["profile"] == {"outage_regions": ["eu-west-1"]}
