"""A DNS-validated ACM certificate in a Route 53 zone, and the zone's alias to a load balancer.

ACM guide, "DNS validation": ACM names a CNAME record that proves control of the domain; with
the record in the domain's Route 53 zone the certificate is issued and renewed automatically.
pulumi-aws `aws.acm.CertificateValidation` waits until ACM has issued it ("DNS Validation with
Route 53" example), so the HTTPS listener never gets a pending certificate.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def validated_certificate(parent: pulumi.Resource, name: str, domain_name: str,
                          hosted_zone_id: str) -> pulumi.Output[str]:
    """The ARN of an issued certificate for `domain_name` (one name: one validation record)."""
    certificate = aws.acm.Certificate(
        f"{name}-certificate", domain_name=domain_name, validation_method="DNS",
        opts=pulumi.ResourceOptions(parent=parent))
    option = certificate.domain_validation_options[0]
    record = aws.route53.Record(
        f"{name}-certificate-validation-record", zone_id=hosted_zone_id,
        name=option.resource_record_name, type=option.resource_record_type,
        records=[option.resource_record_value], ttl=60,
        # ACM reuses the same record for a renewal or a re-issued certificate.
        allow_overwrite=True, opts=pulumi.ResourceOptions(parent=parent))
    validation = aws.acm.CertificateValidation(
        f"{name}-certificate-validation", certificate_arn=certificate.arn,
        validation_record_fqdns=[record.fqdn], opts=pulumi.ResourceOptions(parent=parent))
    return validation.certificate_arn


def alias_to_load_balancer(parent: pulumi.Resource, name: str, domain_name: str,
                           hosted_zone_id: str, load_balancer: aws.lb.LoadBalancer,
                           ) -> aws.route53.Record:
    """`domain_name` A-alias to the load balancer (Route 53 guide, "Routing traffic to an ELB
    load balancer": an alias record, no charge for its queries)."""
    return aws.route53.Record(
        f"{name}-alias", zone_id=hosted_zone_id, name=domain_name, type="A",
        aliases=[aws.route53.RecordAliasArgs(
            name=load_balancer.dns_name, zone_id=load_balancer.zone_id,
            evaluate_target_health=True)],
        opts=pulumi.ResourceOptions(parent=parent))
