# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Route 53's data plane for the recording emulator: a DNS server over moto's hosted zones, and health checks.

`DnsServer` answers UDP DNS queries (dnspython) from the records of moto's in-process Route 53
backend, read at query time, so a change made through the API is answered at once (Route 53
propagates a change to its name servers within about a minute; ``GetChange`` says INSYNC).

What it answers, after Route 53 (Developer Guide: "Choosing a routing policy", "Failover
routing", "How Amazon Route 53 determines whether a health check is healthy"; API reference:
ResourceRecordSet ``Failover`` and ``HealthCheckId``, AliasTarget ``EvaluateTargetHealth``,
HealthCheckConfig ``Disabled`` and ``Inverted``):

* A name in no hosted zone: REFUSED (an authoritative server that is not authoritative for it).
  Private hosted zones are answered too, after a public zone of the same name (Route 53 answers
  them only to queries from their VPCs).
  A name in a zone without records: NXDOMAIN, or NOERROR with no answer when names below it
  exist; the zone's SOA in the authority section. The answer has the AA flag.
* Simple records (A, AAAA, CNAME, TXT, MX, NS, SOA, SRV, CAA, PTR, SPF, NAPTR, DS) with their
  values and TTL. A CNAME is followed while its target is in a hosted zone (as an
  authoritative server chases in-zone targets).
* Alias records: Route 53 answers an alias with the target's own records under the alias's
  name (an ALB's addresses, a CloudFront distribution's...). The emulator's AWS targets have no
  addresses, so an alias is answered as a CNAME to ``AliasTarget.DNSName`` (TTL 60), followed
  like a CNAME when that name is in a hosted zone.
* Failover routing: the PRIMARY while it is healthy; else the SECONDARY while it is healthy;
  when the SECONDARY is unhealthy too, the PRIMARY. A record is healthy when its health check
  (``HealthCheckId``) is and, for an alias with ``EvaluateTargetHealth``, when its target is
  (below); a record with neither counts as healthy.
* Other routing policies with ``SetIdentifier`` (weighted, latency, geolocation, multivalue):
  Route 53 picks among the healthy records (all of them when none is healthy) by weight,
  latency or location; the emulator answers every healthy one (a CNAME or alias: the first
  by weight).
* Health is evaluated, not faked. An endpoint health check (HTTP, HTTPS, TCP, ..._STR_MATCH)
  is unhealthy while the region of its endpoint is in the profile's ``outage_regions``: the
  region read from ``FullyQualifiedDomainName`` (``abc.execute-api.us-east-1.amazonaws.com``,
  ``x.us-east-1.elb.amazonaws.com``, ``...eu-west-1.rds.amazonaws.com``), or, when that name
  has none, from the names its CNAME and alias records lead to in the hosted zones. A check
  of an IP address only, and CLOUDWATCH_METRIC and RECOVERY_CONTROL checks, are healthy (the
  emulator cannot place them). CALCULATED: healthy while at least ``HealthThreshold``
  children are. ``Inverted`` inverts; ``Disabled`` is always healthy (Route 53 stops checking
  and considers it healthy). ``EvaluateTargetHealth`` is evaluated like an endpoint check of
  the alias's target (Route 53 asks the target: for an ALB or NLB, whether every target group
  with targets has a healthy one; the emulator only asks whether its region is out).
* ``GetHealthCheckStatus`` (moto answers every check "Success") answers, from the same
  evaluation, one observation per checker region (the check's ``Regions`` or Route 53's
  default eight), each ``Success: ...`` or ``Failure: ...``; the checkers' IP addresses are
  the emulator's own.
"""

import contextlib
import logging
import re
import socket
import threading
from datetime import UTC, datetime

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype

LOG = logging.getLogger(__name__)
MAX_DEPTH = 8  # CNAME / alias hops (and nested health evaluations) followed per answer
ALIAS_TTL = 60
REGION_IN_NAME = re.compile(r"(?:^|[.-])((?:us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso|us-isob)-[a-z]+-\d+)(?=[.-]|$)")
CHECKER_REGIONS = (  # Route 53's health checker regions when a check names none
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
)
UNPLACED_CHECKS = ("CLOUDWATCH_METRIC", "RECOVERY_CONTROL")
SUCCESS = "Success: HTTP Status Code 200, OK"
FAILURE = (
    "Failure: Connection timed out. The endpoint or the internet connection is down, "
    "or requests are being blocked by your firewall."
)


def _norm(name):
    """A DNS name for comparison: lower case, no trailing dot, Route 53's escaped wildcard as ``*``."""
    return (name or "").replace("\\052", "*").rstrip(".").lower()


def region_in(name):
    """The AWS region a DNS name carries (``x.us-east-1.elb.amazonaws.com`` -> us-east-1), or None."""
    match = REGION_IN_NAME.search(_norm(name))
    return match.group(1) if match else None


def _values(rrset):
    """A record set's values as text (moto keeps the SOA it creates as {"Value": ...} items)."""
    return [value.get("Value", "") if isinstance(value, dict) else str(value) for value in rrset.records or ()]


def _true(value):
    return value is True or str(value).lower() == "true"


class Route53Data:
    """Hosted zones, records and health checks of moto's Route 53 backend, read at each call."""

    def __init__(self, get_profile):
        self.get_profile = get_profile

    # --- moto's state ----------------------------------------------------------------------------

    @staticmethod
    def _backends():
        from moto.route53.models import route53_backends

        for account in list(route53_backends.keys()):
            yield route53_backends[account]["aws"]

    def zones(self):
        return [zone for backend in self._backends() for zone in list(backend.zones.values())]

    def health_check(self, identifier):
        for backend in self._backends():
            check = backend.health_checks.get(identifier)
            if check is not None:
                return check
        return None

    def zone_for(self, name):
        """The hosted zone with the longest name that contains `name` (public before private), or None."""
        name = _norm(name)
        found = [zone for zone in self.zones() if name == _norm(zone.name) or name.endswith("." + _norm(zone.name))]
        return max(found, key=lambda zone: (len(_norm(zone.name)), not zone.private_zone), default=None)

    @staticmethod
    def records(zone, name):
        """The zone's record sets named `name` (else those of the closest wildcard ``*.parent``)."""
        name = _norm(name)
        rrsets = list(zone.rrsets)
        exact = [rrset for rrset in rrsets if _norm(rrset.name) == name]
        if exact:
            return exact
        labels = name.split(".")
        for index in range(1, len(labels)):
            wildcard = "*." + ".".join(labels[index:])
            found = [rrset for rrset in rrsets if _norm(rrset.name) == wildcard]
            if found:
                return found
        return []

    # --- health ----------------------------------------------------------------------------------

    def outage(self):
        return set((self.get_profile() or {}).get("outage_regions") or ())

    def check_healthy(self, identifier, depth=0):
        """Whether Route 53 considers the health check healthy now (an unknown id: unhealthy)."""
        check = self.health_check(identifier)
        if check is None:
            return False
        if check.disabled:
            return True
        kind = (check.type_ or "").upper()
        if kind == "CALCULATED":
            children = getattr(check, "children", None) or []
            threshold = int(check.health_threshold or 0)
            healthy = sum(self.check_healthy(child, depth + 1) for child in children if depth < MAX_DEPTH)
            result = healthy >= threshold
        elif kind in UNPLACED_CHECKS or not check.fqdn:
            result = True
        else:
            result = self.name_healthy(check.fqdn, depth)
        return result != bool(check.inverted)

    def name_healthy(self, name, depth=0):
        """An endpoint is healthy unless the region it is in is out."""
        region = self.region_along(name, depth)
        return region is None or region not in self.outage()

    def region_along(self, name, depth=0):
        """The first region named by `name` or by the names its CNAME / alias records lead to."""
        names = [name]
        if depth < MAX_DEPTH and self.zone_for(name) is not None:
            chain = []
            self._answer(name, "A", chain, depth + 1)
            names += [value for _, kind, _, value in chain if kind == "CNAME"]
        return next((region for region in map(region_in, names) if region), None)

    def record_healthy(self, rrset, depth=0):
        if rrset.health_check_id and not self.check_healthy(rrset.health_check_id, depth + 1):
            return False
        alias = rrset.alias_target or {}
        if alias and _true(alias.get("EvaluateTargetHealth")):
            return self.name_healthy(alias.get("DNSName", ""), depth + 1)
        return True

    def select(self, rrsets, depth=0):
        """The record sets Route 53 answers with, among those of one name and type."""
        failover = {(rrset.failover or "").upper(): rrset for rrset in rrsets if rrset.failover}
        if failover:
            primary, secondary = failover.get("PRIMARY"), failover.get("SECONDARY")
            if primary is not None and self.record_healthy(primary, depth):
                return [primary]
            if secondary is not None and self.record_healthy(secondary, depth):
                return [secondary]
            return [primary or secondary]
        if not any(rrset.set_identifier for rrset in rrsets):
            return rrsets
        healthy = [rrset for rrset in rrsets if self.record_healthy(rrset, depth)] or rrsets
        weighted = [rrset for rrset in healthy if rrset.weight is None or int(rrset.weight) > 0] or healthy
        return sorted(weighted, key=lambda rrset: -int(rrset.weight or 0))

    # --- answers -----------------------------------------------------------------------------------

    def answer(self, qname, qtype):
        """(rcode, answers, authority): answers and authority as [(name, type, ttl, value)]."""
        zone = self.zone_for(qname)
        if zone is None:
            return dns.rcode.REFUSED, [], []
        answers = []
        if self.records(zone, qname):
            self._answer(qname, qtype, answers, 0)
            if answers:
                return dns.rcode.NOERROR, answers, []
            rcode = dns.rcode.NOERROR
        else:
            below = "." + _norm(qname)
            rcode = dns.rcode.NOERROR if any(_norm(r.name).endswith(below) for r in zone.rrsets) else dns.rcode.NXDOMAIN
        soa = [rrset for rrset in self.records(zone, zone.name) if rrset.type == "SOA"]
        authority = [(_norm(zone.name), "SOA", int(soa[0].ttl or 900), _values(soa[0])[0])] if soa else []
        return rcode, [], authority

    def _answer(self, name, qtype, out, depth):
        """Append the answer records for (name, qtype) to `out`, following CNAMEs and aliases in the zones."""
        zone = self.zone_for(name)
        if zone is None or depth > MAX_DEPTH:
            return
        rrsets = self.records(zone, name)
        owner = _norm(name)
        wanted = [rrset for rrset in rrsets if rrset.type == qtype] if qtype != "CNAME" else []
        if wanted:
            for rrset in self.select(wanted, depth):
                if rrset.alias_target:
                    self._alias(owner, rrset, qtype, out, depth)
                    return
                out.extend((owner, qtype, int(rrset.ttl or 300), value) for value in _values(rrset))
            return
        cnames = [rrset for rrset in rrsets if rrset.type == "CNAME"]
        if cnames:
            rrset = self.select(cnames, depth)[0]
            if rrset.alias_target:
                self._alias(owner, rrset, qtype, out, depth)
                return
            target = _norm(_values(rrset)[0])
            out.append((owner, "CNAME", int(rrset.ttl or 300), target))
            if qtype != "CNAME":
                self._answer(target, qtype, out, depth + 1)

    def _alias(self, owner, rrset, qtype, out, depth):
        target = _norm(rrset.alias_target.get("DNSName", ""))
        out.append((owner, "CNAME", ALIAS_TTL, target))
        if qtype != "CNAME":
            self._answer(target, qtype, out, depth + 1)

    # --- GetHealthCheckStatus ----------------------------------------------------------------------

    def observations(self, identifier):
        check = self.health_check(identifier)
        healthy = self.check_healthy(identifier)
        regions = getattr(check, "regions", None) or CHECKER_REGIONS
        checked = datetime.now(UTC)
        return [
            {
                "Region": region,
                "IPAddress": f"15.177.{index * 8}.10",
                "StatusReport": {"Status": SUCCESS if healthy else FAILURE, "CheckedTime": checked},
            }
            for index, region in enumerate(regions)
        ]


def install_health_check_status(data):
    """Route 53's GetHealthCheckStatus answered from `data`'s evaluation (replaces moto's constant Success)."""
    from moto.core.responses import ActionResult
    from moto.route53.responses import Route53

    def get_health_check_status(response):
        identifier = response._get_param("HealthCheckId")
        response.backend.get_health_check(identifier)  # NoSuchHealthCheck, as moto answers it
        return ActionResult({"HealthCheckObservations": data.observations(identifier)})

    Route53.get_health_check_status = get_health_check_status


class DnsServer:
    """A UDP DNS server on host:port (0: a free port) answering from a Route53Data, in a thread of its own."""

    def __init__(self, data, host="127.0.0.1", port=0):
        self.data = data
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind((host, port))
        self.port = self.socket.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, name="route53-dns", daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        with contextlib.suppress(OSError):
            self.socket.close()

    def _serve(self):
        while True:
            try:
                wire, peer = self.socket.recvfrom(4096)
            except OSError:
                return
            try:
                answer = self.handle(wire)
            except Exception:  # noqa: BLE001 - one bad answer must not stop the server
                LOG.exception("could not answer a DNS query")
                continue
            if answer is not None:
                with contextlib.suppress(OSError):
                    self.socket.sendto(answer, peer)

    def handle(self, wire):
        """The answer to one query (wire format), or None for what is no DNS message."""
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # noqa: BLE001 - not a DNS message: no answer, as a server drops garbage
            return None
        response = dns.message.make_response(query)
        if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
            response.set_rcode(dns.rcode.NOTIMP if query.opcode() != dns.opcode.QUERY else dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        try:
            rcode, answers, authority = self.data.answer(
                question.name.to_text(), dns.rdatatype.to_text(question.rdtype)
            )
            response.set_rcode(rcode)
            if rcode != dns.rcode.REFUSED:
                response.flags |= dns.flags.AA
            for section, records in ((response.answer, answers), (response.authority, authority)):
                for name, kind, ttl, value in records:
                    rdtype = dns.rdatatype.from_text(kind)
                    text = value if kind not in ("CNAME", "NS", "PTR") or value.endswith(".") else value + "."
                    rdata = dns.rdata.from_text(dns.rdataclass.IN, rdtype, text)
                    owner = dns.name.from_text(name)
                    response.find_rrset(section, owner, dns.rdataclass.IN, rdtype, create=True).add(rdata, ttl)
        except Exception:  # noqa: BLE001 - a record moto keeps that is no valid DNS data: SERVFAIL, as a server
            LOG.exception("could not answer %s %s", question.name, dns.rdatatype.to_text(question.rdtype))
            response = dns.message.make_response(query)
            response.set_rcode(dns.rcode.SERVFAIL)
        return response.to_wire()


def start(get_profile, host="127.0.0.1", port=0):
    """Serve Route 53's data plane for the emulator process: the DNS server, and GetHealthCheckStatus."""
    data = Route53Data(get_profile)
    install_health_check_status(data)
    return DnsServer(data, host, port).start()
