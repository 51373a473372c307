# -*- coding: utf-8 -*-
# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for a resource with the service's own botocore waiters.

botocore ships the waiters AWS defines (``elbv2`` ``load_balancer_available``,
``cloudfront`` ``distribution_deployed``, ...): their acceptors are AWS's
pending and target states. What a module chooses is how often to poll (AWS's
pace, shrunk in tests by REELLE_AWS_TIME_SCALE) and for how long (its
``wait_timeout``). amazon.aws's own waiter models (``module_utils.waiters``) are
not used: they count a throttling error as success, while our clients already
retry throttling (reelle_aws).
"""

from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import poll_seconds


def waiter_config(timeout, aws_delay):
    """The WaiterConfig that polls every ``aws_delay`` seconds (scaled in tests) for up to ``timeout`` seconds.

    At least one attempt, however short the timeout.
    """
    delay = poll_seconds(aws_delay)
    return {"Delay": delay, "MaxAttempts": max(1, int(timeout // delay))}


def wait_for(client, waiter_name, timeout, aws_delay, **kwargs):
    """Wait with the client's botocore waiter ``waiter_name`` (kwargs: its request) for up to ``timeout`` seconds.

    Raises botocore's WaiterError when the target state is not reached in time
    or a failure state is; the module's run_manager reports it.
    """
    client.get_waiter(waiter_name).wait(WaiterConfig=waiter_config(timeout, aws_delay), **kwargs)
