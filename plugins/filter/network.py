# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network filters: the subnet plan of a VPC and the problems of a network's inputs.

`subnet_plan` carves one public and one private subnet per availability zone out
of a VPC CIDR, deterministically, the way the Terraform peer does with
`cidrsubnet(cidr, newbits, index)`: public subnet i is block i, private subnet i
is block `private_offset + i` (10.20.0.0/16, newbits 8: public 10.20.0.0/24,
10.20.1.0/24, ...; private 10.20.10.0/24, 10.20.11.0/24, ...).

`network_problems` returns every problem with a network's inputs as a list of
messages (empty when fine): an invalid or unusable VPC CIDR, overlaps with other
CIDRs (another region's VPC, a peer), availability zones outside the region or
given twice, and a plan that does not fit in the VPC. The inventory check calls
it before anything is touched. Both raise AnsibleFilterError on input of the
wrong type (a string where a list is expected, ...).
"""

import ipaddress
import re
from collections.abc import Sequence

from ansible.errors import AnsibleFilterError

# AWS accepts VPC and subnet netmasks from /16 to /28.
VPC_PREFIX_MIN = 16
SUBNET_PREFIX_MAX = 28
DEFAULT_NEWBITS = 8
DEFAULT_PRIVATE_OFFSET = 10


def _az_list(name, availability_zones):
    if isinstance(availability_zones, str | bytes) or not isinstance(availability_zones, Sequence):
        raise AnsibleFilterError(
            f"{name}: availability_zones must be a list of zone names such as [us-east-1a], got {availability_zones!r}"
        )
    for zone in availability_zones:
        if not isinstance(zone, str):
            raise AnsibleFilterError(f"{name}: availability zone names must be strings, got {zone!r}")
    return list(availability_zones)


def _int_arg(name, label, value, low):
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise AnsibleFilterError(f"{name}: {label} must be an integer >= {low}, got {value!r}")
    return value


def _parse_cidr(cidr):
    """(network, None) or (None, why it is not an IPv4 network)."""
    if not isinstance(cidr, str):
        return None, f"{cidr!r} is not a CIDR string"
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=True)
    except ValueError as error:
        return None, f"{cidr!r} is not a valid network CIDR ({error})"
    if network.version != 4:
        return None, f"{cidr!r} is not an IPv4 CIDR"
    return network, None


def _plan_problem(network, zone_count, newbits, private_offset):
    """Why the plan does not fit (or None)."""
    prefix = network.prefixlen + newbits
    if prefix > SUBNET_PREFIX_MAX:
        return (
            f"subnets of /{network.prefixlen} + {newbits} bits would be /{prefix}; "
            f"AWS subnets are /{SUBNET_PREFIX_MAX} at the smallest"
        )
    if zone_count > private_offset:
        return (
            f"{zone_count} zones need private_offset >= {zone_count} (got {private_offset}): public and private overlap"
        )
    blocks = 2**newbits
    if private_offset + zone_count > blocks:
        return (
            f"{network} holds {blocks} /{prefix} blocks; the plan needs {private_offset + zone_count} "
            f"(private subnets start at block {private_offset}, {zone_count} zones)"
        )
    return None


def subnet_plan(vpc_cidr, availability_zones, newbits=DEFAULT_NEWBITS, private_offset=DEFAULT_PRIVATE_OFFSET):
    """One public and one private subnet per zone: [{availability_zone, public_cidr, private_cidr}]."""
    zones = _az_list("subnet_plan", availability_zones)
    newbits = _int_arg("subnet_plan", "newbits", newbits, 1)
    private_offset = _int_arg("subnet_plan", "private_offset", private_offset, 0)
    network, problem = _parse_cidr(vpc_cidr)
    if problem:
        raise AnsibleFilterError(f"subnet_plan: {problem}")
    if len(set(zones)) != len(zones):
        raise AnsibleFilterError(f"subnet_plan: availability zones are given more than once: {zones}")
    problem = _plan_problem(network, len(zones), newbits, private_offset)
    if problem:
        raise AnsibleFilterError(f"subnet_plan: {problem}")
    blocks = list(network.subnets(prefixlen_diff=newbits))
    return [
        {
            "availability_zone": zone,
            "public_cidr": str(blocks[index]),
            "private_cidr": str(blocks[private_offset + index]),
        }
        for index, zone in enumerate(zones)
    ]


def _zone_problems(zones, region):
    problems = []
    if not isinstance(region, str) or not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d+", region):
        return [f"region {region!r} is not an AWS region name such as us-east-1"]
    if not zones:
        problems.append(f"no availability zones given for {region}")
    for zone in zones:
        if not re.fullmatch(re.escape(region) + r"[a-z]", zone):
            problems.append(
                f"availability zone {zone!r} is not in region {region} (expected {region}a, {region}b, ...)"
            )
    duplicates = sorted({zone for zone in zones if zones.count(zone) > 1})
    if duplicates:
        problems.append(f"availability zones given more than once: {', '.join(duplicates)}")
    return problems


def _cidr_problems(network, other_cidrs):
    if isinstance(other_cidrs, str | bytes) or not isinstance(other_cidrs, Sequence):
        raise AnsibleFilterError(f"network_problems: other_cidrs must be a list of CIDRs, got {other_cidrs!r}")
    problems = []
    for other in other_cidrs:
        other_network, problem = _parse_cidr(other)
        if problem:
            problems.append(f"other CIDR {problem}")
        elif network.overlaps(other_network):
            problems.append(f"VPC CIDR {network} overlaps {other_network}")
    return problems


def network_problems(
    vpc_cidr,
    availability_zones,
    region,
    other_cidrs=(),
    newbits=DEFAULT_NEWBITS,
    private_offset=DEFAULT_PRIVATE_OFFSET,
):
    """Every problem with a network's inputs, as a list of messages (empty when fine)."""
    zones = _az_list("network_problems", availability_zones)
    newbits = _int_arg("network_problems", "newbits", newbits, 1)
    private_offset = _int_arg("network_problems", "private_offset", private_offset, 0)
    problems = _zone_problems(zones, region)
    network, problem = _parse_cidr(vpc_cidr)
    if problem:
        return [f"VPC CIDR {problem}", *problems]
    if network.prefixlen < VPC_PREFIX_MIN or network.prefixlen > SUBNET_PREFIX_MAX:
        problems.insert(0, f"VPC CIDR {network} must have a netmask from /{VPC_PREFIX_MIN} to /{SUBNET_PREFIX_MAX}")
    problems.extend(_cidr_problems(network, other_cidrs))
    plan_problem = _plan_problem(network, len(zones), newbits, private_offset)
    if plan_problem:
        problems.append(f"too few addresses for the subnet plan: {plan_problem}")
    return problems


class FilterModule:
    def filters(self):
        return {"subnet_plan": subnet_plan, "network_problems": network_problems}
