package eventpipeline.mskiam;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Decides Kafka authorization questions for IAM principals: maps the operation to MSK's
 * kafka-cluster:* actions, evaluates the principal's policies for each on the resource's ARN,
 * caches the answer per (principal, operation, resource) and logs it once, when first decided.
 */
final class AuthorizationEngine {
    /**
     * Beyond this many distinct questions new answers are not cached (still decided and logged),
     * so a client inventing group or topic names cannot grow the broker's heap without bound.
     */
    static final int MAX_CACHED_DECISIONS = 100_000;
    /**
     * The resource name authorizeByResourceType asks about: the ARN ending in "*" matches only
     * patterns that cover every resource of the type (e.g. topic/NAME/UUID/*).
     */
    static final String ANY_RESOURCE = "*";

    private final PoliciesFile policies;
    private final boolean serverless;
    private final DecisionSink sink;
    private final ConcurrentHashMap<Key, Cached> cache = new ConcurrentHashMap<>();
    private final LongAdder decisionsComputed;

    /**
     * One engine per version of the policies file: a new version gets a new engine, so no decision
     * cached from the old policies survives a reload.
     *
     * @param decisionsComputed counts cache misses, shared across the versions for tests
     */
    AuthorizationEngine(PoliciesFile policies, boolean serverless, DecisionSink sink, LongAdder decisionsComputed) {
        this.policies = policies;
        this.decisionsComputed = decisionsComputed;
        this.serverless = serverless;
        this.sink = sink;
    }

    /**
     * @param requestType the API key of the Kafka request asking, named (e.g. JOIN_GROUP) in the
     *        log line of the first decision
     * @param warnIfDenied Kafka's logIfDenied: false for probes it expects to fail (the cluster-wide
     *        CREATE before per-topic checks, listing all topics); those denials stay at INFO
     */
    boolean authorize(String accessKeyId, AclOperation operation, ResourceType type, String name,
            int requestType, boolean warnIfDenied) {
        return decide(new Key(accessKeyId, operation, type, name, false), requestType, warnIfDenied);
    }

    /**
     * Kafka's authorizeByResourceType: may the principal do {@code operation} on at least one
     * resource of {@code type}? Kafka 4.1.1 asks it when an idempotent producer without
     * IDEMPOTENT_WRITE calls InitProducerId (WRITE on any TOPIC). Kafka's default implementation
     * probes one placeholder name and then reads ACL bindings, which IAM access control has none
     * of; on MSK the effect is that WriteData on topic/NAME/UUID/* lets an idempotent producer
     * start while WriteData on one topic ARN does not (ClusterAuthorizationFailed; reported in
     * confluentinc/librdkafka issue #4452). Probing the ARN named "*" gives the same answers.
     */
    boolean authorizeAnyResource(String accessKeyId, AclOperation operation, ResourceType type,
            int requestType) {
        return decide(new Key(accessKeyId, operation, type, ANY_RESOURCE, true), requestType, true);
    }

    PoliciesFile policies() {
        return policies;
    }

    private boolean decide(Key key, int requestType, boolean warnIfDenied) {
        Cached cached = cache.get(key);
        if (cached == null) {
            if (cache.size() >= MAX_CACHED_DECISIONS) {
                return log(compute(key), requestType, warnIfDenied).decision.allowed();
            }
            cached = cache.computeIfAbsent(key, k -> log(compute(k), requestType, warnIfDenied));
        } else if (!cached.decision.allowed() && warnIfDenied && cached.warned.compareAndSet(false, true)) {
            // First decided by a quiet probe; now a request Kafka reports as denied: say so once,
            // naming this request (the probe's, e.g. METADATA, would hide which call failed).
            sink.warn(cached.decision.logLine(requestName(requestType)));
        }
        return cached.decision.allowed();
    }

    private Cached log(OperationDecision decision, int requestType, boolean warnIfDenied) {
        // Named here, on a miss, so the cached path does no lookup at all.
        String line = decision.logLine(requestName(requestType));
        boolean warn = !decision.allowed() && warnIfDenied;
        if (warn) {
            sink.warn(line);
        } else {
            sink.info(line);
        }
        return new Cached(decision, new AtomicBoolean(warn || decision.allowed()));
    }

    private static String requestName(int requestType) {
        return ApiKeys.hasId(requestType) ? ApiKeys.forId(requestType).name() : "API_KEY_" + requestType;
    }

    private OperationDecision compute(Key key) {
        decisionsComputed.increment();
        LocalPrincipal principal = policies.principalsByAccessKey().get(key.accessKeyId);
        String principalName = principal == null ? "unknown" : principal.name();
        String operation = key.anyResource ? key.operation + "(any)" : key.operation.toString();
        String resource = key.type + ":" + key.name;
        MskResourceType mskType = mskType(key.type);
        String resourceArn = mskType == null ? "-" : policies.cluster().resource(mskType, key.name);
        MskAction primary = KafkaOperationMapping.actionFor(key.type, key.operation);
        if (primary == null) {
            return new OperationDecision(false, principalName, key.accessKeyId, operation, resource,
                    "-", null, resourceArn, KafkaOperationMapping.unmappedReason(key.type, key.operation),
                    List.of());
        }
        if (principal == null) {
            return new OperationDecision(false, principalName, key.accessKeyId, operation, resource,
                    primary.iamName(), null, resourceArn,
                    "access key id is not in the policies file (msk.iam.policies.file): every request is denied",
                    List.of());
        }
        List<MskAction> checked = new ArrayList<>();
        IamDecision primaryDecision = null;
        for (MskAction check : KafkaOperationMapping.checksFor(primary)) {
            String arn = check.resourceType() == MskResourceType.CLUSTER
                    ? policies.cluster().cluster() : resourceArn;
            String requiredBy = check == primary ? null : primary.iamName();
            if (serverless && !check.applicableToServerless()) {
                return new OperationDecision(false, principalName, key.accessKeyId, operation, resource,
                        check.iamName(), requiredBy, arn, check.iamName()
                        + " does not apply to serverless clusters (msk.iam.cluster.type=serverless)",
                        List.of());
            }
            IamDecision decision = IamPolicyEvaluator.evaluate(principal.statements(), check.iamName(), arn);
            if (!decision.allowed()) {
                return new OperationDecision(false, principalName, key.accessKeyId, operation, resource,
                        check.iamName(), requiredBy, arn, decision.describe(), List.of());
            }
            if (check == primary) {
                primaryDecision = decision;
            }
            checked.add(check);
        }
        String primaryArn = primary.resourceType() == MskResourceType.CLUSTER
                ? policies.cluster().cluster() : resourceArn;
        return new OperationDecision(true, principalName, key.accessKeyId, operation, resource,
                primary.iamName(), null, primaryArn, primaryDecision.describe(), checked);
    }

    private static MskResourceType mskType(ResourceType type) {
        return switch (type) {
            case CLUSTER -> MskResourceType.CLUSTER;
            case TOPIC -> MskResourceType.TOPIC;
            case GROUP -> MskResourceType.GROUP;
            case TRANSACTIONAL_ID -> MskResourceType.TRANSACTIONAL_ID;
            default -> null;
        };
    }

    private record Key(String accessKeyId, AclOperation operation, ResourceType type, String name,
            boolean anyResource) {
    }

    /** A decided question; {@code warned} once a WARN line was written (or none is due). */
    private record Cached(OperationDecision decision, AtomicBoolean warned) {
    }
}
