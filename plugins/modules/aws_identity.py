#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aws_identity
short_description: Who the AWS credentials belong to (one STS call)
version_added: "0.2.0"
description:
  - Calls C(sts:GetCallerIdentity) once and returns the account, ARN and user id. Roles call it first
    to prove the credentials work (or that the emulator answers) before any other AWS call.
  - Like M(amazon.aws.aws_caller_info) without its optional IAM alias lookup; ours because it runs in
    the worker process (see C(plugins/plugin_utils/inprocess.py)), about a second faster per run.
  - Never changes anything.
author:
  - the reelle infrastructure authors (@reelle)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Ask STS who we are
  reelle.infra.aws_identity:
    region: us-east-1
  register: caller
"""

RETURN = r"""
account:
  description: The account id.
  returned: success
  type: str
  sample: "123456789012"
arn:
  description: The ARN of the calling identity.
  returned: success
  type: str
  sample: arn:aws:sts::123456789012:user/moto
partition:
  description: The ARN partition of the account (aws, aws-cn, aws-us-gov), from the caller's ARN.
  returned: success
  type: str
  sample: aws
target:
  description: Where this run's AWS calls go, as said by REELLE_AWS_TARGET (never inferred from the endpoint).
  returned: success
  type: str
  sample: aws
user_id:
  description: The unique id of the calling identity.
  returned: success
  type: str
  sample: AKIAIOSFODNN7EXAMPLE
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # AnsibleAWSModule reports missing botocore
    BotoCoreError = ClientError = None

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import aws_client, aws_target


def main():
    module = AnsibleAWSModule(argument_spec={}, supports_check_mode=True)
    try:
        identity = aws_client(module, "sts").get_caller_identity(aws_retry=True)
    except (BotoCoreError, ClientError) as error:
        module.fail_json_aws(error, msg="Could not identify the caller with STS")
    module.exit_json(
        changed=False,
        account=identity["Account"],
        arn=identity["Arn"],
        partition=identity["Arn"].split(":")[1],
        target=aws_target(),
        user_id=identity["UserId"],
    )


if __name__ == "__main__":
    main()
