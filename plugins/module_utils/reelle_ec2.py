# -*- coding: utf-8 -*-
# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EC2 resources as this project's modules handle them: found by tag, tagged at creation, tags kept in sync.

Every EC2 resource of ours carries a C(Name) tag set at creation
(C(TagSpecifications)), so a run interrupted after a create finds what it
made. Tags are reconciled through the ChangeSet with CreateTags / DeleteTags,
which serve every EC2 resource type; filters are amazon.aws's
``ansible_dict_to_boto3_filter_list``.
"""

from ansible_collections.amazon.aws.plugins.module_utils.transformation import ansible_dict_to_boto3_filter_list
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import sync_tags, tag_dict, tag_list

filters = ansible_dict_to_boto3_filter_list


def name_tag(resource):
    """The C(Name) tag of an EC2 resource as described (its C(Tags) list), or None."""
    return tag_dict(resource.get("Tags")).get("Name")


def tag_specifications(resource_type, tags):
    """The C(TagSpecifications) of a create: the resource is tagged in the same call that makes it."""
    return [{"ResourceType": resource_type, "Tags": tag_list(tags)}]


def sync_ec2_tags(changes, ec2, resource, resource_id, actual_tags, desired, purge):
    """Reconcile the tags of one EC2 resource through the ChangeSet (CreateTags, DeleteTags).

    actual_tags is the resource's C(Tags) list as described; desired a dict
    (None leaves the tags alone); purge removes the others (never C(aws:) tags).
    Returns the tags before and after (dicts), for the diff.
    """
    actual = tag_dict(actual_tags)
    if desired is None:
        return actual, dict(actual)

    def tag(to_set):
        return ec2, "ec2", "create_tags", {"Resources": [resource_id], "Tags": tag_list(to_set)}

    def untag(keys):
        return ec2, "ec2", "delete_tags", {"Resources": [resource_id], "Tags": [{"Key": key} for key in sorted(keys)]}

    sync_tags(changes, resource, actual, desired, purge, tag, untag)
    # What compare_aws_tags leaves: with purge, the desired tags and AWS's own (aws:) ones.
    kept = {key: value for key, value in actual.items() if not purge or key.startswith("aws:")}
    return actual, dict(kept, **desired)
