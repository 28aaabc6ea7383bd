package eventpipeline.mskiam;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.common.Endpoint;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.server.authorizer.AclCreateResult;
import org.apache.kafka.server.authorizer.AclDeleteResult;
import org.apache.kafka.server.authorizer.Action;
import org.apache.kafka.server.authorizer.AuthorizableRequestContext;
import org.apache.kafka.server.authorizer.AuthorizationResult;
import org.apache.kafka.server.authorizer.Authorizer;
import org.apache.kafka.server.authorizer.AuthorizerServerInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka authorizer that authorizes clients the way MSK does with IAM access control: each
 * operation becomes MSK's kafka-cluster:* action(s) on the cluster/topic/group/transactional-id
 * ARN, evaluated against the IAM policies of the caller's access key (see {@link PoliciesFile}).
 * <pre>
 * authorizer.class.name=eventpipeline.mskiam.MskIamAuthorizer
 * msk.iam.policies.file=/path/to/policies.json
 * msk.iam.authorizer.listener=SASL_SSL      (default)
 * msk.iam.cluster.type=serverless           (default; or provisioned)
 * </pre>
 * Only the MSK stand-in listener is enforced. The broker's other listeners (PLAINTEXT for the
 * operator, CONTROLLER, inter-broker) carry the anonymous principal and are allowed everything.
 * The one exception is a request the broker forwards to the controller on a client's behalf
 * (CreateTopics, DeleteTopics, CreatePartitions, configuration changes): in KRaft it reaches the
 * controller on the CONTROLLER listener but with the client's own principal (Kafka 4.1.1
 * EnvelopeUtils), so any non-anonymous principal is enforced wherever it arrives.
 * ACLs are not supported: IAM policies are the only source of permissions, as on MSK. The policies
 * file is read again when it changes, and a new version drops every cached decision.
 */
public final class MskIamAuthorizer implements Authorizer {
    static final String ACLS_UNSUPPORTED = "ACLs are not supported by the local broker's MSK IAM"
            + " authorizer: permissions come only from the IAM policies in " + AuthorizerSettings.POLICIES_FILE;

    private static final Logger LOG = LoggerFactory.getLogger(MskIamAuthorizer.class);
    private static final DecisionSink SLF4J_SINK = new DecisionSink() {
        @Override
        public void info(String line) {
            LOG.info(line);
        }

        @Override
        public void warn(String line) {
            LOG.warn(line);
        }
    };

    private final DecisionSink sink;
    private final LongAdder decisionsComputed = new LongAdder();
    /** Enforced authorization calls and the time spent in them, reported at close(). */
    private final LongAdder enforcedCalls = new LongAdder();
    private final LongAdder enforcedNanos = new LongAdder();
    private AuthorizerSettings settings;
    private WatchedFile<AuthorizationEngine> engines;
    private Set<String> controllerListeners = Set.of();

    public MskIamAuthorizer() {
        this(SLF4J_SINK);
    }

    /** For tests: decision lines go to {@code sink} instead of the broker log. */
    MskIamAuthorizer(DecisionSink sink) {
        this.sink = sink;
    }

    @Override
    public void configure(Map<String, ?> configs) {
        settings = AuthorizerSettings.from(configs);
        boolean serverless = settings.serverless();
        try {
            // The file is read again whenever it changes (see WatchedFile): the local broker
            // learns new principals, topics and groups without a restart.
            engines = WatchedFile.load(settings.policiesFile(),
                    path -> new AuthorizationEngine(PoliciesFile.load(path), serverless, sink, decisionsComputed),
                    new WatchedFile.Listener<>() {
                        @Override
                        public void reloaded(AuthorizationEngine engine) {
                            LOG.info("MSK IAM policies reloaded from {}: principals {}", settings.policiesFile(),
                                    principalNames(engine.policies()));
                            warnAbout(engine.policies());
                        }

                        @Override
                        public void rejected(String problem) {
                            LOG.error("MSK IAM policies not reloaded: {}", problem);
                        }
                    });
        } catch (Exception e) {
            throw new KafkaException(e.getMessage());
        }
        warnAbout(engines.current().policies());
        Object controllers = configs.get("controller.listener.names");
        if (controllers != null) {
            Set<String> names = new HashSet<>();
            for (String name : controllers.toString().split(",")) {
                names.add(name.trim().toUpperCase(Locale.ROOT));
            }
            controllerListeners = Set.copyOf(names);
        }
    }

    private static void warnAbout(PoliciesFile policies) {
        for (String warning : policies.warnings()) {
            LOG.warn("MSK IAM policies: {}", warning);
        }
    }

    private static List<String> principalNames(PoliciesFile policies) {
        List<String> names = new ArrayList<>();
        policies.principalsByAccessKey().values().forEach(p -> names.add(p.name() + "=" + p.accessKeyId()));
        return names;
    }

    @Override
    public Map<Endpoint, ? extends CompletionStage<Void>> start(AuthorizerServerInfo serverInfo) {
        requireConfigured();
        Map<Endpoint, CompletableFuture<Void>> ready = new HashMap<>();
        boolean controllerOnly = !serverInfo.endpoints().isEmpty();
        for (Endpoint endpoint : serverInfo.endpoints()) {
            // Policies are loaded in configure(): every listener can start at once.
            ready.put(endpoint, CompletableFuture.completedFuture(null));
            String name = String.valueOf(endpoint.listener()).toUpperCase(Locale.ROOT);
            controllerOnly &= controllerListeners.contains(name);
        }
        PoliciesFile policies = engines.current().policies();
        LOG.info("MSK IAM authorizer ready ({}): cluster {}, {} cluster, enforcing listener {}, principals {},"
                + " policies file {} (read again when it changes)",
                controllerOnly ? "controller" : "broker", policies.cluster(),
                settings.serverless() ? "serverless" : "provisioned", settings.listener(),
                principalNames(policies), settings.policiesFile());
        return ready;
    }

    @Override
    public List<AuthorizationResult> authorize(AuthorizableRequestContext context, List<Action> actions) {
        requireConfigured();
        List<AuthorizationResult> results = new ArrayList<>(actions.size());
        if (!enforced(context)) {
            for (int i = 0; i < actions.size(); i++) {
                results.add(AuthorizationResult.ALLOWED);
            }
            return results;
        }
        long started = System.nanoTime();
        String accessKeyId = context.principal().getName();
        AuthorizationEngine engine = engines.current();
        for (Action action : actions) {
            // Kafka asks about concrete (LITERAL) names; a pattern is never a request's resource.
            boolean allowed = action.resourcePattern().patternType() == PatternType.LITERAL
                    && engine.authorize(accessKeyId, action.operation(),
                            action.resourcePattern().resourceType(), action.resourcePattern().name(),
                            context.requestType(), action.logIfDenied());
            results.add(allowed ? AuthorizationResult.ALLOWED : AuthorizationResult.DENIED);
        }
        count(started);
        return results;
    }

    /** See {@link AuthorizationEngine#authorizeAnyResource}; the default would read ACLs. */
    @Override
    public AuthorizationResult authorizeByResourceType(AuthorizableRequestContext context,
            AclOperation operation, ResourceType resourceType) {
        requireConfigured();
        if (!enforced(context)) {
            return AuthorizationResult.ALLOWED;
        }
        long started = System.nanoTime();
        boolean allowed = engines.current().authorizeAnyResource(context.principal().getName(), operation,
                resourceType, context.requestType());
        count(started);
        return allowed ? AuthorizationResult.ALLOWED : AuthorizationResult.DENIED;
    }

    /** True for requests that arrived on the MSK listener, or were forwarded for a client of it. */
    private boolean enforced(AuthorizableRequestContext context) {
        if (settings.listener().equalsIgnoreCase(context.listenerName())) {
            return true;
        }
        KafkaPrincipal principal = context.principal();
        return !(KafkaPrincipal.ANONYMOUS.getPrincipalType().equals(principal.getPrincipalType())
                && KafkaPrincipal.ANONYMOUS.getName().equals(principal.getName()));
    }

    @Override
    public List<? extends CompletionStage<AclCreateResult>> createAcls(
            AuthorizableRequestContext context, List<AclBinding> aclBindings) {
        List<CompletableFuture<AclCreateResult>> results = new ArrayList<>();
        for (int i = 0; i < aclBindings.size(); i++) {
            results.add(CompletableFuture.completedFuture(
                    new AclCreateResult(new InvalidRequestException(ACLS_UNSUPPORTED))));
        }
        return results;
    }

    @Override
    public List<? extends CompletionStage<AclDeleteResult>> deleteAcls(
            AuthorizableRequestContext context, List<AclBindingFilter> filters) {
        List<CompletableFuture<AclDeleteResult>> results = new ArrayList<>();
        for (int i = 0; i < filters.size(); i++) {
            results.add(CompletableFuture.completedFuture(
                    new AclDeleteResult(new InvalidRequestException(ACLS_UNSUPPORTED))));
        }
        return results;
    }

    /** DescribeAcls answers with this error (INVALID_REQUEST and the message) instead of "none". */
    @Override
    public Iterable<AclBinding> acls(AclBindingFilter filter) {
        throw new InvalidRequestException(ACLS_UNSUPPORTED);
    }

    private void count(long startedNanos) {
        enforcedNanos.add(System.nanoTime() - startedNanos);
        enforcedCalls.increment();
    }

    /**
     * Nothing to release (requests still in flight during shutdown keep being answered); reports
     * what authorization cost this broker, the figure bench/authz_cost.py reads.
     */
    @Override
    public void close() {
        long calls = enforcedCalls.sum();
        long nanos = enforcedNanos.sum();
        sink.info(String.format(Locale.ROOT,
                "MSK IAM authorizer closing: calls=%d decisions_computed=%d time_ms=%.3f mean_us=%.3f",
                calls, decisionsComputed.sum(), nanos / 1e6, calls == 0 ? 0.0 : nanos / 1e3 / calls));
    }

    /** Questions decided from the policies so far (cache misses), for tests. */
    long decisionsComputed() {
        return decisionsComputed.sum();
    }

    private void requireConfigured() {
        if (engines == null) {
            throw new IllegalStateException("MSK IAM authorizer used before configure()");
        }
    }
}
