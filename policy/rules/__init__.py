"""Every rule of the pack, grouped by concern; each module exports POLICIES."""

from . import alarms, compute, encryption, iam, ipam, load_balancer, network

MODULES = (ipam, network, load_balancer, compute, iam, encryption, alarms)
ALL_POLICIES = [policy for module in MODULES for policy in module.POLICIES]
