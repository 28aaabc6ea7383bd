"""Which inputs force a replacement, and what two mocked runs would replace (issue 23).

`FORCE_NEW` maps every resource type the program registers to the inputs (Pulumi's camelCase
names) whose change makes the provider replace the resource instead of updating it. Each row has
its source in `SOURCES`: the upstream schema Pulumi bridges (terraform-provider-aws, `ForceNew:
true` or the framework's `RequiresReplace()`, each at a pinned commit) or, for the Docker build
image, its provider's own `Diff`. Where the schema forces new through a nested field or a
CustomizeDiff the program does not reach, the row's source says so ("not modelled").

`replaced(before, after)` compares two `PulumiRun`s the way the engine diffs them: resources are
matched by URN; a resource is replaced when a force-new input changed (after masking the mocked
account's ids and auto-name suffixes), when an input it lists in `replace_on_changes` changed, or
when a force-new input is fed (property dependency) by a resource that is itself replaced (its
id/ARN changes, so the value is new at deploy time even though the mocks hand out the same one).
That last rule is conservative: it treats every output of a replaced resource as changing.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any

from testing.pulumi_harness import PulumiRun, RecordedResource

# Every input: an ECS task definition is immutable; any change registers a new revision (the
# provider replaces the resource), except the few that are state or tags only.
EVERY_INPUT = "*"
TASK_DEFINITION_UPDATABLE = frozenset({"tags", "skipDestroy", "trackLatest"})

_GH = "https://github.com/hashicorp/terraform-provider-aws/blob/"


def _tf(commit: str, path: str, inputs: str) -> str:
    """A row checked in this session against the upstream schema Pulumi bridges."""
    return (f"{_GH}{commit}/internal/service/{path}: {inputs} 'ForceNew: true' "
            "(terraform-provider-aws schema, read with the search tool's read_file)")


def _tf_replace(commit: str, path: str, inputs: str) -> str:
    """The same for a plugin-framework resource, whose schema says `RequiresReplace()`."""
    return _tf(commit, path, inputs).replace("'ForceNew: true'", "'RequiresReplace()'")


_S3_BUCKET = (
    _tf("0070bcd12c952f14c5434a6f351ef7b6fa791226", "s3/bucket.go", "bucket, bucket_prefix")
    + " (an older stored version of the file) and https://registry.terraform.io/providers/"
    "hashicorp/aws/latest/docs/resources/s3_bucket: bucket, bucket_prefix '(Optional, Forces "
    "new resource)'; object_lock_enabled: " + _tf(
        "4c72bcc7dc2f5ace40ce61f2a90e12a62cf4ec9a", "s3/bucket.go", "object_lock_enabled")
    + " (also the deprecated object_lock_configuration.object_lock_enabled: not set here)")

# Both rule types share one plugin-framework schema (the egress file embeds the ingress rule's).
_SG_RULE = (
    _tf_replace("00a322094b4b9ade8a81b244345dbcf4b52ee8d6",
                "ec2/vpc_security_group_ingress_rule.go", "security_group_id")
    + " and " + f"{_GH}050ac11163cab8cdae5936a7f40b0e528ff780df/internal/service/ec2/"
    "vpc_security_group_egress_rule.go (embeds resourceSecurityGroupRule); ModifyPlan also "
    "replaces a rule whose source changes kind (cidr_ipv4, cidr_ipv6, prefix_list_id, "
    "referenced_security_group_id): not modelled, the program keeps each rule's kind")

# type token -> (force-new inputs, source)
_ROWS: dict[str, tuple[frozenset[str], str]] = {
    # --- stateful -----------------------------------------------------------------------------
    "aws:msk/serverlessCluster:ServerlessCluster": (
        frozenset({"clusterName", "vpcConfigs", "clientAuthentication"}),
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-"
        "msk-serverlesscluster.html: ClientAuthentication, ClusterName, VpcConfigs 'Update "
        "requires: Replacement'; " + _tf("02fe3b283b48a2d41bc19312150fb7bfe8f746fc",
                                         "kafka/serverless_cluster.go",
                                         "client_authentication, cluster_name, vpc_config")),
    "aws:sqs/queue:Queue": (
        frozenset({"name", "namePrefix", "fifoQueue"}),
        "AWS::SQS::Queue: 'You can't change the queue type after you create it' (CDK "
        "CfnQueueProps docs, docs search); " + _tf(
            "00a35305dc1b297a6fcdecdfbba33f1e63c3da39", "sqs/queue.go",
            "name, name_prefix, fifo_queue")),
    "aws:s3/bucket:Bucket": (
        frozenset({"bucket", "bucketPrefix", "objectLockEnabled"}), _S3_BUCKET),
    "aws:s3/bucketV2:BucketV2": (
        frozenset({"bucket", "bucketPrefix", "objectLockEnabled"}), _S3_BUCKET),
    "aws:kms/key:Key": (
        frozenset({"customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId",
                   "xksKeyId"}),
        _tf("00a35305dc1b297a6fcdecdfbba33f1e63c3da39", "kms/key.go",
            "custom_key_store_id, customer_master_key_spec, key_usage, multi_region, "
            "xks_key_id") + "; https://docs.aws.amazon.com/AWSCloudFormation/latest/"
        "TemplateReference/aws-resource-kms-key.html: 'If you change the value of the KeySpec, "
        "KeyUsage, Origin, or MultiRegion properties of an existing KMS key, the update "
        "request fails'"),
    # --- network ------------------------------------------------------------------------------
    "aws:ec2/vpc:Vpc": (
        frozenset({"cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"}),
        _tf("00081ce41cc691433ac19bf42227cdabffd0454d", "ec2/vpc_.go",
            "cidr_block, ipv4_ipam_pool_id, ipv4_netmask_length")),
    "aws:ec2/subnet:Subnet": (
        # Corrected in this session: the schema also forces new on the IPAM and Outpost inputs.
        frozenset({"vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId",
                   "ipv6Native", "ipv4IpamPoolId", "ipv4NetmaskLength", "ipv6IpamPoolId",
                   "ipv6NetmaskLength", "outpostArn"}),
        "AWS::EC2::Subnet: AvailabilityZone, CidrBlock, VpcId 'UpdateType: Immutable' "
        "(CloudFormation resource spec as quoted by VaporShell's New-VSEC2Subnet, docs "
        "search); " + _tf("00cda125a19d31754cb0d073cf551264c57955cb", "ec2/vpc_subnet.go",
                          "availability_zone, availability_zone_id, cidr_block, "
                          "ipv4_ipam_pool_id, ipv4_netmask_length, ipv6_ipam_pool_id, "
                          "ipv6_native, ipv6_netmask_length, outpost_arn, vpc_id")
        + " (ipv6_cidr_block only via CustomizeDiff when assign_ipv6_address_on_creation was "
        "set: not modelled)"),
    "aws:ec2/securityGroup:SecurityGroup": (
        frozenset({"name", "namePrefix", "description", "vpcId"}),
        "pulumi awsx SecurityGroupArgs: description 'maps to the AWS GroupDescription "
        "attribute, for which there is no Update API' (pulumi.com, docs search); "
        + _tf("01606926a0c0ab9174aec440f976a48b0baee722", "ec2/vpc_security_group.go",
              "description, name, name_prefix, vpc_id")),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": (
        frozenset({"vpcId"}),
        _tf("01f431114674c27cf790fafb67ac274bf8f765e1", "ec2/vpc_default_security_group.go",
            "vpc_id")),
    "aws:ec2/internetGateway:InternetGateway": (
        frozenset(),
        f"{_GH}08923b68b5ad6fcfdd38362fb5247e39a9b07add/internal/service/ec2/"
        "vpc_internet_gateway.go: no input has 'ForceNew: true'; a changed vpc_id is a detach "
        "and an attach in resourceInternetGatewayUpdate"),
    "aws:ec2/routeTable:RouteTable": (
        frozenset({"vpcId"}),
        _tf("022092419b7cda11527df3c6b51cbfe1876c1722", "ec2/vpc_route_table.go", "vpc_id")),
    "aws:ec2/route:Route": (
        frozenset({"routeTableId", "destinationCidrBlock", "destinationIpv6CidrBlock",
                   "destinationPrefixListId"}),
        _tf("0128541e0711766f28540143a9d73738aced60aa", "ec2/vpc_route.go",
            "route_table_id, destination_cidr_block, destination_ipv6_cidr_block, "
            "destination_prefix_list_id") + " (the targets are updated by ReplaceRoute)"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": (
        frozenset({"subnetId", "gatewayId"}),
        _tf("0be71beb458ad8875e0acc5c91519c0ceeb214aa", "ec2/vpc_route_table_association.go",
            "gateway_id, subnet_id") + " (route_table_id has none: "
        "ReplaceRouteTableAssociation)"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (
        # Corrected in this session: resourceConfigurationArn, serviceNetworkArn and
        # serviceRegion also force new (the program sets none of them).
        frozenset({"vpcId", "serviceName", "vpcEndpointType", "resourceConfigurationArn",
                   "serviceNetworkArn", "serviceRegion"}),
        _tf("008db85aad5e56627b1eecab8830464a282552ed", "ec2/vpc_endpoint.go",
            "resource_configuration_arn, service_name, service_network_arn, service_region, "
            "vpc_endpoint_type, vpc_id") + " (also dns_options.private_dns_preference and "
        "private_dns_specified_domains, and private_dns_enabled on a non-Interface endpoint "
        "through CustomizeDiff: the program sets private_dns_enabled on Interface endpoints "
        "only; not modelled)"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (
        frozenset({"securityGroupId"}), _SG_RULE),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (
        frozenset({"securityGroupId"}), _SG_RULE),
    # --- API: ECS, ALB, ECR, image --------------------------------------------------------------
    "aws:ecs/cluster:Cluster": (
        frozenset({"name"}),
        _tf("00a35305dc1b297a6fcdecdfbba33f1e63c3da39", "ecs/cluster.go", "name")),
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": (
        frozenset({"clusterName"}),
        _tf("0619e62a2f25aefdfc36b5c74a98d9f6dcc6d794", "ecs/cluster_capacity_providers.go",
            "cluster_name")),
    "aws:ecs/service:Service": (
        # Corrected in this session: launchType also forces new (the program sets none).
        frozenset({"name", "cluster", "iamRole", "schedulingStrategy", "deploymentController",
                   "launchType"}),
        _tf("00a919d1548eb437816d4838f320502ad34183ff", "ecs/service.go",
            "name, cluster, iam_role, launch_type, scheduling_strategy, "
            "deployment_controller.type")),
    "aws:ecs/taskDefinition:TaskDefinition": (
        frozenset({EVERY_INPUT}),
        "ECS task definitions are immutable: every change registers a new revision (ECS "
        "RegisterTaskDefinition); the provider replaces the resource. Not stateful."),
    "aws:lb/loadBalancer:LoadBalancer": (
        frozenset({"name", "namePrefix", "internal", "loadBalancerType",
                   "customerOwnedIpv4Pool"}),
        _tf("00edc94be7a89c4c485415cdec27094875f61bfc", "elbv2/load_balancer.go",
            "name, name_prefix, internal, load_balancer_type, customer_owned_ipv4_pool")
        + " (subnets, security_groups, ip_address_type have no ForceNew: updated in place)"),
    "aws:lb/targetGroup:TargetGroup": (
        frozenset({"name", "namePrefix", "port", "protocol", "protocolVersion", "targetType",
                   "vpcId", "ipAddressType"}),
        "name/namePrefix '(Optional, Forces new resource)' (terraform-aws-alb-target-group "
        "README quoting aws_lb_target_group, docs search); "
        + _tf("013cfb4cddc9c44a28f34abad0c11768bcdb9b85", "elbv2/target_group.go",
              "ip_address_type, name, name_prefix, port, protocol, protocol_version, "
              "target_type, vpc_id")),
    "aws:lb/listener:Listener": (
        frozenset({"loadBalancerArn"}),
        _tf("01c08000ddb14181b5bd19201d8fca311dc570e4", "elbv2/listener.go",
            "load_balancer_arn")),
    "aws:ecr/repository:Repository": (
        frozenset({"name", "encryptionConfigurations"}),
        _tf("0072eea2d6046230a1fb7717741c17fd2122175e", "ecr/repository.go",
            "name, encryption_configuration")),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": (
        # Corrected in this session: the resource has no Update, so a new policy (ecrKeepImages)
        # replaces it; pulumi-aws deletes it first, or the old one's delete would remove the new.
        frozenset({"repository", "policy"}),
        _tf("00a35305dc1b297a6fcdecdfbba33f1e63c3da39", "ecr/lifecycle_policy.go",
            "policy, repository") + " (no Update function); https://github.com/pulumi/"
        "pulumi-aws/blob/015d343812852f40a045a28e7f6e04bca69548f3/provider/"
        "resource_overrides.go: aws_ecr_lifecycle_policy 'DeleteBeforeReplace: true' "
        "(pulumi/pulumi-aws#2085, fixing #2075 'ECR Lifecycle policy update deletes policy')"),
    "aws:appautoscaling/target:Target": (
        frozenset({"resourceId", "scalableDimension", "serviceNamespace"}),
        _tf("0105d2191ae7e43ba37ba011b916843eddf361ed", "appautoscaling/target.go",
            "resource_id, scalable_dimension, service_namespace")
        + " (min_capacity, max_capacity: RegisterScalableTarget in Update)"),
    "aws:appautoscaling/policy:Policy": (
        frozenset({"name", "resourceId", "scalableDimension", "serviceNamespace"}),
        _tf("048320e88399c508ae6481be5d8ef6fd6f71a9f6", "appautoscaling/policy.go",
            "name, resource_id, scalable_dimension, service_namespace")),
    "docker-build:index:Image": (
        frozenset(),
        "https://github.com/pulumi/pulumi-docker-build/blob/0b3ab4fe06deb5ac344e26074a445c353"
        "272ff2c/provider/internal/image.go: Diff gives every changed input "
        "'provider.PropertyDiff{Kind: provider.Update}' (never a replace), and Update: "
        "'Normally we create-replace resources, but for images built locally there is nothing "
        "to delete. We treat those cases as updates and simply re-build the image'"),
    # --- consumer and topic provisioning ----------------------------------------------------------
    "aws:lambda/function:Function": (
        # Corrected in this session: tenancyConfig (newer provider versions) also forces new.
        frozenset({"name", "packageType", "tenancyConfig"}),
        _tf("0156d84e6bb47e4a5fe0c8e87cf2d14fb1dc3b8c", "lambda/function.go",
            "function_name, package_type, tenancy_config")
        + " (Pulumi's input for function_name is `name`)"),
    "aws:lambda/eventSourceMapping:EventSourceMapping": (
        frozenset({"eventSourceArn", "startingPosition", "startingPositionTimestamp", "topics",
                   "queues", "amazonManagedKafkaEventSourceConfig", "selfManagedEventSource",
                   "selfManagedKafkaEventSourceConfig"}),
        "AWS::Lambda::EventSourceMapping EventSourceArn 'UpdateType: Immutable' (CloudFormation "
        "spec as quoted by VaporShell's New-VSLambdaEventSourceMapping, docs search); "
        + _tf("0603f3b6edfc8e5a5dec9f7b9486c6b160740ade", "lambda/event_source_mapping.go",
              "amazon_managed_kafka_event_source_config (and its consumer_group_id), "
              "event_source_arn, queues, self_managed_event_source, "
              "self_managed_kafka_event_source_config, starting_position, "
              "starting_position_timestamp, topics")
        + " (function_name has none); the program also lists them in replace_on_changes"),
    "aws:lambda/invocation:Invocation": (
        frozenset({"functionName", "input", "qualifier", "triggers"}),
        "pulumi-aws registry, lambda.Invocation: 'only invokes the function when the arguments "
        "call for a create or replace'; triggers: 'Map of arbitrary keys and values that, when "
        "changed, will trigger a re-invocation' (pulumi.com + pub.dev pulumi_aws docs, docs "
        "search); " + _tf("0133e9ef35552b7396cf6cbd9b98bccfd24c7c26", "lambda/invocation.go",
                          "function_name, qualifier, triggers")
        + "; input through customizeDiffInputChangeWithCreateOnlyScope: 'forces a new "
        "resource when `input` has a change and `lifecycle_scope` is set to \"CREATE_ONLY\"' "
        "(the default, which the program keeps)"),
    "aws:lambda/permission:Permission": (
        frozenset({"action", "function", "principal", "sourceArn", "sourceAccount",
                   "statementId", "statementIdPrefix", "qualifier", "eventSourceToken",
                   "principalOrgId", "functionUrlAuthType", "invokedViaFunctionUrl"}),
        # Corrected in this session: invokedViaFunctionUrl (newer provider versions) too.
        _tf("04592f03e5d83a5e1504b52a6d07063ffa3f708d", "lambda/permission.go",
            "every input: action, event_source_token, function_name, function_url_auth_type, "
            "invoked_via_function_url, principal, principal_org_id, qualifier, "
            "source_account, source_arn, statement_id, statement_id_prefix (no Update "
            "function)") + " (Pulumi's input for function_name is `function`)"),
    "aws:iam/role:Role": (
        frozenset({"name", "namePrefix", "path"}),
        _tf("0040ea6911af00bea2cca6dbb14e86829826ad8e", "iam/role.go", "name, name_prefix, path")),
    "aws:iam/rolePolicy:RolePolicy": (
        frozenset({"name", "namePrefix", "role"}),
        _tf("02f97af85f89a04e8ed89f5e8b64a9a67f3cfe07", "iam/role_policy.go",
            "name, name_prefix, role")),
    "aws:sqs/queuePolicy:QueuePolicy": (
        frozenset({"queueUrl"}),
        _tf("0148137dc6fb802b97b74036846777ab15c0f9ad", "sqs/queue_policy.go", "queue_url")),
    "aws:s3/bucketPolicy:BucketPolicy": (
        frozenset({"bucket"}),
        _tf("0073593e7d6993ba482409f4dc35438daaa79bb3", "s3/bucket_policy.go", "bucket")),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (
        frozenset({"bucket"}),
        _tf("01606926a0c0ab9174aec440f976a48b0baee722", "s3/bucket_public_access_block.go",
            "bucket")),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        frozenset({"bucket", "expectedBucketOwner"}),
        _tf_replace("01606926a0c0ab9174aec440f976a48b0baee722",
                    "s3/bucket_lifecycle_configuration.go", "bucket, expected_bucket_owner")),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        frozenset({"bucket", "expectedBucketOwner"}),
        _tf("01606926a0c0ab9174aec440f976a48b0baee722",
            "s3/bucket_server_side_encryption_configuration.go", "bucket, expected_bucket_owner")),
    # --- observability ----------------------------------------------------------------------------
    "aws:cloudwatch/logGroup:LogGroup": (
        frozenset({"name", "namePrefix", "logGroupClass"}),
        _tf("0073593e7d6993ba482409f4dc35438daaa79bb3", "logs/group.go",
            "log_group_class, name, name_prefix")),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (
        frozenset({"name"}),
        _tf("055611a654738da73e7b1e2b5d2b7672c6d4d531", "cloudwatch/metric_alarm.go",
            "alarm_name") + " (Pulumi's input for alarm_name is `name`)"),
    "aws:cloudwatch/dashboard:Dashboard": (
        frozenset({"dashboardName"}),
        _tf("0620f2a6a126dfcbc4aecbc9a117b0fbea1656ff", "cloudwatch/dashboard.go",
            "dashboard_name")),
    "aws:sns/topic:Topic": (
        frozenset({"name", "namePrefix", "fifoTopic"}),
        _tf("00a35305dc1b297a6fcdecdfbba33f1e63c3da39", "sns/topic.go",
            "fifo_topic, name, name_prefix")),
    "aws:sns/topicPolicy:TopicPolicy": (
        frozenset({"arn"}),
        _tf("00a35305dc1b297a6fcdecdfbba33f1e63c3da39", "sns/topic_policy.go", "arn")),
    "aws:sns/topicSubscription:TopicSubscription": (
        frozenset({"topic", "protocol", "endpoint"}),
        _tf("04a2e6e5bc625ec85ea8c678219b483fc674877e", "sns/topic_subscription.go",
            "endpoint, protocol, topic_arn") + " (Pulumi's input for topic_arn is `topic`)"),
    # --- HTTPS on a domain (prod) ---------------------------------------------------------------
    "aws:acm/certificate:Certificate": (
        # Corrected in this session: validationOptions also forces new (the program sets none).
        frozenset({"domainName", "subjectAlternativeNames", "validationMethod", "keyAlgorithm",
                   "certificateAuthorityArn", "validationOptions"}),
        _tf("01661ea3cbe6b07ed725b03c587d24ceb464484a", "acm/certificate.go",
            "certificate_authority_arn, domain_name, key_algorithm, subject_alternative_names, "
            "validation_method, validation_option")),
    "aws:acm/certificateValidation:CertificateValidation": (
        frozenset({"certificateArn", "validationRecordFqdns"}),
        _tf("004eea7f9b6658d88d652e89e10c7520a10ad6b8", "acm/certificate_validation.go",
            "certificate_arn, validation_record_fqdns")),
    "aws:route53/record:Record": (
        frozenset({"zoneId", "name"}),
        _tf("00655c1681ea1e49ab10cd32d3f8bee372b2095b", "route53/record.go", "name, zone_id")
        + " (type has none)"),
}

FORCE_NEW: dict[str, frozenset[str]] = {t: inputs for t, (inputs, _) in _ROWS.items()}
SOURCES: dict[str, str] = {t: source for t, (_, source) in _ROWS.items()}

# What `pulumi destroy` (or a replacement) would lose: records, dead letters, logs, keys.
STATEFUL = frozenset({"aws:msk/serverlessCluster:ServerlessCluster", "aws:sqs/queue:Queue",
                      "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2", "aws:kms/key:Key"})

# Inputs whose value is unique in the account (or, for CIDRs, in the VPC): a replacement created
# before the old resource is deleted must not take one that a resource of the before-graph holds.
UNIQUE_NAMES: dict[str, str] = {
    "aws:s3/bucket:Bucket": "bucket", "aws:s3/bucketV2:BucketV2": "bucket",
    "aws:msk/serverlessCluster:ServerlessCluster": "clusterName",
    "aws:cloudwatch/dashboard:Dashboard": "dashboardName",
}
SUBNET = "aws:ec2/subnet:Subnet"
VPC = "aws:ec2/vpc:Vpc"

# The mocked account hands out ids and auto-name suffixes in registration order, which varies
# between runs: masked, they are not a change of the stack (tests/unit/test_stack_changes.py).
# A mocked UUID (MSK cluster, event source mapping) also has 4-digit groups: masked whole.
_MOCK_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MOCK_HEX = re.compile(r"[0-9a-f]{7,}")


def masked(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return _MOCK_HEX.sub("<id>", _MOCK_UUID.sub("<uuid>", text))


def changed_inputs(old: RecordedResource, new: RecordedResource) -> set[str]:
    return {k for k in {*old.inputs, *new.inputs}
            if masked(old.inputs.get(k)) != masked(new.inputs.get(k))}


def force_new_of(resource: RecordedResource) -> frozenset[str]:
    """The force-new inputs of `resource` (KeyError for a type the table does not cover)."""
    row = FORCE_NEW[resource.type]
    if EVERY_INPUT in row:
        return frozenset(resource.inputs) - TASK_DEFINITION_UPDATABLE
    return row | frozenset(resource.options.get("replace_on_changes") or ())


@dataclass(frozen=True)
class Replacement:
    type: str
    name: str  # logical name
    inputs: tuple[str, ...]  # changed force-new inputs; "key<-name" when fed by a replacement

    def __iter__(self):  # unpacks as (type, logical_name, changed_force_new_inputs)
        return iter((self.type, self.name, self.inputs))


def replaced(before: PulumiRun, after: PulumiRun) -> list[Replacement]:
    """Resources of both runs (same URN) that the engine would replace, in `after`'s order."""
    old = {r.urn: r for r in before.resources if r.custom}
    new = [r for r in after.resources if r.custom and r.urn in old]
    reasons: dict[str, set[str]] = {}
    for resource in new:
        direct = changed_inputs(old[resource.urn], resource) & force_new_of(resource)
        if direct:
            reasons[resource.urn] = set(direct)
    names = {r.urn: r.name for r in after.resources}
    grew = True
    while grew:  # a replaced resource has a new id/ARN: what feeds a force-new input changes too
        grew = False
        for resource in new:
            for key in force_new_of(resource):
                for dep in resource.property_dependencies.get(key, ()):
                    if dep in reasons and dep != resource.urn:
                        reason = f"{key}<-{names.get(dep, dep)}"
                        if reason not in reasons.setdefault(resource.urn, set()):
                            reasons[resource.urn].add(reason)
                            grew = True
        reasons = {urn: why for urn, why in reasons.items() if why}
    return [Replacement(r.type, r.name, tuple(sorted(reasons[r.urn])))
            for r in new if r.urn in reasons]


def deleted(before: PulumiRun, after: PulumiRun) -> list[tuple[str, str]]:
    """(type, logical name) of the resources the after-graph no longer has."""
    kept = {r.urn for r in after.resources}
    return [(r.type, r.name) for r in before.resources if r.custom and r.urn not in kept]


def _vpc_of(subnet: RecordedResource) -> str:
    return next(iter(subnet.property_dependencies.get("vpcId", ())), "")


def unique_value_conflicts(before: PulumiRun, after: PulumiRun,
                           replacements: list[Replacement] | None = None) -> list[str]:
    """Replacements that take a unique value (explicit name, subnet CIDR) a resource of the
    before-graph holds while the replacement is created (Pulumi creates the new resource before
    it deletes the old one unless delete_before_replace; the deletes come after the creates)."""
    replacements = replacements if replacements is not None else replaced(before, after)
    replaced_urns = {after.named(r.name).urn for r in replacements} if replacements else set()
    by_name = {r.name: r for r in after.resources}
    problems = []
    for replacement in replacements:
        resource = by_name[replacement.name]
        self_free = bool(resource.options.get("delete_before_replace"))
        holders = [r for r in before.resources
                   if r.type == resource.type and not (self_free and r.urn == resource.urn)]
        key = UNIQUE_NAMES.get(resource.type) or ("name" if "name" in FORCE_NEW.get(
            resource.type, ()) else None)
        value = resource.inputs.get(key) if key else None
        if value is not None:
            problems += [f"{resource.name}: {key}={value!r} is still held by {holder.name}"
                         for holder in holders if holder.inputs.get(key) == value]
        if resource.type == SUBNET:
            vpc = _vpc_of(resource)
            if vpc in replaced_urns:
                continue  # the replacement goes into a new VPC
            cidr = ipaddress.ip_network(resource.inputs["cidrBlock"])
            problems += [f"{resource.name}: {cidr} overlaps {holder.name}'s "
                         f"{holder.inputs['cidrBlock']} (InvalidSubnet.Conflict)"
                         for holder in holders if _vpc_of(holder) == vpc
                         and cidr.overlaps(ipaddress.ip_network(holder.inputs["cidrBlock"]))]
    return problems
