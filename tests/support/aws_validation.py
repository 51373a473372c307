# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS validation rules that moto skips, as one table.

The fault middleware (tests/support/faults.py) answers a request that breaks a
rule with the service's own error, in its own protocol, before moto sees it;
a rule that moto already enforces the same way is left to moto. A row names the
service (the signing name of the credential scope), the operation, the request
parameter (query key, top-level JSON key, or ``Bucket`` for S3's path), the
rule, the error AWS answers, and where AWS documents the rule. ``{value}`` in a
message is the offending value, as AWS quotes it.
"""

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

_AUTH_TOKEN_SPECIALS = set("!&#$^<>-")
_LB_NAME = re.compile(r"^[A-Za-z0-9-]+$")
_IAM_NAME = re.compile(r"^[\w+=,.@-]+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")


@dataclass(frozen=True)
class Rule:
    service: str
    operations: tuple
    parameter: str
    broken: Callable[[str], bool]  # True when the value breaks the rule
    code: str
    message: str
    status: int = 400
    doc: str = ""

    def answer(self, value):
        return self.code, self.message.format(value=value)


def _auth_token_charset(token):
    return any(not (char.isascii() and char.isalnum()) and char not in _AUTH_TOKEN_SPECIALS for char in token)


def _bucket_name(name):
    if not 3 <= len(name) <= 63 or not _BUCKET.match(name) or ".." in name:
        return True
    if name.startswith(("xn--", "sthree-")) or name.endswith(("-s3alias", "--ol-s3", "--x-s3")):
        return True
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def _rds_password(password):
    return any(char in '/@" ' or not (char.isascii() and char.isprintable()) for char in password)


_ELASTICACHE_AUTH = ("CreateReplicationGroup", "ModifyReplicationGroup")
_AUTH_DOC = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html#auth-overview"
_LB_DOC = "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html"
_TG_DOC = "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html"
_ROLE_DOC = "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html"
_PROFILE_DOC = "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateInstanceProfile.html"
_BUCKET_DOC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
_RDS_DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html"
_IAM_LENGTH = "1 validation error detected: Value '{value}' at '%s' failed to satisfy constraint: "

RULES = (
    # ElastiCache AUTH token: 16-128 printable characters; of the non-alphanumerics only ! & # $ ^ < > -.
    Rule("elasticache", _ELASTICACHE_AUTH, "AuthToken", lambda v: not 16 <= len(v) <= 128,
         "InvalidParameterValue", "Invalid AuthToken provided.", doc=_AUTH_DOC),
    Rule("elasticache", _ELASTICACHE_AUTH, "AuthToken", _auth_token_charset,
         "InvalidParameterValue", "Invalid AuthToken provided.", doc=_AUTH_DOC),
    # ELBv2 load balancer names: 32 at most, alphanumerics and hyphens, no hyphen at either end, not internal-.
    Rule("elasticloadbalancing", ("CreateLoadBalancer",), "Name", lambda v: len(v) > 32,
         "ValidationError", "The load balancer name '{value}' cannot be longer than '32' characters", doc=_LB_DOC),
    Rule("elasticloadbalancing", ("CreateLoadBalancer",), "Name", lambda v: not _LB_NAME.match(v),
         "ValidationError",
         "The load balancer name '{value}' can only contain characters that are alphanumeric characters and "
         "hyphens(-)", doc=_LB_DOC),
    Rule("elasticloadbalancing", ("CreateLoadBalancer",), "Name", lambda v: v.startswith("internal-"),
         "ValidationError", "The load balancer name '{value}' cannot begin with 'internal-'", doc=_LB_DOC),
    Rule("elasticloadbalancing", ("CreateLoadBalancer",), "Name", lambda v: v.startswith("-"),
         "ValidationError", "The load balancer name '{value}' cannot begin with a hyphen(-)", doc=_LB_DOC),
    Rule("elasticloadbalancing", ("CreateLoadBalancer",), "Name", lambda v: v.endswith("-"),
         "ValidationError", "The load balancer name '{value}' cannot end with a hyphen(-)", doc=_LB_DOC),
    # ELBv2 target group names (moto enforces these too, with the same wording).
    Rule("elasticloadbalancing", ("CreateTargetGroup",), "Name", lambda v: len(v) > 32,
         "ValidationError", "Target group name '{value}' cannot be longer than '32' characters", doc=_TG_DOC),
    Rule("elasticloadbalancing", ("CreateTargetGroup",), "Name", lambda v: not _LB_NAME.match(v),
         "ValidationError",
         "Target group name '{value}' can only contain characters that are alphanumeric characters or hyphens(-)",
         doc=_TG_DOC),
    # IAM names: botocore checks only the minimum length; AWS answers the model's max and pattern.
    Rule("iam", ("CreateRole",), "RoleName", lambda v: len(v) > 64, "ValidationError",
         _IAM_LENGTH % "roleName" + "Member must have length less than or equal to 64", doc=_ROLE_DOC),
    Rule("iam", ("CreateRole",), "RoleName", lambda v: not _IAM_NAME.match(v), "ValidationError",
         _IAM_LENGTH % "roleName" + "Member must satisfy regular expression pattern: [\\w+=,.@-]+", doc=_ROLE_DOC),
    Rule("iam", ("CreateInstanceProfile",), "InstanceProfileName", lambda v: len(v) > 128, "ValidationError",
         _IAM_LENGTH % "instanceProfileName" + "Member must have length less than or equal to 128", doc=_PROFILE_DOC),
    # S3 bucket names (moto checks the length only).
    Rule("s3", ("CreateBucket",), "Bucket", _bucket_name, "InvalidBucketName",
         "The specified bucket is not valid.", doc=_BUCKET_DOC),
    # RDS master password: printable ASCII except / @ " and space.
    Rule("rds", ("CreateDBInstance", "ModifyDBInstance", "CreateDBCluster", "ModifyDBCluster"),
         "MasterUserPassword", _rds_password, "InvalidParameterValue",
         "The parameter MasterUserPassword is not a valid password. Only printable ASCII characters besides "
         "'/', '@', '\"', ' ' may be used.", doc=_RDS_DOC),
)  # fmt: skip


def check(service, operation, params):
    """The first rule (service, operation) breaks with the parameters it carries, or None."""
    for rule in RULES:
        if rule.service != service or operation not in rule.operations:
            continue
        value = params.get(rule.parameter)
        if isinstance(value, str) and rule.broken(value):
            return rule
    return None
