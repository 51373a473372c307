#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aws_load_balancer
short_description: Application Load Balancer, target group, HTTP redirect and HTTPS listener in one call
version_added: "0.1.0"
description:
  - Converges an Application Load Balancer, the target group the backend registers in, an HTTP listener
    and an HTTPS listener as one unit, with as few describe calls as the APIs allow (one per kind of
    resource, one for the tags of all of them).
  - With O(https=true) the HTTP listener redirects to HTTPS and the HTTPS listener forwards to the target
    group, presenting O(certificate_arn), or, when that is not given, a self-signed certificate for
    O(domain_name) that the module generates and imports into ACM B(once). It finds that certificate
    again by domain and a marker tag and re-imports it in place (same ARN) only when it nears expiry.
  - The private key of a generated certificate never leaves the module; it is neither returned nor logged.
  - Options left unset leave the corresponding attribute of an existing resource alone.
  - A change that forces replacement (load balancer scheme; target group port, protocol, target type or
    VPC) fails with a message instead of replacing the resource; a scheme change fails before anything is
    changed.
  - In check mode against an empty account, upstream ids (VPC, subnets, security groups) may be null;
    the module then reports the creates it would make and returns null ARNs.
author:
  - the reelle infrastructure authors (@reelle)
options:
  state:
    description:
      - V(present) creates or updates; V(absent) deletes the load balancer (and its listeners), the
        target group and the certificate this module generated.
    type: str
    choices: [present, absent]
    default: present
  name:
    description: Name of the load balancer (at most 32 letters, digits and hyphens).
    type: str
    required: true
  scheme:
    description:
      - V(internet-facing) or V(internal) (in private subnets, reachable only from inside the VPC, for example
        through an API Gateway VPC link). Cannot change once created.
    type: str
    choices: [internet-facing, internal]
    default: internet-facing
  subnets:
    description:
      - Subnet ids, at least two in different availability zones. Required to create.
      - Null entries (check mode on an empty account) are treated as not known yet.
    type: list
    elements: str
  security_groups:
    description: Security group ids of the load balancer.
    type: list
    elements: str
  ip_address_type:
    description: V(ipv4) or V(dualstack).
    type: str
    choices: [ipv4, dualstack]
  idle_timeout:
    description: Idle timeout in seconds (C(idle_timeout.timeout_seconds)), 1-4000.
    type: int
  http2:
    description: Whether HTTP/2 is enabled (C(routing.http2.enabled)).
    type: bool
  deletion_protection:
    description: Whether deletion protection is enabled (C(deletion_protection.enabled)).
    type: bool
  drop_invalid_header_fields:
    description: Whether invalid HTTP header fields are dropped (C(routing.http.drop_invalid_header_fields.enabled)).
    type: bool
  target_group:
    description: The target group the listeners forward to. Required when O(state=present).
    type: dict
    suboptions:
      name:
        description: Name of the target group (at most 32 letters, digits and hyphens).
        type: str
        required: true
      port:
        description: Port the targets listen on. Required when O(state=present); cannot change once created.
        type: int
      protocol:
        description: Protocol to the targets. Cannot change once created.
        type: str
        choices: [HTTP, HTTPS]
        default: HTTP
      target_type:
        description: V(ip) for Fargate tasks (awsvpc), V(instance) for EC2. Cannot change once created.
        type: str
        choices: [ip, instance]
        default: ip
      vpc_id:
        description: VPC of the targets. Required to create; cannot change once created.
        type: str
      deregistration_delay:
        description: Seconds to drain a deregistering target (C(deregistration_delay.timeout_seconds)).
        type: int
      health_check:
        description: Health check of the targets; unset keys keep the current (or AWS default) value.
        type: dict
        suboptions:
          path:
            description: HTTP path, for example V(/health).
            type: str
          port:
            description: V(traffic-port) or a port number.
            type: str
          protocol:
            description: Protocol of the check.
            type: str
            choices: [HTTP, HTTPS]
          matcher:
            description: HTTP codes that count as healthy, for example V(200) or V(200-299).
            type: str
          interval:
            description: Seconds between checks.
            type: int
          timeout:
            description: Seconds before a check fails.
            type: int
          healthy_threshold:
            description: Consecutive successes before a target is healthy.
            type: int
          unhealthy_threshold:
            description: Consecutive failures before a target is unhealthy.
            type: int
  https:
    description:
      - V(true) - HTTP listener redirects to HTTPS; HTTPS listener forwards to the target group.
      - V(false) - HTTP listener forwards to the target group; an HTTPS listener on O(https_port) is deleted.
    type: bool
    default: true
  http_port:
    description: Port of the HTTP listener.
    type: int
    default: 80
  https_port:
    description: Port of the HTTPS listener.
    type: int
    default: 443
  redirect_status_code:
    description: Status code of the HTTP to HTTPS redirect.
    type: str
    choices: [HTTP_301, HTTP_302]
    default: HTTP_301
  ssl_policy:
    description: TLS security policy of the HTTPS listener.
    type: str
    default: ELBSecurityPolicy-TLS13-1-2-2021-06
  certificate_arn:
    description:
      - ACM certificate of the HTTPS listener (on AWS, one issued for the real domain). May be null in check mode
        (with no O(domain_name)) when the certificate would be requested first.
      - When unset, the module uses a self-signed certificate for O(domain_name) (see the description). API Gateway
        (HTTP or private integrations) and CloudFront refuse a backend certificate that no trusted CA issued.
    type: str
  domain_name:
    description: Domain of the self-signed certificate. Required when O(https=true) and O(certificate_arn) is unset.
    type: str
  certificate_validity_days:
    description: Validity of a generated certificate, in days.
    type: int
    default: 365
  certificate_renew_days:
    description: A generated certificate that expires within this many days is re-imported in place.
    type: int
    default: 30
  wait:
    description: Wait until a load balancer that is provisioning is active (polls its state).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the load balancer.
    type: int
    default: 600
notes:
  - Tags (O(tags)) are applied to the load balancer, the target group, both listeners and a generated
    certificate (the certificate's only when it is imported; ACM refuses tags on re-import).
  - A generated certificate carries the marker tag C(aws_load_balancer:self-signed-for=<name>).
requirements:
  - cryptography (only to generate a self-signed certificate)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: ALB with target group on 7777, HTTP->HTTPS redirect and a self-signed certificate
  reelle.infra.aws_load_balancer:
    name: reelle-staging
    subnets: "{{ aws_network_outputs.public_subnet_ids }}"
    security_groups: ["{{ aws_security_outputs.alb_security_group_id }}"]
    idle_timeout: 60
    http2: true
    deletion_protection: false
    target_group:
      name: reelle-staging-app
      port: 7777
      vpc_id: "{{ aws_network_outputs.vpc_id }}"
      deregistration_delay: 30
      health_check:
        path: /health
        matcher: "200"
        interval: 15
        timeout: 5
        healthy_threshold: 2
        unhealthy_threshold: 3
    domain_name: api.staging.example.com
    tags:
      environment: staging

- name: Same load balancer with an ACM-issued certificate
  reelle.infra.aws_load_balancer:
    name: reelle-prod
    subnets: "{{ subnet_ids }}"
    security_groups: ["{{ sg_id }}"]
    target_group:
      name: reelle-prod-app
      port: 7777
      vpc_id: "{{ vpc_id }}"
    certificate_arn: arn:aws:acm:us-east-1:123456789012:certificate/0f2c6d3e-1234-4f00-9a1b-0123456789ab

- name: Delete it all (turning deletion protection off first)
  reelle.infra.aws_load_balancer:
    name: reelle-staging
    deletion_protection: false
    target_group:
      name: reelle-staging-app
      port: 7777
    state: absent
"""

RETURN = r"""
load_balancer_arn:
  description: ARN of the load balancer (null in check mode when it would be created).
  returned: always
  type: str
  sample: arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/reelle-staging/50dc6c495c0c9188
load_balancer_arn_suffix:
  description: The C(app/<name>/<id>) part of the ARN, the C(LoadBalancer) dimension of CloudWatch metrics.
  returned: always
  type: str
  sample: app/reelle-staging/50dc6c495c0c9188
load_balancer_dns_name:
  description: DNS name of the load balancer (an internal one's resolves to private addresses only).
  returned: always
  type: str
  sample: reelle-staging-1234567890.us-east-1.elb.amazonaws.com
load_balancer_zone_id:
  description: Route 53 hosted zone id of the load balancer (for alias records).
  returned: always
  type: str
  sample: Z35SXDOTRQ7X7K
target_group_arn:
  description: ARN of the target group.
  returned: always
  type: str
  sample: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/reelle-staging-app/73e2d6bc24d8a067
target_group_arn_suffix:
  description: The C(targetgroup/<name>/<id>) part of the ARN, the C(TargetGroup) dimension of CloudWatch metrics.
  returned: always
  type: str
  sample: targetgroup/reelle-staging-app/73e2d6bc24d8a067
http_listener_arn:
  description: ARN of the HTTP listener.
  returned: always
  type: str
  sample: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/reelle-staging/50dc6c495c0c9188/f2f7dc8e
https_listener_arn:
  description: ARN of the HTTPS listener (null when O(https=false)).
  returned: always
  type: str
  sample: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/reelle-staging/50dc6c495c0c9188/0467ef3c
certificate_arn:
  description: ARN of the certificate the HTTPS listener presents (given or generated).
  returned: always
  type: str
  sample: arn:aws:acm:us-east-1:123456789012:certificate/0f2c6d3e-1234-4f00-9a1b-0123456789ab
certificate_self_signed:
  description: Whether the certificate is one this module generated.
  returned: always
  type: bool
  sample: true
changes:
  description: The plan - one row per create, update or delete made (or, in check mode, that would be made).
  returned: always
  type: list
  elements: dict
  sample: [{"action": "update", "resource": "load balancer reelle-staging", "attributes": ["idle_timeout"]}]
skipped_calls:
  description: Calls skipped because the local emulator lacks them (always empty on AWS).
  returned: always
  type: list
  elements: str
  sample: []
"""

import datetime
import re

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    UNKNOWN,
    ChangeSet,
    aws_client,
    changed_attributes,
    differences,
    paginate,
    real,
    run_manager,
    sync_tags,
    tag_dict,
    tag_list,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_waiters import wait_for

MARKER_TAG = "aws_load_balancer:self-signed-for"

# option -> load balancer attribute key
LB_ATTRIBUTES = {
    "idle_timeout": "idle_timeout.timeout_seconds",
    "http2": "routing.http2.enabled",
    "deletion_protection": "deletion_protection.enabled",
    "drop_invalid_header_fields": "routing.http.drop_invalid_header_fields.enabled",
}
# target_group option -> target group attribute key
TG_ATTRIBUTES = {"deregistration_delay": "deregistration_delay.timeout_seconds"}
# target_group.health_check option -> target group field
HEALTH_CHECK_FIELDS = {
    "path": "HealthCheckPath",
    "port": "HealthCheckPort",
    "protocol": "HealthCheckProtocol",
    "interval": "HealthCheckIntervalSeconds",
    "timeout": "HealthCheckTimeoutSeconds",
    "healthy_threshold": "HealthyThresholdCount",
    "unhealthy_threshold": "UnhealthyThresholdCount",
}
# Fields that force a new target group.
TG_IMMUTABLE = {"port": "Port", "protocol": "Protocol", "target_type": "TargetType", "vpc_id": "VpcId"}


# Load balancer and target group names (ELBv2 API reference, CreateLoadBalancer/CreateTargetGroup Name): at most
# 32 characters, only alphanumerics or hyphens, not beginning or ending with a hyphen; a load balancer name must
# not begin with "internal-" (AWS prefixes internal load balancers' DNS names with it).
NAME_CHARACTERS = re.compile(r"^[A-Za-z0-9-]*$")
NAME_LENGTH = 32


def name_problem(name, load_balancer):
    """Why AWS would refuse this load balancer (or target group) name, or None."""
    if name is None:
        return None
    if not 1 <= len(name) <= NAME_LENGTH:
        return f"must be 1 to at most {NAME_LENGTH} characters (it has {len(name)})"
    if not NAME_CHARACTERS.match(name):
        return "may contain only ASCII letters, digits and hyphens"
    if name.startswith("-") or name.endswith("-"):
        return "must not begin or end with a hyphen"
    if load_balancer and name.startswith("internal-"):
        return 'must not begin with "internal-" (AWS reserves it for internal load balancers\' DNS names)'
    return None


def attribute_value(value):
    """The string form the ELB attribute APIs use."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def load_balancer_arn_suffix(arn):
    """app/<name>/<id>: the LoadBalancer dimension of CloudWatch metrics."""
    return parse_aws_arn(arn)["resource"].split("/", 1)[1] if real(arn) else None


def target_group_arn_suffix(arn):
    """targetgroup/<name>/<id>: the TargetGroup dimension of CloudWatch metrics."""
    return parse_aws_arn(arn)["resource"] if real(arn) else None


def known(values):
    """A list of ids, or None while any of them is not known yet (check mode, empty account)."""
    if values is None or any(value in (None, "") for value in values):
        return None
    return list(values)


def self_signed_certificate(domain, days):
    """A self-signed RSA 2048 certificate for domain: (certificate PEM, private key PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


class LoadBalancerManager:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.name = module.params["name"]
        self.tg_params = module.params["target_group"] or {}
        self.tags = module.params["tags"]
        self.elb = aws_client(module, "elbv2")
        self._acm = None
        self.changes = ChangeSet(module)
        self.existing_arns = []  # resources that existed before this run (their tags are compared)
        self.self_signed = False

    @property
    def acm(self):
        if self._acm is None:
            self._acm = aws_client(self.module, "acm")
        return self._acm

    def _create_tags(self, marker=None):
        tags = dict(self.tags or {})
        if marker:
            tags[MARKER_TAG] = marker
        return {"Tags": tag_list(tags)} if tags else {}

    # --- reads --------------------------------------------------------------

    def describe_load_balancer(self):
        try:
            found = self.elb.describe_load_balancers(aws_retry=True, Names=[self.name])["LoadBalancers"]
        except is_boto3_error_code("LoadBalancerNotFound"):
            return None
        return found[0] if found else None

    def describe_target_group(self):
        try:
            found = self.elb.describe_target_groups(aws_retry=True, Names=[self.tg_params["name"]])["TargetGroups"]
        except is_boto3_error_code("TargetGroupNotFound"):
            return None
        return found[0] if found else None

    def listeners_by_port(self, lb_arn):
        if not real(lb_arn):
            return {}
        found = paginate(self.elb, "describe_listeners", "Listeners", LoadBalancerArn=lb_arn)
        return {listener["Port"]: listener for listener in found}

    # --- target group -------------------------------------------------------

    def ensure_target_group(self):
        tg = self.describe_target_group()
        desired = self._target_group_fields()
        if tg is None:
            return self._create_target_group(desired)
        self.existing_arns.append(tg["TargetGroupArn"])
        resource = f"target group {tg['TargetGroupName']}"
        immutable = differences({field: desired.get(field) for field in TG_IMMUTABLE.values()}, tg)
        if immutable:
            self.module.fail_json(
                msg=f"{resource} exists with {', '.join(changed_attributes(immutable))} different from the request; "
                "changing that replaces the target group (and detaches the service registered in it). "
                "Delete it first or choose a new target group name.",
                differences=immutable,
            )
        mutable = {key: value for key, value in desired.items() if key not in TG_IMMUTABLE.values()}
        found = differences(mutable, tg)
        self.changes.note("target_group", {key: tg.get(key) for key in mutable}, mutable)
        if found:
            self.changes.update(
                resource,
                changed_attributes(found),
                self.elb,
                "elbv2",
                "modify_target_group",
                TargetGroupArn=tg["TargetGroupArn"],
                **mutable,
            )
        self._ensure_attributes(
            resource,
            TG_ATTRIBUTES,
            self.tg_params,
            "describe_target_group_attributes",
            "modify_target_group_attributes",
            TargetGroupArn=tg["TargetGroupArn"],
        )
        return tg["TargetGroupArn"]

    def _target_group_fields(self):
        fields = {TG_IMMUTABLE[key]: self.tg_params.get(key) for key in TG_IMMUTABLE}
        health = self.tg_params.get("health_check") or {}
        for key, field in HEALTH_CHECK_FIELDS.items():
            if health.get(key) is not None:
                fields[field] = health[key]
        if health.get("matcher") is not None:
            fields["Matcher"] = {"HttpCode": health["matcher"]}
        return {key: value for key, value in fields.items() if value is not None}

    def _create_target_group(self, desired):
        name = self.tg_params["name"]
        self.changes.note("target_group", None, desired)
        if not desired.get("VpcId"):
            if not self.module.check_mode:
                self.module.fail_json(msg=f"target_group.vpc_id is required to create target group {name}")
            self.changes.create(f"target group {name}", self.elb, "elbv2", "create_target_group")
            return UNKNOWN
        created = self.changes.create(
            f"target group {name}",
            self.elb,
            "elbv2",
            "create_target_group",
            Name=name,
            **desired,
            **self._create_tags(),
        )
        if created is None:
            return UNKNOWN
        arn = created["TargetGroups"][0]["TargetGroupArn"]
        wanted = self._wanted_attributes(TG_ATTRIBUTES, self.tg_params)
        if wanted:
            self.changes.call(
                self.elb, "elbv2", "modify_target_group_attributes", TargetGroupArn=arn, Attributes=wanted
            )
        return arn

    # --- load balancer ------------------------------------------------------

    def _wanted_attributes(self, mapping, source):
        return [
            {"Key": key, "Value": attribute_value(source[option])}
            for option, key in mapping.items()
            if source.get(option) is not None
        ]

    def _ensure_attributes(self, resource, mapping, source, describe, modify, **identity):
        """Compare the attributes the caller set with the resource's; modify those that differ."""
        wanted = self._wanted_attributes(mapping, source)
        if not wanted:
            return
        actual = {
            item["Key"]: item["Value"] for item in getattr(self.elb, describe)(aws_retry=True, **identity)["Attributes"]
        }
        # Absent keys (the emulator omits some defaults) count as different.
        differing = [item for item in wanted if actual.get(item["Key"]) != item["Value"]]
        self.changes.note(
            f"{resource} attributes",
            {item["Key"]: actual.get(item["Key"]) for item in wanted},
            {item["Key"]: item["Value"] for item in wanted},
        )
        if differing:
            self.changes.update(
                resource,
                sorted(item["Key"] for item in differing),
                self.elb,
                "elbv2",
                modify,
                Attributes=differing,
                **identity,
            )

    def ensure_load_balancer(self, lb):
        subnets = known(self.params["subnets"])
        groups = known(self.params["security_groups"])
        if lb is None:
            return self._create_load_balancer(subnets, groups)
        self.existing_arns.append(lb["LoadBalancerArn"])
        resource = f"load balancer {self.name}"
        actual_subnets = [zone["SubnetId"] for zone in lb.get("AvailabilityZones", [])]
        before = {"subnets": actual_subnets, "security_groups": lb.get("SecurityGroups", [])}
        after = {"subnets": subnets, "security_groups": groups}
        self.changes.note("load_balancer", before, after)
        arn = lb["LoadBalancerArn"]
        if differences(subnets, actual_subnets):
            self.changes.update(
                resource, ["subnets"], self.elb, "elbv2", "set_subnets", LoadBalancerArn=arn, Subnets=subnets
            )
        if differences(groups, lb.get("SecurityGroups", [])):
            self.changes.update(
                resource,
                ["security_groups"],
                self.elb,
                "elbv2",
                "set_security_groups",
                LoadBalancerArn=arn,
                SecurityGroups=groups,
            )
        wanted_ip_type = self.params["ip_address_type"]
        if wanted_ip_type and wanted_ip_type != lb.get("IpAddressType"):
            self.changes.update(
                resource,
                ["ip_address_type"],
                self.elb,
                "elbv2",
                "set_ip_address_type",
                LoadBalancerArn=arn,
                IpAddressType=wanted_ip_type,
            )
        self._ensure_attributes(
            resource,
            LB_ATTRIBUTES,
            self.params,
            "describe_load_balancer_attributes",
            "modify_load_balancer_attributes",
            LoadBalancerArn=arn,
        )
        if lb["State"]["Code"] == "provisioning":
            self._wait()
        return lb

    def _create_load_balancer(self, subnets, groups):
        resource = f"load balancer {self.name}"
        self.changes.note("load_balancer", None, {"subnets": subnets, "security_groups": groups})
        if subnets is None and not self.module.check_mode:
            self.module.fail_json(msg=f"subnets (at least two, in different zones) are required to create {resource}")
        request = dict(Name=self.name, Type="application", Scheme=self.params["scheme"], Subnets=subnets or [])
        if groups is not None:
            request["SecurityGroups"] = groups
        if self.params["ip_address_type"]:
            request["IpAddressType"] = self.params["ip_address_type"]
        created = self.changes.create(
            resource, self.elb, "elbv2", "create_load_balancer", **request, **self._create_tags()
        )
        if created is None:
            return None
        lb = created["LoadBalancers"][0]
        wanted = self._wanted_attributes(LB_ATTRIBUTES, self.params)
        if wanted:
            self.changes.call(
                self.elb,
                "elbv2",
                "modify_load_balancer_attributes",
                LoadBalancerArn=lb["LoadBalancerArn"],
                Attributes=wanted,
            )
        self._wait()
        return lb

    def _wait(self):
        if not self.params["wait"] or self.module.check_mode:
            return
        # botocore's load_balancer_available waiter polls every 15 s
        wait_for(self.elb, "load_balancer_available", self.params["wait_timeout"], 15, Names=[self.name])

    # --- certificate --------------------------------------------------------

    def ensure_certificate(self):
        if not self.params["https"]:
            return None
        if self.params["certificate_arn"]:
            return self.params["certificate_arn"]
        if not self.params["domain_name"]:
            return UNKNOWN  # check mode: the certificate would be requested before this run's real one
        self.self_signed = True
        domain = self.params["domain_name"]
        existing = self._find_self_signed(domain)
        if existing is None:
            return self._import_certificate(domain, None)
        expires = existing.get("NotAfter")
        renew_by = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=self.params["certificate_renew_days"])
        if expires is not None and expires < renew_by:
            self._import_certificate(domain, existing["CertificateArn"])
        return existing["CertificateArn"]

    def _find_self_signed(self, domain):
        """The newest imported certificate for domain that carries this load balancer's marker tag."""
        # ListCertificates is paginated (NextToken): the certificate may be on any page.
        summaries = paginate(
            self.acm, "list_certificates", "CertificateSummaryList", Includes={"keyTypes": ["RSA_2048"]}
        )
        candidates = [
            item
            for item in summaries
            if item.get("DomainName") == domain and item.get("Type", "IMPORTED") == "IMPORTED"
        ]
        oldest = datetime.datetime.min.replace(tzinfo=datetime.UTC)
        candidates.sort(key=lambda item: item.get("NotAfter") or oldest, reverse=True)
        for item in candidates:
            tags = tag_dict(
                self.acm.list_tags_for_certificate(aws_retry=True, CertificateArn=item["CertificateArn"]).get("Tags")
            )
            if tags.get(MARKER_TAG) == self.name:
                return item
        return None

    def _import_certificate(self, domain, arn):
        if not HAS_CRYPTOGRAPHY:
            self.module.fail_json(msg=missing_required_lib("cryptography"))
        resource = f"self-signed certificate {domain}"
        request = {}
        if not self.module.check_mode:
            certificate, key = self_signed_certificate(domain, self.params["certificate_validity_days"])
            request = {"Certificate": certificate, "PrivateKey": key}
        if arn is None:
            self.changes.note("certificate", None, {"domain_name": domain, "self_signed": True})
            created = self.changes.create(
                resource, self.acm, "acm", "import_certificate", **request, **self._create_tags(self.name)
            )
            return created["CertificateArn"] if created else UNKNOWN
        imported = self.changes.update(
            resource, ["expiry"], self.acm, "acm", "import_certificate", CertificateArn=arn, **request
        )
        if imported is not None:
            # AWS keeps the tags on re-import (and refuses new ones there); the
            # emulator drops them. Setting them again is harmless on AWS.
            self.changes.call(
                self.acm, "acm", "add_tags_to_certificate", CertificateArn=arn, **self._create_tags(self.name)
            )
        return arn

    # --- listeners ----------------------------------------------------------

    def desired_listeners(self, tg_arn, certificate_arn):
        forward = [{"Type": "forward", "TargetGroupArn": tg_arn}]
        if not self.params["https"]:
            return {self.params["http_port"]: {"Protocol": "HTTP", "DefaultActions": forward}}
        redirect = {
            "Type": "redirect",
            "RedirectConfig": {
                "Protocol": "HTTPS",
                "Port": str(self.params["https_port"]),
                "StatusCode": self.params["redirect_status_code"],
            },
        }
        return {
            self.params["http_port"]: {"Protocol": "HTTP", "DefaultActions": [redirect]},
            self.params["https_port"]: {
                "Protocol": "HTTPS",
                "SslPolicy": self.params["ssl_policy"],
                "Certificates": [{"CertificateArn": certificate_arn}],
                "DefaultActions": forward,
            },
        }

    def ensure_listeners(self, lb_arn, tg_arn, certificate_arn):
        actual = self.listeners_by_port(lb_arn)
        desired = self.desired_listeners(tg_arn, certificate_arn)
        arns = {}
        for port, wanted in desired.items():
            arns[port] = self._ensure_listener(lb_arn, port, wanted, actual.get(port))
        stale = actual.get(self.params["https_port"])
        if not self.params["https"] and stale is not None:
            self.changes.delete(
                f"listener {self.params['https_port']}",
                self.elb,
                "elbv2",
                "delete_listener",
                ListenerArn=stale["ListenerArn"],
            )
        self.changes.note(
            "listeners",
            {port: {key: item.get(key) for key in desired.get(port, {})} for port, item in actual.items()},
            desired,
        )
        return arns

    def _ensure_listener(self, lb_arn, port, wanted, listener):
        resource = f"listener {port}"
        if listener is None:
            created = self.changes.create(
                resource,
                self.elb,
                "elbv2",
                "create_listener",
                LoadBalancerArn=lb_arn,
                Port=port,
                **wanted,
                **self._create_tags(),
            )
            return created["Listeners"][0]["ListenerArn"] if created else None
        self.existing_arns.append(listener["ListenerArn"])
        found = differences(wanted, listener)
        if found:
            self.changes.update(
                resource,
                changed_attributes(found),
                self.elb,
                "elbv2",
                "modify_listener",
                ListenerArn=listener["ListenerArn"],
                Port=port,
                **wanted,
            )
        return listener["ListenerArn"]

    # --- tags ---------------------------------------------------------------

    def ensure_tags(self):
        """One DescribeTags call for every resource that existed before this run."""
        if self.tags is None or not self.existing_arns:
            return
        described = self.elb.describe_tags(aws_retry=True, ResourceArns=self.existing_arns)["TagDescriptions"]
        for item in described:
            self._sync_tags(item["ResourceArn"], tag_dict(item.get("Tags")))

    def _sync_tags(self, arn, current):
        sync_tags(
            self.changes,
            f"tags of {parse_aws_arn(arn)['resource']}",
            current,
            self.tags,
            self.params["purge_tags"],
            lambda to_set: (self.elb, "elbv2", "add_tags", {"ResourceArns": [arn], "Tags": tag_list(to_set)}),
            lambda keys: (self.elb, "elbv2", "remove_tags", {"ResourceArns": [arn], "TagKeys": keys}),
        )

    # --- entry points -------------------------------------------------------

    def validate(self):
        if self.params["state"] == "present" and not self.tg_params.get("port"):
            self.module.fail_json(msg="target_group (with name and port) is required when state is present")
        if (
            self.params["state"] == "present"
            and self.params["https"]
            and not (self.params["certificate_arn"] or self.params["domain_name"])
            and not self.module.check_mode
        ):
            # Check mode may plan a listener whose certificate would be requested first (null ARN).
            self.module.fail_json(msg="https needs certificate_arn, or domain_name for a self-signed certificate")
        for label, value in (("name", self.name), ("target_group.name", self.tg_params.get("name"))):
            problem = name_problem(value, load_balancer=label == "name")
            if problem:
                self.module.fail_json(msg=f"{label} {value!r} {problem}")

    def refuse_replacement(self, lb):
        """Fail, before anything is changed, on what AWS cannot change in place: the type and the scheme.

        ELBv2 has no call that changes a load balancer's scheme (CreateLoadBalancer sets it; terraform-provider-aws
        marks `internal` ForceNew): a new scheme is a new load balancer, with a new DNS name, in other subnets.
        """
        if lb is None:
            return
        resource = f"load balancer {self.name}"
        if lb.get("Type") != "application":
            self.module.fail_json(
                msg=f"{resource} exists but is a {lb.get('Type')} load balancer, not an application one"
            )
        if lb["Scheme"] != self.params["scheme"]:
            self.module.fail_json(
                msg=f"{resource} is {lb['Scheme']}; changing the scheme to {self.params['scheme']} replaces it "
                "(new DNS name and subnets) and AWS cannot do it in place. Nothing was changed. Delete it first "
                "(state absent, with deletion_protection false when it is on) and run again, or choose a new name."
            )

    def ensure_present(self):
        lb = self.describe_load_balancer()
        self.refuse_replacement(lb)
        tg_arn = self.ensure_target_group()
        lb = self.ensure_load_balancer(lb)
        lb_arn = lb["LoadBalancerArn"] if lb else UNKNOWN
        certificate_arn = self.ensure_certificate()
        listener_arns = self.ensure_listeners(lb_arn, tg_arn, certificate_arn)
        self.ensure_tags()
        return self.changes.result(
            load_balancer_arn=real(lb_arn),
            load_balancer_arn_suffix=load_balancer_arn_suffix(lb_arn),
            load_balancer_dns_name=lb.get("DNSName") if lb else None,
            load_balancer_zone_id=lb.get("CanonicalHostedZoneId") if lb else None,
            target_group_arn=real(tg_arn),
            target_group_arn_suffix=target_group_arn_suffix(tg_arn),
            http_listener_arn=real(listener_arns.get(self.params["http_port"])),
            https_listener_arn=real(listener_arns.get(self.params["https_port"])) if self.params["https"] else None,
            certificate_arn=real(certificate_arn),
            certificate_self_signed=self.self_signed,
        )

    def ensure_absent(self):
        lb = self.describe_load_balancer()
        if lb is not None:
            self._delete_load_balancer(lb)
        if self.tg_params.get("name"):
            tg = self.describe_target_group()
            if tg is not None:
                self.changes.delete(
                    f"target group {tg['TargetGroupName']}",
                    self.elb,
                    "elbv2",
                    "delete_target_group",
                    TargetGroupArn=tg["TargetGroupArn"],
                )
        if self.params["domain_name"] and not self.params["certificate_arn"]:
            existing = self._find_self_signed(self.params["domain_name"])
            if existing is not None:
                # The certificate stays "in use" for a short while after the load balancer is gone: the
                # shared retries wait for ACM's ResourceInUseException to clear (reelle_aws.DRAIN_ERRORS).
                self.changes.delete(
                    f"self-signed certificate {self.params['domain_name']}",
                    self.acm,
                    "acm",
                    "delete_certificate",
                    CertificateArn=existing["CertificateArn"],
                )
        return self.changes.result(
            load_balancer_arn=None,
            load_balancer_arn_suffix=None,
            load_balancer_dns_name=None,
            load_balancer_zone_id=None,
            target_group_arn=None,
            target_group_arn_suffix=None,
            http_listener_arn=None,
            https_listener_arn=None,
            certificate_arn=None,
            certificate_self_signed=False,
        )

    def _delete_load_balancer(self, lb):
        arn = lb["LoadBalancerArn"]
        resource = f"load balancer {self.name}"
        attributes = self.elb.describe_load_balancer_attributes(aws_retry=True, LoadBalancerArn=arn)["Attributes"]
        protected = any(item["Key"] == "deletion_protection.enabled" and item["Value"] == "true" for item in attributes)
        if protected:
            if self.params["deletion_protection"] is not False:
                self.module.fail_json(
                    msg=f"{resource} has deletion protection on; "
                    "set deletion_protection: false to turn it off and delete it"
                )
            self.changes.update(
                resource,
                ["deletion_protection.enabled"],
                self.elb,
                "elbv2",
                "modify_load_balancer_attributes",
                LoadBalancerArn=arn,
                Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}],
            )
        self.changes.delete(resource, self.elb, "elbv2", "delete_load_balancer", LoadBalancerArn=arn)
        if not self.module.check_mode:
            # The target group and certificate stay in use until the load balancer is gone.
            wait_for(self.elb, "load_balancers_deleted", self.params["wait_timeout"], 15, LoadBalancerArns=[arn])


def argument_spec():
    """The module's options (shared with the tests)."""
    health_check = dict(
        path=dict(type="str"),
        port=dict(type="str"),
        protocol=dict(type="str", choices=["HTTP", "HTTPS"]),
        matcher=dict(type="str"),
        interval=dict(type="int"),
        timeout=dict(type="int"),
        healthy_threshold=dict(type="int"),
        unhealthy_threshold=dict(type="int"),
    )
    target_group = dict(
        name=dict(type="str", required=True),
        port=dict(type="int"),
        protocol=dict(type="str", choices=["HTTP", "HTTPS"], default="HTTP"),
        target_type=dict(type="str", choices=["ip", "instance"], default="ip"),
        vpc_id=dict(type="str"),
        deregistration_delay=dict(type="int"),
        health_check=dict(type="dict", options=health_check),
    )
    return dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        name=dict(type="str", required=True),
        scheme=dict(type="str", choices=["internet-facing", "internal"], default="internet-facing"),
        subnets=dict(type="list", elements="str"),
        security_groups=dict(type="list", elements="str"),
        ip_address_type=dict(type="str", choices=["ipv4", "dualstack"]),
        idle_timeout=dict(type="int"),
        http2=dict(type="bool"),
        deletion_protection=dict(type="bool"),
        drop_invalid_header_fields=dict(type="bool"),
        target_group=dict(type="dict", options=target_group),
        https=dict(type="bool", default=True),
        http_port=dict(type="int", default=80),
        https_port=dict(type="int", default=443),
        redirect_status_code=dict(type="str", choices=["HTTP_301", "HTTP_302"], default="HTTP_301"),
        ssl_policy=dict(type="str", default="ELBSecurityPolicy-TLS13-1-2-2021-06"),
        certificate_arn=dict(type="str"),
        domain_name=dict(type="str"),
        certificate_validity_days=dict(type="int", default=365),
        certificate_renew_days=dict(type="int", default=30),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )


def main():
    module = AnsibleAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    manager = LoadBalancerManager(module)
    manager.validate()
    run_manager(module, manager, failure=f"to converge load balancer {module.params['name']}")


if __name__ == "__main__":
    main()
