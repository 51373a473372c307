# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aws_observability against the real emulator (moto server), and the X-Ray
sampling-rule calls moto lacks with botocore's Stubber (it validates each
request and answer against the service model).

The emulator tests share one wiped emulator; each test has its own name prefix.
"""

import contextlib
import copy
import itertools
import json
from types import SimpleNamespace

import boto3
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import RETRY
from ansible_collections.reelle.infra.plugins.modules import aws_observability
from botocore.stub import Stubber

SERIAL = itertools.count(1)
LB = "app/reelle-staging/50dc6c495c0c9188"


def run(capsys, args, check_mode=False, diff=False):
    """Run the module's main() with args; return its JSON result."""
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        aws_observability.main()
    return json.loads(capsys.readouterr().out)


def staging_alarms(lb=LB, db_ids=("pg", "pg-replica")):
    common = {"evaluation_periods": 5, "datapoints_to_alarm": 3, "treat_missing_data": "notBreaching"}
    alarms = [
        {
            "name": "alb-target-response-time-p95",
            "description": "ALB TargetResponseTime p95 above 200 ms",
            "namespace": "AWS/ApplicationELB",
            "metric_name": "TargetResponseTime",
            "extended_statistic": "p95",
            "dimensions": {"LoadBalancer": lb},
            "period": 60,
            "threshold": 0.2,
            "comparison_operator": "GreaterThanThreshold",
        },
        {
            "name": "alb-5xx-rate",
            "metrics": [
                {
                    "id": name,
                    "return_data": False,
                    "metric_stat": {
                        "namespace": "AWS/ApplicationELB",
                        "metric_name": metric,
                        "dimensions": {"LoadBalancer": lb},
                        "period": 60,
                        "stat": "Sum",
                    },
                }
                for name, metric in (
                    ("target5xx", "HTTPCode_Target_5XX_Count"),
                    ("elb5xx", "HTTPCode_ELB_5XX_Count"),
                    ("requests", "RequestCount"),
                )
            ]
            + [
                {
                    "id": "rate",
                    "expression": "IF(requests > 0, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)",
                    "label": "5xx %",
                    "return_data": True,
                }
            ],
            "threshold": 1,
            "comparison_operator": "GreaterThanThreshold",
        },
        {
            "name": "alb-requests-above-sized-throughput",
            "namespace": "AWS/ApplicationELB",
            "metric_name": "RequestCount",
            "statistic": "Sum",
            "dimensions": {"LoadBalancer": lb},
            "period": 60,
            "threshold": 60000,
            "comparison_operator": "GreaterThanThreshold",
        },
    ] + [
        {
            "name": f"rds-connections-{db}",
            "namespace": "AWS/RDS",
            "metric_name": "DatabaseConnections",
            "statistic": "Maximum",
            "dimensions": {"DBInstanceIdentifier": db},
            "period": 60,
            "threshold": 50,
            "comparison_operator": "GreaterThanOrEqualToThreshold",
        }
        for db in db_ids
    ]
    return [dict(common, **alarm) for alarm in alarms]


@pytest.fixture(scope="module")
def shared_emulator(emulator_server):
    """One wiped emulator for this file; the environment points boto3 at it."""
    emulator_server.reset()
    with pytest.MonkeyPatch.context() as patch:
        for key, value in emulator_server.env.items():
            patch.setenv(key, value)
        yield emulator_server


@pytest.fixture
def obs(shared_emulator, monkeypatch):
    """This test's names, and staging-like module arguments for them."""
    for key, value in shared_emulator.env.items():
        monkeypatch.setenv(key, value)
    serial = next(SERIAL)
    names = SimpleNamespace(prefix=f"unit{serial}-", topic=f"unit{serial}-alarms", dashboard=f"unit{serial}")

    def args(**overrides):
        result = {
            "alarm_name_prefix": names.prefix,
            "alarms": staging_alarms(),
            "topic": {"name": names.topic},
            "dashboard": {
                "name": names.dashboard,
                "body": {
                    "widgets": [
                        {
                            "type": "metric",
                            "x": 0,
                            "y": 0,
                            "width": 12,
                            "height": 6,
                            "properties": {
                                "title": "p95",
                                "region": "us-east-1",
                                "stat": "p95",
                                "period": 60,
                                "metrics": [["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", LB]],
                                "annotations": {"horizontal": [{"label": "target", "value": 0.2}]},
                            },
                        }
                    ]
                },
            },
            "xray_sampling_rule": {
                "name": f"unit{serial}-backend",
                "priority": 1000,
                "fixed_rate": 0.05,
                "reservoir_size": 1,
            },
            "tags": {"project": "reelle", "environment": "unit"},
        }
        result.update(overrides)
        return result

    names.args = args
    return names


def cloudwatch():
    return boto3.client("cloudwatch")


def alarms(prefix):
    return {alarm["AlarmName"]: alarm for alarm in cloudwatch().describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]}


def topic_arn(name):
    arns = [topic["TopicArn"] for topic in boto3.client("sns").list_topics()["Topics"]]
    return next((arn for arn in arns if arn.endswith(":" + name)), None)


def test_create_makes_alarms_topic_and_dashboard_and_skips_xray_on_the_emulator(capsys, obs):
    result = run(capsys, obs.args())
    assert result["changed"]
    made = alarms(obs.prefix)
    assert sorted(made) == sorted(result["alarm_names"])
    assert len(made) == 5
    p95 = made[f"{obs.prefix}alb-target-response-time-p95"]
    assert (p95["ExtendedStatistic"], p95["Threshold"], p95["ComparisonOperator"]) == (
        "p95",
        0.2,
        "GreaterThanThreshold",
    )
    assert p95["Dimensions"] == [{"Name": "LoadBalancer", "Value": LB}]
    assert (p95["EvaluationPeriods"], p95["DatapointsToAlarm"], p95["TreatMissingData"]) == (5, 3, "notBreaching")
    assert made[f"{obs.prefix}alb-requests-above-sized-throughput"]["Threshold"] == 60000
    assert made[f"{obs.prefix}rds-connections-pg"]["Threshold"] == 50
    rate = made[f"{obs.prefix}alb-5xx-rate"]
    assert [query["Id"] for query in rate["Metrics"]] == ["target5xx", "elb5xx", "requests", "rate"]
    arn = topic_arn(obs.topic)
    assert result["topic_arn"] == arn
    assert all(alarm["AlarmActions"] == [arn] and alarm["OKActions"] == [arn] for alarm in made.values())
    body = json.loads(cloudwatch().get_dashboard(DashboardName=obs.dashboard)["DashboardBody"])
    assert body == obs.args()["dashboard"]["body"]
    assert result["dashboard_name"] == obs.dashboard
    assert result["skipped_calls"] == ["xray:get_sampling_rules"]
    assert not any("sampling rule" in row["resource"] for row in result["changes"])
    assert result["sampling_rule_arn"] is None


def test_second_run_changes_nothing_with_few_reads(capsys, obs, shared_emulator):
    run(capsys, obs.args())
    with open(shared_emulator.log.name) as log:
        before = len(log.readlines())
    result = run(capsys, obs.args())
    assert not result["changed"], result["changes"]
    with open(shared_emulator.log.name) as log:
        requests = log.readlines()[before:]
    # ListTopics, DescribeAlarms, GetDashboard, GetResources: one each.
    assert len(requests) == 4, requests


@pytest.mark.parametrize(
    ("change", "resource", "attribute"),
    [
        (lambda args: args["alarms"][0].update(threshold=0.3), "alarm", "Threshold"),
        (lambda args: args["alarms"][0].update(description="new"), "alarm", "AlarmDescription"),
        (lambda args: args["alarms"][2].update(statistic="Average"), "alarm", "Statistic"),
        (
            lambda args: args["alarms"][1]["metrics"][3].update(expression="100 * target5xx / requests"),
            "alarm",
            "Metrics",
        ),
        (lambda args: args["dashboard"]["body"]["widgets"][0].update(width=24), "dashboard", "body"),
        (lambda args: args.update(tags={"project": "reelle"}), "tags of", "tags.environment"),
        (lambda args: args.update(notify_ok=False), "alarm", "OKActions"),
    ],
)
def test_update_changes_only_what_differs_then_settles(capsys, obs, change, resource, attribute):
    run(capsys, obs.args())
    args = copy.deepcopy(obs.args())
    change(args)
    result = run(capsys, args)
    assert result["changed"]
    assert all(row["action"] == "update" and row["resource"].startswith(resource) for row in result["changes"])
    assert all(attribute in row["attributes"] for row in result["changes"])
    assert not run(capsys, args)["changed"]


def test_update_keeps_the_alarm_fields_not_given(capsys, obs):
    run(capsys, obs.args())
    name = f"{obs.prefix}alb-requests-above-sized-throughput"
    current = alarms(name)[name]
    # Someone adds an INSUFFICIENT_DATA action out of band.
    request = {key: current[key] for key in aws_observability.ALARM_FIELDS if current.get(key) not in (None, [], "")}
    cloudwatch().put_metric_alarm(
        AlarmName=name, **dict(request, InsufficientDataActions=["arn:aws:sns:us-east-1:1:x"])
    )
    args = obs.args()
    args["alarms"][2]["threshold"] = 70000
    run(capsys, args)
    updated = alarms(name)[name]
    assert updated["Threshold"] == 70000
    assert updated["InsufficientDataActions"] == ["arn:aws:sns:us-east-1:1:x"]


def test_check_mode_on_an_empty_account_reports_creates_with_null_dimensions(capsys, obs):
    args = obs.args(alarms=staging_alarms(lb=None, db_ids=()))
    result = run(capsys, args, check_mode=True)
    assert result["changed"]
    assert {row["action"] for row in result["changes"]} == {"create"}
    assert [row["resource"] for row in result["changes"]][:2] == [
        f"topic {obs.topic}",
        f"alarm {obs.prefix}alb-target-response-time-p95",
    ]
    assert result["topic_arn"] is None
    assert alarms(obs.prefix) == {}
    assert topic_arn(obs.topic) is None
    assert cloudwatch().list_dashboards(DashboardNamePrefix=obs.dashboard)["DashboardEntries"] == []


def test_null_dimension_fails_outside_check_mode(capsys, obs):
    result = run(capsys, obs.args(alarms=staging_alarms(lb=None, db_ids=())))
    assert result["failed"]
    assert "dimension LoadBalancer has no value" in result["msg"]


def test_check_mode_on_existing_alarms_reports_updates_without_making_them(capsys, obs):
    run(capsys, obs.args())
    args = obs.args()
    args["alarms"][0]["threshold"] = 0.5
    result = run(capsys, args, check_mode=True, diff=True)
    name = f"{obs.prefix}alb-target-response-time-p95"
    assert result["changes"] == [{"action": "update", "resource": f"alarm {name}", "attributes": ["Threshold"]}]
    assert result["diff"]["before"][f"alarm {name}"]["Threshold"] == 0.2
    assert result["diff"]["after"][f"alarm {name}"]["Threshold"] == 0.5
    assert alarms(name)[name]["Threshold"] == 0.2


@pytest.mark.parametrize(
    ("alarm", "message"),
    [
        ({"metrics": [{"id": "m1", "expression": "1"}]}, "either metric_name or metrics"),
        ({"metric_name": None}, "either metric_name or metrics"),
        ({"statistic": "Sum"}, "either statistic or extended_statistic"),
        ({"namespace": None}, "needs namespace"),
        ({"period": None}, "needs period"),
        ({"comparison_operator": "Above"}, "comparison_operator"),
    ],
)
def test_bad_alarm_input_fails_before_anything_is_made(capsys, obs, alarm, message):
    args = obs.args()
    args["alarms"][0] = {key: value for key, value in dict(args["alarms"][0], **alarm).items() if value is not None}
    result = run(capsys, args)
    assert result["failed"]
    assert message in result["msg"]
    assert alarms(obs.prefix) == {}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (lambda args: args["alarms"].append(args["alarms"][0]), "listed twice"),
        (lambda args: args["alarms"][1]["metrics"][3].update(return_data=False), "exactly one of metrics"),
        (lambda args: args["xray_sampling_rule"].update(fixed_rate=1.5), "between 0 and 1"),
        (lambda args: args["xray_sampling_rule"].update(name="x" * 33), "longer than 32"),
    ],
)
def test_bad_input_fails_with_every_problem_named(capsys, obs, override, message):
    args = copy.deepcopy(obs.args())
    override(args)
    result = run(capsys, args)
    assert result["failed"]
    assert message in result["msg"]


def test_purge_alarms_removes_only_prefixed_alarms_not_listed(capsys, obs):
    run(capsys, obs.args())
    shorter = obs.args(alarms=staging_alarms()[:2])
    assert not run(capsys, shorter)["changed"]
    assert len(alarms(obs.prefix)) == 5
    result = run(capsys, dict(shorter, purge_alarms=True))
    assert [row["action"] for row in result["changes"]] == ["delete"]
    assert sorted(alarms(obs.prefix)) == sorted(result["alarm_names"])


def test_subscriptions_are_added_once(capsys, obs):
    args = obs.args(topic={"name": obs.topic, "subscriptions": [{"protocol": "email", "endpoint": "ops@example.com"}]})
    first = run(capsys, args)
    assert {"action": "create", "resource": "subscription email:ops@example.com", "attributes": []} in first["changes"]
    assert not run(capsys, args)["changed"]
    listed = boto3.client("sns").list_subscriptions_by_topic(TopicArn=first["topic_arn"])["Subscriptions"]
    assert [(item["Protocol"], item["Endpoint"]) for item in listed] == [("email", "ops@example.com")]


def test_absent_deletes_alarms_dashboard_and_topic(capsys, obs):
    run(capsys, obs.args())
    result = run(capsys, obs.args(state="absent"))
    assert result["changed"]
    assert alarms(obs.prefix) == {}
    assert topic_arn(obs.topic) is None
    assert cloudwatch().list_dashboards(DashboardNamePrefix=obs.dashboard)["DashboardEntries"] == []
    assert not run(capsys, obs.args(state="absent"))["changed"]


# --- X-Ray sampling rules: moto lacks them; request shapes with the Stubber ---

RULE_ARN = "arn:aws:xray:us-east-1:123456789012:sampling-rule/reelle-staging-backend"
DESIRED_RULE = {
    "RuleName": "reelle-staging-backend",
    "Priority": 1000,
    "FixedRate": 0.05,
    "ReservoirSize": 1,
    "ServiceName": "*",
    "ServiceType": "*",
    "Host": "*",
    "HTTPMethod": "*",
    "URLPath": "*",
    "ResourceARN": "*",
    "Version": 1,
}


@pytest.fixture
def xray(monkeypatch):
    """A manager on the AWS call path (no emulator) whose X-Ray client answers from a Stubber."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("REELLE_AWS_TARGET", raising=False)
    for key, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)

    def make(check_mode=False, **rule):
        args = {
            "alarm_name_prefix": "reelle-staging-",
            "xray_sampling_rule": dict(
                {"name": "reelle-staging-backend", "priority": 1000, "fixed_rate": 0.05, "reservoir_size": 1}, **rule
            ),
            "tags": {"project": "reelle"},
            "_ansible_check_mode": check_mode,
        }
        # Kept open for the test: fail_json needs the module's arguments context too.
        stack.enter_context(patch_module_args(args))
        module = AnsibleAWSModule(argument_spec=aws_observability.argument_spec(), supports_check_mode=True)
        manager = aws_observability.ObservabilityManager(module)
        client = boto3.client("xray", region_name="us-east-1")
        stub = Stubber(client)
        stub.activate()
        manager._clients["xray"] = RetryingBotoClientWrapper(client, RETRY)
        return manager, stub

    with contextlib.ExitStack() as stack:
        yield make


def record(**changes):
    return {"SamplingRule": dict(DESIRED_RULE, RuleARN=RULE_ARN, Attributes={}, **changes)}


def test_xray_rule_is_created_with_its_tags(xray):
    manager, stub = xray()
    stub.add_response("get_sampling_rules", {"SamplingRuleRecords": []}, {})
    stub.add_response(
        "create_sampling_rule",
        {"SamplingRuleRecord": record()},
        {"SamplingRule": DESIRED_RULE, "Tags": [{"Key": "project", "Value": "reelle"}]},
    )
    assert manager.ensure_sampling_rule() == RULE_ARN
    stub.assert_no_pending_responses()
    assert manager.changes.changes == [
        {"action": "create", "resource": "sampling rule reelle-staging-backend", "attributes": []}
    ]
    assert manager.changes.skipped_calls == []


def test_xray_rule_is_updated_when_it_differs(xray):
    manager, stub = xray(fixed_rate=0.1)
    stub.add_response(
        "get_sampling_rules",
        {
            "SamplingRuleRecords": [{"SamplingRule": dict(record()["SamplingRule"], RuleName="other")}],
            "NextToken": "p2",
        },
        {},
    )
    stub.add_response("get_sampling_rules", {"SamplingRuleRecords": [record()]}, {"NextToken": "p2"})
    update = {key: value for key, value in DESIRED_RULE.items() if key != "Version"}
    stub.add_response(
        "update_sampling_rule",
        {"SamplingRuleRecord": record(FixedRate=0.1)},
        {"SamplingRuleUpdate": dict(update, FixedRate=0.1)},
    )
    stub.add_response(
        "list_tags_for_resource", {"Tags": [{"Key": "project", "Value": "reelle"}]}, {"ResourceARN": RULE_ARN}
    )
    assert manager.ensure_sampling_rule() == RULE_ARN
    stub.assert_no_pending_responses()
    assert manager.changes.changes == [
        {"action": "update", "resource": "sampling rule reelle-staging-backend", "attributes": ["FixedRate"]}
    ]


def test_xray_rule_that_matches_changes_nothing_but_its_tags(xray):
    manager, stub = xray()
    stub.add_response("get_sampling_rules", {"SamplingRuleRecords": [record()]}, {})
    stub.add_response(
        "list_tags_for_resource", {"Tags": [{"Key": "owner", "Value": "someone"}]}, {"ResourceARN": RULE_ARN}
    )
    stub.add_response("tag_resource", {}, {"ResourceARN": RULE_ARN, "Tags": [{"Key": "project", "Value": "reelle"}]})
    stub.add_response("untag_resource", {}, {"ResourceARN": RULE_ARN, "TagKeys": ["owner"]})
    manager.ensure_sampling_rule()
    stub.assert_no_pending_responses()
    assert [row["attributes"] for row in manager.changes.changes] == [["tags.project"], ["tags.owner"]]


def test_xray_rule_check_mode_reads_but_does_not_write(xray):
    manager, stub = xray(check_mode=True)
    stub.add_response("get_sampling_rules", {"SamplingRuleRecords": []}, {})
    assert manager.ensure_sampling_rule() is None
    stub.assert_no_pending_responses()
    assert manager.changes.changed


def test_xray_rule_version_change_fails(xray, capsys):
    manager, stub = xray(version=2)
    stub.add_response("get_sampling_rules", {"SamplingRuleRecords": [record()]}, {})
    with pytest.raises(SystemExit):
        manager.ensure_sampling_rule()
    assert "the version cannot change" in json.loads(capsys.readouterr().out)["msg"]


def test_xray_rule_is_deleted_when_absent(xray):
    manager, stub = xray()
    stub.add_response("get_sampling_rules", {"SamplingRuleRecords": [record()]}, {})
    stub.add_response("delete_sampling_rule", {"SamplingRuleRecord": record()}, {"RuleName": "reelle-staging-backend"})
    manager.params["state"] = "absent"
    manager.describe_alarms = dict  # no CloudWatch on this path
    manager.ensure_absent()
    stub.assert_no_pending_responses()
