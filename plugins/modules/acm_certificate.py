#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: acm_certificate
short_description: Request a public ACM certificate validated through DNS in a Route53 zone, and wait for it
version_added: "0.1.0"
description:
  - Ensures one public AWS Certificate Manager certificate per O(domain_name) and region, validated through DNS -
    requested with C(ValidationMethod=DNS), its validation CNAME records written into a Route53 public
    hosted zone, then waited for until ACM issues it.
  - Written because amazon.aws.acm_certificate and community.aws.acm_certificate only import certificates;
    CloudFront aliases (a certificate in us-east-1) and API Gateway custom domain names (one per region)
    need a certificate from a trusted CA.
  - The certificate of this module carries the tag C(reelle:certificate=<domain_name>) and is found again by
    it (C(ListCertificates) over every key type, then C(ListTagsForCertificate) and C(DescribeCertificate));
    imported, private and untagged certificates are never touched.
  - An C(ISSUED) or C(PENDING_VALIDATION) certificate with the same names (and O(key_algorithm) when set) is
    reused. ACM cannot change the names or the key of a certificate, nor revive one that is C(FAILED),
    C(VALIDATION_TIMED_OUT), C(EXPIRED), C(REVOKED) or C(INACTIVE) - those are replaced by a new request. A
    replaced certificate is deleted when ACM reports it unused (C(InUseBy) empty); one still in use is kept and
    reported in RV(kept_certificates).
  - C(RequestCertificate) carries an C(IdempotencyToken) derived from the request and the certificates it
    replaces (ACM returns the same certificate for the same token within one hour), and the tags.
  - ACM publishes the validation records (C(DomainValidationOptions[].ResourceRecord)) some seconds after the
    request; the module polls C(DescribeCertificate) until every name has one (at most 5 minutes, as
    terraform-provider-aws), then UPSERTs the missing or different ones in one C(ChangeResourceRecordSets)
    batch (TTL 60). ACM uses the same record for a wildcard and its base name, and for the same name in
    every certificate and region of an account; records are written once. A record already there with
    the right value is left as it is (whatever its TTL), so a re-run writes nothing.
  - With O(wait=true) the module waits with botocore's C(certificate_validated) waiter (a poll every 15
    seconds) for up to O(wait_timeout). AWS documents that DNS validation can take up to 30 minutes once the
    records resolve, and that a certificate still pending after 72 hours fails (C(VALIDATION_TIMED_OUT)). A
    run interrupted while waiting resumes on the next run - the certificate is found, nothing is requested
    or written again, and the wait starts again.
  - O(state=absent) deletes the certificate when it is not in use, and its validation records from
    O(validation_zone_id) unless another certificate (of any owner, in the regions of
    O(shared_record_regions)) still lists the same record - ACM renews that one through it.
  - Check mode makes no mutating call; RV(status) is V(would be requested) for a certificate that would be
    requested. O(validation_zone_id) may be null in check mode (a hosted zone not created yet).
author:
  - the reelle infrastructure authors (@reelle)
options:
  domain_name:
    description:
      - The certificate's first name (its subject), such as V(api.example.com) or V(*.example.com).
      - At most 64 characters (ACM - RFC 5280 limits the common name), labels of letters, digits and hyphens
        of at most 63 characters, a wildcard only as the whole leftmost label. Compared in lower case.
    type: str
    required: true
  subject_alternative_names:
    description:
      - Other names of the certificate (at most 253 characters each, same syntax as O(domain_name)).
      - ACM adds O(domain_name) itself; listing it here changes nothing. ACM's default quota is 10 names per
        certificate.
      - A different set of names is a new certificate.
    type: list
    elements: str
    default: []
  validation_zone_id:
    description:
      - Id of the Route53 public hosted zone that holds O(domain_name) and every O(subject_alternative_names);
        the validation CNAME records are written there. Required with O(state=present) (may be null in check
        mode); with O(state=absent) the records are removed from it, and left alone when it is not set.
      - Read with C(GetHostedZone) before any change, to check that every name is inside it.
    type: str
  key_algorithm:
    description:
      - Key algorithm of the certificate. Unset requests AWS's default (V(RSA_2048)) and accepts the key of an
        existing certificate; set, a certificate with another key is replaced.
      - CloudFront and API Gateway accept V(RSA_2048), V(EC_prime256v1) and V(EC_secp384r1).
    type: str
    choices: [RSA_1024, RSA_2048, RSA_3072, RSA_4096, EC_prime256v1, EC_secp384r1, EC_secp521r1]
  wait:
    description: Wait until ACM has issued the certificate.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the validation with O(wait=true).
    type: int
    default: 2700
  tags:
    description:
      - Tags of the certificate, set at request time and reconciled on an existing one; unset leaves them alone.
      - The marker tag C(reelle:certificate) is kept whatever O(purge_tags) says.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags not listed in O(tags).
    type: bool
    default: true
  shared_record_regions:
    description:
      - Regions whose certificates are checked before a validation record is removed (O(state=absent), or a
        replaced certificate deleted). ACM derives a record from the name and the account, so a certificate
        for the same name in another region uses the same record.
      - Unset checks every region enabled for the account (EC2 C(DescribeRegions)).
    type: list
    elements: str
  state:
    description: Whether the certificate should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Certificate of the CloudFront alias (CloudFront takes certificates from us-east-1 only)
  reelle.infra.acm_certificate:
    region: us-east-1
    domain_name: www.reelle.example
    subject_alternative_names: [reelle.example]
    validation_zone_id: Z0123456789ABCDEFGHIJ
    wait_timeout: 2700
    tags:
      environment: prod
  register: edge_certificate

- name: Certificate of the API Gateway custom domain name in eu-west-1, without waiting
  reelle.infra.acm_certificate:
    region: eu-west-1
    domain_name: api-origin.reelle.example
    validation_zone_id: Z0123456789ABCDEFGHIJ
    key_algorithm: EC_prime256v1
    wait: false

- name: Delete it and its validation records (refused while API Gateway still uses it)
  reelle.infra.acm_certificate:
    region: eu-west-1
    domain_name: api-origin.reelle.example
    validation_zone_id: Z0123456789ABCDEFGHIJ
    shared_record_regions: [us-east-1, eu-west-1]
    state: absent
"""

RETURN = r"""
certificate_arn:
  description: ARN of the certificate; null when it would be requested (check mode) or with O(state=absent).
  returned: always
  type: str
  sample: arn:aws:acm:eu-west-1:123456789012:certificate/0f2c6d3e-1234-4f00-9a1b-0123456789ab
domain_name:
  description: The certificate's first name, in lower case.
  returned: always
  type: str
  sample: api-origin.reelle.example
subject_alternative_names:
  description: Every name of the certificate (O(domain_name) included), sorted.
  returned: always
  type: list
  elements: str
  sample: [api-origin.reelle.example]
status:
  description:
    - ACM's status of the certificate (V(ISSUED), V(PENDING_VALIDATION), ...); V(would be requested) in check
      mode for a certificate that would be requested; null with O(state=absent).
  returned: always
  type: str
  sample: ISSUED
validation_records:
  description: The validation CNAME records of the certificate, one per distinct record; empty when not known yet.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Record name.
      type: str
      sample: _3f1a9c.api-origin.reelle.example.
    type:
      description: Record type.
      type: str
      sample: CNAME
    value:
      description: Record value.
      type: str
      sample: _7bd2e1.mhbtsbpdnt.acm-validations.aws.
  sample: [{"name": "_3f1a9c.api-origin.reelle.example.", "type": "CNAME", "value": "_7bd2e1.acm-validations.aws."}]
kept_certificates:
  description: Replaced certificates of this module that were kept because something still uses them.
  returned: always
  type: list
  elements: dict
  sample: [{"certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/0f2c", "status": "ISSUED",
            "in_use_by": ["arn:aws:apigateway:eu-west-1::/domainnames/api-origin.reelle.example"]}]
waited_seconds:
  description: Seconds spent waiting for ACM to issue the certificate (0 without a wait).
  returned: always
  type: int
  sample: 184
changes:
  description: Plan rows, one per change made (or that would be made in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{"action": "create", "resource": "acm certificate api-origin.reelle.example in eu-west-1", "attributes": []}]
skipped_calls:
  description: Calls not made because the local emulator lacks them.
  returned: always
  type: list
  elements: str
  sample: []
diff:
  description: Before and after of what differs (with --diff).
  returned: when diff mode is on
  type: dict
  sample: {"before": {"certificate": null}, "after": {"certificate": {"domain_name": "api-origin.reelle.example"}}}
"""

import re
import time

try:
    from botocore.exceptions import WaiterError
except ImportError:  # AnsibleAWSModule reports missing botocore
    WaiterError = None

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    ChangeSet,
    aws_client,
    client_token,
    paginate,
    retry_on,
    run_manager,
    sync_tags,
    tag_dict,
    tag_list,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_waiters import poll, wait_for

MARKER_TAG = "reelle:certificate"
KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]
REUSABLE = ("ISSUED", "PENDING_VALIDATION")
WOULD_BE_REQUESTED = "would be requested"
RECORD_TTL = 60
# terraform-provider-aws: certificateDNSValidationAssignmentTimeout, 5 minutes.
RECORD_TIMEOUT = 300
RECORD_POLL_SECONDS = 2
VALIDATION_POLL_SECONDS = 15
# ACM: the first name is the certificate's common name (RFC 5280: 64 octets); other names up to 253.
DOMAIN_NAME_LENGTH = 64
SAN_LENGTH = 253
MAX_NAMES = 100
LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _dns(name):
    return (name or "").strip().lower().rstrip(".")


def _base(name):
    """The name a validation record is derived from: a wildcard shares its base name's record."""
    return name[2:] if name.startswith("*.") else name


def name_problems(option, name, max_length):
    """Why ``name`` is not a name ACM accepts (empty when it is)."""
    if not isinstance(name, str) or not name.strip():
        return [f"{option} must be a domain name, not {name!r}"]
    if name.endswith("."):
        return [f"{option} {name!r} must not end with a period"]
    if len(name) > max_length:
        return [f"{option} {name!r} is longer than {max_length} characters"]
    labels = name.lower().split(".")
    if len(labels) < 2:
        return [f"{option} {name!r} needs at least two labels (name.tld)"]
    problems = []
    for index, label in enumerate(labels):
        if label == "*":
            if index:
                problems.append(f"{option} {name!r}: a wildcard is allowed only as the leftmost label")
        elif "*" in label:
            problems.append(f"{option} {name!r}: a wildcard must be a whole label (*.example.com)")
        elif not LABEL.match(label):
            problems.append(
                f"{option} {name!r}: label {label!r} must be 1-63 letters, digits or hyphens, "
                "not starting or ending with a hyphen (IDNs in punycode, xn--)"
            )
    if len(labels[-1]) < 2:
        problems.append(f"{option} {name!r}: the last label must have at least two characters")
    return problems


def input_problems(params):
    """Every problem of the options, found before any call."""
    problems = name_problems("domain_name", params["domain_name"], DOMAIN_NAME_LENGTH)
    for name in params["subject_alternative_names"] or []:
        problems.extend(name_problems("subject_alternative_names", name, SAN_LENGTH))
    names = {_dns(params["domain_name"])} | {_dns(name) for name in params["subject_alternative_names"] or []}
    if len(names) > MAX_NAMES:
        problems.append(f"a certificate has at most {MAX_NAMES} names, not {len(names)}")
    if params["wait_timeout"] < 0:
        problems.append(f"wait_timeout must not be negative, not {params['wait_timeout']}")
    return problems


def outside_zone(names, zone_name):
    """The names that are not inside the hosted zone ``zone_name``."""
    zone = _dns(zone_name)
    return sorted(name for name in names if not (_base(name) == zone or _base(name).endswith("." + zone)))


def validation_records(certificate, skip=frozenset()):
    """The distinct validation CNAMEs of a certificate, by record name: {name: {name, type, value}}.

    A wildcard and its base name get the same record from ACM: it is written once (one UPSERT per
    name; Route53 refuses a batch that names a record twice). ``skip``: base names whose records
    are left out.
    """
    records = {}
    for option in (certificate or {}).get("DomainValidationOptions") or []:
        record = option.get("ResourceRecord")
        if not record or _base(_dns(option.get("DomainName"))) in skip:
            continue
        entry = {"name": record["Name"], "type": record.get("Type", "CNAME"), "value": record["Value"]}
        records.setdefault(_dns(record["Name"]), entry)
    return records


def records_published(certificate):
    """Whether ACM has published every name's record, or the certificate left PENDING_VALIDATION."""
    if certificate.get("Status") != "PENDING_VALIDATION":
        return True
    options = certificate.get("DomainValidationOptions") or []
    return bool(options) and all(option.get("ResourceRecord") for option in options)


def key_algorithm(certificate):
    """DescribeCertificate answers RSA-2048 where RequestCertificate takes RSA_2048 (terraform-provider-aws)."""
    return (certificate.get("KeyAlgorithm") or "").replace("-", "_")


class AcmCertificateManager:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.region = module.region
        self.domain = _dns(module.params["domain_name"])
        self.names = sorted({self.domain} | {_dns(name) for name in module.params["subject_alternative_names"]})
        self.zone_id = (module.params.get("validation_zone_id") or "").split("/")[-1] or None
        self.resource = f"acm certificate {self.domain} in {self.region}"
        self.changes = ChangeSet(module)
        self.step = f"to manage the ACM certificate {self.domain} in {self.region}"
        self.kept = []
        self.waited = 0
        self.acm = aws_client(module, "acm")
        self._route53 = None

    @property
    def route53(self):
        if self._route53 is None:
            self._route53 = aws_client(self.module, "route53")
        return self._route53

    # --- finding ours ---------------------------------------------------------------

    def describe(self, arn, fresh=False):
        """DescribeCertificate; right after a request ACM may not know the ARN for a moment (amazon.aws retries)."""
        if fresh:
            answer = retry_on(
                {"ResourceNotFoundException", "RequestInProgressException"},
                self.acm.describe_certificate,
                CertificateArn=arn,
            )
        else:
            answer = self.acm.describe_certificate(CertificateArn=arn, aws_retry=True)
        return answer["Certificate"]

    def list_certificates(self, acm):
        # Without Includes.keyTypes ListCertificates returns only RSA_1024 and RSA_2048 certificates (ACM API).
        return paginate(acm, "list_certificates", "CertificateSummaryList", Includes={"keyTypes": KEY_TYPES})

    def find_ours(self):
        """Every certificate ACM requested for this module's domain here, with the marker tag, newest first."""
        ours = []
        for summary in self.list_certificates(self.acm):
            if _dns(summary.get("DomainName")) != self.domain or summary.get("Type") != "AMAZON_ISSUED":
                continue
            arn = summary["CertificateArn"]
            try:
                tags = tag_dict(self.acm.list_tags_for_certificate(CertificateArn=arn, aws_retry=True).get("Tags"))
                if tags.get(MARKER_TAG) != self.domain:
                    continue
                certificate = self.describe(arn)
            except is_boto3_error_code("ResourceNotFoundException"):
                continue  # deleted since the list
            certificate["Tags"] = tags
            ours.append(certificate)
        ours.sort(key=lambda item: str(item.get("CreatedAt") or ""), reverse=True)
        return ours

    def reusable(self, certificate):
        wanted_key = self.params.get("key_algorithm")
        return (
            certificate.get("Status") in REUSABLE
            and sorted({_dns(name) for name in certificate.get("SubjectAlternativeNames") or []}) == self.names
            and (not wanted_key or key_algorithm(certificate) == wanted_key)
        )

    def why_replaced(self, certificate):
        if certificate.get("Status") not in REUSABLE:
            return f"status {certificate.get('Status')}"
        if sorted({_dns(name) for name in certificate.get("SubjectAlternativeNames") or []}) != self.names:
            return "subject_alternative_names"
        return "key_algorithm"

    # --- the hosted zone ------------------------------------------------------------

    def check_zone(self):
        """Fail unless every name is inside the public hosted zone (a read, before any change)."""
        if self.zone_id is None:
            if self.module.check_mode:
                return
            self.module.fail_json(msg="validation_zone_id is required: the validation records are written there")
        try:
            zone = self.route53.get_hosted_zone(Id=self.zone_id, aws_retry=True)["HostedZone"]
        except is_boto3_error_code("NoSuchHostedZone"):
            self.module.fail_json(msg=f"validation_zone_id {self.zone_id} is not a Route53 hosted zone of this account")
        if (zone.get("Config") or {}).get("PrivateZone"):
            self.module.fail_json(
                msg=f"hosted zone {self.zone_id} ({_dns(zone['Name'])}) is private; ACM validates through public DNS"
            )
        outside = outside_zone(self.names, zone["Name"])
        if outside:
            self.module.fail_json(
                msg=f"{', '.join(outside)} not inside the hosted zone {self.zone_id} ({_dns(zone['Name'])})"
            )

    def read_record(self, name):
        answer = self.route53.list_resource_record_sets(
            HostedZoneId=self.zone_id, StartRecordName=name, StartRecordType="CNAME", MaxItems="1", aws_retry=True
        )
        for record in answer.get("ResourceRecordSets", []):
            if _dns(record["Name"]) == _dns(name) and record["Type"] == "CNAME":
                return record
        return None

    @staticmethod
    def record_value(record):
        values = [item.get("Value") for item in (record or {}).get("ResourceRecords", [])]
        return _dns(values[0]) if len(values) == 1 else None

    def upsert_records(self, records):
        """Write the records that are missing or differ, in one batch; a right record is left as it is."""
        batch = []
        for _key, record in sorted(records.items()):
            current = self.read_record(record["name"])
            if current is not None and self.record_value(current) == _dns(record["value"]):
                continue
            resource = f"route53 validation record {record['name']}"
            if current is None:
                self.changes.record("create", resource)
            else:
                self.changes.record("update", resource, ["value"])
            self.changes.note(resource, self.record_value(current), record["value"])
            batch.append(
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": record["name"],
                        "Type": record["type"],
                        "TTL": RECORD_TTL,
                        "ResourceRecords": [{"Value": record["value"]}],
                    },
                }
            )
        if batch and not self.module.check_mode:
            self.changes.call(
                self.route53,
                "route53",
                "change_resource_record_sets",
                HostedZoneId=self.zone_id,
                ChangeBatch={"Comment": f"ACM validation of {self.domain}", "Changes": batch},
            )

    # --- present --------------------------------------------------------------------

    def ensure_present(self):
        self.check_zone()
        ours = self.find_ours()
        # An ISSUED certificate first, then the newest.
        reusable = sorted((item for item in ours if self.reusable(item)), key=lambda item: item["Status"] != "ISSUED")
        current = reusable[0] if reusable else None
        others = [item for item in ours if item is not current]
        if current is None:
            current = self.request(others)
            if current is None:  # check mode
                if self.zone_id:
                    self.changes.record("create", f"route53 validation records of {self.domain}")
                self.retire(others)
                return self.result(None, WOULD_BE_REQUESTED, {})
        else:
            self.update_tags(current)
        if not records_published(current):
            current = self.wait_for_records(current["CertificateArn"])
        self.fail_if_failed(current)
        records = validation_records(current)
        self.upsert_records(records)
        if self.params["wait"] and current.get("Status") == "PENDING_VALIDATION" and not self.module.check_mode:
            current = self.wait_validated(current, records)
        self.retire(others)
        return self.result(current["CertificateArn"], current.get("Status"), records)

    def request(self, replaced):
        """RequestCertificate (DNS validation, tags, idempotency token); the new certificate, None in check mode."""
        sans = [name for name in self.names if name != self.domain]
        key = self.params.get("key_algorithm")
        tags = dict(self.params.get("tags") or {}, **{MARKER_TAG: self.domain})
        arns = sorted(item["CertificateArn"] for item in replaced)
        request = {
            "DomainName": self.domain,
            "ValidationMethod": "DNS",
            # The certificates it replaces are part of the token: the request that replaces a FAILED
            # certificate must not get that certificate back from ACM within the token's hour.
            "IdempotencyToken": client_token(self.region, self.domain, sans, key, tags, arns, length=32),
            "Tags": tag_list(tags),
        }
        if sans:
            request["SubjectAlternativeNames"] = sans
        if key:
            request["KeyAlgorithm"] = key
        attributes = [f"replaces {item['CertificateArn']} ({self.why_replaced(item)})" for item in replaced]
        self.changes.record("create", self.resource, attributes)
        self.changes.note("certificate", None, {"domain_name": self.domain, "subject_alternative_names": self.names})
        if self.module.check_mode:
            return None
        arn = self.changes.call(self.acm, "acm", "request_certificate", **request)["CertificateArn"]
        return self.describe(arn, fresh=True)

    def wait_for_records(self, arn):
        """Poll DescribeCertificate until ACM has published every name's validation record."""
        certificate, done = poll(
            lambda: self.describe(arn, fresh=True), records_published, RECORD_TIMEOUT, RECORD_POLL_SECONDS
        )
        if not done:
            self.module.fail_json(
                msg=f"ACM did not publish the validation records of {arn} within {RECORD_TIMEOUT} s; "
                "a re-run resumes with the same certificate",
                **self.outputs(arn, certificate.get("Status"), validation_records(certificate)),
            )
        return certificate

    def fail_if_failed(self, certificate):
        if certificate.get("Status") in REUSABLE:
            return
        reason = certificate.get("FailureReason") or certificate.get("RevocationReason") or "no reason given"
        self.module.fail_json(
            msg=f"ACM certificate {certificate['CertificateArn']} is {certificate.get('Status')} ({reason})",
            **self.outputs(certificate["CertificateArn"], certificate.get("Status"), validation_records(certificate)),
        )

    def wait_validated(self, certificate, records):
        arn = certificate["CertificateArn"]
        started = time.monotonic()
        try:
            wait_for(
                self.acm,
                "certificate_validated",
                self.params["wait_timeout"],
                VALIDATION_POLL_SECONDS,
                CertificateArn=arn,
            )
        except WaiterError as error:
            self.waited = round(time.monotonic() - started)
            latest = self.describe(arn)
            reason = latest.get("FailureReason") or str(error)
            self.module.fail_json(
                msg=f"ACM certificate {arn} is {latest.get('Status')} after waiting {self.waited} s ({reason}). "
                f"The validation records are in zone {self.zone_id}; a re-run waits again for the same certificate.",
                **self.outputs(arn, latest.get("Status"), records),
            )
        self.waited = round(time.monotonic() - started)
        return self.describe(arn)

    def update_tags(self, certificate):
        wanted = self.params.get("tags")
        if wanted is None:
            return
        arn = certificate["CertificateArn"]
        sync_tags(
            self.changes,
            self.resource,
            certificate["Tags"],
            dict(wanted, **{MARKER_TAG: self.domain}),
            self.params["purge_tags"],
            lambda to_set: (
                self.acm,
                "acm",
                "add_tags_to_certificate",
                {"CertificateArn": arn, "Tags": tag_list(to_set)},
            ),
            lambda keys: (
                self.acm,
                "acm",
                "remove_tags_from_certificate",
                {"CertificateArn": arn, "Tags": [{"Key": key} for key in keys]},
            ),
        )

    def retire(self, others):
        """Delete replaced certificates nothing uses, keep the others (reported).

        The records of this certificate's names stay: ACM derives a record from the name and the account,
        so the certificate that replaces them validates and renews through the same records.
        """
        unused = []
        for certificate in others:
            if not certificate.get("InUseBy"):
                unused.append(certificate)
                continue
            users = sorted(certificate["InUseBy"])
            self.kept.append(
                {
                    "certificate_arn": certificate["CertificateArn"],
                    "status": certificate.get("Status"),
                    "in_use_by": users,
                }
            )
            self.module.warn(
                f"ACM certificate {certificate['CertificateArn']} ({certificate.get('Status')}) is replaced but "
                f"kept: {', '.join(users)} still use it"
            )
        self.delete_certificates(unused, {_base(name) for name in self.names})

    # --- absent ---------------------------------------------------------------------

    def ensure_absent(self):
        ours = self.find_ours()
        in_use = {item["CertificateArn"]: sorted(item["InUseBy"]) for item in ours if item.get("InUseBy")}
        if in_use:
            users = "; ".join(f"{arn} by {', '.join(names)}" for arn, names in sorted(in_use.items()))
            self.module.fail_json(
                msg=f"ACM certificate of {self.domain} in {self.region} is in use ({users}); "
                "detach it from those resources first",
                in_use_by=in_use,
                **self.outputs(None, None, {}),
            )
        if ours and self.zone_id is None:
            self.module.warn("validation_zone_id is not set: the validation records are left in place")
        self.delete_certificates(ours, frozenset())
        return self.result(None, None, {})

    def delete_certificates(self, certificates, keep):
        """Delete certificates, then the validation records of names not in ``keep`` that no other certificate lists."""
        records, bases = {}, set()
        for certificate in certificates:
            arn = certificate["CertificateArn"]
            self.changes.note(f"certificate {arn}", {"status": certificate.get("Status")}, None)
            # ACM answers ResourceInUseException for a while after a service let go of it: retried (drain).
            self.changes.delete(f"{self.resource} {arn}", self.acm, "acm", "delete_certificate", CertificateArn=arn)
            records.update(validation_records(certificate, skip=keep))
            options = certificate.get("DomainValidationOptions") or []
            bases.update(_base(_dns(option.get("DomainName"))) for option in options)
        if records and self.zone_id:
            self.remove_records(records, bases - set(keep), {item["CertificateArn"] for item in certificates})

    def remove_records(self, records, bases, deleted):
        """Delete the validation records no other certificate lists, as they are in the zone (Route53 needs that)."""
        users = self.record_users(records, bases, deleted)
        batch = []
        for key, record in sorted(records.items()):
            if key in users:
                self.module.warn(f"validation record {record['name']} is kept: {', '.join(users[key])} use it")
                continue
            current = self.read_record(record["name"])
            if current is None or self.record_value(current) != _dns(record["value"]):
                continue  # gone already, or not ACM's record
            resource = f"route53 validation record {record['name']}"
            self.changes.record("delete", resource)
            self.changes.note(resource, record["value"], None)
            batch.append({"Action": "DELETE", "ResourceRecordSet": current})
        if batch and not self.module.check_mode:
            self.changes.call(
                self.route53,
                "route53",
                "change_resource_record_sets",
                HostedZoneId=self.zone_id,
                ChangeBatch={"Comment": f"ACM validation of {self.domain} removed", "Changes": batch},
            )

    def shared_regions(self):
        regions = self.params.get("shared_record_regions")
        if regions:
            return sorted(set(regions) | {self.region})
        ec2 = aws_client(self.module, "ec2")
        return sorted({item["RegionName"] for item in ec2.describe_regions(aws_retry=True)["Regions"]} | {self.region})

    def record_users(self, records, bases, deleted):
        """{record key: [certificate ARNs]} of the other certificates that list one of these records."""
        users = {}
        for region in self.shared_regions():
            acm = self.acm if region == self.region else aws_client(self.module, "acm", region)
            for summary in self.list_certificates(acm):
                if summary["CertificateArn"] in deleted or not self.may_share(summary, bases):
                    continue
                try:
                    other = acm.describe_certificate(CertificateArn=summary["CertificateArn"], aws_retry=True)
                except is_boto3_error_code("ResourceNotFoundException"):
                    continue
                for key in validation_records(other["Certificate"]):
                    if key in records:
                        users.setdefault(key, []).append(summary["CertificateArn"])
        return users

    @staticmethod
    def may_share(summary, bases):
        """Whether a listed certificate can hold one of the records (one of its names has the same base)."""
        if summary.get("Type") != "AMAZON_ISSUED":
            return False
        if summary.get("HasAdditionalSubjectAlternativeNames"):
            return True
        names = {summary.get("DomainName")} | set(summary.get("SubjectAlternativeNameSummaries") or [])
        return any(_base(_dns(name)) in bases for name in names if name)

    # --- results --------------------------------------------------------------------

    def outputs(self, arn, status, records):
        return dict(
            certificate_arn=arn,
            domain_name=self.domain,
            subject_alternative_names=self.names,
            status=status,
            validation_records=[records[key] for key in sorted(records)],
            kept_certificates=self.kept,
            waited_seconds=self.waited,
        )

    def result(self, arn, status, records):
        return self.changes.result(**self.outputs(arn, status, records))


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            domain_name=dict(type="str", required=True),
            subject_alternative_names=dict(type="list", elements="str", default=[]),
            validation_zone_id=dict(type="str"),
            key_algorithm=dict(type="str", choices=KEY_TYPES, no_log=False),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=2700),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
            shared_record_regions=dict(type="list", elements="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    if not module.region:
        module.fail_json(msg="region is required: ACM certificates are regional (CloudFront takes them from us-east-1)")
    problems = input_problems(module.params)
    if problems:
        module.fail_json(msg="; ".join(problems))
    run_manager(module, AcmCertificateManager(module))


if __name__ == "__main__":
    main()
