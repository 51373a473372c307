#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ecr_repository
short_description: Manage an ECR repository with its scanning, encryption, lifecycle policy and tags
version_added: "0.1.0"
description:
  - Ensures an Amazon ECR repository in one call - tag mutability, scan on push, encryption
    (set at creation; ECR cannot change it afterwards, so a different encryption fails
    instead of replacing the repository and its images), lifecycle policy and tags.
  - A no-op run makes one C(DescribeRepositories) call, plus C(GetLifecyclePolicy) when
    O(lifecycle_policy) is set and C(ListTagsForResource) when O(tags) is set.
  - Written because community.aws.ecs_ecr has no tags and compares the encryption
    configuration wrongly against the emulator.
  - O(state=absent) refuses to delete a repository that holds images unless O(force_delete=true).
author:
  - the reelle infrastructure authors (@reelle)
options:
  name:
    description: Repository name.
    type: str
    required: true
  state:
    description: Whether the repository should exist.
    type: str
    choices: [present, absent]
    default: present
  image_tag_mutability:
    description: Whether an image tag can be pushed again; unset leaves it alone.
    type: str
    choices: [MUTABLE, IMMUTABLE]
  scan_on_push:
    description: Scan images for vulnerabilities when they are pushed; unset leaves it alone.
    type: bool
  encryption_type:
    description: Encryption at rest, chosen at creation.
    type: str
    choices: [AES256, KMS]
    default: AES256
  kms_key:
    description: ARN or id of the KMS key when O(encryption_type=KMS) (the AWS-managed key when unset).
    type: str
  lifecycle_policy:
    description: Lifecycle policy document (a dict or JSON text); unset leaves the policy alone.
    type: raw
  force_delete:
    description: Confirms that O(state=absent) deletes the repository together with its images.
    type: bool
    default: false
  tags:
    description: Tags of the repository; unset leaves them alone.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags not listed in O(tags).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Backend image repository
  reelle.infra.ecr_repository:
    name: reelle-staging/backend
    image_tag_mutability: IMMUTABLE
    scan_on_push: true
    encryption_type: KMS
    kms_key: "{{ kms_key_arn }}"
    lifecycle_policy:
      rules:
        - rulePriority: 1
          description: Keep the 30 newest images
          selection: {tagStatus: any, countType: imageCountMoreThan, countNumber: 30}
          action: {type: expire}
    tags:
      environment: staging

- name: Remove it with its images
  reelle.infra.ecr_repository:
    name: reelle-staging/backend
    state: absent
    force_delete: true
"""

RETURN = r"""
repository_name:
  description: Repository name.
  returned: always
  type: str
  sample: reelle-staging/backend
repository_arn:
  description: Repository ARN; null when it would be created (check mode) or is absent.
  returned: always
  type: str
  sample: arn:aws:ecr:us-east-1:123456789012:repository/reelle-staging/backend
repository_url:
  description: URI to push and pull images with; null when it would be created (check mode) or is absent.
  returned: always
  type: str
  sample: 123456789012.dkr.ecr.us-east-1.amazonaws.com/reelle-staging/backend
registry_id:
  description: Account id of the registry; null when unknown (check mode create).
  returned: always
  type: str
  sample: "123456789012"
changes:
  description: Plan rows, one per change made (or that would be made in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{"action": "create", "resource": "ecr repository reelle-staging/backend", "attributes": []}]
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
  sample: {"before": {"scan_on_push": false}, "after": {"scan_on_push": true}}
"""

import json

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    ChangeSet,
    aws_client,
    run_manager,
    same_kms_key,
    sync_tags,
    tag_dict,
    tag_list,
)


def parse_policy(policy):
    """A lifecycle policy as a dict, its rules ordered by priority."""
    if policy is None:
        return None
    document = json.loads(policy) if isinstance(policy, str) else dict(policy)
    document["rules"] = sorted(document.get("rules", []), key=lambda rule: rule.get("rulePriority", 0))
    return document


class EcrRepositoryManager:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.name = module.params["name"]
        self.resource = f"ecr repository {self.name}"
        self.changes = ChangeSet(module)
        self.ecr = aws_client(module, "ecr")

    def describe(self):
        try:
            found = self.ecr.describe_repositories(repositoryNames=[self.name], aws_retry=True)
        except is_boto3_error_code("RepositoryNotFoundException"):
            return None
        return found["repositories"][0]

    def outputs(self, repository):
        repository = repository or {}
        return dict(
            repository_name=self.name,
            repository_arn=repository.get("repositoryArn"),
            repository_url=repository.get("repositoryUri"),
            registry_id=repository.get("registryId"),
        )

    def ensure_present(self):
        try:
            policy = parse_policy(self.params["lifecycle_policy"])
        except (TypeError, ValueError) as error:
            self.module.fail_json(msg=f"lifecycle_policy is not a policy document: {error}")
        repository = self.describe()
        if repository is None:
            repository = self.create()
            if policy is not None:
                self.put_policy(policy)
            return self.changes.result(**self.outputs(repository))
        self.refuse_encryption_change(repository)
        self.update_settings(repository)
        if policy is not None:
            self.update_policy(policy)
        self.update_tags(repository["repositoryArn"])
        return self.changes.result(**self.outputs(repository))

    def create(self):
        encryption = {"encryptionType": self.params["encryption_type"]}
        if self.params["encryption_type"] == "KMS" and self.params.get("kms_key"):
            encryption["kmsKey"] = self.params["kms_key"]
        kwargs = {"repositoryName": self.name, "encryptionConfiguration": encryption}
        if self.params.get("image_tag_mutability"):
            kwargs["imageTagMutability"] = self.params["image_tag_mutability"]
        if self.params.get("scan_on_push") is not None:
            kwargs["imageScanningConfiguration"] = {"scanOnPush": self.params["scan_on_push"]}
        if self.params.get("tags"):
            kwargs["tags"] = tag_list(self.params["tags"])
        self.changes.note("repository", None, {key: value for key, value in kwargs.items() if key != "tags"})
        created = self.changes.create(self.resource, self.ecr, "ecr", "create_repository", **kwargs)
        return (created or {}).get("repository")

    def refuse_encryption_change(self, repository):
        actual = repository.get("encryptionConfiguration") or {"encryptionType": "AES256"}
        wanted_type = self.params["encryption_type"]
        wanted_key = self.params.get("kms_key")
        differs = actual.get("encryptionType") != wanted_type
        if wanted_type == "KMS" and wanted_key and not same_kms_key(wanted_key, actual.get("kmsKey")):
            differs = True
        if differs:
            self.module.fail_json(
                msg=(
                    f"ECR repository {self.name} is encrypted with {actual}; wanted {wanted_type} {wanted_key or ''}. "
                    "ECR cannot change encryption in place and replacing the repository would lose its images: "
                    "keep the current setting, or delete the repository (state=absent, force_delete=true) first."
                ),
                **self.outputs(repository),
            )

    def update_settings(self, repository):
        mutability = self.params.get("image_tag_mutability")
        if mutability and repository.get("imageTagMutability") != mutability:
            self.changes.note("image_tag_mutability", repository.get("imageTagMutability"), mutability)
            self.changes.update(
                self.resource,
                ["image_tag_mutability"],
                self.ecr,
                "ecr",
                "put_image_tag_mutability",
                repositoryName=self.name,
                imageTagMutability=mutability,
            )
        scan = self.params.get("scan_on_push")
        current = (repository.get("imageScanningConfiguration") or {}).get("scanOnPush", False)
        if scan is not None and current != scan:
            self.changes.note("scan_on_push", current, scan)
            self.changes.update(
                self.resource,
                ["scan_on_push"],
                self.ecr,
                "ecr",
                "put_image_scanning_configuration",
                repositoryName=self.name,
                imageScanningConfiguration={"scanOnPush": scan},
            )

    def put_policy(self, policy):
        self.changes.update(
            self.resource,
            ["lifecycle_policy"],
            self.ecr,
            "ecr",
            "put_lifecycle_policy",
            repositoryName=self.name,
            lifecyclePolicyText=json.dumps(policy, sort_keys=True),
        )

    def update_policy(self, policy):
        try:
            text = self.ecr.get_lifecycle_policy(repositoryName=self.name, aws_retry=True)["lifecyclePolicyText"]
            current = parse_policy(text)
        except is_boto3_error_code("LifecyclePolicyNotFoundException"):
            current = None
        if current != policy:
            self.changes.note("lifecycle_policy", current, policy)
            self.put_policy(policy)

    def update_tags(self, arn):
        wanted = self.params.get("tags")
        if wanted is None:
            return
        current = tag_dict(self.ecr.list_tags_for_resource(resourceArn=arn, aws_retry=True).get("tags"))
        sync_tags(
            self.changes,
            self.resource,
            current,
            wanted,
            self.params["purge_tags"],
            lambda to_set: (self.ecr, "ecr", "tag_resource", {"resourceArn": arn, "tags": tag_list(to_set)}),
            lambda keys: (self.ecr, "ecr", "untag_resource", {"resourceArn": arn, "tagKeys": keys}),
        )

    def ensure_absent(self):
        repository = self.describe()
        if repository is None:
            return self.changes.result(**self.outputs(None))
        images = self.ecr.list_images(repositoryName=self.name, maxResults=1, aws_retry=True).get("imageIds", [])
        if images and not self.params["force_delete"]:
            self.module.fail_json(
                msg=f"ECR repository {self.name} holds images; set force_delete=true to delete them with it.",
                **self.outputs(repository),
            )
        self.changes.note("repository", {"repositoryName": self.name}, None)
        self.changes.delete(
            self.resource, self.ecr, "ecr", "delete_repository", repositoryName=self.name, force=bool(images)
        )
        return self.changes.result(**self.outputs(None))


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            image_tag_mutability=dict(type="str", choices=["MUTABLE", "IMMUTABLE"]),
            scan_on_push=dict(type="bool"),
            encryption_type=dict(type="str", default="AES256", choices=["AES256", "KMS"]),
            kms_key=dict(type="str", no_log=False),
            lifecycle_policy=dict(type="raw"),
            force_delete=dict(type="bool", default=False),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    run_manager(module, EcrRepositoryManager(module), failure=f"to manage ECR repository {module.params['name']}")


if __name__ == "__main__":
    main()
