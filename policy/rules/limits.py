"""The AWS limits the rules check, with their sources (settings/limits.py states the same values
for the stack settings; tests/unit/test_policy_pack.py keeps them equal)."""

# Lambda guide, "Configuring Amazon MSK event sources for Lambda": at most 14 minutes.
MSK_MAPPED_FUNCTION_MAX_TIMEOUT_S = 840
# ELB guide, "Application Load Balancers": subnets of at least a /27.
ALB_MAX_SUBNET_PREFIX = 27
# ELB guide, "Security policies for your Application Load Balancer": the TLS 1.3 policies.
TLS_POLICIES = (
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
)
