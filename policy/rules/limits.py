"""The AWS limits the rules check, with their sources (settings/limits.py states the same values
for the stack settings; tests/unit/test_policy_pack.py and tests/unit/test_aws_limits_current.py
keep them equal)."""

# Lambda guide, "Configuring Amazon MSK event sources for Lambda": at most 14 minutes.
MSK_MAPPED_FUNCTION_MAX_TIMEOUT_S = 840
# ELB guide, "Application Load Balancers": subnets of at least a /27.
ALB_MAX_SUBNET_PREFIX = 27
# ELB guide, "Security policies for your Application Load Balancer"
# (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html):
# every TLS 1.3 policy is named ELBSecurityPolicy-TLS13-<minimum version>-..., the hybrid
# post-quantum ones (ML-KEM key exchange) with -PQ- in the name. "Console - The default security
# policy is ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"; "Other methods (for example, the AWS CLI,
# AWS CloudFormation, and the AWS CDK) - The default security policy is ELBSecurityPolicy-2016-08"
# (no TLS 1.3), so the listener names one. The page recommends ...-TLS13-1-2-Res-PQ-2025-09 or
# ...-TLS13-1-2-Res-FIPS-PQ-2025-09 (read in its zh_cn translation; the English excerpt stops
# before that sentence).
TLS13_POLICY_PREFIX = "ELBSecurityPolicy-TLS13-"
# Named in messages: the recommended ones first, then the 2021 ones the stacks may still use.
TLS_POLICIES = (
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
)
# ACM API reference, RequestCertificate: DomainName "cannot exceed 64 octets (characters),
# including periods" (RFC 5280's Common Name).
ACM_DOMAIN_NAME_MAX = 64
# Amazon MSK developer guide, "Amazon MSK quota", "MSK Serverless quota (per cluster unless
# stated)": "Maximum number of partitions (leaders) | 2400 for non-compacted topics; 120 for
# compacted topics" (settings/limits.py says where it was read).
MSK_SERVERLESS_MAX_PARTITIONS = 2400


# The TLS 1.3 policies whose minimum is 1.0 or 1.1 (ELBSecurityPolicy-TLS13-1-0-..., -1-1-...)
# still negotiate those deprecated versions: only a minimum of TLS 1.2 or 1.3 is accepted.
TLS13_MINIMUM_VERSIONS = ("1-2-", "1-3-")


def is_tls13_policy(name: object) -> bool:
    """A predefined ELB policy that negotiates TLS 1.3 and nothing older than TLS 1.2."""
    return isinstance(name, str) and name.startswith(
        tuple(TLS13_POLICY_PREFIX + minimum for minimum in TLS13_MINIMUM_VERSIONS))
