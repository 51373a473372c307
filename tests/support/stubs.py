# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stubbed AWS clients for unit tests of module_utils: the call path our modules take on AWS.

``stubbed(monkeypatch, service)`` aims boto3 at AWS (no emulator endpoint, no
emulator mode), yields ``(client, stub)`` with ``stub.client`` the client as
``aws_client()`` wraps it (calls with ``aws_retry=True`` retry by
``retry_for(service)``), and fails the test when a queued answer was not asked for.
"""

import contextlib
import types

import boto3
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import retry_for
from botocore.stub import Stubber


def fake_module(check_mode=False):
    """What ChangeSet and the shared parts read of an AnsibleAWSModule."""
    return types.SimpleNamespace(check_mode=check_mode, _diff=True, no_log_values=set())


def retrying(client, service):
    """The client as aws_client() wraps it."""
    return RetryingBotoClientWrapper(client, retry_for(service))


@contextlib.contextmanager
def stubbed(monkeypatch, service, region="us-east-1"):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("REELLE_AWS_TARGET", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client(service, region_name=region)
    with Stubber(client) as stub:
        stub.client = retrying(client, service)
        yield client, stub
        stub.assert_no_pending_responses()
