#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aws_observability
short_description: CloudWatch alarms, their SNS topic, a dashboard and an X-Ray sampling rule in one call
version_added: "0.1.0"
description:
  - Converges a set of CloudWatch metric alarms (plain or metric math) that share a name prefix, the SNS
    topic they notify, a CloudWatch dashboard and an X-Ray sampling rule as one unit.
  - The no-op path reads everything with one call per kind of resource - C(DescribeAlarms) with the
    prefix for all alarms, C(ListTopics), C(GetDashboard), C(GetSamplingRules) and one
    C(GetResources) (Resource Groups Tagging API) for the tags of every alarm and the topic.
  - Alarms are compared field by field (only the fields given); an update re-sends the alarm with its
    current values for the fields not given, since C(PutMetricAlarm) replaces the whole alarm.
  - The dashboard body is compared as parsed JSON; C(PutDashboard) is called only when it differs.
  - On the local emulator (moto) X-Ray sampling rules do not exist; the calls are skipped and listed in
    RV(skipped_calls). On AWS they are made.
  - In check mode against an empty account, dimension values from upstream roles may be null; the module
    then reports the creates it would make.
author:
  - the reelle infrastructure authors (@reelle)
options:
  state:
    description:
      - V(present) creates or updates; V(absent) deletes the alarms listed (and, with O(purge_alarms),
        every other alarm with the prefix), the dashboard, the topic and the sampling rule.
    type: str
    choices: [present, absent]
    default: present
  alarm_name_prefix:
    description: Prefix of every alarm name; the full name is the prefix followed by the alarm's O(alarms[].name).
    type: str
    required: true
  alarms:
    description:
      - Metric alarms. Give either O(alarms[].metric_name) (with namespace and a statistic) or O(alarms[].metrics).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name after O(alarm_name_prefix).
        type: str
        required: true
      description:
        description: Alarm description.
        type: str
      namespace:
        description: Metric namespace, for example V(AWS/ApplicationELB).
        type: str
      metric_name:
        description: Metric name.
        type: str
      statistic:
        description: Statistic of the metric.
        type: str
        choices: [SampleCount, Average, Sum, Minimum, Maximum]
      extended_statistic:
        description: Percentile statistic, for example V(p95).
        type: str
      dimensions:
        description: Metric dimensions, name to value.
        type: dict
      unit:
        description: Unit of the metric.
        type: str
      metrics:
        description: Metric math queries; exactly one returns data.
        type: list
        elements: dict
        suboptions:
          id:
            description: Query id (lower case first letter).
            type: str
            required: true
          expression:
            description: Metric math expression over other query ids.
            type: str
          label:
            description: Label of the query.
            type: str
          return_data:
            description: Whether this query is the alarm's time series.
            type: bool
          period:
            description: Period of an expression, in seconds.
            type: int
          metric_stat:
            description: The metric a query reads.
            type: dict
            suboptions:
              namespace:
                description: Metric namespace.
                type: str
                required: true
              metric_name:
                description: Metric name.
                type: str
                required: true
              dimensions:
                description: Metric dimensions, name to value.
                type: dict
              period:
                description: Period in seconds.
                type: int
                required: true
              stat:
                description: Statistic, for example V(Sum) or V(p95).
                type: str
                required: true
              unit:
                description: Unit of the metric.
                type: str
      period:
        description: Period of a single-metric alarm, in seconds.
        type: int
      evaluation_periods:
        description: Periods evaluated.
        type: int
        required: true
      datapoints_to_alarm:
        description: Breaching datapoints among O(alarms[].evaluation_periods) that raise the alarm.
        type: int
      threshold:
        description: Threshold.
        type: float
        required: true
      comparison_operator:
        description: How the statistic is compared with the threshold.
        type: str
        required: true
        choices:
          - GreaterThanOrEqualToThreshold
          - GreaterThanThreshold
          - LessThanThreshold
          - LessThanOrEqualToThreshold
      treat_missing_data:
        description: How missing datapoints count.
        type: str
        choices: [breaching, notBreaching, ignore, missing]
      actions_enabled:
        description: Whether the alarm's actions run.
        type: bool
        default: true
  purge_alarms:
    description: With O(state=present), delete alarms with the prefix that are not in O(alarms).
    type: bool
    default: false
  alarm_actions:
    description: ARNs notified when an alarm fires, besides the topic.
    type: list
    elements: str
    default: []
  ok_actions:
    description: ARNs notified when an alarm recovers, besides the topic (see O(notify_ok)).
    type: list
    elements: str
    default: []
  notify_ok:
    description: Whether the topic is also notified when an alarm returns to OK.
    type: bool
    default: true
  topic:
    description: SNS topic the alarms notify. Unset - no topic is managed.
    type: dict
    suboptions:
      name:
        description: Topic name.
        type: str
        required: true
      display_name:
        description: Display name (used as the sender of SMS and e-mail notifications).
        type: str
      subscriptions:
        description:
          - Subscriptions of the topic. When given, it is the whole list - missing ones are added and
            confirmed ones that are not listed are removed. Unset - subscriptions are left alone.
        type: list
        elements: dict
        suboptions:
          protocol:
            description: Protocol, for example V(email) or V(https).
            type: str
            required: true
          endpoint:
            description: Address, URL or ARN.
            type: str
            required: true
  dashboard:
    description: CloudWatch dashboard.
    type: dict
    suboptions:
      name:
        description: Dashboard name.
        type: str
        required: true
      body:
        description: Dashboard body (the structure C(PutDashboard) takes as JSON).
        type: dict
        required: true
  xray_sampling_rule:
    description: X-Ray sampling rule. Unset - no rule is managed.
    type: dict
    suboptions:
      name:
        description: Rule name (at most 32 characters).
        type: str
        required: true
      priority:
        description: Priority, 1-9999 (lower wins).
        type: int
        required: true
      fixed_rate:
        description: Share of requests sampled after the reservoir, 0-1.
        type: float
        required: true
      reservoir_size:
        description: Requests per second sampled before the fixed rate applies.
        type: int
        required: true
      service_name:
        description: Service name to match.
        type: str
        default: "*"
      service_type:
        description: Service type to match.
        type: str
        default: "*"
      host:
        description: Host to match.
        type: str
        default: "*"
      http_method:
        description: HTTP method to match.
        type: str
        default: "*"
      url_path:
        description: URL path to match.
        type: str
        default: "*"
      resource_arn:
        description: Resource ARN to match.
        type: str
        default: "*"
      version:
        description: Rule format version. Cannot change once created.
        type: int
        default: 1
      attributes:
        description: Segment attributes to match.
        type: dict
notes:
  - Reading tags of existing alarms and the topic uses the Resource Groups Tagging API (C(tag:GetResources)).
  - The dashboard is not tagged.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: p95 latency alarm, alarm topic, dashboard and X-Ray sampling rule
  reelle.infra.aws_observability:
    alarm_name_prefix: reelle-staging-
    alarms:
      - name: alb-target-response-time-p95
        description: ALB TargetResponseTime p95 above 0.2 s
        namespace: AWS/ApplicationELB
        metric_name: TargetResponseTime
        extended_statistic: p95
        dimensions:
          LoadBalancer: app/reelle-staging/50dc6c495c0c9188
        period: 60
        evaluation_periods: 5
        datapoints_to_alarm: 3
        threshold: 0.2
        comparison_operator: GreaterThanThreshold
        treat_missing_data: notBreaching
    topic:
      name: reelle-staging-alarms
    dashboard:
      name: reelle-staging
      body:
        widgets:
          - type: metric
            x: 0
            y: 0
            width: 12
            height: 6
            properties:
              title: Latency p95
              region: us-east-1
              metrics: [[AWS/ApplicationELB, TargetResponseTime, LoadBalancer, app/reelle-staging/50dc6c495c0c9188]]
              stat: p95
              period: 60
    xray_sampling_rule:
      name: reelle-staging-backend
      priority: 1000
      fixed_rate: 0.05
      reservoir_size: 1
    tags:
      environment: staging
"""

RETURN = r"""
alarm_names:
  description: Full names of the alarms in O(alarms).
  returned: always
  type: list
  elements: str
  sample: [reelle-staging-alb-target-response-time-p95]
dashboard_name:
  description: Name of the dashboard (null when none is managed).
  returned: always
  type: str
  sample: reelle-staging
topic_arn:
  description: ARN of the alarm topic (null in check mode when it would be created, or when none is managed).
  returned: always
  type: str
  sample: arn:aws:sns:us-east-1:123456789012:reelle-staging-alarms
sampling_rule_arn:
  description:
    - ARN of the X-Ray sampling rule.
    - Null when it would be created, is skipped on the emulator or is not managed.
  returned: always
  type: str
  sample: arn:aws:xray:us-east-1:123456789012:sampling-rule/reelle-staging-backend
changes:
  description: The plan - one row per create, update or delete made (or, in check mode, that would be made).
  returned: always
  type: list
  elements: dict
  sample: [{"action": "update", "resource": "alarm reelle-staging-alb-5xx-rate", "attributes": ["Threshold"]}]
skipped_calls:
  description: Calls skipped because the local emulator lacks them (always empty on AWS).
  returned: always
  type: list
  elements: str
  sample: ["xray:get_sampling_rules"]
"""

import json

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    UNKNOWN,
    ChangeSet,
    aws_client,
    changed_attributes,
    differences,
    emulator_lacks,
    paginate,
    real,
    run_manager,
    sync_tags,
    tag_dict,
    tag_list,
)

# Fields PutMetricAlarm takes; an update re-sends the current value of those not given.
ALARM_FIELDS = (
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
)
SINGLE_METRIC_FIELDS = ("MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit")
# xray_sampling_rule option -> SamplingRule field
SAMPLING_RULE_FIELDS = {
    "priority": "Priority",
    "fixed_rate": "FixedRate",
    "reservoir_size": "ReservoirSize",
    "service_name": "ServiceName",
    "service_type": "ServiceType",
    "host": "Host",
    "http_method": "HTTPMethod",
    "url_path": "URLPath",
    "resource_arn": "ResourceARN",
    "version": "Version",
    "attributes": "Attributes",
}
# How TagResource/UntagResource name the resource, per service (the request is otherwise the same).
TAGGED_BY = {"cloudwatch": "ResourceARN", "sns": "ResourceArn", "xray": "ResourceARN"}


def dimension_list(dimensions):
    """[{Name, Value}] from a dict; None values stay None (not known yet)."""
    if dimensions is None:
        return None
    return [{"Name": name, "Value": value} for name, value in sorted(dimensions.items())]


def unknown_dimensions(request):
    """Names of dimensions whose value is not known yet, in an alarm request."""
    found = [item["Name"] for item in request.get("Dimensions") or [] if item["Value"] in (None, "")]
    for query in request.get("Metrics") or []:
        metric = query.get("MetricStat", {}).get("Metric", {})
        found.extend(item["Name"] for item in metric.get("Dimensions") or [] if item["Value"] in (None, ""))
    return found


def metric_query(query):
    """A MetricDataQuery from the module's snake_case form."""
    result = {"Id": query["id"]}
    for option, field in (("expression", "Expression"), ("label", "Label"), ("return_data", "ReturnData")):
        if query.get(option) is not None:
            result[field] = query[option]
    if query.get("period") is not None:
        result["Period"] = query["period"]
    stat = query.get("metric_stat")
    if stat:
        metric = {"Namespace": stat["namespace"], "MetricName": stat["metric_name"]}
        if stat.get("dimensions"):
            metric["Dimensions"] = dimension_list(stat["dimensions"])
        result["MetricStat"] = {"Metric": metric, "Period": stat["period"], "Stat": stat["stat"]}
        if stat.get("unit"):
            result["MetricStat"]["Unit"] = stat["unit"]
    return result


def alarm_request(prefix, alarm, alarm_actions, ok_actions):
    """The PutMetricAlarm request for one alarm option, without unset fields."""
    request = {
        "AlarmName": prefix + alarm["name"],
        "AlarmDescription": alarm.get("description"),
        "ActionsEnabled": alarm.get("actions_enabled"),
        "AlarmActions": alarm_actions,
        "OKActions": ok_actions,
        "Namespace": alarm.get("namespace"),
        "MetricName": alarm.get("metric_name"),
        "Statistic": alarm.get("statistic"),
        "ExtendedStatistic": alarm.get("extended_statistic"),
        "Dimensions": dimension_list(alarm.get("dimensions")),
        "Unit": alarm.get("unit"),
        "Period": alarm.get("period"),
        "EvaluationPeriods": alarm["evaluation_periods"],
        "DatapointsToAlarm": alarm.get("datapoints_to_alarm"),
        "Threshold": alarm["threshold"],
        "ComparisonOperator": alarm["comparison_operator"],
        "TreatMissingData": alarm.get("treat_missing_data"),
        "Metrics": [metric_query(query) for query in alarm["metrics"]] if alarm.get("metrics") else None,
    }
    return {key: value for key, value in request.items() if value is not None}


def merged_alarm_request(desired, actual):
    """PutMetricAlarm replaces the whole alarm: keep the current value of every field not given."""
    request = {key: actual[key] for key in ALARM_FIELDS if actual.get(key) not in (None, [], "")}
    if "Metrics" in desired:
        for key in SINGLE_METRIC_FIELDS:
            request.pop(key, None)
    if "MetricName" in desired:
        request.pop("Metrics", None)
    if "Statistic" in desired:
        request.pop("ExtendedStatistic", None)
    if "ExtendedStatistic" in desired:
        request.pop("Statistic", None)
    request.update(desired)
    return request


def validate_alarm(alarm):
    """A problem with one alarm option, or None."""
    if bool(alarm.get("metrics")) == bool(alarm.get("metric_name")):
        return f"alarm {alarm['name']}: give either metric_name or metrics"
    if alarm.get("metric_name"):
        if not alarm.get("namespace"):
            return f"alarm {alarm['name']}: metric_name needs namespace"
        if bool(alarm.get("statistic")) == bool(alarm.get("extended_statistic")):
            return f"alarm {alarm['name']}: give either statistic or extended_statistic"
        if not alarm.get("period"):
            return f"alarm {alarm['name']}: metric_name needs period"
    elif sum(1 for query in alarm["metrics"] if query.get("return_data", True)) != 1:
        return f"alarm {alarm['name']}: exactly one of metrics must return data (set return_data: false on the others)"
    return None


class ObservabilityManager:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.prefix = module.params["alarm_name_prefix"]
        self.tags = module.params["tags"]
        self.changes = ChangeSet(module)
        self._clients = {}
        self.cloudwatch = self.client("cloudwatch")
        self.existing_tagged = {}  # ARN -> (service, resource label) of resources whose tags are compared

    def client(self, service):
        if service not in self._clients:
            self._clients[service] = aws_client(self.module, service)
        return self._clients[service]

    def _create_tags(self, key="Key", value="Value"):
        return {"Tags": tag_list(self.tags, key, value)} if self.tags else {}

    # --- topic --------------------------------------------------------------

    def find_topic(self):
        name = self.params["topic"]["name"]
        for topic in paginate(self.client("sns"), "list_topics", "Topics"):
            if parse_aws_arn(topic["TopicArn"])["resource"] == name:
                return topic["TopicArn"]
        return None

    def ensure_topic(self):
        topic = self.params["topic"]
        if not topic:
            return None
        sns = self.client("sns")
        arn = self.find_topic()
        resource = f"topic {topic['name']}"
        if arn is None:
            self.changes.note("topic", None, {"name": topic["name"], "display_name": topic.get("display_name")})
            attributes = {"DisplayName": topic["display_name"]} if topic.get("display_name") else {}
            created = self.changes.create(
                resource, sns, "sns", "create_topic", Name=topic["name"], Attributes=attributes, **self._create_tags()
            )
            arn = created["TopicArn"] if created else UNKNOWN
            self._ensure_subscriptions(arn, [])
            return arn
        self.existing_tagged[arn] = ("sns", resource)
        if topic.get("display_name") is not None:
            current = sns.get_topic_attributes(aws_retry=True, TopicArn=arn)["Attributes"].get("DisplayName", "")
            self.changes.note("topic", {"display_name": current}, {"display_name": topic["display_name"]})
            if current != topic["display_name"]:
                self.changes.update(
                    resource,
                    ["display_name"],
                    sns,
                    "sns",
                    "set_topic_attributes",
                    TopicArn=arn,
                    AttributeName="DisplayName",
                    AttributeValue=topic["display_name"],
                )
        if topic.get("subscriptions") is not None:
            current = paginate(sns, "list_subscriptions_by_topic", "Subscriptions", TopicArn=arn)
            self._ensure_subscriptions(arn, current)
        return arn

    def _ensure_subscriptions(self, arn, current):
        wanted = self.params["topic"].get("subscriptions") or []
        have = {(item["Protocol"], item["Endpoint"]): item["SubscriptionArn"] for item in current}
        for item in wanted:
            if (item["protocol"], item["endpoint"]) not in have:
                self.changes.create(
                    f"subscription {item['protocol']}:{item['endpoint']}",
                    self.client("sns"),
                    "sns",
                    "subscribe",
                    TopicArn=arn,
                    Protocol=item["protocol"],
                    Endpoint=item["endpoint"],
                )
        listed = {(item["protocol"], item["endpoint"]) for item in wanted}
        for key, subscription_arn in have.items():
            # Pending subscriptions have no ARN yet and cannot be removed.
            if key not in listed and subscription_arn.startswith("arn:"):
                self.changes.delete(
                    f"subscription {key[0]}:{key[1]}",
                    self.client("sns"),
                    "sns",
                    "unsubscribe",
                    SubscriptionArn=subscription_arn,
                )

    # --- alarms -------------------------------------------------------------

    def describe_alarms(self):
        found = paginate(
            self.cloudwatch, "describe_alarms", "MetricAlarms", AlarmNamePrefix=self.prefix, AlarmTypes=["MetricAlarm"]
        )
        return {alarm["AlarmName"]: alarm for alarm in found}

    def ensure_alarms(self, topic_arn):
        alarm_actions = list(self.params["alarm_actions"]) + ([topic_arn] if topic_arn else [])
        ok_actions = list(self.params["ok_actions"]) + ([topic_arn] if topic_arn and self.params["notify_ok"] else [])
        actual = self.describe_alarms()
        names = []
        for alarm in self.params["alarms"]:
            desired = alarm_request(self.prefix, alarm, alarm_actions, ok_actions)
            names.append(desired["AlarmName"])
            self._ensure_alarm(desired, actual.get(desired["AlarmName"]))
        if self.params["purge_alarms"]:
            self.delete_alarms(sorted(set(actual) - set(names)))
        return names

    def _ensure_alarm(self, desired, current):
        name = desired["AlarmName"]
        resource = f"alarm {name}"
        unknown = unknown_dimensions(desired)
        if unknown and not self.module.check_mode:
            self.module.fail_json(
                msg=f"{resource}: dimension {', '.join(unknown)} has no value (is the upstream role run?)"
            )
        if current is None:
            self.changes.note(resource, None, desired)
            self.changes.create(
                resource, self.cloudwatch, "cloudwatch", "put_metric_alarm", **desired, **self._create_tags()
            )
            return
        self.existing_tagged[current["AlarmArn"]] = ("cloudwatch", resource)
        found = differences(desired, current)
        self.changes.note(resource, {key: current.get(key) for key in desired}, desired)
        if found:
            self.changes.update(
                resource,
                changed_attributes(found),
                self.cloudwatch,
                "cloudwatch",
                "put_metric_alarm",
                **merged_alarm_request(desired, current),
            )

    def delete_alarms(self, names):
        # DeleteAlarms takes at most 100 names.
        for start in range(0, len(names), 100):
            batch = names[start : start + 100]
            self.changes.delete(
                f"alarms {', '.join(batch)}", self.cloudwatch, "cloudwatch", "delete_alarms", AlarmNames=batch
            )

    # --- dashboard ----------------------------------------------------------

    def get_dashboard(self, name):
        try:
            body = self.cloudwatch.get_dashboard(aws_retry=True, DashboardName=name)["DashboardBody"]
        except is_boto3_error_code("ResourceNotFound"):
            return None
        return json.loads(body)

    def ensure_dashboard(self):
        dashboard = self.params["dashboard"]
        if not dashboard:
            return None
        name = dashboard["name"]
        # Normalise through JSON so that the comparison sees what the API stores.
        body = json.loads(json.dumps(dashboard["body"], sort_keys=True))
        current = self.get_dashboard(name)
        self.changes.note(f"dashboard {name}", current, body)
        if current == body:
            return name
        request = dict(DashboardName=name, DashboardBody=json.dumps(body, sort_keys=True))
        if current is None:
            self.changes.create(f"dashboard {name}", self.cloudwatch, "cloudwatch", "put_dashboard", **request)
        else:
            self.changes.update(
                f"dashboard {name}", ["body"], self.cloudwatch, "cloudwatch", "put_dashboard", **request
            )
        return name

    # --- X-Ray sampling rule ------------------------------------------------

    def find_sampling_rule(self, name):
        """(found, record): found is False when the emulator cannot tell (the read was skipped)."""
        # No client is built when the call is skipped anyway (building one costs a few 100 ms).
        xray = None if emulator_lacks("xray", "get_sampling_rules") else self.client("xray")
        token = None
        while True:
            page = self.changes.call(xray, "xray", "get_sampling_rules", **({"NextToken": token} if token else {}))
            if page is None:
                return False, None
            for record in page.get("SamplingRuleRecords", []):
                if record["SamplingRule"]["RuleName"] == name:
                    return True, record["SamplingRule"]
            token = page.get("NextToken")
            if not token:
                return True, None

    def desired_sampling_rule(self):
        rule = self.params["xray_sampling_rule"]
        desired = {"RuleName": rule["name"]}
        for option, field in SAMPLING_RULE_FIELDS.items():
            if rule.get(option) is not None:
                desired[field] = rule[option]
        return desired

    def ensure_sampling_rule(self):
        if not self.params["xray_sampling_rule"]:
            return None
        desired = self.desired_sampling_rule()
        resource = f"sampling rule {desired['RuleName']}"
        known, current = self.find_sampling_rule(desired["RuleName"])
        if not known:
            return None  # the emulator lacks the API: reported in skipped_calls, nothing pretended
        if current is None:
            self.changes.note(resource, None, desired)
            created = self.changes.create(
                resource,
                self.client("xray"),
                "xray",
                "create_sampling_rule",
                SamplingRule=desired,
                **self._create_tags(),
            )
            return created["SamplingRuleRecord"]["SamplingRule"]["RuleARN"] if created else None
        self.changes.note(resource, {key: current.get(key) for key in desired}, desired)
        if current.get("Version") != desired["Version"]:
            self.module.fail_json(
                msg=f"{resource} has version {current.get('Version')}; the version cannot change. "
                "Delete the rule first or choose a new name."
            )
        found = differences(desired, current)
        if found:
            update = {key: value for key, value in desired.items() if key != "Version"}
            self.changes.update(
                resource,
                changed_attributes(found),
                self.client("xray"),
                "xray",
                "update_sampling_rule",
                SamplingRuleUpdate=update,
            )
        if self.tags is not None:
            arn = current["RuleARN"]
            tags = tag_dict(paginate(self.client("xray"), "list_tags_for_resource", "Tags", ResourceARN=arn))
            self._sync_tags("xray", arn, resource, tags)
        return current["RuleARN"]

    # --- tags ---------------------------------------------------------------

    def _sync_tags(self, service, arn, resource, current):
        """Tag or untag one CloudWatch alarm, SNS topic or X-Ray sampling rule (TagResource/UntagResource)."""
        client, key = self.client(service), TAGGED_BY[service]
        sync_tags(
            self.changes,
            resource,
            current,
            self.tags,
            self.params["purge_tags"],
            lambda to_set: (client, service, "tag_resource", {key: arn, "Tags": tag_list(to_set)}),
            lambda keys: (client, service, "untag_resource", {key: arn, "TagKeys": keys}),
        )

    def ensure_tags(self):
        """One GetResources call (paginated) for the tags of every alarm and the topic that existed."""
        if self.tags is None or not self.existing_tagged:
            return
        mappings = paginate(
            self.client("resourcegroupstaggingapi"),
            "get_resources",
            "ResourceTagMappingList",
            ResourceTypeFilters=["cloudwatch:alarm", "sns"],
        )
        current = {item["ResourceARN"]: tag_dict(item.get("Tags")) for item in mappings}
        for arn, (service, resource) in sorted(self.existing_tagged.items()):
            self._sync_tags(service, arn, f"tags of {resource}", current.get(arn, {}))

    # --- entry points -------------------------------------------------------

    def validate(self):
        problems = [problem for problem in map(validate_alarm, self.params["alarms"]) if problem]
        names = [alarm["name"] for alarm in self.params["alarms"]]
        problems.extend(f"alarm {name} is listed twice" for name in sorted({n for n in names if names.count(n) > 1}))
        rule = self.params["xray_sampling_rule"]
        if rule and len(rule["name"]) > 32:
            problems.append(f"xray_sampling_rule.name {rule['name']!r} is longer than 32 characters")
        if rule and not 0 <= rule["fixed_rate"] <= 1:
            problems.append("xray_sampling_rule.fixed_rate must be between 0 and 1")
        if problems:
            self.module.fail_json(msg="; ".join(problems), problems=problems)

    def ensure_present(self):
        topic_arn = self.ensure_topic()
        alarm_names = self.ensure_alarms(topic_arn)
        dashboard_name = self.ensure_dashboard()
        sampling_rule_arn = self.ensure_sampling_rule()
        self.ensure_tags()
        return self.changes.result(
            alarm_names=alarm_names,
            dashboard_name=dashboard_name,
            topic_arn=real(topic_arn),
            sampling_rule_arn=real(sampling_rule_arn),
        )

    def ensure_absent(self):
        actual = self.describe_alarms()
        names = [self.prefix + alarm["name"] for alarm in self.params["alarms"]]
        doomed = set(actual) if self.params["purge_alarms"] else set(names) & set(actual)
        self.delete_alarms(sorted(doomed))
        dashboard = self.params["dashboard"]
        if dashboard and self.get_dashboard(dashboard["name"]) is not None:
            self.changes.delete(
                f"dashboard {dashboard['name']}",
                self.cloudwatch,
                "cloudwatch",
                "delete_dashboards",
                DashboardNames=[dashboard["name"]],
            )
        if self.params["topic"]:
            arn = self.find_topic()
            if arn:
                self.changes.delete(
                    f"topic {self.params['topic']['name']}", self.client("sns"), "sns", "delete_topic", TopicArn=arn
                )
        rule = self.params["xray_sampling_rule"]
        if rule:
            known, current = self.find_sampling_rule(rule["name"])
            if known and current:
                self.changes.delete(
                    f"sampling rule {rule['name']}",
                    self.client("xray"),
                    "xray",
                    "delete_sampling_rule",
                    RuleName=rule["name"],
                )
        return self.changes.result(alarm_names=[], dashboard_name=None, topic_arn=None, sampling_rule_arn=None)


def argument_spec():
    """The module's options (shared with the tests)."""
    metric_stat = dict(
        namespace=dict(type="str", required=True),
        metric_name=dict(type="str", required=True),
        dimensions=dict(type="dict"),
        period=dict(type="int", required=True),
        stat=dict(type="str", required=True),
        unit=dict(type="str"),
    )
    metric_query_spec = dict(
        id=dict(type="str", required=True),
        expression=dict(type="str"),
        label=dict(type="str"),
        return_data=dict(type="bool"),
        period=dict(type="int"),
        metric_stat=dict(type="dict", options=metric_stat),
    )
    alarm = dict(
        name=dict(type="str", required=True),
        description=dict(type="str"),
        namespace=dict(type="str"),
        metric_name=dict(type="str"),
        statistic=dict(type="str", choices=["SampleCount", "Average", "Sum", "Minimum", "Maximum"]),
        extended_statistic=dict(type="str"),
        dimensions=dict(type="dict"),
        unit=dict(type="str"),
        metrics=dict(type="list", elements="dict", options=metric_query_spec),
        period=dict(type="int"),
        evaluation_periods=dict(type="int", required=True),
        datapoints_to_alarm=dict(type="int"),
        threshold=dict(type="float", required=True),
        comparison_operator=dict(
            type="str",
            required=True,
            choices=[
                "GreaterThanOrEqualToThreshold",
                "GreaterThanThreshold",
                "LessThanThreshold",
                "LessThanOrEqualToThreshold",
            ],
        ),
        treat_missing_data=dict(type="str", choices=["breaching", "notBreaching", "ignore", "missing"]),
        actions_enabled=dict(type="bool", default=True),
    )
    subscription = dict(protocol=dict(type="str", required=True), endpoint=dict(type="str", required=True))
    topic = dict(
        name=dict(type="str", required=True),
        display_name=dict(type="str"),
        subscriptions=dict(type="list", elements="dict", options=subscription),
    )
    dashboard = dict(name=dict(type="str", required=True), body=dict(type="dict", required=True))
    sampling_rule = dict(
        name=dict(type="str", required=True),
        priority=dict(type="int", required=True),
        fixed_rate=dict(type="float", required=True),
        reservoir_size=dict(type="int", required=True),
        service_name=dict(type="str", default="*"),
        service_type=dict(type="str", default="*"),
        host=dict(type="str", default="*"),
        http_method=dict(type="str", default="*"),
        url_path=dict(type="str", default="*"),
        resource_arn=dict(type="str", default="*"),
        version=dict(type="int", default=1),
        attributes=dict(type="dict"),
    )
    return dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        alarm_name_prefix=dict(type="str", required=True),
        alarms=dict(type="list", elements="dict", options=alarm, default=[]),
        purge_alarms=dict(type="bool", default=False),
        alarm_actions=dict(type="list", elements="str", default=[]),
        ok_actions=dict(type="list", elements="str", default=[]),
        notify_ok=dict(type="bool", default=True),
        topic=dict(type="dict", options=topic),
        dashboard=dict(type="dict", options=dashboard),
        xray_sampling_rule=dict(type="dict", options=sampling_rule),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )


def main():
    module = AnsibleAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    manager = ObservabilityManager(module)
    manager.validate()
    run_manager(module, manager, failure="to converge the CloudWatch alarms, dashboard, topic or sampling rule")


if __name__ == "__main__":
    main()
