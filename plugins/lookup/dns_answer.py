# -*- coding: utf-8 -*-

# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: dns_answer
author:
  - the reelle infrastructure authors (@reelle)
short_description: The values of the answer section of a DNS query
description:
  - Asks a DNS server for records of the given names and returns the values of the answer section, in the
    order the server answered them, for every name in turn. A CNAME (or an alias the server answers as a
    CNAME) comes back as its target, without the trailing dot, followed by the records the server added
    for that target.
  - Without O(resolver) the system's resolver (C(/etc/resolv.conf)) is asked; on AWS that reaches Route 53's
    data plane, which answers failover records by the health of their health checks. Against the local AWS
    emulator, set O(resolver) to the emulator's DNS server (the environment variable C(REELLE_DNS_RESOLVER)
    that the emulator's scripts export).
  - A name that does not exist (NXDOMAIN), a server that does not answer in time, or one that refuses or
    fails the query is an error naming the name, the record type and the server. A name that exists without
    records of that type gives an empty list.
options:
  _terms:
    description: The names to ask for.
    required: true
    type: list
    elements: str
  qtype:
    description: The record type to ask for (V(A), V(AAAA), V(CNAME), V(TXT), V(MX), ...).
    type: str
    default: A
  resolver:
    description:
      - The DNS server to ask, as V(host) (port 53), V(host:port) or V([IPv6 address]:port).
      - Unset or empty - the system's resolver.
    type: str
  timeout:
    description: Seconds to wait for an answer before failing.
    type: float
    default: 5.0
requirements:
  - dnspython
notes:
  - The names are absolute (no search domain is appended).
"""

EXAMPLES = r"""
- name: Where api.example.com points now
  ansible.builtin.debug:
    msg: "{{ lookup('reelle.infra.dns_answer', 'api.example.com', qtype='A', resolver='127.0.0.1:5353') }}"

# The DR drill: the emulator's DNS server when the emulator's scripts set REELLE_DNS_RESOLVER,
# the system's resolver (Route 53 on AWS) otherwise.
- name: The record Route 53 answers for the API
  vars:
    dr_resolver: "{{ lookup('ansible.builtin.env', 'REELLE_DNS_RESOLVER') }}"
  ansible.builtin.set_fact:
    dr_api_answer: "{{ query('reelle.infra.dns_answer', 'api.example.com', resolver=dr_resolver) }}"
"""

RETURN = r"""
_raw:
  description:
    - The values of the answer section, for every name in turn - addresses for A and AAAA, target names
      without the trailing dot for CNAME, NS and PTR, the text for TXT (its strings joined), and the record's
      presentation form otherwise (V(10 mail.example.com.) for MX).
  type: list
  elements: str
"""

# Ansible plugins put DOCUMENTATION, EXAMPLES and RETURN before their imports (validate-modules).
import re  # noqa: E402

from ansible.errors import AnsibleLookupError  # noqa: E402
from ansible.module_utils.basic import missing_required_lib  # noqa: E402
from ansible.plugins.lookup import LookupBase  # noqa: E402

try:
    import dns.exception
    import dns.rdatatype
    import dns.resolver
except ImportError:
    HAS_DNSPYTHON = False
else:
    HAS_DNSPYTHON = True

SERVER = re.compile(r"^(?:\[(?P<ipv6>[^\]]+)\]|(?P<host>[^:]+))(?::(?P<port>\d+))?$")
NAME_TYPES = ("CNAME", "NS", "PTR", "DNAME")


def parse_resolver(value):
    """(address, port) of V(host), V(host:port) or V([IPv6]:port)."""
    match = SERVER.match((value or "").strip())
    if not match:
        raise AnsibleLookupError(f"resolver must be host, host:port or [IPv6]:port, got {value!r}")
    port = int(match.group("port") or 53)
    if not 0 < port < 65536:
        raise AnsibleLookupError(f"resolver port must be 1-65535, got {port}")
    return match.group("ipv6") or match.group("host"), port


def rdata_value(rdata):
    """One answer record as the lookup returns it."""
    kind = dns.rdatatype.to_text(rdata.rdtype)
    if kind in NAME_TYPES:
        return rdata.target.to_text(omit_final_dot=True)
    if kind in ("TXT", "SPF"):
        return "".join(part.decode("utf-8", "replace") for part in rdata.strings)
    return rdata.to_text()


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if not HAS_DNSPYTHON:
            raise AnsibleLookupError(missing_required_lib("dnspython"))
        qtype = self.get_option("qtype").upper()
        try:
            dns.rdatatype.from_text(qtype)
        except dns.rdatatype.UnknownRdatatype:
            raise AnsibleLookupError(f"unknown DNS record type {qtype!r}") from None
        server = self.get_option("resolver")
        resolver = dns.resolver.Resolver(configure=not server)
        if server:
            address, port = parse_resolver(server)
            resolver.nameservers = [address]
            resolver.port = port
        resolver.lifetime = self.get_option("timeout")
        where = server or "the system resolver"
        values = []
        for term in terms:
            values.extend(self._ask(resolver, str(term), qtype, where))
        return values

    def _ask(self, resolver, name, qtype, where):
        try:
            answer = resolver.resolve(name, qtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            raise AnsibleLookupError(f"{name} {qtype}: no such name (NXDOMAIN) at {where}") from None
        except dns.exception.Timeout:
            raise AnsibleLookupError(f"{name} {qtype}: {where} did not answer within {resolver.lifetime}s") from None
        except dns.resolver.NoNameservers as error:
            raise AnsibleLookupError(f"{name} {qtype}: {where} refused or failed the query ({error})") from None
        except dns.exception.DNSException as error:
            raise AnsibleLookupError(f"{name} {qtype}: {error}") from None
        return [rdata_value(rdata) for rrset in answer.response.answer for rdata in rrset]
