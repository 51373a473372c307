# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared waiting: botocore's own waiters, polled at AWS's pace (scaled in tests) until a timeout."""

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.reelle.infra.plugins.module_utils import reelle_waiters
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import retry_for
from ansible_collections.reelle.infra.plugins.module_utils.reelle_waiters import poll, wait_for, waiter_config
from botocore.exceptions import WaiterError
from botocore.stub import Stubber

LB_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/lb-ok/50dc6c495c0c9188"


@pytest.mark.parametrize(
    ("scale", "timeout", "aws_delay", "expected"),
    [
        ("1", 600, 15, {"Delay": 15.0, "MaxAttempts": 40}),  # botocore's own load balancer pace: 40 x 15 s
        ("1", 1800, 30, {"Delay": 30.0, "MaxAttempts": 60}),
        ("0.1", 1800, 30, {"Delay": 3.0, "MaxAttempts": 600}),  # tests poll faster; the timeout stays
        ("1", 20, 15, {"Delay": 15.0, "MaxAttempts": 2}),  # rounded up: a partial interval is one more poll
        ("1", 610, 15, {"Delay": 15.0, "MaxAttempts": 41}),  # the wait is never cut short of its timeout
        ("0.015", 900, 15, {"Delay": 0.225, "MaxAttempts": 4000}),  # 900 / 0.22499999999999998: float noise
        ("1", 0, 15, {"Delay": 15.0, "MaxAttempts": 1}),  # always one attempt
    ],
)
def test_waiter_config(monkeypatch, scale, timeout, aws_delay, expected):
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", scale)
    assert waiter_config(timeout, aws_delay) == pytest.approx(expected)


def test_polls_are_never_a_busy_loop(monkeypatch):
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0")
    assert waiter_config(600, 15)["Delay"] == 0.05


@pytest.fixture
def elb(monkeypatch):
    """An elbv2 client as aws_client() makes it (retrying wrapper), answering from a Stubber."""
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "0.001")
    client = boto3.client("elbv2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        yield RetryingBotoClientWrapper(client, retry_for("elbv2")), stub
        stub.assert_no_pending_responses()


def state(code):
    return {"LoadBalancers": [{"LoadBalancerArn": LB_ARN, "State": {"Code": code}}]}


def test_wait_for_polls_the_services_waiter_until_its_target_state(elb):
    client, stub = elb
    for code in ("provisioning", "provisioning", "active"):
        stub.add_response("describe_load_balancers", state(code), {"Names": ["lb-ok"]})
    wait_for(client, "load_balancer_available", 600, 15, Names=["lb-ok"])


def test_wait_for_gives_up_after_the_timeout(elb):
    client, stub = elb
    # 0.16 s at the scaled 0.05 s pace: 3.2 intervals, rounded up to four polls, then WaiterError.
    for _poll in range(4):
        stub.add_response("describe_load_balancers", state("provisioning"), {"Names": ["lb-ok"]})
    with pytest.raises(WaiterError, match="Max attempts exceeded"):
        wait_for(client, "load_balancer_available", 0.16, 15, Names=["lb-ok"])


def test_wait_for_counts_not_found_as_deleted(elb):
    client, stub = elb
    stub.add_response("describe_load_balancers", state("active"), {"LoadBalancerArns": [LB_ARN]})
    stub.add_client_error(
        "describe_load_balancers", "LoadBalancerNotFound", expected_params={"LoadBalancerArns": [LB_ARN]}
    )
    wait_for(client, "load_balancers_deleted", 600, 15, LoadBalancerArns=[LB_ARN])


# --- poll: a state read the module's own way, under the same rule ------------------------


@pytest.fixture
def sleeps(monkeypatch):
    """The sleeps poll() takes, at the real pace (REELLE_AWS_TIME_SCALE 1), without waiting."""
    monkeypatch.setenv("REELLE_AWS_TIME_SCALE", "1")
    taken = []
    monkeypatch.setattr(reelle_waiters.time, "sleep", taken.append)
    return taken


def test_poll_reads_until_done_sleeping_between_reads(sleeps):
    answers = iter(["creating", "modifying", "available", "never read"])
    assert poll(lambda: next(answers), lambda status: status == "available", 600, 15) == ("available", True)
    assert sleeps == [15, 15]


def test_poll_makes_the_attempts_of_waiter_config_then_gives_the_last_answer(sleeps):
    reads = []
    answer = poll(lambda: reads.append(len(reads)) or "deleting", lambda status: status is None, 610, 15)
    assert answer == ("deleting", False)
    assert len(reads) == waiter_config(610, 15)["MaxAttempts"] == 41
    assert sleeps == [15] * 40  # none after the last read


def test_poll_done_at_once_does_not_sleep(sleeps):
    assert poll(lambda: None, lambda group: group is None, 0, 15) == (None, True)
    assert sleeps == []
