"""The bootstrap's one setting, `pools` (region -> IPv4 CIDR), validated before anything runs."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pulumi

REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")


def read_pools(config: pulumi.Config, home_region: str | None) -> dict[str, str]:
    """Every problem at once in one `pulumi.RunError`, or the pools by region."""
    problems: list[str] = []
    if not home_region:
        problems.append("aws:region is not set: the IPAM's home region")
    raw: Any = config.get_object("pools")
    if raw is None:
        raw = {home_region: "10.11.0.0/16"} if home_region else {}
    if not isinstance(raw, dict) or not raw:
        problems.append(f"{config.full_key('pools')} must map regions to IPv4 CIDRs, e.g. "
                        "{\"us-east-1\": \"10.11.0.0/16\"}")
        raw = {}
    networks: dict[str, ipaddress.IPv4Network] = {}
    for region, cidr in raw.items():
        where = f"{config.full_key('pools')}.{region} = {cidr!r}"
        if not REGION.fullmatch(str(region)):
            problems.append(f"{where}: {region!r} is not an AWS region name")
            continue
        try:
            network = ipaddress.ip_network(str(cidr), strict=True)
        except ValueError:
            problems.append(f"{where}: must be an IPv4 CIDR with no host bits set")
            continue
        if not isinstance(network, ipaddress.IPv4Network) or network.prefixlen > 28:
            problems.append(f"{where}: must be an IPv4 CIDR of /28 or larger (a VPC is at "
                            "least /28)")
            continue
        clash = next((r for r, n in networks.items() if n.overlaps(network)), None)
        if clash:
            problems.append(f"{where}: overlaps the pool of {clash} ({networks[clash]}); VPCs of "
                            "different regions must not overlap")
            continue
        networks[region] = network
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise pulumi.RunError(f"Invalid bootstrap configuration ({len(problems)} problem(s)):\n"
                              f"{listed}")
    return {region: str(network) for region, network in networks.items()}
