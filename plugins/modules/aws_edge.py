#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aws_edge
short_description: The edge of a stack - API Gateway HTTP API to an ALB, CloudFront in front, Route53 failover
description:
  - Converges in one call an API Gateway HTTP API (one C(HTTP_PROXY) integration to an ALB, its routes and the
    auto-deployed V($default) stage), a CloudFront distribution in front of it (TLS, HTTPS redirect, caching off)
    and a public Route53 hosted zone with failover alias A records to the ALBs of two regions, each with a
    health check on the ALB.
  - Each part is optional (O(api), O(cloudfront), O(route53)); a part not given is left alone.
  - Which record is V(PRIMARY) is plain data; running the module again with the failover roles swapped (or with
    another O(cloudfront.origin_domain_name)) updates the records (one UPSERT batch) or the distribution in
    place; nothing is deleted and created again.
  - The API is found by its name, the distribution by its comment, the zone by its name, the health checks by
    their caller reference (digests of the record name and set identifier).
  - Idempotent against the local emulator (moto); its quirks are normalised (CloudFront always reports legacy
    C(ForwardedValues) and C(SSLSupportMethod=sni-only) with the default certificate; Route53 prefixes ALB
    aliases with V(dualstack.)). The one call moto lacks (C(apigatewayv2:update_stage)) is skipped there and
    listed in RV(skipped_calls).
author:
  - the reelle infrastructure authors (@reelle)
options:
  name:
    description:
      - Base name of the edge, for example V(reelle-prod). The API is V(<name>-api) and the distribution's comment
        V(<name> API) unless set otherwise; health checks are tagged V(Name=<name>-<set_identifier>).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates; V(absent) removes what the module created (records, health checks, the
        zone when only our records are left in it, the distribution - disabled, then deleted - and the API).
    type: str
    choices: [present, absent]
    default: present
  api:
    description:
      - The HTTP API in O(region). Not set leaves API Gateway alone.
    type: dict
    suboptions:
      name:
        description: Name of the API. Defaults to V(<name>-api).
        type: str
      description:
        description: Description of the API.
        type: str
      integration_uri:
        description:
          - URL of the backend, for example V(http://<alb dns name>/{proxy}). Required to create the integration;
            may be null in check mode when the ALB would be created.
        type: str
      integration_method:
        description: HTTP method of the integration.
        type: str
        default: ANY
      payload_format_version:
        description: Payload format version of the integration.
        type: str
        default: "1.0"
      timeout_ms:
        description: Integration timeout in milliseconds, 50-30000.
        type: int
        default: 29000
      routes:
        description: Route keys, all targeting the integration. Other routes of the API are deleted.
        type: list
        elements: str
        default: ["ANY /{proxy+}", "$default"]
      access_log_destination_arn:
        description: ARN of the CloudWatch log group receiving the stage's access logs. Not set leaves them alone.
        type: str
      access_log_format:
        description:
          - Format of the access log lines (with O(api.access_log_destination_arn)).
          - Not set, one JSON object a request - request id, source IP, request time, route key, status and
            integration latency.
        type: str
  cloudfront:
    description:
      - The CloudFront distribution. Not set leaves CloudFront alone.
      - An update reads the distribution's configuration (GetDistributionConfig), changes only the keys set here
        and sends it back with its ETag, so settings the module does not manage (other origins and cache behaviors,
        custom error responses, function associations, web ACL, geo restrictions, origin headers) are kept.
      - The create's C(CallerReference) is derived from the name and the request, so a create retried after a lost
        answer is recognised by CloudFront; the distribution is found again by its comment.
    type: dict
    suboptions:
      enabled:
        description: Whether the distribution serves requests.
        type: bool
        default: true
      comment:
        description: Comment of the distribution; it identifies the distribution. Defaults to V(<name> API).
        type: str
      origin_domain_name:
        description:
          - Domain name of the origin. Defaults to the API's execute-api domain. Set it to an ALB's DNS name to send
            CloudFront straight to that ALB (disaster recovery).
        type: str
      origin_id:
        description: Id of the origin inside the distribution.
        type: str
        default: api
      origin_protocol_policy:
        description: How CloudFront talks to the origin.
        type: str
        choices: [http-only, https-only, match-viewer]
        default: https-only
      origin_ssl_protocols:
        description: TLS versions CloudFront uses towards the origin.
        type: list
        elements: str
        default: [TLSv1.2]
      viewer_protocol_policy:
        description: What viewers may use.
        type: str
        choices: [allow-all, https-only, redirect-to-https]
        default: redirect-to-https
      minimum_protocol_version:
        description:
          - TLS security policy towards viewers. With the default CloudFront certificate AWS enforces V(TLSv1)
            whatever is sent, so a reported V(TLSv1) then counts as a match.
        type: str
        default: TLSv1.2_2021
      price_class:
        description: Price class.
        type: str
        choices: [PriceClass_100, PriceClass_200, PriceClass_All]
        default: PriceClass_100
      aliases:
        description:
          - Alternate domain names (CNAMEs). Require O(cloudfront.acm_certificate_arn).
          - Not set leaves the distribution's aliases alone (none on creation); V([]) removes them.
        type: list
        elements: str
      acm_certificate_arn:
        description: ACM certificate (in us-east-1) for the aliases. Not set uses the default CloudFront certificate.
        type: str
      ipv6:
        description: Whether IPv6 is enabled.
        type: bool
        default: true
      http_version:
        description: Highest HTTP version viewers may use.
        type: str
        choices: [http1.1, http2, http2and3, http3]
        default: http2
      cache_policy_id:
        description:
          - A cache policy (for example AWS's managed C(CachingDisabled)) and O(cloudfront.origin_request_policy_id)
            instead of legacy forwarding. Not set (the default, as the emulator has no cache policies) forwards
            query strings, cookies and O(cloudfront.forwarded_headers) with all TTLs 0, so nothing is cached.
        type: str
      origin_request_policy_id:
        description: Origin request policy used with O(cloudfront.cache_policy_id).
        type: str
      forwarded_headers:
        description:
          - Viewer headers forwarded to the origin with legacy forwarding (at most 10). V(Host) is left out on
            purpose; API Gateway answers 403 to a Host other than its own domain.
        type: list
        elements: str
        default: [Accept, Accept-Language, Authorization, Content-Type, Origin, Referer, User-Agent]
      logging_bucket:
        description:
          - S3 bucket domain name (V(<bucket>.s3.amazonaws.com)) for access logs; V("") turns logging off.
          - Not set leaves the distribution's logging alone (off on creation).
        type: str
      logging_prefix:
        description: Prefix of the access log objects.
        type: str
        default: ""
  route53:
    description:
      - The public hosted zone, the health checks and the failover alias records. Not set leaves Route53 alone.
    type: dict
    suboptions:
      zone_name:
        description: Name of the public hosted zone; created when missing.
        type: str
        required: true
      record_name:
        description: Name of the failover records, inside O(route53.zone_name), for example V(api.example.com).
        type: str
        required: true
      evaluate_target_health:
        description: EvaluateTargetHealth of the alias records.
        type: bool
        default: true
      health_check:
        description: The health check created for each record with O(route53.records[].health_check=true).
        type: dict
        default: {}
        suboptions:
          type:
            description: Protocol of the check.
            type: str
            choices: [HTTP, HTTPS]
            default: HTTP
          port:
            description: Port; 80 for HTTP and 443 for HTTPS when not set.
            type: int
          resource_path:
            description: Path requested on the ALB; starts with V(/).
            type: str
            default: /health
          request_interval:
            description: Seconds between checks, 10 or 30. Cannot change in place (the check is replaced).
            type: int
            default: 30
          failure_threshold:
            description: Consecutive failures before the target counts as unhealthy, 1-10.
            type: int
            default: 3
      records:
        description:
          - The failover records, exactly one V(PRIMARY). Other A records of O(route53.record_name) with a set
            identifier are deleted.
        type: list
        elements: dict
        default: []
        suboptions:
          set_identifier:
            description: Set identifier of the record, for example the region V(us-east-1).
            type: str
            required: true
          failover:
            description: Failover role.
            type: str
            choices: [PRIMARY, SECONDARY]
            required: true
          alb_dns_name:
            description: DNS name of the ALB; may be null in check mode when the ALB would be created.
            type: str
          alb_hosted_zone_id:
            description: Canonical hosted zone id of the ALB (per region, for example V(Z35SXDOTRQ7X7K) in us-east-1).
            type: str
          health_check:
            description: Whether the record gets a health check on its ALB.
            type: bool
            default: true
  wait_timeout:
    description:
      - Seconds to wait for a disabled distribution to be deployed before it is deleted (O(state=absent)).
    type: int
    default: 1800
notes:
  - Check mode is supported; against an empty account the creates are reported and the ids returned are null.
  - API Gateway lives in O(region); CloudFront and Route53 are global.
  - A no-op run makes 11 read calls when all three parts are set (API Gateway 4, CloudFront 2, Route53 5); CloudFront's
    configuration is read only when logging is set or the distribution's summary differs.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The prod edge - HTTP API to the us-east-1 ALB, CloudFront in front, Route53 failover across regions
  reelle.infra.aws_edge:
    name: reelle-prod
    region: us-east-1
    api:
      integration_uri: "http://{{ alb_use1_dns }}/{proxy}"
    cloudfront:
      price_class: PriceClass_100
    route53:
      zone_name: reelle.example.com
      record_name: api.reelle.example.com
      health_check: {type: HTTP, resource_path: /health}
      records:
        - set_identifier: us-east-1
          failover: PRIMARY
          alb_dns_name: "{{ alb_use1_dns }}"
          alb_hosted_zone_id: Z35SXDOTRQ7X7K
        - set_identifier: eu-west-1
          failover: SECONDARY
          alb_dns_name: "{{ alb_euw1_dns }}"
          alb_hosted_zone_id: Z32O12XQLNTSW2
    tags:
      environment: prod

- name: Disaster recovery - eu-west-1 becomes PRIMARY and CloudFront goes straight to its ALB
  reelle.infra.aws_edge:
    name: reelle-prod
    region: us-east-1
    cloudfront:
      origin_domain_name: "{{ alb_euw1_dns }}"
      origin_protocol_policy: http-only
    route53:
      zone_name: reelle.example.com
      record_name: api.reelle.example.com
      records:
        - set_identifier: us-east-1
          failover: SECONDARY
          alb_dns_name: "{{ alb_use1_dns }}"
          alb_hosted_zone_id: Z35SXDOTRQ7X7K
        - set_identifier: eu-west-1
          failover: PRIMARY
          alb_dns_name: "{{ alb_euw1_dns }}"
          alb_hosted_zone_id: Z32O12XQLNTSW2
"""

RETURN = r"""
api_id:
  description: Id of the HTTP API; null when it would be created (check mode) or O(api) is not set.
  returned: always
  type: str
  sample: a1b2c3d4e5
api_endpoint:
  description: Invoke URL of the API.
  returned: always
  type: str
  sample: https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com
distribution_id:
  description: Id of the CloudFront distribution; null when it would be created or O(cloudfront) is not set.
  returned: always
  type: str
  sample: E2QWRUHAPOMQZL
distribution_domain_name:
  description: Domain name of the distribution.
  returned: always
  type: str
  sample: d111111abcdef8.cloudfront.net
distribution_arn:
  description: ARN of the distribution.
  returned: always
  type: str
  sample: arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL
zone_id:
  description: Id of the hosted zone (without the /hostedzone/ prefix).
  returned: always
  type: str
  sample: Z0123456789ABCDEFGHIJ
zone_name_servers:
  description: Name servers of the zone, to delegate the domain to.
  returned: always
  type: list
  elements: str
  sample: [ns-2048.awsdns-64.com, ns-2049.awsdns-65.net]
health_check_ids:
  description: Health check id of each record, by set identifier (null when it would be created).
  returned: always
  type: dict
  sample: {us-east-1: 0e1b4a5c-1111-2222-3333-444455556666, eu-west-1: 9f8e7d6c-1111-2222-3333-444455556666}
record_fqdn:
  description: Name of the failover records.
  returned: always
  type: str
  sample: api.reelle.example.com
changes:
  description: The plan - one row per create, update or delete made (or, in check mode, that would be made).
  returned: always
  type: list
  elements: dict
  sample: [{action: update, resource: route53 records api.reelle.example.com, attributes: [us-east-1.failover]}]
skipped_calls:
  description: Calls the local emulator cannot serve, skipped there (made on AWS), as service:operation.
  returned: always
  type: list
  elements: str
  sample: ["apigatewayv2:update_stage"]
diff:
  description: Before and after of every changed resource (with --diff).
  returned: when diff mode is on
  type: dict
  sample: {before: {}, after: {}}
"""

import contextlib
import copy
import hashlib
import uuid

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import WaiterError

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.transformation import scrub_none_parameters
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    ChangeSet,
    arn,
    aws_client,
    changed_attributes,
    client_token,
    differences,
    paginate,
    partition_for,
    run_manager,
    sync_tags,
    tag_dict,
    tag_list,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_waiters import wait_for

GLOBAL_REGION = "us-east-1"  # CloudFront and Route53 are global; their endpoint is in us-east-1
ALL_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
CACHED_METHODS = ["GET", "HEAD"]
STAGE = "$default"
ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
    '"requestTime":"$context.requestTime","routeKey":"$context.routeKey",'
    '"status":"$context.status","latency":"$context.integrationLatency"}'
)


def _dns(name):
    """An alias or FQDN as Route53 compares it: lower case, no trailing dot, no dualstack. prefix."""
    if not name:
        return name
    name = name.lower().rstrip(".")
    return name[len("dualstack.") :] if name.startswith("dualstack.") else name


def _digest(text, length):
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _items(block):
    return list((block or {}).get("Items") or [])


def _listing(items):
    return {"Quantity": len(items), "Items": list(items)}


def _same_listing(current, items):
    """A CloudFront list of `items`, keeping `current` (and its order) when it holds the same items."""
    if current and sorted(_items(current)) == sorted(items) and current.get("Quantity") == len(items):
        return current
    return _listing(items)


class EdgeManager:
    """Brings the HTTP API, the distribution and the Route53 failover setup to the desired state."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.name = module.params["name"]
        self.changes = ChangeSet(module)
        self._clients = {}

    # --- helpers ------------------------------------------------------------

    def client(self, service):
        if service not in self._clients:
            region = None if service == "apigatewayv2" else GLOBAL_REGION
            self._clients[service] = aws_client(self.module, service, region)
        return self._clients[service]

    @property
    def apigw(self):
        return self.client("apigatewayv2")

    @property
    def cf(self):
        return self.client("cloudfront")

    @property
    def r53(self):
        return self.client("route53")

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, changes=self.changes.changes, **kwargs)

    @property
    def check_mode(self):
        return self.module.check_mode

    def nullable(self, value, argument):
        """An upstream value that may only be null in check mode (it would be created)."""
        if not value and not self.check_mode and self.params["state"] == "present":
            self.fail(f"{argument} is required (it may only be null in check mode)")
        return value or None

    @property
    def tags(self):
        return self.params["tags"]

    def reconcile_tags(self, resource, current, desired, tag, untag):
        """The shared sync_tags (desired None leaves tags alone), and the tags in --diff when they change."""
        sync_tags(self.changes, resource, current, desired, self.params["purge_tags"], tag, untag, note=True)

    # --- validation ---------------------------------------------------------

    def validate(self):
        problems = []
        api, cloudfront, route53 = self.params["api"], self.params["cloudfront"], self.params["route53"]
        if api:
            uri = api["integration_uri"]
            if uri and not uri.startswith(("http://", "https://")):
                problems.append(f"api.integration_uri must be an http:// or https:// URL, not {uri!r}")
            if not 50 <= api["timeout_ms"] <= 30000:
                problems.append(f"api.timeout_ms must be between 50 and 30000, not {api['timeout_ms']}")
            if not api["routes"]:
                problems.append("api.routes must name at least one route key")
        if cloudfront:
            problems.extend(self.cloudfront_problems(cloudfront, api))
        if route53:
            problems.extend(self.route53_problems(route53))
        if problems:
            self.fail("Invalid parameters: " + "; ".join(problems))

    def cloudfront_problems(self, cloudfront, api):
        problems = []
        if cloudfront["aliases"] and not cloudfront["acm_certificate_arn"]:
            problems.append("cloudfront.aliases require cloudfront.acm_certificate_arn")
        certificate = cloudfront["acm_certificate_arn"]
        # CloudFront takes ACM certificates from us-east-1 only (arn:<partition>:acm:us-east-1:...).
        parsed = parse_aws_arn(certificate) if certificate else None
        if certificate and not (parsed and parsed["service"] == "acm" and parsed["region"] == GLOBAL_REGION):
            problems.append(
                f"cloudfront.acm_certificate_arn must be an ACM certificate in us-east-1, not {certificate!r}"
            )
        if len(cloudfront["forwarded_headers"]) > 10:
            problems.append("cloudfront.forwarded_headers takes at most 10 headers")
        if any(header.lower() == "host" for header in cloudfront["forwarded_headers"]):
            problems.append("cloudfront.forwarded_headers must not forward Host (API Gateway rejects it)")
        if not (cloudfront["origin_domain_name"] or api) and self.params["state"] == "present":
            problems.append("cloudfront.origin_domain_name is required without api")
        return problems

    @staticmethod
    def route53_problems(route53):
        problems = []
        zone, record = _dns(route53["zone_name"]), _dns(route53["record_name"])
        if record != zone and not record.endswith("." + zone):
            problems.append(f"route53.record_name {record} is not inside route53.zone_name {zone}")
        check = route53["health_check"]
        if not (check["resource_path"] or "").startswith("/"):
            problems.append(f"route53.health_check.resource_path must start with /, not {check['resource_path']!r}")
        if check["request_interval"] not in (10, 30):
            problems.append(f"route53.health_check.request_interval must be 10 or 30, not {check['request_interval']}")
        if not 1 <= check["failure_threshold"] <= 10:
            problems.append(
                f"route53.health_check.failure_threshold must be between 1 and 10, not {check['failure_threshold']}"
            )
        if check["port"] is not None and not 1 <= check["port"] <= 65535:
            problems.append(f"route53.health_check.port must be between 1 and 65535, not {check['port']}")
        records = route53["records"]
        if records:
            roles = [item["failover"] for item in records]
            if roles.count("PRIMARY") != 1:
                problems.append(f"route53.records must have exactly one PRIMARY, not {roles.count('PRIMARY')}")
            if roles.count("SECONDARY") > 1:
                problems.append("route53.records may have at most one SECONDARY")
            identifiers = [item["set_identifier"] for item in records]
            if len(set(identifiers)) != len(identifiers):
                problems.append(f"route53.records set_identifier values must be unique: {identifiers}")
        return problems

    # --- API Gateway HTTP API ----------------------------------------------

    @property
    def api_name(self):
        return self.params["api"]["name"] or f"{self.name}-api"

    def api_arn(self, api_id):
        region = self.apigw.meta.region_name
        return arn(partition_for(region), "apigateway", region, "", f"/apis/{api_id}")

    def find_api(self):
        name = self.api_name
        found = [
            api
            for api in paginate(self.apigw, "get_apis", "Items")
            if api["Name"] == name and api.get("ProtocolType") == "HTTP"
        ]
        if len(found) > 1:
            self.fail(f"{len(found)} HTTP APIs are named {name}: remove the extra ones or name another")
        return found[0] if found else None

    def ensure_api(self):
        spec = self.params["api"]
        resource = f"http api {self.api_name}"
        api = self.find_api()
        if api is None:
            created = self.changes.create(
                resource,
                self.apigw,
                "apigatewayv2",
                "create_api",
                **scrub_none_parameters(
                    dict(Name=self.api_name, ProtocolType="HTTP", Description=spec["description"], Tags=self.tags)
                ),
            )
            self.changes.note(
                resource, None, scrub_none_parameters(dict(name=self.api_name, description=spec["description"]))
            )
            if created is None:
                self.note_api_parts_created(resource)
                return {}
            api = created
            integrations, routes, stages = [], [], []
        else:
            if spec["description"] is not None and spec["description"] != api.get("Description", ""):
                self.changes.update(
                    resource,
                    ["description"],
                    self.apigw,
                    "apigatewayv2",
                    "update_api",
                    ApiId=api["ApiId"],
                    Description=spec["description"],
                )
                self.changes.note(
                    resource, {"description": api.get("Description")}, {"description": spec["description"]}
                )
            self.reconcile_tags(resource, api.get("Tags") or {}, self.tags, *self.apigw_tagging(api["ApiId"]))
            integrations = paginate(self.apigw, "get_integrations", "Items", ApiId=api["ApiId"])
            routes = paginate(self.apigw, "get_routes", "Items", ApiId=api["ApiId"])
            stages = paginate(self.apigw, "get_stages", "Items", ApiId=api["ApiId"])
        integration_id = self.ensure_integration(api["ApiId"], integrations)
        self.ensure_routes(api["ApiId"], routes, integration_id)
        self.ensure_stage(api["ApiId"], stages)
        return api

    def note_api_parts_created(self, resource):
        """Check mode on a new API: the integration, routes and stage would be created too."""
        spec = self.params["api"]
        self.nullable(spec["integration_uri"], "api.integration_uri")
        self.changes.record("create", f"{resource} integration")
        for key in spec["routes"]:
            self.changes.record("create", f"{resource} route {key}")
        self.changes.record("create", f"{resource} stage {STAGE}")

    def apigw_tagging(self, api_id):
        """(tag, untag) of an HTTP API for sync_tags: API Gateway takes tags as a dict."""
        request = {"ResourceArn": self.api_arn(api_id)}
        return (
            lambda to_set: (self.apigw, "apigatewayv2", "tag_resource", dict(request, Tags=to_set)),
            lambda keys: (self.apigw, "apigatewayv2", "untag_resource", dict(request, TagKeys=keys)),
        )

    def ensure_integration(self, api_id, integrations):
        spec = self.params["api"]
        resource = f"http api {self.api_name} integration"
        uri = self.nullable(spec["integration_uri"], "api.integration_uri")
        desired = {
            "IntegrationType": "HTTP_PROXY",
            "IntegrationMethod": spec["integration_method"],
            "IntegrationUri": uri,
            "PayloadFormatVersion": spec["payload_format_version"],
            "TimeoutInMillis": spec["timeout_ms"],
        }
        ours = [item for item in integrations if item.get("IntegrationType") == "HTTP_PROXY"]
        current = next((item for item in ours if item.get("IntegrationUri") == uri), ours[0] if ours else None)
        if current is None:
            created = self.changes.create(
                resource,
                self.apigw,
                "apigatewayv2",
                "create_integration",
                ApiId=api_id,
                **scrub_none_parameters(desired),
            )
            self.changes.note(resource, None, scrub_none_parameters(desired))
            return (created or {}).get("IntegrationId")
        found = differences(desired, current)
        if found:
            arguments = {item["path"]: desired[item["path"]] for item in found}
            self.changes.update(
                resource,
                changed_attributes(found),
                self.apigw,
                "apigatewayv2",
                "update_integration",
                ApiId=api_id,
                IntegrationId=current["IntegrationId"],
                **arguments,
            )
            self.changes.note(resource, {key: current.get(key) for key in arguments}, arguments)
        return current["IntegrationId"]

    def ensure_routes(self, api_id, routes, integration_id):
        wanted = self.params["api"]["routes"]
        target = f"integrations/{integration_id}" if integration_id else None
        by_key = {route["RouteKey"]: route for route in routes}
        prefix = f"http api {self.api_name} route"
        for key in wanted:
            route = by_key.get(key)
            if route is None:
                self.changes.create(
                    f"{prefix} {key}",
                    self.apigw,
                    "apigatewayv2",
                    "create_route",
                    **scrub_none_parameters(dict(ApiId=api_id, RouteKey=key, Target=target)),
                )
                self.changes.note(f"{prefix} {key}", None, {"target": target})
            elif target and route.get("Target") != target:
                self.changes.update(
                    f"{prefix} {key}",
                    ["target"],
                    self.apigw,
                    "apigatewayv2",
                    "update_route",
                    ApiId=api_id,
                    RouteId=route["RouteId"],
                    Target=target,
                )
                self.changes.note(f"{prefix} {key}", {"target": route.get("Target")}, {"target": target})
        for key, route in sorted(by_key.items()):
            if key not in wanted:
                self.changes.delete(
                    f"{prefix} {key}",
                    self.apigw,
                    "apigatewayv2",
                    "delete_route",
                    ApiId=api_id,
                    RouteId=route["RouteId"],
                )
                self.changes.note(f"{prefix} {key}", {"target": route.get("Target")}, None)

    def desired_access_logs(self):
        spec = self.params["api"]
        if not spec["access_log_destination_arn"]:
            return None
        return {
            "DestinationArn": spec["access_log_destination_arn"],
            "Format": spec["access_log_format"] or ACCESS_LOG_FORMAT,
        }

    def ensure_stage(self, api_id, stages):
        resource = f"http api {self.api_name} stage {STAGE}"
        logs = self.desired_access_logs()
        stage = next((item for item in stages if item["StageName"] == STAGE), None)
        if stage is None:
            self.changes.create(
                resource,
                self.apigw,
                "apigatewayv2",
                "create_stage",
                **scrub_none_parameters(
                    dict(ApiId=api_id, StageName=STAGE, AutoDeploy=True, AccessLogSettings=logs, Tags=self.tags)
                ),
            )
            self.changes.note(resource, None, scrub_none_parameters(dict(auto_deploy=True, access_log_settings=logs)))
            return
        desired = scrub_none_parameters(dict(AutoDeploy=True, AccessLogSettings=logs))
        found = differences(desired, stage)
        if found:
            self.changes.update(
                resource,
                changed_attributes(found),
                self.apigw,
                "apigatewayv2",
                "update_stage",
                ApiId=api_id,
                StageName=STAGE,
                **desired,
            )
            self.changes.note(resource, {key: stage.get(key) for key in desired}, desired)

    def delete_api(self):
        resource = f"http api {self.api_name}"
        api = self.find_api()
        if api is None:
            return
        self.changes.delete(resource, self.apigw, "apigatewayv2", "delete_api", ApiId=api["ApiId"])
        self.changes.note(resource, {"api_id": api["ApiId"]}, None)

    # --- CloudFront ---------------------------------------------------------

    @property
    def comment(self):
        return self.params["cloudfront"]["comment"] or f"{self.name} API"

    def find_distribution(self):
        comment, marker, found = self.comment, "", []
        while True:
            request = scrub_none_parameters({"Marker": marker or None})
            page = self.cf.list_distributions(aws_retry=True, **request)["DistributionList"]
            found.extend(item for item in page.get("Items") or [] if item.get("Comment") == comment)
            marker = page.get("NextMarker")
            if not page.get("IsTruncated") or not marker:
                break
        if len(found) > 1:
            self.fail(f"{len(found)} CloudFront distributions have the comment {comment!r}: it must be unique")
        return found[0] if found else None

    def desired_view(self, origin):
        """The fields the module sets, as compared (order-free lists, normalised values)."""
        spec = self.params["cloudfront"]
        view = {
            "enabled": spec["enabled"],
            "comment": self.comment,
            "price_class": spec["price_class"],
            "aliases": None if spec["aliases"] is None else sorted(spec["aliases"]),
            "ipv6": spec["ipv6"],
            "http_version": spec["http_version"],
            "origin": {
                "id": spec["origin_id"],
                "domain_name": origin,
                "protocol_policy": spec["origin_protocol_policy"],
                "ssl_protocols": sorted(spec["origin_ssl_protocols"]),
            },
            "viewer_protocol_policy": spec["viewer_protocol_policy"],
            "allowed_methods": ALL_METHODS,
            "cached_methods": CACHED_METHODS,
            "certificate": {
                "default": not spec["acm_certificate_arn"],
                "acm_certificate_arn": spec["acm_certificate_arn"] or "",
                "minimum_protocol_version": spec["minimum_protocol_version"],
            },
        }
        if spec["logging_bucket"] is not None:  # unset leaves the distribution's logging alone
            view["logging"] = {
                "enabled": bool(spec["logging_bucket"]),
                "bucket": spec["logging_bucket"] or "",
                "prefix": spec["logging_prefix"] if spec["logging_bucket"] else "",
            }
        if spec["acm_certificate_arn"]:
            view["certificate"]["ssl_support_method"] = "sni-only"
        if spec["cache_policy_id"]:
            view["cache_policy_id"] = spec["cache_policy_id"]
            view["origin_request_policy_id"] = spec["origin_request_policy_id"] or ""
        else:
            view["forwarded"] = {
                "query_string": True,
                "cookies": "all",
                "headers": sorted(spec["forwarded_headers"]),
                "ttl": [0, 0, 0],
            }
        return view

    @staticmethod
    def actual_view(config, desired):
        """The same fields read from a DistributionConfig, normalised for the emulator's and AWS's quirks."""
        origin_id = desired["origin"]["id"]
        origins = _items(config.get("Origins"))
        origin = next((item for item in origins if item["Id"] == origin_id), origins[0] if origins else {})
        custom = origin.get("CustomOriginConfig") or {}
        behavior = config.get("DefaultCacheBehavior") or {}
        methods = behavior.get("AllowedMethods") or {}
        certificate = config.get("ViewerCertificate") or {}
        logging = config.get("Logging") or {}
        is_default = bool(certificate.get("CloudFrontDefaultCertificate"))
        minimum = certificate.get("MinimumProtocolVersion")
        if is_default and minimum == "TLSv1":
            # AWS enforces TLSv1 with the default certificate, whatever was sent.
            minimum = desired["certificate"]["minimum_protocol_version"]
        view = {
            "enabled": config.get("Enabled"),
            "comment": config.get("Comment"),
            "price_class": config.get("PriceClass"),
            "aliases": sorted(_items(config.get("Aliases"))),
            "ipv6": config.get("IsIPV6Enabled"),
            "http_version": config.get("HttpVersion"),
            "origin": {
                "id": origin.get("Id"),
                "domain_name": origin.get("DomainName"),
                "protocol_policy": custom.get("OriginProtocolPolicy"),
                "ssl_protocols": sorted(_items(custom.get("OriginSslProtocols"))),
            },
            "viewer_protocol_policy": behavior.get("ViewerProtocolPolicy"),
            "allowed_methods": sorted(_items(methods)),
            "cached_methods": sorted(_items(methods.get("CachedMethods"))),
            "certificate": {
                "default": is_default,
                "acm_certificate_arn": certificate.get("ACMCertificateArn") or "",
                "minimum_protocol_version": minimum,
                # moto reports sni-only with the default certificate too; compared only with an ACM certificate.
                "ssl_support_method": certificate.get("SSLSupportMethod"),
            },
            "logging": {
                "enabled": bool(logging.get("Enabled")),
                "bucket": logging.get("Bucket") or "",
                "prefix": logging.get("Prefix") or "",
            },
            "cache_policy_id": behavior.get("CachePolicyId") or "",
            "origin_request_policy_id": behavior.get("OriginRequestPolicyId") or "",
        }
        forwarded = behavior.get("ForwardedValues")
        if forwarded is not None and not behavior.get("CachePolicyId"):
            # moto always reports legacy ForwardedValues; they count only when no cache policy is set.
            view["forwarded"] = {
                "query_string": forwarded.get("QueryString"),
                "cookies": (forwarded.get("Cookies") or {}).get("Forward"),
                "headers": sorted(_items(forwarded.get("Headers"))),
                "ttl": [behavior.get("MinTTL") or 0, behavior.get("DefaultTTL") or 0, behavior.get("MaxTTL") or 0],
            }
        return view

    def desired_config(self, origin, current=None):
        """The DistributionConfig to send: `current` (GetDistributionConfig) with only the module's keys changed.

        UpdateDistribution replaces the whole configuration, so everything the module does not manage (other
        origins and cache behaviors, custom error responses, function associations, response headers policy,
        WAF web ACL, geo restrictions, origin headers and timeouts, logging or aliases when not given) is sent
        back as read. Lists the module sets keep AWS's order when they hold the same items.
        """
        spec = self.params["cloudfront"]
        config = copy.deepcopy(current) if current else {}
        origins = _items(config.get("Origins"))
        ours = next((item for item in origins if item.get("Id") == spec["origin_id"]), None)
        if ours is None:
            ours = {"Id": spec["origin_id"]}
            origins.append(ours)
        ours["DomainName"] = origin
        ours.pop("S3OriginConfig", None)
        custom = ours.setdefault("CustomOriginConfig", {})
        custom.setdefault("HTTPPort", 80)
        custom.setdefault("HTTPSPort", 443)
        custom["OriginProtocolPolicy"] = spec["origin_protocol_policy"]
        custom["OriginSslProtocols"] = _same_listing(custom.get("OriginSslProtocols"), spec["origin_ssl_protocols"])
        config["Origins"] = _listing(origins)

        behavior = config.setdefault("DefaultCacheBehavior", {})
        behavior["TargetOriginId"] = spec["origin_id"]
        behavior["ViewerProtocolPolicy"] = spec["viewer_protocol_policy"]
        methods = behavior.get("AllowedMethods") or {}
        behavior["AllowedMethods"] = dict(
            _same_listing(methods, ALL_METHODS),
            CachedMethods=_same_listing(methods.get("CachedMethods"), CACHED_METHODS),
        )
        behavior.setdefault("Compress", True)
        if spec["cache_policy_id"]:
            # A cache policy and the legacy ForwardedValues/TTLs exclude each other.
            for key in ("ForwardedValues", "MinTTL", "DefaultTTL", "MaxTTL"):
                behavior.pop(key, None)
            behavior["CachePolicyId"] = spec["cache_policy_id"]
            if spec["origin_request_policy_id"]:
                behavior["OriginRequestPolicyId"] = spec["origin_request_policy_id"]
            else:
                behavior.pop("OriginRequestPolicyId", None)
        else:
            behavior.pop("CachePolicyId", None)
            behavior.pop("OriginRequestPolicyId", None)
            forwarded = behavior.get("ForwardedValues") or {}
            behavior.update(
                ForwardedValues=dict(
                    forwarded,
                    QueryString=True,
                    Cookies={"Forward": "all"},
                    Headers=_same_listing(forwarded.get("Headers"), spec["forwarded_headers"]),
                ),
                MinTTL=0,
                DefaultTTL=0,
                MaxTTL=0,
            )

        if spec["acm_certificate_arn"]:
            config["ViewerCertificate"] = {
                "ACMCertificateArn": spec["acm_certificate_arn"],
                "SSLSupportMethod": "sni-only",
                "MinimumProtocolVersion": spec["minimum_protocol_version"],
            }
        else:
            config["ViewerCertificate"] = {
                "CloudFrontDefaultCertificate": True,
                "MinimumProtocolVersion": spec["minimum_protocol_version"],
            }
        if spec["aliases"] is not None:
            config["Aliases"] = _same_listing(config.get("Aliases"), spec["aliases"])
        config.setdefault("Aliases", _listing([]))
        config.update(
            Comment=self.comment,
            PriceClass=spec["price_class"],
            Enabled=spec["enabled"],
            HttpVersion=spec["http_version"],
            IsIPV6Enabled=spec["ipv6"],
        )
        config.setdefault("Restrictions", {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}})
        if spec["logging_bucket"] is not None:
            config["Logging"] = {
                "Enabled": bool(spec["logging_bucket"]),
                "IncludeCookies": bool((config.get("Logging") or {}).get("IncludeCookies")),
                "Bucket": spec["logging_bucket"] or "",
                "Prefix": spec["logging_prefix"] if spec["logging_bucket"] else "",
            }
        config.setdefault("Logging", {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""})
        if not config.get("CallerReference"):
            # Deterministic: the same name and request give the same reference, so a create retried after a lost
            # answer (or re-run after an interrupted run) is recognised by CloudFront instead of making another.
            config["CallerReference"] = f"{self.name}-{client_token('cloudfront', self.name, config, length=32)}"
        return config

    def ensure_distribution(self, api):
        spec = self.params["cloudfront"]
        origin = spec["origin_domain_name"]
        if not origin and api.get("ApiEndpoint"):
            origin = api["ApiEndpoint"].split("://", 1)[-1].rstrip("/")
        origin = self.nullable(origin, "cloudfront.origin_domain_name (or the API's domain)")
        resource = f"cloudfront distribution {self.comment}"
        summary = self.find_distribution()
        if summary is None:
            config = self.desired_config(origin or "pending.invalid")
            try:
                created = self.create_distribution(resource, config)
            except is_boto3_error_code("DistributionAlreadyExists"):
                # Our CallerReference was used already. A create whose answer was lost made the distribution:
                # find it by its comment. Otherwise the reference belonged to a deleted one: create afresh.
                found = self.find_distribution()
                if found:
                    created = {"Distribution": found}
                else:
                    config["CallerReference"] = f"{self.name}-{uuid.uuid4().hex}"
                    created = self.create_distribution(resource, config)
            self.changes.note(resource, None, self.desired_view(origin))
            return (created or {}).get("Distribution") or {}
        desired = self.desired_view(origin)
        if origin is None:
            desired["origin"]["domain_name"] = None  # unknown in check mode: not compared
        # The list's summary holds every field compared but Logging: the full configuration
        # (and its ETag) is read only when logging is wanted or something differs.
        current = summary
        if spec["logging_bucket"]:
            current = self.cf.get_distribution_config(aws_retry=True, Id=summary["Id"])["DistributionConfig"]
        actual = self.actual_view(current, desired)
        found = differences(desired, actual)
        if found:
            response = self.cf.get_distribution_config(aws_retry=True, Id=summary["Id"])
            current, etag = response["DistributionConfig"], response["ETag"]
            self.changes.update(
                resource,
                changed_attributes(found),
                self.cf,
                "cloudfront",
                "update_distribution",
                Id=summary["Id"],
                IfMatch=etag,
                DistributionConfig=self.desired_config(origin or actual["origin"]["domain_name"], current),
            )
            self.changes.note(resource, {key: actual.get(key) for key in desired}, desired)
        if self.tags is not None:
            answer = self.cf.list_tags_for_resource(aws_retry=True, Resource=summary["ARN"])
            current = tag_dict(_items(answer.get("Tags")))
            self.reconcile_tags(resource, current, self.tags, *self.cloudfront_tagging(summary["ARN"]))
        return summary

    def create_distribution(self, resource, config):
        if self.tags:
            return self.changes.create(
                resource,
                self.cf,
                "cloudfront",
                "create_distribution_with_tags",
                DistributionConfigWithTags={"DistributionConfig": config, "Tags": {"Items": tag_list(self.tags)}},
            )
        return self.changes.create(resource, self.cf, "cloudfront", "create_distribution", DistributionConfig=config)

    def cloudfront_tagging(self, distribution_arn):
        """(tag, untag) of a distribution for sync_tags: CloudFront wraps both lists in Items."""
        request = {"Resource": distribution_arn}
        return (
            lambda to_set: (self.cf, "cloudfront", "tag_resource", dict(request, Tags={"Items": tag_list(to_set)})),
            lambda keys: (self.cf, "cloudfront", "untag_resource", dict(request, TagKeys={"Items": keys})),
        )

    def delete_distribution(self):
        resource = f"cloudfront distribution {self.comment}"
        summary = self.find_distribution()
        if summary is None:
            return
        dist_id = summary["Id"]
        response = self.cf.get_distribution_config(aws_retry=True, Id=dist_id)
        config, etag = response["DistributionConfig"], response["ETag"]
        if config.get("Enabled"):
            # CloudFront deletes only a disabled, deployed distribution.
            updated = self.changes.update(
                resource,
                ["enabled"],
                self.cf,
                "cloudfront",
                "update_distribution",
                Id=dist_id,
                IfMatch=etag,
                DistributionConfig=dict(config, Enabled=False),
            )
            if updated is not None:
                etag = updated["ETag"]
                self.wait_deployed(dist_id)
        self.changes.delete(resource, self.cf, "cloudfront", "delete_distribution", Id=dist_id, IfMatch=etag)
        self.changes.note(resource, {"id": dist_id, "enabled": config.get("Enabled")}, None)

    def wait_deployed(self, dist_id):
        # CloudFront's own waiter polls every 60 s; deployments take minutes. 30 s, scaled down in tests.
        try:
            wait_for(self.cf, "distribution_deployed", self.params["wait_timeout"], 30, Id=dist_id)
        except WaiterError as e:
            self.fail(f"cloudfront distribution {dist_id} was not deployed after {self.params['wait_timeout']} s: {e}")

    # --- Route53 ------------------------------------------------------------

    @property
    def zone_name(self):
        return _dns(self.params["route53"]["zone_name"])

    @property
    def record_name(self):
        return _dns(self.params["route53"]["record_name"])

    def find_zone(self):
        zones = self.r53.list_hosted_zones_by_name(aws_retry=True, DNSName=self.zone_name + ".", MaxItems="10")
        found = [
            zone
            for zone in zones.get("HostedZones") or []
            if _dns(zone["Name"]) == self.zone_name and not zone.get("Config", {}).get("PrivateZone")
        ]
        if len(found) > 1:
            self.fail(f"{len(found)} public hosted zones are named {self.zone_name}: keep one")
        return found[0] if found else None

    def list_records(self, zone_id):
        return paginate(self.r53, "list_resource_record_sets", "ResourceRecordSets", HostedZoneId=zone_id)

    @property
    def record_reference(self):
        """Caller references are at most 64 characters: the record name and set identifier go in as hashes."""
        return f"edge:{_digest(self.record_name, 12)}:"

    def caller_prefix(self, set_identifier):
        return f"{self.record_reference}{_digest(set_identifier, 8)}:"

    def find_health_checks(self):
        """Our health checks by set identifier digest (found by the caller reference prefix)."""
        prefix = self.record_reference
        found = {}
        for check in paginate(self.r53, "list_health_checks", "HealthChecks"):
            reference = check.get("CallerReference") or ""
            if reference.startswith(prefix):
                found.setdefault(reference[len(prefix) :].split(":", 1)[0], []).append(check)
        return found

    def desired_health_check(self, record):
        check = self.params["route53"]["health_check"]
        port = check["port"] or (443 if check["type"] == "HTTPS" else 80)
        config = {
            "Type": check["type"],
            "FullyQualifiedDomainName": record["alb_dns_name"],
            "Port": port,
            "ResourcePath": check["resource_path"],
            "RequestInterval": check["request_interval"],
            "FailureThreshold": check["failure_threshold"],
        }
        if check["type"] == "HTTPS":
            config["EnableSNI"] = True
        return config

    def ensure_zone(self):
        resource = f"route53 zone {self.zone_name}"
        zone = self.find_zone()
        if zone is None:
            created = self.changes.create(
                resource,
                self.r53,
                "route53",
                "create_hosted_zone",
                Name=self.zone_name,
                CallerReference=f"{self.zone_name}:{uuid.uuid4()}",
                HostedZoneConfig={"Comment": f"{self.name} edge", "PrivateZone": False},
            )
            self.changes.note(resource, None, {"name": self.zone_name})
            if created is None:
                return None, [], []
            zone_id = created["HostedZone"]["Id"].split("/")[-1]
            if self.tags:
                self.tag_route53("hostedzone", zone_id, self.tags)
            return zone_id, created.get("DelegationSet", {}).get("NameServers", []), []
        zone_id = zone["Id"].split("/")[-1]
        records = self.list_records(zone_id)
        apex_ns = next(
            (item for item in records if item["Type"] == "NS" and _dns(item["Name"]) == self.zone_name), None
        )
        servers = [_dns(item["Value"]) for item in (apex_ns or {}).get("ResourceRecords", [])]
        if self.tags is not None:
            tags = self.r53.list_tags_for_resource(aws_retry=True, ResourceType="hostedzone", ResourceId=zone_id)
            current = tag_dict(tags.get("ResourceTagSet", {}).get("Tags"))
            self.reconcile_tags(resource, current, self.tags, *self.route53_tagging("hostedzone", zone_id))
        return zone_id, servers, records

    def route53_tagging(self, kind, resource_id):
        """(tag, untag) of a hosted zone or health check for sync_tags: ChangeTagsForResource either way."""
        request = {"ResourceType": kind, "ResourceId": resource_id}
        return (
            lambda to_set: (self.r53, "route53", "change_tags_for_resource", dict(request, AddTags=tag_list(to_set))),
            lambda keys: (self.r53, "route53", "change_tags_for_resource", dict(request, RemoveTagKeys=keys)),
        )

    def tag_route53(self, kind, resource_id, tags):
        """Tag a zone or health check just created (Route53's creates take no tags)."""
        self.r53.change_tags_for_resource(
            aws_retry=True, ResourceType=kind, ResourceId=resource_id, AddTags=tag_list(tags)
        )

    def health_check_tags(self, set_identifier):
        return dict(self.tags or {}, Name=f"{self.name}-{set_identifier}")

    def ensure_health_checks(self):
        """Health check id per set identifier (None when it would be created); ids of checks to delete after."""
        records = [item for item in self.params["route53"]["records"] if item["health_check"]]
        existing = self.find_health_checks()
        ids, obsolete, current_tags = {}, [], {}
        known = [check["Id"] for checks in existing.values() for check in checks]
        if known and self.tags is not None:
            for start in range(0, len(known), 10):  # ListTagsForResources takes 10 ids at a time
                answer = self.r53.list_tags_for_resources(
                    aws_retry=True, ResourceType="healthcheck", ResourceIds=known[start : start + 10]
                )
                for item in answer.get("ResourceTagSets", []):
                    current_tags[item["ResourceId"]] = tag_dict(item.get("Tags"))
        for record in records:
            identifier = record["set_identifier"]
            resource = f"route53 health check {self.record_name} {identifier}"
            self.nullable(record["alb_dns_name"], f"route53.records[{identifier}].alb_dns_name")
            desired = self.desired_health_check(record)
            checks = existing.pop(_digest(identifier, 8), [])
            check, extra = (checks[0], checks[1:]) if checks else (None, [])
            obsolete.extend(item["Id"] for item in extra)
            if check is not None:
                actual = check["HealthCheckConfig"]
                fixed = differences({key: desired[key] for key in ("Type", "RequestInterval")}, actual)
                if fixed:  # cannot change in place: a new check replaces it once the record points at it
                    obsolete.append(check["Id"])
                    check = None
            if check is None:
                ids[identifier] = self.create_health_check(resource, identifier, desired)
                continue
            ids[identifier] = check["Id"]
            self.update_health_check(resource, check, desired)
            if self.tags is not None:
                tags = current_tags.get(check["Id"], {})
                desired_tags = self.health_check_tags(identifier)
                self.reconcile_tags(resource, tags, desired_tags, *self.route53_tagging("healthcheck", check["Id"]))
        for checks in existing.values():  # set identifiers no longer wanted, or records without a check
            obsolete.extend(check["Id"] for check in checks)
        return ids, obsolete

    def create_health_check(self, resource, identifier, desired):
        created = self.changes.create(
            resource,
            self.r53,
            "route53",
            "create_health_check",
            CallerReference=f"{self.caller_prefix(identifier)}{uuid.uuid4().hex[:12]}",
            HealthCheckConfig=scrub_none_parameters(desired),
        )
        self.changes.note(resource, None, desired)
        if created is None:
            return None
        check_id = created["HealthCheck"]["Id"]
        self.tag_route53("healthcheck", check_id, self.health_check_tags(identifier))
        return check_id

    def update_health_check(self, resource, check, desired):
        actual = dict(check["HealthCheckConfig"])
        actual["FullyQualifiedDomainName"] = _dns(actual.get("FullyQualifiedDomainName"))
        wanted = {
            key: _dns(value) if key == "FullyQualifiedDomainName" else value
            for key, value in desired.items()
            if key not in ("Type", "RequestInterval")
        }
        found = differences(wanted, actual)
        if not found:
            return
        arguments = {item["path"]: desired[item["path"]] for item in found if desired[item["path"]] is not None}
        self.changes.update(
            resource,
            changed_attributes(found),
            self.r53,
            "route53",
            "update_health_check",
            HealthCheckId=check["Id"],
            HealthCheckVersion=check.get("HealthCheckVersion", 1),
            **arguments,
        )
        self.changes.note(resource, {key: actual.get(key) for key in arguments}, arguments)

    def desired_record(self, record, health_check_id):
        route53 = self.params["route53"]
        alias = {
            "HostedZoneId": record["alb_hosted_zone_id"],
            "DNSName": record["alb_dns_name"],
            "EvaluateTargetHealth": route53["evaluate_target_health"],
        }
        return scrub_none_parameters(
            dict(
                Name=self.record_name + ".",
                Type="A",
                SetIdentifier=record["set_identifier"],
                Failover=record["failover"],
                AliasTarget=alias,
                HealthCheckId=health_check_id,
            )
        )

    @staticmethod
    def record_view(record_set):
        alias = record_set.get("AliasTarget") or {}
        return {
            "failover": record_set.get("Failover"),
            "alb_dns_name": _dns(alias.get("DNSName")),
            "alb_hosted_zone_id": alias.get("HostedZoneId"),
            "evaluate_target_health": alias.get("EvaluateTargetHealth"),
            "health_check_id": record_set.get("HealthCheckId") or "",
        }

    def ours(self, records):
        return {
            item["SetIdentifier"]: item
            for item in records
            if _dns(item["Name"]) == self.record_name and item["Type"] == "A" and item.get("SetIdentifier")
        }

    def ensure_records(self, zone_id, records, health_check_ids):
        resource = f"route53 records {self.record_name}"
        current = self.ours(records)
        batch, attributes, before, after = [], [], {}, {}
        for record in self.params["route53"]["records"]:
            identifier = record["set_identifier"]
            check_id = health_check_ids.get(identifier) if record["health_check"] else None
            wanted = self.desired_record(record, check_id)
            view = self.record_view(wanted)
            actual = current.pop(identifier, None)
            if actual is not None:
                if record["health_check"] and check_id is None:
                    view["health_check_id"] = None  # would be created (check mode): not compared
                if not record["alb_dns_name"]:
                    view["alb_dns_name"] = None  # unknown in check mode: not compared
                actual_view = self.record_view(actual)
                found = differences(view, actual_view)
                if not found:
                    continue
                attributes.extend(f"{identifier}.{path}" for path in changed_attributes(found))
                before[identifier] = actual_view
            else:
                attributes.append(f"{identifier}.created")
                before[identifier] = None
            after[identifier] = self.record_view(wanted)
            batch.append({"Action": "UPSERT", "ResourceRecordSet": wanted})
        for identifier, actual in sorted(current.items()):
            attributes.append(f"{identifier}.deleted")
            before[identifier], after[identifier] = self.record_view(actual), None
            batch.append({"Action": "DELETE", "ResourceRecordSet": actual})
        if not batch:
            return
        action = "create" if all(value is None for value in before.values()) else "update"
        kwargs = dict(
            HostedZoneId=zone_id,
            ChangeBatch={"Comment": f"{self.name} edge failover records", "Changes": batch},
        )
        if action == "create":
            self.changes.create(resource, self.r53, "route53", "change_resource_record_sets", **kwargs)
        else:
            self.changes.update(
                resource, sorted(attributes), self.r53, "route53", "change_resource_record_sets", **kwargs
            )
        self.changes.note(resource, before, after)

    def ensure_route53(self):
        zone_id, servers, records = self.ensure_zone()
        health_check_ids, obsolete = self.ensure_health_checks()
        if zone_id is not None or self.check_mode:
            if zone_id is None:
                self.changes.record("create", f"route53 records {self.record_name}")
            else:
                self.ensure_records(zone_id, records, health_check_ids)
        for check_id in obsolete:
            self.changes.delete(
                f"route53 health check {check_id}", self.r53, "route53", "delete_health_check", HealthCheckId=check_id
            )
        return zone_id, servers, health_check_ids

    def delete_route53(self):
        zone = self.find_zone()
        if zone is not None:
            zone_id = zone["Id"].split("/")[-1]
            records = self.list_records(zone_id)
            ours = self.ours(records)
            wanted = {item["set_identifier"] for item in self.params["route53"]["records"]}
            if wanted:
                ours = {key: value for key, value in ours.items() if key in wanted}
            if ours:
                self.changes.delete(
                    f"route53 records {self.record_name}",
                    self.r53,
                    "route53",
                    "change_resource_record_sets",
                    HostedZoneId=zone_id,
                    ChangeBatch={
                        "Changes": [{"Action": "DELETE", "ResourceRecordSet": item} for item in ours.values()]
                    },
                )
                self.changes.note(f"route53 records {self.record_name}", sorted(ours), None)
            left = [
                item
                for item in records
                if item not in ours.values()
                and not (item["Type"] in ("NS", "SOA") and _dns(item["Name"]) == self.zone_name)
            ]
            if left:
                self.module.warn(
                    f"route53 zone {self.zone_name} is kept: it holds {len(left)} other record set(s) "
                    f"({', '.join(sorted({_dns(item['Name']) + ' ' + item['Type'] for item in left}))})"
                )
            else:
                self.changes.delete(
                    f"route53 zone {self.zone_name}", self.r53, "route53", "delete_hosted_zone", Id=zone_id
                )
                self.changes.note(f"route53 zone {self.zone_name}", {"zone_id": zone_id}, None)
        names = {
            _digest(item["set_identifier"], 8): item["set_identifier"] for item in self.params["route53"]["records"]
        }
        for digest, checks in sorted(self.find_health_checks().items()):
            for check in checks:
                self.changes.delete(
                    f"route53 health check {self.record_name} {names.get(digest, check['Id'])}",
                    self.r53,
                    "route53",
                    "delete_health_check",
                    HealthCheckId=check["Id"],
                )

    # --- entry points -------------------------------------------------------

    def outputs(self, api=None, distribution=None, zone_id=None, servers=None, health_check_ids=None):
        api = api or {}
        distribution = distribution or {}
        route53 = self.params["route53"]
        return dict(
            api_id=api.get("ApiId"),
            api_endpoint=api.get("ApiEndpoint"),
            distribution_id=distribution.get("Id"),
            distribution_domain_name=distribution.get("DomainName"),
            distribution_arn=distribution.get("ARN"),
            zone_id=zone_id,
            zone_name_servers=servers or [],
            health_check_ids=health_check_ids or {},
            record_fqdn=self.record_name if route53 else None,
        )

    def ensure_present(self):
        self.validate()
        api = self.ensure_api() if self.params["api"] else {}
        distribution = self.ensure_distribution(api) if self.params["cloudfront"] else {}
        zone_id, servers, health_check_ids = None, [], {}
        if self.params["route53"]:
            zone_id, servers, health_check_ids = self.ensure_route53()
        return self.changes.result(**self.outputs(api, distribution, zone_id, servers, health_check_ids))

    def ensure_absent(self):
        if self.params["route53"]:
            self.delete_route53()
        if self.params["cloudfront"]:
            self.delete_distribution()
        if self.params["api"]:
            self.delete_api()
        return self.changes.result(**self.outputs())


def argument_spec():
    return dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        api=dict(
            type="dict",
            options=dict(
                name=dict(type="str"),
                description=dict(type="str"),
                integration_uri=dict(type="str"),
                integration_method=dict(type="str", default="ANY"),
                payload_format_version=dict(type="str", default="1.0"),
                timeout_ms=dict(type="int", default=29000),
                routes=dict(type="list", elements="str", default=["ANY /{proxy+}", "$default"]),
                access_log_destination_arn=dict(type="str"),
                access_log_format=dict(type="str"),
            ),
        ),
        cloudfront=dict(
            type="dict",
            options=dict(
                enabled=dict(type="bool", default=True),
                comment=dict(type="str"),
                origin_domain_name=dict(type="str"),
                origin_id=dict(type="str", default="api"),
                origin_protocol_policy=dict(
                    type="str", choices=["http-only", "https-only", "match-viewer"], default="https-only"
                ),
                origin_ssl_protocols=dict(type="list", elements="str", default=["TLSv1.2"]),
                viewer_protocol_policy=dict(
                    type="str", choices=["allow-all", "https-only", "redirect-to-https"], default="redirect-to-https"
                ),
                minimum_protocol_version=dict(type="str", default="TLSv1.2_2021"),
                price_class=dict(
                    type="str", choices=["PriceClass_100", "PriceClass_200", "PriceClass_All"], default="PriceClass_100"
                ),
                aliases=dict(type="list", elements="str"),
                acm_certificate_arn=dict(type="str"),
                ipv6=dict(type="bool", default=True),
                http_version=dict(type="str", choices=["http1.1", "http2", "http2and3", "http3"], default="http2"),
                cache_policy_id=dict(type="str"),
                origin_request_policy_id=dict(type="str"),
                forwarded_headers=dict(
                    type="list",
                    elements="str",
                    default=[
                        "Accept",
                        "Accept-Language",
                        "Authorization",
                        "Content-Type",
                        "Origin",
                        "Referer",
                        "User-Agent",
                    ],
                ),
                logging_bucket=dict(type="str"),
                logging_prefix=dict(type="str", default=""),
            ),
        ),
        route53=dict(
            type="dict",
            options=dict(
                zone_name=dict(type="str", required=True),
                record_name=dict(type="str", required=True),
                evaluate_target_health=dict(type="bool", default=True),
                health_check=dict(
                    type="dict",
                    default={},
                    options=dict(
                        type=dict(type="str", choices=["HTTP", "HTTPS"], default="HTTP"),
                        port=dict(type="int"),
                        resource_path=dict(type="str", default="/health"),
                        request_interval=dict(type="int", default=30),
                        failure_threshold=dict(type="int", default=3),
                    ),
                ),
                records=dict(
                    type="list",
                    elements="dict",
                    default=[],
                    options=dict(
                        set_identifier=dict(type="str", required=True),
                        failover=dict(type="str", choices=["PRIMARY", "SECONDARY"], required=True),
                        alb_dns_name=dict(type="str"),
                        alb_hosted_zone_id=dict(type="str"),
                        health_check=dict(type="bool", default=True),
                    ),
                ),
            ),
        ),
        wait_timeout=dict(type="int", default=1800),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )


def main():
    module = AnsibleAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    manager = EdgeManager(module)
    run_manager(module, manager, failure=f"to manage the edge of {manager.name}")


if __name__ == "__main__":
    main()
