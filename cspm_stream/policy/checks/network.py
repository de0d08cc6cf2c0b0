"""Network checks: port ranges, security groups and network ACLs open to the world.

CIDR helpers live here too: :func:`is_world` and :func:`is_public`.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from cspm_stream.policy.checks.base import Arg, Check, Compiled, register
from cspm_stream.policy.checks.statements import as_list
from cspm_stream.policy.operators import network
from cspm_stream.policy.paths import MISSING, compile_path

_ALL_PROTOCOLS = frozenset({"-1", "all"})
_PORT_PROTOCOLS = frozenset({"tcp", "udp", "6", "17"})


def is_world(cidr: Any) -> bool:
    """0.0.0.0/0 or ::/0 (any spelling ipaddress accepts)."""
    if not isinstance(cidr, str):
        return False
    n = network(cidr)
    return n is not None and n.prefixlen == 0


def is_public(cidr: Any) -> bool:
    """The network reaches addresses outside the private/reserved ranges."""
    if not isinstance(cidr, str):
        return False
    n = network(cidr)
    return n is not None and not n.is_private


def _port(v: Any) -> int | None:
    return v if type(v) is int else None


_PROTO_ALIASES = {"tcp": frozenset({"tcp", "6"}), "udp": frozenset({"udp", "17"})}


def protocol_set(names: list[str]) -> frozenset[str]:
    """``["tcp"]`` → {"tcp", "6"}; empty → tcp and udp."""
    out: set[str] = set()
    for n in names or ["tcp", "udp"]:
        out |= _PROTO_ALIASES.get(n.lower(), frozenset({n.lower()}))
    return frozenset(out)


def range_includes(
    protocol: Any, from_port: Any, to_port: Any, ports: list[int], protocols: frozenset[str] = _PORT_PROTOCOLS
) -> bool:
    """Does a rule with this protocol and range open any of ``ports`` (empty = any)?
    Only ``protocols`` (default tcp and udp) have ports; -1 (all traffic) always counts."""
    proto = str(protocol).lower() if protocol is not None else "-1"
    if proto in _ALL_PROTOCOLS:
        return True
    if proto not in _PORT_PROTOCOLS:
        return not ports  # icmp & co: no ports; counts only for "any port"
    if proto not in protocols:
        return False
    lo, hi = _port(from_port), _port(to_port)
    if lo is None or hi is None or (lo == -1 and hi == -1):
        lo, hi = 0, 65535
    if not ports:
        return True
    return any(lo <= p <= hi for p in ports)


def opens_all_ports(protocol: Any, from_port: Any, to_port: Any) -> bool:
    proto = str(protocol).lower() if protocol is not None else "-1"
    if proto in _ALL_PROTOCOLS:
        return True
    lo, hi = _port(from_port), _port(to_port)
    return proto in _PORT_PROTOCOLS and (lo in (None, 0, -1)) and (hi in (None, 65535, -1))


def sg_rule_open_to_world(
    rule: Any, ports: list[int], all_ports: bool, ipv6: bool, protocols: frozenset[str] = _PORT_PROTOCOLS
) -> bool:
    if not isinstance(rule, dict):
        return False
    world = any(isinstance(r, dict) and is_world(r.get("CidrIp")) for r in as_list(rule.get("IpRanges")))
    if not world and ipv6:
        world = any(isinstance(r, dict) and is_world(r.get("CidrIpv6")) for r in as_list(rule.get("Ipv6Ranges")))
    if not world:
        return False
    proto, lo, hi = rule.get("IpProtocol"), rule.get("FromPort"), rule.get("ToPort")
    if all_ports:
        return opens_all_ports(proto, lo, hi)
    return range_includes(proto, lo, hi, ports, protocols)


#: what is not the internet, added to a rule set's ranges before asking whether they cover every address:
#: IPv4 private, shared, loopback, link-local, "this network", multicast and reserved; IPv6 everything
#: outside global unicast 2000::/3
_NOT_INTERNET: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...], ...] = (
    tuple(
        ipaddress.IPv4Network(c)
        for c in (
            "0.0.0.0/8",
            "10.0.0.0/8",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "224.0.0.0/4",
            "240.0.0.0/4",
        )
    ),
    tuple(ipaddress.IPv6Network(c) for c in ("::/3", "4000::/2", "8000::/1")),
)


def covers_internet(cidrs: list[Any]) -> bool:
    """Do these CIDRs together admit every internet address of one family (IPv4 or IPv6)?

    ``0.0.0.0/1`` + ``128.0.0.0/1`` does, as do public ranges that leave out only private space.
    """
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for c in cidrs:
        n = network(c) if isinstance(c, str) else None
        if isinstance(n, ipaddress.IPv4Network):
            v4.append(n)
        elif isinstance(n, ipaddress.IPv6Network):
            v6.append(n)
    for nets, fill in ((v4, _NOT_INTERNET[0]), (v6, _NOT_INTERNET[1])):
        if nets and any(m.prefixlen == 0 for m in ipaddress.collapse_addresses([*nets, *fill])):  # type: ignore[misc]
            return True
    return False


def sg_port_open_by_split_ranges(rules: Any, port: int, protocols: frozenset[str]) -> bool:
    """Rules that admit ``port`` cover the internet only through ranges narrower than /0 (literal
    ``0.0.0.0/0`` / ``::/0`` rules are what the world checks report)."""
    cidrs: list[Any] = []
    for r in as_list(rules):
        if not isinstance(r, dict) or not range_includes(
            r.get("IpProtocol"), r.get("FromPort"), r.get("ToPort"), [port], protocols
        ):
            continue
        for key, field in (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6")):
            for x in as_list(r.get(key)):
                if isinstance(x, dict):
                    c = x.get(field)
                    if is_world(c):
                        return False
                    cidrs.append(c)
    return covers_internet(cidrs)


def _build_sg_split(args: dict[str, Any]) -> Compiled:
    path = compile_path(args["path"])
    get = path.get
    ports: list[int] = args["ports"]
    protocols = protocol_set(args["protocols"])

    def pred(doc: Any, ctx: Any) -> bool:
        rules = get(doc, ctx)
        if type(rules) is not list:
            return False
        return any(sg_port_open_by_split_ranges(rules, p, protocols) for p in ports)

    return Compiled(pred, (path,))


def _build_sg(args: dict[str, Any]) -> Compiled:
    path = compile_path(args["path"])
    get = path.get
    ports, all_ports, ipv6 = args["ports"], args["all_ports"], args["ipv6"]
    protocols = protocol_set(args["protocols"])

    def pred(doc: Any, ctx: Any) -> bool:
        rules = get(doc, ctx)
        if type(rules) is not list:
            return False
        for r in rules:
            if sg_rule_open_to_world(r, ports, all_ports, ipv6, protocols):
                return True
        return False

    return Compiled(pred, (path,))


def _build_port_range(args: dict[str, Any]) -> Compiled:
    protocols = protocol_set(args["protocols"])
    fp, tp, pp = (
        compile_path(args["from_path"]),
        compile_path(args["to_path"]),
        compile_path(args["protocol_path"]),
    )
    ports: list[int] = args["ports"]

    def pred(doc: Any, ctx: Any) -> bool:
        proto = pp.get(doc, ctx)
        lo, hi = fp.get(doc, ctx), tp.get(doc, ctx)
        if proto is MISSING:
            return False
        return range_includes(proto, None if lo is MISSING else lo, None if hi is MISSING else hi, ports, protocols)

    return Compiled(pred, (fp, tp, pp))


def _nacl_families(entries: Any) -> list[list[dict[str, Any]]]:
    """Ingress entries from the world, in rule order, one list per address family: an IPv4 packet is matched
    by the IPv4 entries only (CidrBlock), an IPv6 packet by the IPv6 ones (Ipv6CidrBlock)."""
    if type(entries) is not list:
        return []
    ingress = sorted(
        (e for e in entries if isinstance(e, dict) and not e.get("Egress", False)),
        key=lambda e: e.get("RuleNumber", 32767) if type(e.get("RuleNumber")) is int else 32767,
    )
    return [[e for e in ingress if is_world(e.get(field))] for field in ("CidrBlock", "Ipv6CidrBlock")]


def _allows(e: dict[str, Any]) -> bool:
    return str(e.get("RuleAction", "")).lower() == "allow"


def nacl_open_to_world(entries: Any, ports: list[int]) -> bool:
    """An ingress NACL lets the world in on any of ``ports`` (empty = any), honouring
    rule order per address family: the lowest-numbered world rule covering a port decides for it."""
    probe = ports or [22, 3389, 80, 443, 0, 65535]

    def covers(e: dict[str, Any], p: int) -> bool:
        rng = e.get("PortRange") if isinstance(e.get("PortRange"), dict) else {}
        assert isinstance(rng, dict)
        return range_includes(e.get("Protocol"), rng.get("From"), rng.get("To"), [p])

    for world in _nacl_families(entries):
        for p in probe:
            for e in world:
                if covers(e, p):
                    if _allows(e):
                        return True
                    break
    return False


def nacl_allows_all_traffic(entries: Any) -> bool:
    """An ingress NACL allows all traffic (protocol -1) from the world: in one address family, the
    lowest-numbered world rule for all traffic is an allow (a deny-all numbered before it blocks it)."""
    for world in _nacl_families(entries):
        for e in world:
            if str(e.get("Protocol", "")).lower() in _ALL_PROTOCOLS:
                if _allows(e):
                    return True
                break
    return False


def _build_nacl(args: dict[str, Any]) -> Compiled:
    path = compile_path(args["path"])
    get = path.get
    ports = args["ports"]
    return Compiled(lambda doc, ctx: nacl_open_to_world(get(doc, ctx), ports), (path,))


def _build_nacl_all(args: dict[str, Any]) -> Compiled:
    path = compile_path(args["path"])
    get = path.get
    return Compiled(lambda doc, ctx: nacl_allows_all_traffic(get(doc, ctx)), (path,))


def _build_cidr_public(args: dict[str, Any]) -> Compiled:
    path = compile_path(args["path"])
    get, proj = path.get, path.projection
    test = is_world if args["world_only"] else is_public

    def pred(doc: Any, ctx: Any) -> bool:
        v = get(doc, ctx)
        if proj and isinstance(v, list):
            return any(test(x) for x in v)
        return test(v)

    return Compiled(pred, (path,))


register(
    Check(
        name="sg_open_to_world",
        doc="Some security group rule at `path` admits 0.0.0.0/0 (or ::/0) on any of `ports` "
        "(empty: any port; `all_ports`: only rules opening every port). Protocol -1 opens every port.",
        args={
            "path": Arg("path", "IpPermissions", doc="path to the list of rules"),
            "ports": Arg("ports", [], doc="ports to test (empty: any)"),
            "all_ports": Arg("boolean", False, doc="only rules opening every port count"),
            "ipv6": Arg("boolean", True, doc="also test Ipv6Ranges for ::/0"),
            "protocols": Arg("strings", [], doc="port protocols that count, e.g. [tcp] (default tcp and udp)"),
        },
        build=_build_sg,
    )
)
register(
    Check(
        name="sg_open_to_internet_by_split_ranges",
        doc="The rules at `path` admitting one of `ports` together cover every internet address of a family "
        "(e.g. 0.0.0.0/1 + 128.0.0.0/1, or every public range) without a literal 0.0.0.0/0 or ::/0 rule.",
        args={
            "path": Arg("path", "IpPermissions", doc="path to the list of rules"),
            "ports": Arg("ports", required=True, doc="ports to test"),
            "protocols": Arg("strings", [], doc="port protocols that count, e.g. [tcp] (default tcp and udp)"),
        },
        build=_build_sg_split,
    )
)
register(
    Check(
        name="port_range_includes",
        doc="The rule (use inside `where`) covers any of `ports` by protocol and port range; "
        "protocol -1 covers all, icmp none.",
        args={
            "ports": Arg("ports", required=True, doc="ports to test"),
            "from_path": Arg("path", "FromPort", doc="path of the range start"),
            "to_path": Arg("path", "ToPort", doc="path of the range end"),
            "protocol_path": Arg("path", "IpProtocol", doc="path of the protocol"),
            "protocols": Arg("strings", [], doc="port protocols that count, e.g. [tcp] (default tcp and udp)"),
        },
        build=_build_port_range,
    )
)
register(
    Check(
        name="nacl_open_to_world",
        doc="A network ACL's ingress entries at `path` allow 0.0.0.0/0 or ::/0 on any of `ports` "
        "(empty: any), honouring rule order.",
        args={
            "path": Arg("path", "Entries", doc="path to the NACL entries"),
            "ports": Arg("ports", [], doc="ports to test (empty: any)"),
        },
        build=_build_nacl,
    )
)
register(
    Check(
        name="nacl_allows_all_traffic",
        doc="A network ACL's ingress entries at `path` allow all traffic (protocol -1) from 0.0.0.0/0 or ::/0: "
        "the lowest-numbered all-traffic world rule of an address family is an allow.",
        args={"path": Arg("path", "Entries", doc="path to the NACL entries")},
        build=_build_nacl_all,
    )
)
register(
    Check(
        name="cidr_is_public",
        doc="The CIDR (or any CIDR of a projection) at `path` reaches public addresses (`world_only`: only /0 counts).",
        args={
            "path": Arg("path", required=True, doc="path to a CIDR string or a projection of them"),
            "world_only": Arg("boolean", False, doc="only 0.0.0.0/0 and ::/0 count"),
        },
        build=_build_cidr_public,
    )
)
