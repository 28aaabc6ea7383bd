"""HTTPS with a TLS 1.3 policy unless a stack allows plain HTTP; access logs kept safely."""

from __future__ import annotations

from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import PLAIN_HTTP_TAG, as_list, of_type, tags
from .limits import ACM_DOMAIN_NAME_MAX, TLS_POLICIES, is_tls13_policy

LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
CERTIFICATE = "aws:acm/certificate:Certificate"
SSE = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
       "aws:s3/bucketServerSideEncryptionConfigurationV2:"
       "BucketServerSideEncryptionConfigurationV2")
LIFECYCLE = ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
             "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")


def _redirects_to_https(listener) -> bool:
    actions = as_list(listener.props.get("defaultActions"))
    return bool(actions) and all(
        a.get("type") == "redirect" and (a.get("redirect") or {}).get("protocol") == "HTTPS"
        for a in actions)


def _https_unless_plain_http_is_allowed(args: StackValidationArgs,
                                        report: ReportViolation) -> None:
    listeners = of_type(args.resources, LISTENER)
    for lb in of_type(args.resources, LB):
        if lb.props.get("loadBalancerType", "application") != "application":
            continue
        if str(tags(lb.props).get(PLAIN_HTTP_TAG, "")).lower() == "true":
            continue  # the stack says allowPlainHttp explicitly
        own = [x for x in listeners if x.props.get("loadBalancerArn") == lb.props.get("arn")]
        if not any(x.props.get("protocol") == "HTTPS" for x in own):
            report(f"{lb.name}: no HTTPS listener; serve HTTPS (certificateArn or domainName) "
                   f"or tag the load balancer {PLAIN_HTTP_TAG}=true from allowPlainHttp", lb.urn)
        for listener in own:
            if listener.props.get("protocol") == "HTTP" and not _redirects_to_https(listener):
                report(f"{listener.name}: HTTP must redirect to HTTPS", listener.urn)


def _tls13_policy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == LISTENER and args.props.get("protocol") == "HTTPS":
        policy = args.props.get("sslPolicy")
        if not is_tls13_policy(policy):
            report(f"{args.name}: TLS policy {policy!r} is not a TLS 1.3 policy; use an "
                   f"ELBSecurityPolicy-TLS13-* one, e.g. {', '.join(TLS_POLICIES)}")


def _acm_domain_name_fits(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CERTIFICATE:
        return
    name = args.props.get("domainName")
    if isinstance(name, str) and len(name.rstrip(".")) > ACM_DOMAIN_NAME_MAX:
        report(f"{args.name}: certificate domain name of {len(name.rstrip('.'))} characters; "
               f"ACM refuses a DomainName over {ACM_DOMAIN_NAME_MAX} (put longer names in "
               "subjectAlternativeNames)")


def _for_bucket(resources, types: tuple[str, ...], bucket: str):
    return [r for r in of_type(resources, *types) if r.props.get("bucket") == bucket]


def _access_logs_are_encrypted_and_expire(args: StackValidationArgs,
                                          report: ReportViolation) -> None:
    for lb in of_type(args.resources, LB):
        logs = lb.props.get("accessLogs") or {}
        if not logs.get("enabled"):
            continue
        bucket = logs.get("bucket")
        algorithms = {(rule.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm")
                      for sse in _for_bucket(args.resources, SSE, bucket)
                      for rule in as_list(sse.props.get("rules"))}
        if algorithms != {"AES256"}:
            report(f"{lb.name}: access-log bucket {bucket} must declare SSE-S3 (AES256) "
                   "encryption, the only one access logs support", lb.urn)
        expiring = [rule for config in _for_bucket(args.resources, LIFECYCLE, bucket)
                    for rule in as_list(config.props.get("rules"))
                    if rule.get("status") == "Enabled" and (rule.get("expiration") or {}).get(
                        "days")]
        if not expiring:
            report(f"{lb.name}: access-log bucket {bucket} needs an enabled lifecycle rule that "
                   "expires log objects", lb.urn)


POLICIES = [
    StackValidationPolicy(
        name="https-unless-plain-http-allowed",
        description="An ALB serves HTTPS and redirects HTTP to it unless the stack allows plain "
                    "HTTP (ELB guide, 'Create an HTTPS listener for your Application Load "
                    "Balancer').",
        validate=_https_unless_plain_http_is_allowed,
    ),
    ResourceValidationPolicy(
        name="alb-tls13-policy",
        description="HTTPS listeners use a TLS 1.3 security policy, any "
                    "ELBSecurityPolicy-TLS13-* one, the post-quantum -PQ- ones AWS recommends "
                    "included (ELB guide, 'Security "
                    "policies for your Application Load Balancer').",
        validate=_tls13_policy,
    ),
    ResourceValidationPolicy(
        name="acm-domain-name-at-most-64",
        description=f"An ACM certificate's domain name has at most {ACM_DOMAIN_NAME_MAX} "
                    "characters (ACM API Reference, RequestCertificate: DomainName, RFC 5280's "
                    "Common Name).",
        validate=_acm_domain_name_fits,
    ),
    StackValidationPolicy(
        name="alb-access-logs-encrypted-with-lifecycle",
        description="An access-log bucket has SSE-S3 and expires its objects (ELB guide, "
                    "'Enable access logs for your Application Load Balancer': SSE-S3 only).",
        validate=_access_logs_are_encrypted_and_expire,
    ),
]
