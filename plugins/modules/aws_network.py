#!/usr/bin/python
# -*- coding: utf-8 -*-

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aws_network
short_description: One environment's VPC network in one call
description:
  - Creates or updates a VPC with DNS support and hostnames, one public and one private
    subnet per availability zone, an internet gateway, NAT gateway(s) with Elastic IPs
    (one shared, or one per zone), a public route table (C(0.0.0.0/0) to the internet
    gateway) and private route table(s) (C(0.0.0.0/0) to a NAT gateway), with their subnet
    associations and tags.
  - Resources are found by their C(Name) tag (VPC, internet gateway, route tables, Elastic
    IPs), by CIDR (subnets) or by subnet (NAT gateways), so a no-op run costs eight
    describe calls whatever the size of the network. Every resource is tagged at creation
    (C(TagSpecifications)), so a run interrupted after a create finds what it made; of several
    resources with one C(Name), those with the O(tags) C(environment) value are taken. Elastic
    IPs are found by tag even before the VPC exists (AllocateAddress takes no client token).
  - NAT gateways and route tables are created with a deterministic client token, so a create
    retried after a lost answer does not make a second one.
  - Every change goes through one change tracker, so C(--check) and C(--diff) report exactly
    what a real run does. In check mode against an empty account the ids of resources that
    would be created are returned as null.
  - A change that would replace the VPC or a subnet (another CIDR, another zone) fails with
    a message instead; nothing is deleted unless O(state=absent) and O(confirm_delete)
    names the VPC.
  - NAT gateways are waited for (polling their state) until they are available.
version_added: 0.1.0
author:
  - the reelle infrastructure authors (@reelle)
options:
  name:
    description:
      - Name of the network; the VPC's C(Name) tag and the prefix of every other resource's
        C(Name) (C(<name>-public-<az>), C(<name>-private-<az>), C(<name>-<az>) for NAT
        gateways, C(<name>-nat-<az>) for their Elastic IPs, C(<name>-public) and
        C(<name>-private-<az>) for route tables).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the network; V(absent) deletes it in reverse order
        (route tables, NAT gateways, Elastic IPs, internet gateway, subnets, VPC), only when
        O(confirm_delete) equals O(name).
    type: str
    choices: [present, absent]
    default: present
  cidr_block:
    description:
      - IPv4 CIDR of the VPC. Required when O(state=present). A VPC of this name with another
        CIDR is not replaced; the module fails instead.
    type: str
  subnets:
    description:
      - The subnet plan, one entry per availability zone, in order (the C(subnet_plan) filter
        of this project computes it). The first zone's public subnet hosts the shared NAT
        gateway. Required when O(state=present).
    type: list
    elements: dict
    suboptions:
      availability_zone:
        description: Availability zone name, for example C(us-east-1a).
        type: str
        required: true
      public_cidr:
        description: CIDR of the zone's public subnet.
        type: str
        required: true
      private_cidr:
        description: CIDR of the zone's private subnet.
        type: str
        required: true
  nat_per_az:
    description:
      - V(true) creates a NAT gateway and a private route table per zone (high availability);
        V(false) one NAT gateway in the first zone and one private route table for all
        private subnets.
    type: bool
    default: false
  dns_support:
    description: DNS resolution in the VPC (C(enableDnsSupport)). Unset leaves it alone.
    type: bool
  dns_hostnames:
    description: DNS host names in the VPC (C(enableDnsHostnames)). Unset leaves it alone.
    type: bool
  map_public_ip_on_launch:
    description: Public subnets give instances a public IPv4 address. Unset leaves it alone.
    type: bool
  tags:
    description:
      - Tags of every resource, besides C(Name) (and C(Tier) on subnets), which are always set.
      - Unset leaves other tags alone.
    type: dict
  purge_tags:
    description:
      - When O(tags) is set, remove tags not in it (C(aws:) tags are never touched).
    type: bool
    default: true
  wait:
    description: Wait until new NAT gateways are available (polling their state).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for NAT gateways.
    type: int
    default: 600
  confirm_delete:
    description:
      - Must equal O(name) for O(state=absent) to delete anything.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Converge the staging network
  reelle.infra.aws_network:
    name: reelle-staging
    region: us-east-1
    cidr_block: 10.20.0.0/16
    subnets: "{{ '10.20.0.0/16' | subnet_plan(['us-east-1a', 'us-east-1b']) }}"
    nat_per_az: false
    dns_support: true
    dns_hostnames: true
    map_public_ip_on_launch: true
    tags:
      project: reelle
      environment: staging
  register: network

- name: Delete it (reverse order; the name must be confirmed)
  reelle.infra.aws_network:
    name: reelle-staging
    state: absent
    confirm_delete: reelle-staging
"""

RETURN = r"""
vpc_id:
  description: Id of the VPC (null in check mode when it would be created).
  type: str
  returned: always
  sample: vpc-0a1b2c3d4e5f67890
vpc_cidr:
  description: CIDR of the VPC.
  type: str
  returned: when O(state=present)
  sample: 10.20.0.0/16
availability_zones:
  description: Zones of the subnets, in plan order.
  type: list
  elements: str
  returned: when O(state=present)
  sample: [us-east-1a, us-east-1b]
public_subnet_ids:
  description: Public subnet ids in zone order (null entries for subnets that would be created).
  type: list
  elements: str
  returned: when O(state=present)
  sample: [subnet-0123456789abcdef0, subnet-0123456789abcdef1]
private_subnet_ids:
  description: Private subnet ids in zone order.
  type: list
  elements: str
  returned: when O(state=present)
  sample: [subnet-0123456789abcdef2, subnet-0123456789abcdef3]
internet_gateway_id:
  description: Id of the internet gateway.
  type: str
  returned: when O(state=present)
  sample: igw-0123456789abcdef0
nat_gateway_ids:
  description: NAT gateway ids (one, or one per zone).
  type: list
  elements: str
  returned: when O(state=present)
  sample: [nat-0123456789abcdef0]
nat_public_ips:
  description: Public IPv4 addresses of the NAT gateways.
  type: list
  elements: str
  returned: when O(state=present)
  sample: [203.0.113.10]
public_route_table_id:
  description: Id of the public route table.
  type: str
  returned: when O(state=present)
  sample: rtb-0123456789abcdef0
private_route_table_ids:
  description: Ids of the private route tables (one per NAT gateway).
  type: list
  elements: str
  returned: when O(state=present)
  sample: [rtb-0123456789abcdef1]
changes:
  description: The plan, one row per resource created, updated or deleted (also in check mode).
  type: list
  elements: dict
  returned: always
  sample: [{action: create, resource: "subnet reelle-staging-public-us-east-1a", attributes: []}]
skipped_calls:
  description: Calls the local emulator lacks that were skipped (always empty for this module).
  type: list
  elements: str
  returned: always
  sample: []
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.reelle.infra.plugins.module_utils.reelle_aws import (
    ChangeSet,
    aws_client,
    client_token,
    paginate,
    run_manager,
    tag_dict,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_ec2 import (
    filters,
    name_tag,
    sync_ec2_tags,
    tag_specifications,
)
from ansible_collections.reelle.infra.plugins.module_utils.reelle_waiters import wait_for

ANYWHERE = "0.0.0.0/0"
NAT_LIVE_STATES = ["pending", "available"]
# botocore's EC2 waiters poll NatGatewayAvailable/NatGatewayDeleted every 15 s, VpcAvailable every 15 s.
NAT_POLL_SECONDS = 15
VPC_POLL_SECONDS = 15


class NetworkManager:
    """Finds the network's resources with a handful of describe calls and converges them."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.name = module.params["name"]
        self.ec2 = aws_client(module, "ec2")
        self.changes = ChangeSet(module)
        self.resource = f"network {self.name}"
        self.step = None  # what run_manager names when an AWS call fails; None: "to manage <resource>"
        self.found = {"subnets": [], "internet_gateways": [], "nat_gateways": [], "route_tables": [], "addresses": []}

    # --- thin calls -----------------------------------------------------------

    def describe(self, operation, key, **kwargs):
        return paginate(self.ec2, operation, key, **kwargs)

    def call(self, operation, **kwargs):
        return self.changes.call(self.ec2, "ec2", operation, **kwargs)

    def tags(self, name, **extra):
        """A resource's tags: O(tags) with its Name (and extra ones such as Tier), always set."""
        return dict(self.params["tags"] or {}, Name=name, **extra)

    def tag_specification(self, resource_type, name, **extra):
        return tag_specifications(resource_type, self.tags(name, **extra))

    def ensure_tags(self, label, resource_id, actual_tags, name, **extra):
        """The resource's tags (others purged only when O(tags) is set); (before, after) for the diff."""
        purge = self.params["purge_tags"] and self.params["tags"] is not None
        desired = self.tags(name, **extra)
        return sync_ec2_tags(self.changes, self.ec2, label, resource_id, actual_tags, desired, purge)

    # --- VPC ----------------------------------------------------------------------

    def find_vpc(self):
        vpcs = self.describe("describe_vpcs", "Vpcs", Filters=filters({"tag:Name": [self.name]}))
        vpcs = self.narrow([vpc for vpc in vpcs if vpc.get("State") != "deleted"])
        if len(vpcs) > 1:
            ids = ", ".join(vpc["VpcId"] for vpc in vpcs)
            self.module.fail_json(msg=f"Several VPCs are named {self.name} ({ids}); keep one and rename the others.")
        return vpcs[0] if vpcs else None

    def create_vpc(self, label):
        cidr = self.params["cidr_block"]
        created = self.changes.create(
            label,
            self.ec2,
            "ec2",
            "create_vpc",
            CidrBlock=cidr,
            TagSpecifications=self.tag_specification("vpc", self.name),
        )
        vpc_id = created["Vpc"]["VpcId"] if created else None
        if created and created["Vpc"].get("State") != "available":
            self.wait("vpc_available", VPC_POLL_SECONDS, VpcIds=[vpc_id])
        # A new VPC resolves names but gives no host names: no describe needed.
        dns_before, dns_after = self.ensure_dns(label, vpc_id, {"enableDnsSupport": True, "enableDnsHostnames": False})
        after = {"cidr_block": cidr, "tags": dict(self.params["tags"] or {}, Name=self.name), **dns_after}
        self.changes.note(label, None, after)
        return vpc_id

    def ensure_vpc(self, vpc):
        cidr = self.params["cidr_block"]
        label = f"vpc {self.name}"
        if vpc is None:
            return self.create_vpc(label)
        if vpc["CidrBlock"] != cidr:
            self.module.fail_json(
                msg=(
                    f"VPC {self.name} ({vpc['VpcId']}) has CIDR {vpc['CidrBlock']}, not {cidr}. Changing a VPC's "
                    "CIDR replaces the VPC and everything in it; this module does not do that. Set cidr_block back "
                    "or delete the network first (state=absent, confirm_delete)."
                )
            )
        tags_before, tags_after = self.ensure_tags(label, vpc["VpcId"], vpc.get("Tags"), self.name)
        dns_before, dns_after = self.ensure_dns(label, vpc["VpcId"], None)
        before = {"cidr_block": cidr, "tags": tags_before, **dns_before}
        self.changes.note(label, before, {"cidr_block": cidr, "tags": tags_after, **dns_after})
        return vpc["VpcId"]

    def ensure_dns(self, label, vpc_id, known):
        """DNS attributes the user set; `known` holds a new VPC's values (no describe needed).

        Returns the attributes before and after, for the diff.
        """
        before, after = {}, {}
        wanted = {"enableDnsSupport": self.params["dns_support"], "enableDnsHostnames": self.params["dns_hostnames"]}
        for attribute, value in wanted.items():
            if value is None:
                continue
            key = attribute[0].upper() + attribute[1:]
            if known is not None:
                actual = known[attribute]
            else:
                actual = self.ec2.describe_vpc_attribute(aws_retry=True, VpcId=vpc_id, Attribute=attribute)[key][
                    "Value"
                ]
            before[attribute], after[attribute] = actual, value
            if actual == value:
                continue
            if known is not None:
                # Part of creating the VPC (already in the plan); in check mode vpc_id is null.
                if vpc_id is not None:
                    self.call("modify_vpc_attribute", VpcId=vpc_id, **{key: {"Value": value}})
            else:
                self.changes.update(
                    label, [attribute], self.ec2, "ec2", "modify_vpc_attribute", VpcId=vpc_id, **{key: {"Value": value}}
                )
        return before, after

    # --- what the VPC holds (five describe calls) ----------------------------------

    def read_children(self, vpc_id):
        in_vpc = filters({"vpc-id": [vpc_id]})
        self.found = {
            "subnets": self.describe("describe_subnets", "Subnets", Filters=in_vpc),
            "internet_gateways": self.describe(
                "describe_internet_gateways", "InternetGateways", Filters=filters({"attachment.vpc-id": [vpc_id]})
            ),
            "nat_gateways": self.describe(
                "describe_nat_gateways", "NatGateways", Filter=in_vpc + filters({"state": NAT_LIVE_STATES})
            ),
            "route_tables": self.describe("describe_route_tables", "RouteTables", Filters=in_vpc),
            "addresses": self.find_addresses(),
        }

    def find_addresses(self):
        """The network's Elastic IPs, by tag: they belong to no VPC, and AllocateAddress takes no client token,
        so an address allocated by an interrupted run is found here and reused, never allocated twice."""
        by_name = filters({"tag:Name": [f"{self.name}-nat-*"]})
        return self.narrow(self.ec2.describe_addresses(aws_retry=True, Filters=by_name)["Addresses"])

    def narrow(self, resources):
        """Of resources found by Name, those carrying the environment tag too, when some do.

        The Name is the identity (set at creation through TagSpecifications); the environment
        tag only tells apart two environments that share names in one account. A changed
        environment tag is a tag update, never a reason to create a second resource.
        """
        wanted = {key: str(value) for key, value in (self.params["tags"] or {}).items() if key.lower() == "environment"}
        if not wanted:
            return resources
        same = [item for item in resources if all(tag_dict(item.get("Tags")).get(k) == v for k, v in wanted.items())]
        return same or resources

    # --- subnets --------------------------------------------------------------------

    def ensure_subnet(self, vpc_id, zone, cidr, tier):
        name = f"{self.name}-{tier}-{zone}"
        label = f"subnet {name}"
        after = {"cidr_block": cidr, "availability_zone": zone}
        existing = next((s for s in self.found["subnets"] if s["CidrBlock"] == cidr), None)
        public_ip = self.params["map_public_ip_on_launch"] if tier == "public" else None
        if existing is None:
            created = self.changes.create(
                label,
                self.ec2,
                "ec2",
                "create_subnet",
                VpcId=vpc_id,
                CidrBlock=cidr,
                AvailabilityZone=zone,
                TagSpecifications=self.tag_specification("subnet", name, Tier=tier),
            )
            self.changes.note(label, None, after)
            subnet_id = created["Subnet"]["SubnetId"] if created else None
            if subnet_id and public_ip:
                self.call("modify_subnet_attribute", SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})
            return subnet_id
        subnet_id = existing["SubnetId"]
        if existing["AvailabilityZone"] != zone:
            self.module.fail_json(
                msg=(
                    f"Subnet {cidr} ({subnet_id}) of {self.name} is in {existing['AvailabilityZone']}, not {zone}. "
                    "Moving a subnet replaces it; this module does not do that. Fix the plan or delete the subnet."
                )
            )
        self.changes.note(label, {"cidr_block": cidr, "availability_zone": existing["AvailabilityZone"]}, after)
        self.ensure_tags(label, subnet_id, existing.get("Tags"), name, Tier=tier)
        if public_ip is not None and existing.get("MapPublicIpOnLaunch") != public_ip:
            self.changes.update(
                label,
                ["map_public_ip_on_launch"],
                self.ec2,
                "ec2",
                "modify_subnet_attribute",
                SubnetId=subnet_id,
                MapPublicIpOnLaunch={"Value": public_ip},
            )
        return subnet_id

    # --- internet gateway -------------------------------------------------------------

    def ensure_internet_gateway(self, vpc_id):
        label = f"internet gateway {self.name}"
        attached = self.found["internet_gateways"]
        if attached:
            gateway = attached[0]
            self.ensure_tags(label, gateway["InternetGatewayId"], gateway.get("Tags"), self.name)
            return gateway["InternetGatewayId"]
        # A gateway left detached by an interrupted run is reused (create path only).
        detached = []
        if vpc_id is not None:
            named = self.describe(
                "describe_internet_gateways", "InternetGateways", Filters=filters({"tag:Name": [self.name]})
            )
            detached = [gateway for gateway in named if not gateway.get("Attachments")]
        if detached:
            gateway_id = detached[0]["InternetGatewayId"]
            self.ensure_tags(label, gateway_id, detached[0].get("Tags"), self.name)
        else:
            created = self.changes.create(
                label,
                self.ec2,
                "ec2",
                "create_internet_gateway",
                TagSpecifications=self.tag_specification("internet-gateway", self.name),
            )
            gateway_id = created["InternetGateway"]["InternetGatewayId"] if created else None
        self.changes.note(label, {"attached_to": None}, {"attached_to": self.name})
        if gateway_id is not None and vpc_id is not None:
            if detached:
                self.changes.update(
                    label,
                    ["attachment"],
                    self.ec2,
                    "ec2",
                    "attach_internet_gateway",
                    InternetGatewayId=gateway_id,
                    VpcId=vpc_id,
                )
            else:
                self.call("attach_internet_gateway", InternetGatewayId=gateway_id, VpcId=vpc_id)
        return gateway_id

    # --- NAT gateways and their Elastic IPs -------------------------------------------

    def nat_zones(self):
        zones = [row["availability_zone"] for row in self.params["subnets"]]
        return zones if self.params["nat_per_az"] else zones[:1]

    def elastic_ip(self, zone):
        """A free Elastic IP named for the zone's NAT gateway, allocated when there is none."""
        name = f"{self.name}-nat-{zone}"
        free = [a for a in self.found["addresses"] if name_tag(a) == name and not a.get("AssociationId")]
        if free:
            return free[0]["AllocationId"], free[0].get("PublicIp")
        created = self.changes.create(
            f"elastic ip {name}",
            self.ec2,
            "ec2",
            "allocate_address",
            Domain="vpc",
            TagSpecifications=self.tag_specification("elastic-ip", name),
        )
        return (created["AllocationId"], created.get("PublicIp")) if created else (None, None)

    def ensure_nat_gateway(self, zone, subnet_id):
        name = f"{self.name}-{zone}"
        label = f"nat gateway {name}"
        in_subnet = [nat for nat in self.found["nat_gateways"] if subnet_id and nat["SubnetId"] == subnet_id]
        in_subnet.sort(key=lambda nat: name_tag(nat) != name)
        if in_subnet:
            nat = in_subnet[0]
            self.ensure_tags(label, nat["NatGatewayId"], nat.get("Tags"), name)
            addresses = nat.get("NatGatewayAddresses") or [{}]
            return nat["NatGatewayId"], addresses[0].get("PublicIp"), nat["State"] != "available"
        allocation_id, public_ip = self.elastic_ip(zone)
        self.changes.note(
            label, None, {"subnet": f"{self.name}-public-{zone}", "elastic_ip": f"{self.name}-nat-{zone}"}
        )
        created = self.changes.create(
            label,
            self.ec2,
            "ec2",
            "create_nat_gateway",
            SubnetId=subnet_id,
            AllocationId=allocation_id,
            TagSpecifications=self.tag_specification("natgateway", name),
            # A create retried after a lost answer returns the same NAT gateway. The subnet and the
            # address are in the token: a network made again after a delete gets a new gateway.
            ClientToken=client_token("nat-gateway", name, subnet_id, allocation_id),
        )
        nat_id = created["NatGateway"]["NatGatewayId"] if created else None
        return nat_id, public_ip, nat_id is not None

    def ensure_address_tags(self):
        for address in self.found["addresses"]:
            name = name_tag(address)
            self.ensure_tags(f"elastic ip {name}", address["AllocationId"], address.get("Tags"), name)

    def wait(self, waiter, aws_delay, **kwargs):
        """A botocore waiter at AWS's pace (scaled in tests), for wait_timeout seconds (reelle_waiters' rule)."""
        self.step = f"waiting ({waiter}) for network {self.name}; re-run to continue"
        wait_for(self.ec2, waiter, self.params["wait_timeout"], aws_delay, **kwargs)
        self.step = None

    def wait_for_nat_gateways(self, nat_ids):
        if not nat_ids or not self.params["wait"]:
            return
        self.wait("nat_gateway_available", NAT_POLL_SECONDS, NatGatewayIds=nat_ids)

    # --- route tables --------------------------------------------------------------------

    def ensure_route_table(self, vpc_id, name, target, subnets, target_name):
        """A named route table, its 0.0.0.0/0 route to target and its subnets ((name, id) pairs)."""
        label = f"route table {name}"
        table = next((t for t in self.found["route_tables"] if name_tag(t) == name), None)
        if table is None:
            created = self.changes.create(
                label,
                self.ec2,
                "ec2",
                "create_route_table",
                VpcId=vpc_id,
                TagSpecifications=self.tag_specification("route-table", name),
                ClientToken=client_token("route-table", name, vpc_id),
            )
            table = created["RouteTable"] if created else {"RouteTableId": None, "Routes": [], "Associations": []}
        else:
            self.ensure_tags(label, table["RouteTableId"], table.get("Tags"), name)
        self.ensure_default_route(label, table, target, target_name)
        self.ensure_associations(label, table["RouteTableId"], subnets)
        return table["RouteTableId"]

    def ensure_default_route(self, label, table, target, target_name):
        ((target_key, target_id),) = target.items()
        route = next((r for r in table["Routes"] if r.get("DestinationCidrBlock") == ANYWHERE), None)
        before = {"route": route.get(target_key) if route else None}
        self.changes.note(label, before, {"route": target_id or f"(new) {target_name}"})
        # Ids are null only in check mode (resources that would be created): recorded, not called.
        kwargs = {"RouteTableId": table["RouteTableId"], "DestinationCidrBlock": ANYWHERE, target_key: target_id}
        if route is None:
            self.changes.create(f"{label} route {ANYWHERE}", self.ec2, "ec2", "create_route", **kwargs)
        elif route.get(target_key) != target_id or route.get("State") == "blackhole":
            self.changes.update(label, [f"route.{ANYWHERE}"], self.ec2, "ec2", "replace_route", **kwargs)

    def ensure_associations(self, label, table_id, subnets):
        current = {}
        for table in self.found["route_tables"]:
            for association in table.get("Associations", []):
                if association.get("SubnetId"):
                    current[association["SubnetId"]] = association
        for subnet_name, subnet_id in subnets:
            association = current.get(subnet_id) if subnet_id else None
            row = f"{label} association {subnet_name}"
            if association and association["RouteTableId"] == table_id:
                continue
            if association:
                self.changes.update(
                    row,
                    ["route_table_id"],
                    self.ec2,
                    "ec2",
                    "replace_route_table_association",
                    AssociationId=association["RouteTableAssociationId"],
                    RouteTableId=table_id,
                )
            else:
                self.changes.create(
                    row, self.ec2, "ec2", "associate_route_table", RouteTableId=table_id, SubnetId=subnet_id
                )

    # --- the whole network ------------------------------------------------------------------

    def ensure_present(self):
        plan = self.params["subnets"]
        vpc = self.find_vpc()
        vpc_id = self.ensure_vpc(vpc)
        zones = [row["availability_zone"] for row in plan]
        if vpc is not None:
            self.read_children(vpc_id)
            self.ensure_address_tags()
        else:
            # Elastic IPs live outside the VPC: one an interrupted run allocated is reused.
            self.found["addresses"] = self.find_addresses()
        public_ids = [
            self.ensure_subnet(vpc_id, row["availability_zone"], row["public_cidr"], "public") for row in plan
        ]
        private_ids = [
            self.ensure_subnet(vpc_id, row["availability_zone"], row["private_cidr"], "private") for row in plan
        ]
        gateway_id = self.ensure_internet_gateway(vpc_id)
        nats = [self.ensure_nat_gateway(zone, public_ids[index]) for index, zone in enumerate(self.nat_zones())]
        self.wait_for_nat_gateways([nat_id for nat_id, _ip, pending in nats if pending])
        public = [(f"{self.name}-public-{zone}", subnet_id) for zone, subnet_id in zip(zones, public_ids, strict=True)]
        private = [
            (f"{self.name}-private-{zone}", subnet_id) for zone, subnet_id in zip(zones, private_ids, strict=True)
        ]
        public_table = self.ensure_route_table(
            vpc_id, f"{self.name}-public", {"GatewayId": gateway_id}, public, f"internet gateway {self.name}"
        )
        private_tables = []
        for index, (nat_id, _ip, _pending) in enumerate(nats):
            served = [pair for position, pair in enumerate(private) if min(position, len(nats) - 1) == index]
            name = f"{self.name}-private-{zones[index]}"
            target_name = f"nat gateway {self.name}-{zones[index]}"
            private_tables.append(self.ensure_route_table(vpc_id, name, {"NatGatewayId": nat_id}, served, target_name))
        return self.changes.result(
            vpc_id=vpc_id,
            vpc_cidr=self.params["cidr_block"],
            availability_zones=zones,
            public_subnet_ids=public_ids,
            private_subnet_ids=private_ids,
            internet_gateway_id=gateway_id,
            nat_gateway_ids=[nat_id for nat_id, _ip, _pending in nats],
            nat_public_ips=[ip for _nat_id, ip, _pending in nats],
            public_route_table_id=public_table,
            private_route_table_ids=private_tables,
        )

    def ensure_absent(self):
        if self.params["confirm_delete"] != self.name:
            self.module.fail_json(
                msg=f"Refusing to delete network {self.name}: set confirm_delete to {self.name!r} to confirm."
            )
        vpc = self.find_vpc()
        if vpc is None:
            return self.changes.result(vpc_id=None)
        vpc_id = vpc["VpcId"]
        self.read_children(vpc_id)
        self.delete_route_tables()
        self.delete_nat_gateways()
        for address in self.found["addresses"]:
            self.changes.delete(
                f"elastic ip {name_tag(address)}",
                self.ec2,
                "ec2",
                "release_address",
                AllocationId=address["AllocationId"],
            )
        for gateway in self.found["internet_gateways"]:
            gateway_id = gateway["InternetGatewayId"]
            label = f"internet gateway {gateway_id}"
            self.changes.delete(
                label, self.ec2, "ec2", "detach_internet_gateway", InternetGatewayId=gateway_id, VpcId=vpc_id
            )
            if not self.module.check_mode:
                self.call("delete_internet_gateway", InternetGatewayId=gateway_id)
        for subnet in self.found["subnets"]:
            label = f"subnet {name_tag(subnet) or subnet['SubnetId']}"
            self.changes.delete(label, self.ec2, "ec2", "delete_subnet", SubnetId=subnet["SubnetId"])
        self.changes.delete(f"vpc {self.name}", self.ec2, "ec2", "delete_vpc", VpcId=vpc_id)
        self.changes.note(f"vpc {self.name}", {"vpc_id": vpc_id, "cidr_block": vpc["CidrBlock"]}, None)
        return self.changes.result(vpc_id=vpc_id)

    def delete_route_tables(self):
        for table in self.found["route_tables"]:
            if any(association.get("Main") for association in table.get("Associations", [])):
                continue
            label = f"route table {name_tag(table) or table['RouteTableId']}"
            if not self.module.check_mode:
                for association in table.get("Associations", []):
                    self.call("disassociate_route_table", AssociationId=association["RouteTableAssociationId"])
            self.changes.delete(label, self.ec2, "ec2", "delete_route_table", RouteTableId=table["RouteTableId"])

    def delete_nat_gateways(self):
        nat_ids = [nat["NatGatewayId"] for nat in self.found["nat_gateways"]]
        for nat in self.found["nat_gateways"]:
            label = f"nat gateway {name_tag(nat) or nat['NatGatewayId']}"
            self.changes.delete(label, self.ec2, "ec2", "delete_nat_gateway", NatGatewayId=nat["NatGatewayId"])
        if nat_ids and not self.module.check_mode:
            # Their Elastic IPs and network interfaces are released only once they are deleted.
            self.wait("nat_gateway_deleted", NAT_POLL_SECONDS, NatGatewayIds=nat_ids)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        cidr_block=dict(type="str"),
        subnets=dict(
            type="list",
            elements="dict",
            options=dict(
                availability_zone=dict(type="str", required=True),
                public_cidr=dict(type="str", required=True),
                private_cidr=dict(type="str", required=True),
            ),
        ),
        nat_per_az=dict(type="bool", default=False),
        dns_support=dict(type="bool"),
        dns_hostnames=dict(type="bool"),
        map_public_ip_on_launch=dict(type="bool"),
        tags=dict(type="dict"),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
        confirm_delete=dict(type="str"),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["cidr_block", "subnets"])],
        supports_check_mode=True,
    )
    if module.params["state"] == "present" and not module.params["subnets"]:
        module.fail_json(msg="subnets must name at least one availability zone")
    run_manager(module, NetworkManager(module))


if __name__ == "__main__":
    main()
