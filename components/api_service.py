"""The event API on ECS Fargate (arm64, mostly Spot) behind an ALB; its image built by `pulumi up`.

The image is built from the API's Dockerfile and pushed to an immutable-tag ECR repository by
pulumi-docker; the task definition references the pushed digest, so every code change rolls
out a new task definition without a manual "force new deployment".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

from components.docker_context import content_tag
from components.iam import render
from components.kafka import KafkaCluster
from components.kafka_access import producer_kafka_policy
from components.network import Network

# The same command as the Dockerfile's HEALTHCHECK: GET /healthcheck from inside the task.
HEALTH_CHECK_COMMAND = ["CMD", "python", "-m", "event_api.healthcheck"]
CONTAINER_NAME = "api"
CONTAINER_PORT = 8000
HTTP, HTTPS = 80, 443
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
# The server flushes the Kafka producer on SIGTERM; ECS's maximum is 120 s.
STOP_TIMEOUT_SECONDS = 30
TASK_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "s3")  # image pulls (layers from S3) and logs


@dataclass
class ApiServiceArgs:
    network: Network
    """The VPC: tasks in its private subnets, the ALB in its public ones, its endpoints."""
    kafka: KafkaCluster | None = None
    """The cluster to produce to; None runs the API with Kafka disabled (503 on /readyz)."""
    topic_name: str = "events"
    """Topic the API writes (and creates at start-up)."""
    topic_partitions: int = 3
    """Partitions of the topic when the API creates it."""
    producer_idempotent: bool = False
    """Must equal event_api.producer.PRODUCER_IS_IDEMPOTENT (False: kafka-python 3.0.12's
    idempotent producer does not recover from broker outages); True adds WriteDataIdempotently."""
    desired_count: int = 1
    """Tasks at deploy time; 0 stops the API."""
    min_count: int = 1
    """Autoscaling minimum."""
    max_count: int = 4
    """Autoscaling maximum."""
    cpu: int = 256
    """Fargate CPU units."""
    memory: int = 512
    """Fargate memory (MiB), valid for `cpu`."""
    on_demand_base: int = 0
    """Tasks always on on-demand FARGATE."""
    on_demand_weight: int = 0
    """FARGATE weight beyond the base."""
    spot_weight: int = 1
    """FARGATE_SPOT weight."""
    log_retention_days: int = 7
    """CloudWatch Logs retention."""
    certificate_arn: str | None = None
    """ACM certificate: HTTPS listener plus HTTP->HTTPS 301 redirect when set."""
    ecr_force_delete: bool = True
    """Let `pulumi destroy` delete the repository with its images."""
    ecr_keep_images: int = 10
    """The lifecycle policy keeps this many most recent images."""
    alb_deletion_protection: bool = False
    """Deletion protection on the load balancer."""
    base_image: str | None = None
    """BASE_IMAGE build argument; None keeps the Dockerfile's pinned default."""
    build_context: str = "."
    """Docker build context, relative to the Pulumi project directory: the repository root, filtered
    by its .dockerignore allow-list (the image also holds the shared libs/ packages)."""
    dockerfile: str = "services/api/Dockerfile"
    """The API's Dockerfile, relative to the Pulumi project directory."""
    cpu_target_percent: float = 60.0
    """Target-tracking goal for average CPU."""
    requests_per_target: float = 500.0
    """Target-tracking goal for ALB requests per task per minute."""
    health_check_grace_seconds: int = 60
    """Time a new task gets before ALB health checks count."""


def _trust_policy(service: str, account_id: str, partition: str, region: str) -> str:
    # Confused-deputy guard: only ECS acting for this account (and region) may assume the role.
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account_id},
                "ArnLike": {"aws:SourceArn": f"arn:{partition}:ecs:{region}:{account_id}:*"},
            },
        }],
    })


def _execution_policy(repository_arn: str, log_group_arn: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            # GetAuthorizationToken has no resource-level permissions: AWS requires "*".
            {"Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"],
             "Resource": "*"},
            {"Sid": "EcrPull", "Effect": "Allow",
             "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                        "ecr:GetDownloadUrlForLayer"],
             "Resource": repository_arn},
            {"Sid": "Logs", "Effect": "Allow",
             "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": [log_group_arn, f"{log_group_arn}:log-stream:*"]},
        ],
    })


class ApiService(pulumi.ComponentResource):
    url: pulumi.Output[str]
    repository_url: pulumi.Output[str]
    image_digest: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    task_security_group_id: pulumi.Output[str]
    alb_security_group_id: pulumi.Output[str]
    task_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ApiServiceArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("event-pipeline:api:ApiService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        net = args.network
        region = aws.get_region_output(opts=invoke).region
        account_id = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition

        # --- image: repository, build and push ------------------------------------------
        repository = aws.ecr.Repository(
            f"{name}-repo",
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                scan_on_push=True),
            # AWS-managed KMS key: encrypted at rest, no key to pay for or grant on.
            encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(
                encryption_type="KMS")],
            force_delete=args.ecr_force_delete,
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-repo-lifecycle",
            repository=repository.name,
            policy=json.dumps({"rules": [{
                "rulePriority": 1,
                "description": f"keep the last {args.ecr_keep_images} images",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                              "countNumber": args.ecr_keep_images},
                "action": {"type": "expire"},
            }]}),
            opts=child,
        )
        registry = aws.ecr.get_authorization_token_output(
            registry_id=repository.registry_id, opts=invoke)
        image = docker.Image(
            f"{name}-image",
            image_name=pulumi.Output.concat(
                repository.repository_url, ":",
                content_tag(args.build_context, args.base_image or "")),
            build=docker.DockerBuildArgs(
                context=args.build_context,
                dockerfile=args.dockerfile,
                platform="linux/arm64",
                args={"BASE_IMAGE": args.base_image} if args.base_image else None,
                builder_version=docker.BuilderVersion.BUILDER_BUILD_KIT,  # RUN --mount=secret
            ),
            registry=docker.RegistryArgs(
                server=repository.repository_url,
                username=registry.user_name,
                password=pulumi.Output.secret(registry.password),
            ),
            opts=child,
        )

        # --- security groups: internet -> ALB (80/443) -> tasks (8000) -------------------
        alb_sg = aws.ec2.SecurityGroup(
            f"{name}-alb-sg", vpc_id=net.vpc_id,
            description="API load balancer: HTTP(S) from the internet, to API tasks only",
            opts=child)
        task_sg = aws.ec2.SecurityGroup(
            f"{name}-task-sg", vpc_id=net.vpc_id,
            description="API tasks: 8000 from the load balancer only", opts=child)
        public_ports = (HTTP, HTTPS) if args.certificate_arn else (HTTP,)
        for port in public_ports:
            # The only CIDR rule of the stack: the load balancer is the public entry point.
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-alb-{port}-ingress", security_group_id=alb_sg.id,
                cidr_ipv4="0.0.0.0/0", ip_protocol="tcp", from_port=port, to_port=port,
                description="public HTTP(S)", opts=child)
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-alb-to-task-egress", security_group_id=alb_sg.id,
            referenced_security_group_id=task_sg.id, ip_protocol="tcp",
            from_port=CONTAINER_PORT, to_port=CONTAINER_PORT,
            description="forward and health checks to API tasks", opts=child)
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-task-from-alb-ingress", security_group_id=task_sg.id,
            referenced_security_group_id=alb_sg.id, ip_protocol="tcp",
            from_port=CONTAINER_PORT, to_port=CONTAINER_PORT,
            description="from the load balancer", opts=child)
        for endpoint in TASK_ENDPOINTS:
            net.allow_endpoint_access(name, endpoint, task_sg.id, parent=self)
        if args.kafka is not None:
            args.kafka.allow_client(name, task_sg.id, parent=self)

        # --- IAM -------------------------------------------------------------------------
        trust = pulumi.Output.all(account_id, partition, region).apply(
            lambda a: _trust_policy("ecs-tasks.amazonaws.com", *a))
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", retention_in_days=args.log_retention_days, opts=child)
        execution_role = aws.iam.Role(
            f"{name}-execution-role", assume_role_policy=trust,
            description="ECS agent: pull the API image, write its logs", opts=child)
        aws.iam.RolePolicy(
            f"{name}-execution-policy", role=execution_role.id,
            policy=pulumi.Output.all(repository.arn, log_group.arn).apply(
                lambda a: _execution_policy(*a)),
            opts=child)
        task_role = aws.iam.Role(
            f"{name}-task-role", assume_role_policy=trust,
            description="API container: produce to its Kafka topic", opts=child)
        if args.kafka is not None:
            aws.iam.RolePolicy(
                f"{name}-producer-policy", role=task_role.id,
                policy=render(
                    lambda arn: producer_kafka_policy(
                        arn, args.topic_name, idempotent=args.producer_idempotent),
                    args.kafka.arn),
                opts=child)

        # --- ECS ---------------------------------------------------------------------------
        cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            opts=child)
        strategy = [
            aws.ecs.ServiceCapacityProviderStrategyArgs(
                capacity_provider="FARGATE", base=args.on_demand_base,
                weight=args.on_demand_weight),
            aws.ecs.ServiceCapacityProviderStrategyArgs(
                capacity_provider="FARGATE_SPOT", weight=args.spot_weight),
        ]
        capacity = aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity-providers", cluster_name=cluster.name,
            capacity_providers=["FARGATE_SPOT", "FARGATE"],
            default_capacity_provider_strategies=[
                aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                    capacity_provider=s.capacity_provider, base=s.base, weight=s.weight)
                for s in strategy],
            opts=child)

        kafka = args.kafka
        environment = [
            {"name": "AWS_REGION", "value": region},
            {"name": "KAFKA_TOPIC", "value": args.topic_name},
            {"name": "KAFKA_TOPIC_PARTITIONS", "value": str(args.topic_partitions)},
            {"name": "KAFKA_BOOTSTRAP_SERVERS",
             "value": kafka.bootstrap_brokers_sasl_iam if kafka else ""},
            # Without Kafka the API still serves; /readyz and /current_time answer 503.
            {"name": "KAFKA_DISABLED", "value": "false" if kafka else "true"},
        ]
        container: dict[str, Any] = {
            "name": CONTAINER_NAME,
            "image": image.repo_digest,  # the pushed digest: a new image is a new revision
            "essential": True,
            "portMappings": [{"containerPort": CONTAINER_PORT, "protocol": "tcp"}],
            "environment": environment,
            "healthCheck": {"command": HEALTH_CHECK_COMMAND, "interval": 30, "timeout": 5,
                            "retries": 3, "startPeriod": 30},
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": log_group.name,
                "awslogs-region": region,
                "awslogs-stream-prefix": CONTAINER_NAME,
                # A slow log API must never block the request path.
                "mode": "non-blocking",
                "max-buffer-size": "25m",
            }},
            "readonlyRootFilesystem": True,
            # Fargate task storage for the server's temp files; not a shared host /tmp.
            "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp",  # noqa: S108
                             "readOnly": False}],
            "stopTimeout": STOP_TIMEOUT_SECONDS,
        }
        task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            # A family is required (no auto-naming); project+stack keeps stacks apart.
            family=f"{pulumi.get_project()}-{pulumi.get_stack()}-{name}",
            cpu=str(args.cpu),
            memory=str(args.memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture="ARM64"),
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            volumes=[aws.ecs.TaskDefinitionVolumeArgs(name="tmp")],  # the only writable path
            container_definitions=pulumi.Output.json_dumps([container]),
            opts=child)

        # --- load balancer --------------------------------------------------------------------
        alb = aws.lb.LoadBalancer(
            f"{name}-alb",
            load_balancer_type="application",
            internal=False,
            subnets=net.public_subnet_ids,
            security_groups=[alb_sg.id],
            drop_invalid_header_fields=True,
            idle_timeout=30,
            enable_deletion_protection=args.alb_deletion_protection,
            opts=child)
        target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            port=CONTAINER_PORT,
            protocol="HTTP",
            target_type="ip",
            vpc_id=net.vpc_id,
            deregistration_delay=STOP_TIMEOUT_SECONDS,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                path="/healthcheck", matcher="200", interval=15, timeout=5,
                healthy_threshold=2, unhealthy_threshold=3),
            opts=child)
        forward = [aws.lb.ListenerDefaultActionArgs(
            type="forward", target_group_arn=target_group.arn)]
        if args.certificate_arn:
            listeners = [
                aws.lb.Listener(
                    f"{name}-http", load_balancer_arn=alb.arn, port=HTTP, protocol="HTTP",
                    default_actions=[aws.lb.ListenerDefaultActionArgs(
                        type="redirect",
                        redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                            port=str(HTTPS), protocol="HTTPS", status_code="HTTP_301"))],
                    opts=child),
                aws.lb.Listener(
                    f"{name}-https", load_balancer_arn=alb.arn, port=HTTPS, protocol="HTTPS",
                    ssl_policy=TLS_POLICY, certificate_arn=args.certificate_arn,
                    default_actions=forward, opts=child),
            ]
        else:
            listeners = [aws.lb.Listener(
                f"{name}-http", load_balancer_arn=alb.arn, port=HTTP, protocol="HTTP",
                default_actions=forward, opts=child)]

        service = aws.ecs.Service(
            f"{name}-service",
            cluster=cluster.arn,
            task_definition=task_definition.arn,
            desired_count=args.desired_count,
            # No launch_type: it would make ECS ignore the capacity-provider (Spot) strategy.
            capacity_provider_strategies=strategy,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(
                enable=True, rollback=True),
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            health_check_grace_period_seconds=args.health_check_grace_seconds,
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=net.private_subnet_ids, security_groups=[task_sg.id],
                assign_public_ip=False),
            load_balancers=[aws.ecs.ServiceLoadBalancerArgs(
                target_group_arn=target_group.arn, container_name=CONTAINER_NAME,
                container_port=CONTAINER_PORT)],
            propagate_tags="SERVICE",
            # The target group must be behind a listener, and the cluster must have the
            # providers, before the service starts; on destroy the service goes first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*listeners, capacity]))

        # --- autoscaling -----------------------------------------------------------------------
        scaling_target = aws.appautoscaling.Target(
            f"{name}-scaling-target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", cluster.name, "/", service.name),
            min_capacity=args.min_count,
            max_capacity=args.max_count,
            opts=child)
        for metric, target_value, label in (
            ("ECSServiceAverageCPUUtilization", args.cpu_target_percent, None),
            ("ALBRequestCountPerTarget", args.requests_per_target,
             pulumi.Output.concat(alb.arn_suffix, "/", target_group.arn_suffix)),
        ):
            aws.appautoscaling.Policy(
                f"{name}-{'cpu' if label is None else 'requests'}-scaling",
                policy_type="TargetTrackingScaling",
                service_namespace=scaling_target.service_namespace,
                scalable_dimension=scaling_target.scalable_dimension,
                resource_id=scaling_target.resource_id,
                target_tracking_scaling_policy_configuration=(
                    aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                        target_value=target_value,
                        predefined_metric_specification=aws.appautoscaling
                        .PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(  # noqa: E501
                            predefined_metric_type=metric, resource_label=label),
                        scale_in_cooldown=120,
                        scale_out_cooldown=60)),
                opts=child)

        scheme = "https" if args.certificate_arn else "http"
        self.url = pulumi.Output.concat(scheme, "://", alb.dns_name)
        self.repository_url = repository.repository_url
        self.image_digest = image.repo_digest
        self.cluster_name = cluster.name
        self.service_name = service.name
        self.task_security_group_id = task_sg.id
        self.alb_security_group_id = alb_sg.id
        self.task_role_arn = task_role.arn
        self.register_outputs({
            "url": self.url,
            "repository_url": self.repository_url,
            "image_digest": self.image_digest,
            "cluster_name": self.cluster_name,
            "service_name": self.service_name,
            "task_security_group_id": self.task_security_group_id,
            "alb_security_group_id": self.alb_security_group_id,
            "task_role_arn": self.task_role_arn,
        })
