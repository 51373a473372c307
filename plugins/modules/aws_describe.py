#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r"""
---
module: aws_describe
short_description: Make one read-only AWS call and return its answer
description:
  - Calls one describe/list/get operation of a boto3 client and returns the response, so verify playbooks
    can assert on what AWS reports where no collection *_info module serves (ElastiCache replication groups);
    molecule verify playbooks, the integration tests and the disaster-recovery drill read state with it.
  - Refuses any operation that is not read-only.
author:
  - the reelle infrastructure authors (@reelle)
options:
  service:
    description: boto3 service name, e.g. V(elasticache).
    type: str
    required: true
  operation:
    description: snake_case operation; must start with V(describe_), V(list_) or V(get_).
    type: str
    required: true
  parameters:
    description: Parameters of the call (CamelCase, as boto3 takes them).
    type: dict
    default: {}
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Describe the replication group
  reelle.infra.aws_describe:
    service: elasticache
    operation: describe_replication_groups
    parameters:
      ReplicationGroupId: reelle-staging-redis
  register: described
"""

RETURN = r"""
response:
  description: The call's response without ResponseMetadata (CamelCase, dates as strings).
  returned: always
  type: dict
  sample: {ReplicationGroups: [{ReplicationGroupId: reelle-staging-redis, Status: available}]}
"""

import contextlib
import json

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import aws_client

READ_ONLY = ("describe_", "list_", "get_")


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            service=dict(type="str", required=True),
            operation=dict(type="str", required=True),
            parameters=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    operation = module.params["operation"]
    if not operation.startswith(READ_ONLY):
        module.fail_json(msg=f"{operation} is not a read-only operation ({', '.join(READ_ONLY)})")
    client = aws_client(module, module.params["service"])
    try:
        response = getattr(client, operation)(aws_retry=True, **module.params["parameters"])
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"{module.params['service']}:{operation} failed")
    response.pop("ResponseMetadata", None)
    module.exit_json(changed=False, response=json.loads(json.dumps(response, default=str)))


if __name__ == "__main__":
    main()
