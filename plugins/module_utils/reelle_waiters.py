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

One rule for how long every wait lasts, here: ``waiter_config`` rounds the
number of polls up (ceil), so a wait is never cut short of its timeout by a
partial poll interval. A state no botocore waiter knows, or one a module reads
its own way, is polled with ``poll`` under the same rule.
"""

import math
import time

from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import poll_seconds


def waiter_config(timeout, aws_delay):
    """The WaiterConfig that polls every ``aws_delay`` seconds (scaled in tests) for ``timeout`` seconds.

    MaxAttempts x Delay covers the whole timeout: the attempts are rounded up
    (botocore's measure of a waiter's length: its load balancer waiter, 40 x 15 s,
    is its 10 minutes). At least one attempt, however short the timeout.
    """
    delay = poll_seconds(aws_delay)
    # round(): a scaled delay's float noise (600 / 15.000000000000002) is not one more poll.
    return {"Delay": delay, "MaxAttempts": max(1, math.ceil(round(timeout / delay, 6)))}


def wait_for(client, waiter_name, timeout, aws_delay, **kwargs):
    """Wait with the client's botocore waiter ``waiter_name`` (kwargs: its request) for up to ``timeout`` seconds.

    Raises botocore's WaiterError when the target state is not reached in time
    or a failure state is; the module's run_manager reports it.
    """
    client.get_waiter(waiter_name).wait(WaiterConfig=waiter_config(timeout, aws_delay), **kwargs)


def poll(read, done, timeout, aws_delay):
    """Call ``read()`` at the pace and for the attempts of ``waiter_config`` until ``done(answer)``.

    Like botocore's waiters it sleeps between attempts, not after the last one.
    Returns (the last answer, whether it was done); a module reports a wait
    that ran out its own way.
    """
    config = waiter_config(timeout, aws_delay)
    for attempt in range(config["MaxAttempts"]):
        if attempt:
            time.sleep(config["Delay"])
        answer = read()
        if done(answer):
            return answer, True
    return answer, False
