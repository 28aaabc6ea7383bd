"""The event API on ECS Fargate (arm64, mostly Spot) behind an ALB; its image built by `pulumi up`.

`__init__` reads top-down: `_image` (repository, build, push by digest), `_security_groups`,
`_roles`, `_task`, `_load_balancer` (HTTPS by default, access logs), `_service`,
`_autoscaling`, `_alarms`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build

from components.alarms import AlarmSpec, create_alarms
from components.alb_access_logs import LOG_PREFIX, access_log_bucket
from components.certificate import alias_to_load_balancer, validated_certificate
from components.existing import ExistingTopic, ExistingVpc, require
from components.iam import VERSION, render, service_trust_policy
from components.kafka_access import API_PRODUCER_IDEMPOTENT, producer_kafka_policy
from components.network import Network
from components.package_files import API_DOCKERFILE, program_relative, source_root
from components.topic import DEFAULT_TOPIC_NAME, KafkaTopic

# The same command as the Dockerfile's HEALTHCHECK: GET /healthcheck from inside the task.
HEALTH_CHECK_COMMAND = ["CMD", "python", "-m", "event_api.healthcheck"]
CONTAINER_NAME = "api"
CONTAINER_PORT = 8000
HTTP, HTTPS = 80, 443
# TLS 1.3 and 1.2 with forward-secret ciphers only (ELB guide, "Security policies for your
# Application Load Balancer").
# The tag that marks a load balancer whose stack chose plain HTTP (policy/rules/common.py).
PLAIN_HTTP_TAG = "AllowPlainHttp"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
# The ALB closes connections idle this long; the API must keep them open longer, or the ALB
# reuses a connection the API just closed and the client gets a 502 (ELB guide, "Application
# Load Balancers", connection idle timeout; "Configure the idle connection timeout": the
# target's keep-alive must be greater than the load balancer's idle timeout). One place.
ALB_IDLE_TIMEOUT_S = 30
HTTP_KEEPALIVE_TIMEOUT_S = ALB_IDLE_TIMEOUT_S + 5
# The server flushes the Kafka producer on SIGTERM; ECS's maximum is 120 s.
STOP_TIMEOUT_SECONDS = 30
TASK_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "s3")  # image pulls (layers from S3) and logs

# The API's alarms, one row each (ELB guide, "CloudWatch metrics for your Application Load
# Balancer"): errors made by the load balancer itself, 5xx answered by the API (its deliberate
# 503 when Kafka cannot take the event included), and tasks failing health checks.
ALARMS = (
    AlarmSpec("alb-5xx", "load_balancer",
              "The load balancer answers 5xx itself (no healthy task, or tasks closing "
              "connections).", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "Sum", 10),
    AlarmSpec("target-5xx", "load_balancer",
              "The API answers 5xx (503: events could not be written to Kafka in time).",
              "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", 10),
    AlarmSpec("unhealthy-targets", "target_group",
              "API tasks fail their load balancer health checks.", "AWS/ApplicationELB",
              "UnHealthyHostCount", "Maximum", 0, period=60, evaluation_periods=3),
)


@dataclass
class ApiServiceArgs:
    network: Network | ExistingVpc
    """The VPC: tasks in its private subnets, the ALB in its public ones, its endpoints (ecr.api,
    ecr.dkr, logs and the S3 gateway). A `Network`, or an `ExistingVpc` of plain ids."""
    alarm_actions: Sequence[pulumi.Input[str]]
    """Where every alarm goes (e.g. `[AlarmTopic.arn]`); at least one."""
    topic: KafkaTopic | ExistingTopic | None = None
    """The topic the API writes (and, through it, its cluster): a `KafkaTopic`, whose
    provisioning the service waits for, or an `ExistingTopic` (cluster ARN, bootstrap brokers,
    security group, topic name). None runs the API with Kafka disabled (503 on /readyz)."""
    producer_idempotent: bool = API_PRODUCER_IDEMPOTENT
    """The program decides: KAFKA_ENABLE_IDEMPOTENCE for the container, WriteDataIdempotently
    in the policy (kafka-python 3.0.12's idempotent producer does not recover from outages)."""
    certificate_arn: str | None = None
    """ACM certificate for the HTTPS listener (HTTP then redirects to HTTPS)."""
    domain_name: str | None = None
    """With `hosted_zone_id`: the API's name; a DNS-validated certificate is issued for it (unless
    `certificate_arn` is given) and an alias record points it at the load balancer."""
    hosted_zone_id: str | None = None
    """The Route 53 zone of `domain_name`."""
    allow_plain_http: bool = False
    """Serve plain HTTP on port 80 instead of HTTPS. Without this, a certificate or a domain is
    required: a stack serves HTTPS unless it says so explicitly."""
    access_logs_enabled: bool = False
    """ALB access logs to an SSE-S3 bucket with a lifecycle rule."""
    access_log_retention_days: int = 90
    """Days an access log is kept."""
    desired_count: int = 1
    """Tasks at creation; afterwards autoscaling owns the count. 0 stops the API, also a running
    one: the scalable target's minimum and maximum become 0 (then `min_count` must be 0)."""
    min_count: int = 1
    """Autoscaling minimum (at least 1 to start a stopped API again)."""
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
    ecr_force_delete: bool = True
    """Let `pulumi destroy` delete the repository with its images."""
    ecr_keep_images: int = 10
    """The lifecycle policy keeps this many most recent images."""
    alb_deletion_protection: bool = False
    """Deletion protection on the load balancer (and the access logs survive `destroy`)."""
    base_image: str | None = None
    """BASE_IMAGE build argument; None keeps the Dockerfile's pinned default."""
    build_context: str | None = None
    """Docker build context (a directory). None: the package's own sources (services/ and libs/
    next to components/, or bundled in the installed distribution), filtered by their
    .dockerignore allow-list (the image also holds the shared libs/ packages)."""
    dockerfile: str | None = None
    """The API's Dockerfile. None: the package's own services/api/Dockerfile."""
    cpu_target_percent: float = 60.0
    """Target-tracking goal for average CPU."""
    requests_per_target: float | None = None
    """Target-tracking goal for ALB requests per task per minute (ALBRequestCountPerTarget is a
    per-minute count: AWS CDK reference, RequestCountScalingProps, "Target average
    requests/minute"). None: 48,000 per vCPU of the task (12,000 at 0.25 vCPU, 24,000 at 0.5),
    under half of what a vCPU serves at the 60 % CPU target by this repository's benchmark
    (bench/figures.json: ~320 CPU us per event at concurrency 16, so ~1,870 events/s per vCPU at
    60 %), so it scales out before CPU saturates without holding every task count at its maximum;
    the former fixed 500 (8 requests/s) did that under any real load (bench/RESULTS.md, "Scaling
    and cost")."""
    health_check_grace_seconds: int = 60
    """Time a new task gets before ALB health checks count."""

    def __post_init__(self) -> None:
        problems = [p for p in (
            require("ApiServiceArgs", "network", self.network, Network, ExistingVpc),
            None if self.topic is None else require(
                "ApiServiceArgs", "topic", self.topic, KafkaTopic, ExistingTopic),
        ) if p]
        if (self.domain_name is None) != (self.hosted_zone_id is None):
            problems.append("domain_name and hosted_zone_id go together (the certificate is "
                            "validated, and the alias made, in that Route 53 zone)")
        if self.https and self.allow_plain_http:
            problems.append("allow_plain_http=True contradicts certificate_arn/domain_name: "
                            "choose HTTPS or plain HTTP")
        if not self.https and not self.allow_plain_http:
            problems.append("the API serves HTTPS by default: set certificate_arn, or "
                            "domain_name + hosted_zone_id (a certificate is issued), or "
                            "allow_plain_http=True to serve plain HTTP on purpose")
        if self.access_log_retention_days < 1:
            problems.append(f"access_log_retention_days {self.access_log_retention_days} is "
                            "below 1")
        if not self.alarm_actions:
            problems.append("alarm_actions is empty: alarms must notify someone")
        if self.desired_count == 0 and self.min_count > 0:
            problems.append(f"desired_count 0 stops the API, but min_count {self.min_count} "
                            "would keep tasks running: set min_count to 0")
        if problems:
            raise ValueError("invalid ApiServiceArgs: " + "; ".join(problems))

    @property
    def scaling_range(self) -> tuple[int, int]:
        """The scalable target's (min, max): (0, 0) when the API is stopped."""
        return (0, 0) if self.desired_count == 0 else (self.min_count, self.max_count)

    @property
    def https(self) -> bool:
        return bool(self.certificate_arn or self.domain_name)


def execution_policy(repository_arn: str, log_group_arn: str) -> dict[str, Any]:
    return {
        "Version": VERSION,
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
    }


def ecs_tasks_trust_policy(account_id: str, partition: str, region: str) -> dict[str, Any]:
    return service_trust_policy("ecs-tasks.amazonaws.com", account_id,
                                f"arn:{partition}:ecs:{region}:{account_id}:*")


@dataclass
class _LoadBalancer:
    alb: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    listeners: list[aws.lb.Listener]
    url: pulumi.Output[str]


def web_concurrency(cpu_units: int) -> int:
    """API server processes for a task of `cpu_units` (1024 = one vCPU): one per whole vCPU."""
    return max(1, cpu_units // 1024)


class ApiService(pulumi.ComponentResource):
    url: pulumi.Output[str]
    """The API's URL."""
    repository_url: pulumi.Output[str]
    """The ECR repository of its image."""
    image_digest: pulumi.Output[str]
    """The digest of the image the deployment built and pushed."""
    image_ref: pulumi.Output[str]
    """The image by digest."""
    cluster_name: pulumi.Output[str]
    """The ECS cluster."""
    service_name: pulumi.Output[str]
    """The ECS service."""
    task_security_group_id: pulumi.Output[str]
    """The tasks' security group."""
    alb_security_group_id: pulumi.Output[str]
    """The load balancer's security group."""
    task_role_arn: pulumi.Output[str]
    """The tasks' IAM role (what the API's code may do)."""
    load_balancer_arn_suffix: pulumi.Output[str]
    """The load balancer's ARN suffix (its CloudWatch metrics dimension)."""
    target_group_arn_suffix: pulumi.Output[str]
    """The target group's ARN suffix (its CloudWatch metrics dimension)."""
    alarm_names: pulumi.Output[dict[str, str]]
    """The alarms, by kind."""

    def __init__(self, name: str, args: ApiServiceArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("event-pipeline:api:ApiService", name, None, opts)
        self._name, self._args = name, args
        invoke = pulumi.InvokeOutputOptions(parent=self)
        self._region = aws.get_region_output(opts=invoke).region
        self._account_id = aws.get_caller_identity_output(opts=invoke).account_id
        self._partition = aws.get_partition_output(opts=invoke).partition

        repository, image, image_ref = self._image()
        alb_sg, task_sg, grants = self._security_groups()
        execution_role, task_role, log_group = self._roles(repository)
        task_definition = self._task(image_ref, execution_role, task_role, log_group)
        lb = self._load_balancer(alb_sg)
        cluster, service = self._service(task_definition, task_sg, lb, grants)
        self._autoscaling(cluster, service, lb)
        alarms = self._alarms(lb)

        self.url = lb.url
        self.repository_url = repository.repository_url
        self.image_digest = image.digest
        self.image_ref = image_ref
        self.cluster_name = cluster.name
        self.service_name = service.name
        self.task_security_group_id = task_sg.id
        self.alb_security_group_id = alb_sg.id
        self.task_role_arn = task_role.arn
        self.load_balancer_arn_suffix = lb.alb.arn_suffix
        self.target_group_arn_suffix = lb.target_group.arn_suffix
        self.alarm_names = pulumi.Output.all(**{
            suffix.replace("-", "_"): alarm.name for suffix, alarm in alarms.items()})
        self.register_outputs({
            "url": self.url, "repository_url": self.repository_url,
            "image_digest": self.image_digest, "image_ref": self.image_ref,
            "cluster_name": self.cluster_name, "service_name": self.service_name,
            "task_security_group_id": self.task_security_group_id,
            "alb_security_group_id": self.alb_security_group_id,
            "task_role_arn": self.task_role_arn,
            "load_balancer_arn_suffix": self.load_balancer_arn_suffix,
            "target_group_arn_suffix": self.target_group_arn_suffix,
            "alarm_names": self.alarm_names,
        })

    def _child(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    # --- steps ------------------------------------------------------------------------------

    def _image(self) -> tuple[aws.ecr.Repository, docker_build.Image, pulumi.Output[str]]:
        """Build for arm64 and push BY DIGEST: no tag is pushed, so the repository's immutable
        tags can never refuse a re-push (ECR guide, "Image tag mutability": an existing tag in
        an IMMUTABLE repository fails with ImageTagAlreadyExistsException, even for the same
        digest). A second `up`, a provider upgrade or a re-run after an interrupted `up` pushes
        the same content again under its digest, which the registry accepts (OCI distribution
        spec: manifests are pushed by digest reference; docker/buildx#663 by the ECR team).
        The task definition names `repository@digest`, so every build still rolls out."""
        name, args = self._name, self._args
        repository = aws.ecr.Repository(
            f"{name}-repo",
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                scan_on_push=True),
            # AWS-managed KMS key: encrypted at rest, no key to pay for or grant on.
            encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(
                encryption_type="KMS")],
            force_delete=args.ecr_force_delete,
            opts=self._child())
        aws.ecr.LifecyclePolicy(
            f"{name}-repo-lifecycle",
            repository=repository.name,
            # "any": images pushed by digest are untagged; the newest N stay whatever their tags.
            policy=json.dumps({"rules": [{
                "rulePriority": 1,
                "description": f"keep the last {args.ecr_keep_images} images",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                              "countNumber": args.ecr_keep_images},
                "action": {"type": "expire"},
            }]}),
            opts=self._child())
        registry = aws.ecr.get_authorization_token_output(
            registry_id=repository.registry_id, opts=pulumi.InvokeOutputOptions(parent=self))
        image = docker_build.Image(
            f"{name}-image",
            context=docker_build.BuildContextArgs(
                location=args.build_context or program_relative(source_root())),
            dockerfile=docker_build.DockerfileArgs(
                location=args.dockerfile or program_relative(source_root() / API_DOCKERFILE)),
            platforms=[docker_build.Platform.LINUX_ARM64],
            build_args={"BASE_IMAGE": args.base_image} if args.base_image else None,
            push=False,  # no tags: the registry export below pushes by digest only
            # `pulumi preview` does not build (pulumi-docker-build "Image", buildOnPreview:
            # "Setting this to false will always skip image builds during previews"; the default
            # true builds). The PR preview job runs on an x86 runner with the read-only role and
            # no QEMU, where the arm64 RUN steps fail ("exec format error"); the image is built
            # and run by the PR's test job (the container tests). A preview shows the image as
            # changed when its context hash changes, with the digest, and so the task
            # definition's image, unknown until `up`; unchanged, it keeps the deployed digest.
            build_on_preview=False,
            exports=[docker_build.ExportArgs(registry=docker_build.ExportRegistryArgs(
                names=[repository.repository_url], push=True, push_by_digest=True))],
            registries=[docker_build.RegistryArgs(
                address=repository.repository_url, username=registry.user_name,
                password=pulumi.Output.secret(registry.password))],
            # Deleting the resource must not delete a manifest that a running (or rolled-back)
            # task definition still names; the lifecycle policy expires old images instead.
            opts=self._child(retain_on_delete=True))
        return repository, image, pulumi.Output.concat(
            repository.repository_url, "@", image.digest)

    def _security_groups(self) -> tuple[aws.ec2.SecurityGroup, aws.ec2.SecurityGroup,
                                        list[pulumi.Resource]]:
        """internet -> ALB (443, and 80 to redirect or serve) -> tasks (8000)."""
        name, args, net = self._name, self._args, self._args.network
        alb_sg = aws.ec2.SecurityGroup(
            f"{name}-alb-sg", vpc_id=net.vpc_id,
            description="API load balancer: HTTP(S) from the internet, to API tasks only",
            opts=self._child())
        task_sg = aws.ec2.SecurityGroup(
            f"{name}-task-sg", vpc_id=net.vpc_id,
            description="API tasks: 8000 from the load balancer only", opts=self._child())
        for port in (HTTP, HTTPS) if args.https else (HTTP,):
            # The only CIDR rule of the stack: the load balancer is the public entry point.
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-alb-{port}-ingress", security_group_id=alb_sg.id,
                cidr_ipv4="0.0.0.0/0", ip_protocol="tcp", from_port=port, to_port=port,
                description="public HTTP(S)", opts=self._child())
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-alb-to-task-egress", security_group_id=alb_sg.id,
            referenced_security_group_id=task_sg.id, ip_protocol="tcp",
            from_port=CONTAINER_PORT, to_port=CONTAINER_PORT,
            description="forward and health checks to API tasks", opts=self._child())
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-task-from-alb-ingress", security_group_id=task_sg.id,
            referenced_security_group_id=alb_sg.id, ip_protocol="tcp",
            from_port=CONTAINER_PORT, to_port=CONTAINER_PORT,
            description="from the load balancer", opts=self._child())
        grants: list[pulumi.Resource] = [
            rule for endpoint in TASK_ENDPOINTS
            for rule in net.allow_endpoint_access(name, endpoint, task_sg.id, parent=self)]
        if args.topic is not None:
            grants += args.topic.cluster.allow_client(name, task_sg.id, parent=self)
        return alb_sg, task_sg, grants

    def _roles(self, repository: aws.ecr.Repository
               ) -> tuple[aws.iam.Role, aws.iam.Role, aws.cloudwatch.LogGroup]:
        name, args = self._name, self._args
        trust = render(ecs_tasks_trust_policy, self._account_id, self._partition, self._region)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", retention_in_days=args.log_retention_days, opts=self._child())
        execution_role = aws.iam.Role(
            f"{name}-execution-role", assume_role_policy=trust,
            description="ECS agent: pull the API image, write its logs", opts=self._child())
        aws.iam.RolePolicy(
            f"{name}-execution-policy", role=execution_role.id,
            policy=render(execution_policy, repository.arn, log_group.arn), opts=self._child())
        task_role = aws.iam.Role(
            f"{name}-task-role", assume_role_policy=trust,
            description="API container: produce to its Kafka topic", opts=self._child())
        topic = args.topic
        if topic is not None:
            aws.iam.RolePolicy(
                f"{name}-producer-policy", role=task_role.id,
                policy=render(lambda arn: producer_kafka_policy(
                    arn, topic.topic_name, idempotent=args.producer_idempotent),
                    topic.cluster.arn),
                opts=self._child())
        return execution_role, task_role, log_group

    def _environment(self) -> list[dict[str, Any]]:
        """The container's configuration (services/api reads and validates it at start-up)."""
        topic = self._args.topic
        return [
            {"name": "AWS_REGION", "value": self._region},
            {"name": "KAFKA_TOPIC",
             "value": topic.topic_name if topic else DEFAULT_TOPIC_NAME},
            {"name": "KAFKA_BOOTSTRAP_SERVERS",
             "value": topic.cluster.bootstrap_brokers_sasl_iam if topic else ""},
            # Without Kafka the API still serves; /readyz and /current_time answer 503.
            {"name": "KAFKA_DISABLED", "value": "false" if topic else "true"},
            {"name": "KAFKA_ENABLE_IDEMPOTENCE",
             "value": "true" if self._args.producer_idempotent else "false"},
            {"name": "HTTP_KEEPALIVE_TIMEOUT_S", "value": str(HTTP_KEEPALIVE_TIMEOUT_S)},
            # One server process per vCPU (1024 CPU units, ECS guide "Task size"): a second
            # process on a fraction of a vCPU runs in no parallel and halves each producer's
            # batches (bench/RESULTS.md, one vs two workers).
            {"name": "WEB_CONCURRENCY", "value": str(web_concurrency(self._args.cpu))},
        ]

    def _task(self, image_ref: pulumi.Output[str], execution_role: aws.iam.Role,
              task_role: aws.iam.Role, log_group: aws.cloudwatch.LogGroup,
              ) -> aws.ecs.TaskDefinition:
        name, args = self._name, self._args
        container: dict[str, Any] = {
            "name": CONTAINER_NAME,
            # The pushed digest: a new image is a new revision, and nothing can move it.
            "image": image_ref,
            "essential": True,
            "portMappings": [{"containerPort": CONTAINER_PORT, "protocol": "tcp"}],
            "environment": self._environment(),
            "healthCheck": {"command": HEALTH_CHECK_COMMAND, "interval": 30, "timeout": 5,
                            "retries": 3, "startPeriod": 30},
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": log_group.name,
                "awslogs-region": self._region,
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
        return aws.ecs.TaskDefinition(
            f"{name}-task",
            # A family is required (no auto-naming); project+stack keeps stacks apart.
            family=f"{pulumi.get_project()}-{pulumi.get_stack()}-{name}",
            cpu=str(args.cpu), memory=str(args.memory), network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture="ARM64"),
            execution_role_arn=execution_role.arn, task_role_arn=task_role.arn,
            volumes=[aws.ecs.TaskDefinitionVolumeArgs(name="tmp")],  # the only writable path
            container_definitions=pulumi.Output.json_dumps([container]),
            opts=self._child())

    def _load_balancer(self, alb_sg: aws.ec2.SecurityGroup) -> _LoadBalancer:
        name, args, net = self._name, self._args, self._args.network
        access_logs, log_policy = None, []
        if args.access_logs_enabled:
            bucket, policy = access_log_bucket(
                self, name, retention_days=args.access_log_retention_days,
                force_destroy=not args.alb_deletion_protection, account_id=self._account_id,
                partition=self._partition, region=self._region)
            access_logs = aws.lb.LoadBalancerAccessLogsArgs(
                bucket=bucket.bucket, prefix=LOG_PREFIX, enabled=True)
            log_policy = [policy]  # ELB checks it may write when logging is enabled
        alb = aws.lb.LoadBalancer(
            f"{name}-alb", load_balancer_type="application", internal=False,
            subnets=net.public_subnet_ids, security_groups=[alb_sg.id],
            drop_invalid_header_fields=True, idle_timeout=ALB_IDLE_TIMEOUT_S,
            enable_deletion_protection=args.alb_deletion_protection, access_logs=access_logs,
            # Says on the resource that plain HTTP is deliberate (the policy pack checks it).
            tags={PLAIN_HTTP_TAG: "true"} if args.allow_plain_http else None,
            opts=self._child(depends_on=log_policy))
        target_group = aws.lb.TargetGroup(
            f"{name}-tg", port=CONTAINER_PORT, protocol="HTTP", target_type="ip",
            vpc_id=net.vpc_id, deregistration_delay=STOP_TIMEOUT_SECONDS,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                path="/healthcheck", matcher="200", interval=15, timeout=5,
                healthy_threshold=2, unhealthy_threshold=3),
            opts=self._child())
        listeners = self._listeners(alb, target_group)
        host: pulumi.Input[str] = alb.dns_name
        if args.domain_name and args.hosted_zone_id:
            alias_to_load_balancer(self, name, args.domain_name, args.hosted_zone_id, alb)
            host = args.domain_name
        url = pulumi.Output.concat("https://" if args.https else "http://", host)
        return _LoadBalancer(alb, target_group, listeners, url)

    def _listeners(self, alb: aws.lb.LoadBalancer,
                   target_group: aws.lb.TargetGroup) -> list[aws.lb.Listener]:
        name, args = self._name, self._args
        forward = [aws.lb.ListenerDefaultActionArgs(
            type="forward", target_group_arn=target_group.arn)]
        if not args.https:  # allow_plain_http, said explicitly
            return [aws.lb.Listener(
                f"{name}-http", load_balancer_arn=alb.arn, port=HTTP, protocol="HTTP",
                default_actions=forward, opts=self._child())]
        certificate_arn: pulumi.Input[str] = args.certificate_arn or validated_certificate(
            self, name, args.domain_name or "", args.hosted_zone_id or "")
        return [
            aws.lb.Listener(
                f"{name}-http", load_balancer_arn=alb.arn, port=HTTP, protocol="HTTP",
                default_actions=[aws.lb.ListenerDefaultActionArgs(
                    type="redirect", redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                        port=str(HTTPS), protocol="HTTPS", status_code="HTTP_301"))],
                opts=self._child()),
            aws.lb.Listener(
                f"{name}-https", load_balancer_arn=alb.arn, port=HTTPS, protocol="HTTPS",
                ssl_policy=TLS_POLICY, certificate_arn=certificate_arn,
                default_actions=forward, opts=self._child()),
        ]

    def _service(self, task_definition: aws.ecs.TaskDefinition, task_sg: aws.ec2.SecurityGroup,
                 lb: _LoadBalancer, grants: list[pulumi.Resource],
                 ) -> tuple[aws.ecs.Cluster, aws.ecs.Service]:
        name, args, net = self._name, self._args, self._args.network
        cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            opts=self._child())
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
            opts=self._child())
        # The target group must be behind a listener, the cluster must have its providers, the
        # tasks their network paths and the topic must exist before the service starts; on
        # destroy the service goes first.
        topic_ready = [args.topic.ready] if args.topic is not None and args.topic.ready else []
        service = aws.ecs.Service(
            f"{name}-service",
            cluster=cluster.arn, task_definition=task_definition.arn,
            desired_count=args.desired_count,
            # No launch_type: it would make ECS ignore the capacity-provider (Spot) strategy.
            capacity_provider_strategies=strategy,
            # ECS changes the strategy of an existing service only with a new deployment, and
            # the provider fails the plan of such a change unless this is true
            # (hashicorp/terraform-provider-aws#43533, pulumi-aws "aws.ecs.Service":
            # "Updating this argument requires `force_new_deployment = true`"). A constant adds
            # no diff of its own, so an `up` without changes deploys nothing (no `triggers`,
            # which would force one every time); it only makes the updates that happen anyway
            # roll the tasks: the first `up` that sets it, a strategy change, and the few
            # in-place changes that did not roll them (grace period, load balancers, subnets).
            # Rolling keeps 100 % healthy (minimum/maximum percent and circuit breaker below).
            force_new_deployment=True,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(
                enable=True, rollback=True),
            deployment_minimum_healthy_percent=100, deployment_maximum_percent=200,
            health_check_grace_period_seconds=args.health_check_grace_seconds,
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=net.private_subnet_ids, security_groups=[task_sg.id],
                assign_public_ip=False),
            load_balancers=[aws.ecs.ServiceLoadBalancerArgs(
                target_group_arn=lb.target_group.arn, container_name=CONTAINER_NAME,
                container_port=CONTAINER_PORT)],
            propagate_tags="SERVICE",
            opts=self._child(
                depends_on=[*lb.listeners, capacity, *grants, *topic_ready],
                # Autoscaling owns the task count once the service exists: an `up` must not
                # set it back (pulumi-aws "aws.ecs.Service", "Ignoring Changes to Desired
                # Count": ignore_changes on desiredCount).
                ignore_changes=["desiredCount"]))
        return cluster, service

    def _autoscaling(self, cluster: aws.ecs.Cluster, service: aws.ecs.Service,
                     lb: _LoadBalancer) -> None:
        name, args = self._name, self._args
        # desired_count 0 stops a running service too: the service's count is autoscaling's
        # (ignored by `up`), and updating the target "changes the resource's current capacity
        # to a value that is inside of this range" (Application Auto Scaling API reference,
        # RegisterScalableTarget, https://docs.aws.amazon.com/autoscaling/application/
        # APIReference/API_RegisterScalableTarget.html), so (0, 0) scales it to zero.
        low, high = args.scaling_range
        target = aws.appautoscaling.Target(
            f"{name}-scaling-target", service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", cluster.name, "/", service.name),
            min_capacity=low, max_capacity=high, opts=self._child())
        for suffix, metric, target_value, label in (
            ("cpu", "ECSServiceAverageCPUUtilization", args.cpu_target_percent, None),
            ("requests", "ALBRequestCountPerTarget", requests_per_target(args),
             pulumi.Output.concat(lb.alb.arn_suffix, "/", lb.target_group.arn_suffix)),
        ):
            aws.appautoscaling.Policy(
                f"{name}-{suffix}-scaling", policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension, resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=(
                    aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                        target_value=target_value,
                        predefined_metric_specification=aws.appautoscaling
                        .PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(  # noqa: E501
                            predefined_metric_type=metric, resource_label=label),
                        scale_in_cooldown=120, scale_out_cooldown=60)),
                opts=self._child())

    def _alarms(self, lb: _LoadBalancer) -> dict[str, aws.cloudwatch.MetricAlarm]:
        return create_alarms(
            self, self._name, ALARMS,
            targets={"load_balancer": {"LoadBalancer": lb.alb.arn_suffix},
                     "target_group": {"LoadBalancer": lb.alb.arn_suffix,
                                      "TargetGroup": lb.target_group.arn_suffix}},
            actions=self._args.alarm_actions)


REQUESTS_PER_VCPU_PER_MINUTE = 48_000.0
"""The request-count scaling target per vCPU of a task when the args name none (see
ApiServiceArgs.requests_per_target)."""


def requests_per_target(args: ApiServiceArgs) -> float:
    """The ALBRequestCountPerTarget goal: the args' own, or one scaled to the task's vCPUs."""
    if args.requests_per_target is not None:
        return args.requests_per_target
    return REQUESTS_PER_VCPU_PER_MINUTE * args.cpu / 1024
