package eventpipeline.mskiam;

import static eventpipeline.mskiam.PolicyFixtures.CLUSTER_ARN;
import static eventpipeline.mskiam.PolicyFixtures.groupArn;
import static eventpipeline.mskiam.PolicyFixtures.topicArn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.ClusterResource;
import org.apache.kafka.common.Endpoint;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.network.ClientInformation;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.server.authorizer.Action;
import org.apache.kafka.server.authorizer.AuthorizationResult;
import org.apache.kafka.server.authorizer.AuthorizerServerInfo;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The authorizer as the broker drives it: configure from properties, then Kafka's own request objects. */
class MskIamAuthorizerTest {
    private static final String API_KEY = "AKIAAPIEXAMPLE000001";
    private static final String CONSUMER_KEY = "AKIACONSUMEREXAMPLE1";
    private static final String ADMIN_KEY = "AKIAADMINEXAMPLE0001";

    /** The API: produce to "events" only. */
    private static final String API_POLICY = """
            {"Version": "2012-10-17", "Statement": [
              {"Sid": "Connect", "Effect": "Allow", "Action": ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
               "Resource": "%s"},
              {"Sid": "ProduceEvents", "Effect": "Allow",
               "Action": ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"], "Resource": "%s"}]}"""
            .formatted(CLUSTER_ARN, topicArn("events"));
    /** The consumer: read every topic of the cluster, use groups named esm-*; but never "secret". */
    private static final String CONSUMER_POLICY = """
            {"Version": "2012-10-17", "Statement": [
              {"Effect": "Allow", "Action": "kafka-cluster:Connect", "Resource": "%s"},
              {"Sid": "ReadAll", "Effect": "Allow", "Action": ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
               "Resource": "%s"},
              {"Sid": "Groups", "Effect": "Allow", "Action": ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
               "Resource": "%s"},
              {"Sid": "NotSecret", "Effect": "Deny", "Action": "kafka-cluster:*", "Resource": "%s"}]}"""
            .formatted(CLUSTER_ARN, topicArn("*"), groupArn("esm-*"), topicArn("secret"));
    private static final String ADMIN_POLICY = """
            {"Statement": {"Effect": "Allow", "Action": "kafka-cluster:*", "Resource": "*"}}""";

    @TempDir
    Path dir;
    private final List<String> info = new ArrayList<>();
    private final List<String> warn = new ArrayList<>();
    private MskIamAuthorizer authorizer;

    @BeforeEach
    void configure() throws Exception {
        authorizer = configured(Map.of());
    }

    private MskIamAuthorizer configured(Map<String, String> extra) throws Exception {
        Path policies = dir.resolve("policies.json");
        Files.writeString(policies, """
                {"cluster_arn": "%s", "principals": {
                  "%s": {"name": "api", "policies": [%s]},
                  "%s": {"name": "consumer", "policies": [%s]},
                  "%s": {"name": "admin", "policies": [%s]}}}"""
                .formatted(CLUSTER_ARN, API_KEY, API_POLICY, CONSUMER_KEY, CONSUMER_POLICY, ADMIN_KEY, ADMIN_POLICY));
        MskIamAuthorizer created = new MskIamAuthorizer(new DecisionSink() {
            @Override
            public void info(String line) {
                info.add(line);
            }

            @Override
            public void warn(String line) {
                warn.add(line);
            }
        });
        Map<String, Object> configs = new HashMap<>();
        configs.put("msk.iam.policies.file", policies.toString());
        configs.put("controller.listener.names", "CONTROLLER");
        configs.putAll(extra);
        created.configure(configs);
        return created;
    }

    private static RequestContext context(String listener, KafkaPrincipal principal, ApiKeys api) {
        SecurityProtocol protocol = listener.equals("SASL_SSL") ? SecurityProtocol.SASL_SSL : SecurityProtocol.PLAINTEXT;
        return new RequestContext(new RequestHeader(api, api.latestVersion(), "junit", 7), "conn-1",
                InetAddress.getLoopbackAddress(), principal, ListenerName.normalised(listener), protocol,
                ClientInformation.EMPTY, false);
    }

    private static RequestContext sasl(String accessKeyId, ApiKeys api) {
        return context("SASL_SSL", new KafkaPrincipal(KafkaPrincipal.USER_TYPE, accessKeyId), api);
    }

    private static Action action(AclOperation operation, ResourceType type, String name, boolean logIfDenied) {
        return new Action(operation, new ResourcePattern(type, name, PatternType.LITERAL), 1, true, logIfDenied);
    }

    private AuthorizationResult ask(RequestContext context, AclOperation operation, ResourceType type, String name) {
        return authorizer.authorize(context, List.of(action(operation, type, name, true))).get(0);
    }

    private static final AuthorizationResult ALLOWED = AuthorizationResult.ALLOWED;
    private static final AuthorizationResult DENIED = AuthorizationResult.DENIED;

    @Test
    void producerPrincipalIsAuthorizedByItsAccessKeyPolicies() {
        RequestContext api = sasl(API_KEY, ApiKeys.PRODUCE);
        assertEquals(ALLOWED, ask(api, AclOperation.WRITE, ResourceType.TOPIC, "events"));
        assertEquals(ALLOWED, ask(api, AclOperation.DESCRIBE, ResourceType.TOPIC, "events"));
        assertEquals(DENIED, ask(api, AclOperation.WRITE, ResourceType.TOPIC, "audit"));
        assertEquals(DENIED, ask(api, AclOperation.READ, ResourceType.TOPIC, "events"), "the API cannot read");
        assertEquals(DENIED, ask(api, AclOperation.READ, ResourceType.GROUP, "esm-1"), "nor join a group");
    }

    @Test
    void consumerCannotWriteAndDenyBeatsWildcardAllow() {
        RequestContext consumer = sasl(CONSUMER_KEY, ApiKeys.FETCH);
        assertEquals(ALLOWED, ask(consumer, AclOperation.READ, ResourceType.TOPIC, "events"));
        assertEquals(ALLOWED, ask(consumer, AclOperation.READ, ResourceType.TOPIC, "anything"));
        assertEquals(DENIED, ask(consumer, AclOperation.WRITE, ResourceType.TOPIC, "events"));
        assertEquals(DENIED, ask(consumer, AclOperation.READ, ResourceType.TOPIC, "secret"));
        assertEquals(ALLOWED, ask(consumer, AclOperation.READ, ResourceType.GROUP, "esm-1"));
        assertEquals(DENIED, ask(consumer, AclOperation.READ, ResourceType.GROUP, "other"));
        assertEquals(DENIED, ask(consumer, AclOperation.DELETE, ResourceType.GROUP, "esm-1"));
    }

    @Test
    void severalActionsInOneCallAreAnsweredInOrder() {
        List<AuthorizationResult> results = authorizer.authorize(sasl(API_KEY, ApiKeys.METADATA), List.of(
                action(AclOperation.DESCRIBE, ResourceType.TOPIC, "audit", false),
                action(AclOperation.DESCRIBE, ResourceType.TOPIC, "events", false)));
        assertEquals(List.of(DENIED, ALLOWED), results);
    }

    @Test
    void unknownAccessKeyIsDeniedEverythingAndLogged() {
        RequestContext stranger = sasl("AKIASTRANGER00000001", ApiKeys.PRODUCE);
        assertEquals(DENIED, ask(stranger, AclOperation.WRITE, ResourceType.TOPIC, "events"));
        assertEquals(DENIED, ask(stranger, AclOperation.DESCRIBE, ResourceType.CLUSTER, "kafka-cluster"));
        assertEquals(2, warn.size());
        assertTrue(warn.get(0).startsWith("MSK IAM DENY principal=unknown access_key=AKIASTRANGER00000001 "), warn.get(0));
        assertTrue(warn.get(0).contains("not in the policies file"), warn.get(0));
    }

    @Test
    void otherListenersWithTheAnonymousPrincipalAreTheOperatorsAndAllowed() {
        for (String listener : List.of("PLAINTEXT", "CONTROLLER")) {
            RequestContext operator = context(listener, KafkaPrincipal.ANONYMOUS, ApiKeys.CREATE_TOPICS);
            assertEquals(ALLOWED, ask(operator, AclOperation.CREATE, ResourceType.TOPIC, "anything"));
            assertEquals(ALLOWED, ask(operator, AclOperation.CLUSTER_ACTION, ResourceType.CLUSTER, "kafka-cluster"));
            assertEquals(ALLOWED, authorizer.authorizeByResourceType(operator, AclOperation.WRITE, ResourceType.TOPIC));
        }
        assertEquals(0, authorizer.decisionsComputed());
        assertTrue(info.isEmpty() && warn.isEmpty(), "operator traffic is not logged per request");
    }

    @Test
    void requestForwardedToTheControllerForAClientIsEnforced() {
        // KRaft: CreateTopics reaches the controller on CONTROLLER, carrying the client's principal.
        RequestContext forwarded = context("CONTROLLER", new KafkaPrincipal(KafkaPrincipal.USER_TYPE, API_KEY),
                ApiKeys.CREATE_TOPICS);
        assertEquals(DENIED, ask(forwarded, AclOperation.CREATE, ResourceType.TOPIC, "events"));
        RequestContext admin = context("CONTROLLER", new KafkaPrincipal(KafkaPrincipal.USER_TYPE, ADMIN_KEY),
                ApiKeys.CREATE_TOPICS);
        assertEquals(ALLOWED, ask(admin, AclOperation.CREATE, ResourceType.TOPIC, "events"));
    }

    @Test
    void enforcedListenerIsAProperty() throws Exception {
        MskIamAuthorizer onPlaintext = configured(Map.of("msk.iam.authorizer.listener", "plaintext"));
        RequestContext anonymous = context("PLAINTEXT", KafkaPrincipal.ANONYMOUS, ApiKeys.PRODUCE);
        assertEquals(DENIED, onPlaintext.authorize(anonymous,
                List.of(action(AclOperation.WRITE, ResourceType.TOPIC, "events", true))).get(0));
    }

    @Test
    void aCacheHitDoesNotEvaluateOrLogAgain() {
        RequestContext api = sasl(API_KEY, ApiKeys.PRODUCE);
        for (int i = 0; i < 1000; i++) {
            assertEquals(ALLOWED, ask(api, AclOperation.WRITE, ResourceType.TOPIC, "events"));
        }
        assertEquals(1, authorizer.decisionsComputed());
        assertEquals(1, info.size());
        ask(api, AclOperation.WRITE, ResourceType.TOPIC, "audit");
        ask(api, AclOperation.WRITE, ResourceType.TOPIC, "audit");
        assertEquals(2, authorizer.decisionsComputed());
        assertEquals(1, warn.size());
        // Another principal asking the same question is a different question.
        ask(sasl(CONSUMER_KEY, ApiKeys.PRODUCE), AclOperation.WRITE, ResourceType.TOPIC, "events");
        assertEquals(3, authorizer.decisionsComputed());
    }

    /** Writes a new policies file and renames it over the one the authorizer reads, as LocalKafka does. */
    private void replacePolicies(String json) throws Exception {
        Path next = dir.resolve("policies.json.next");
        Files.writeString(next, json);
        Files.move(next, dir.resolve("policies.json"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void aChangedPoliciesFileDecidesTheNextRequestAndNoCachedDecisionSurvivesIt() throws Exception {
        RequestContext api = sasl(API_KEY, ApiKeys.PRODUCE);
        assertEquals(ALLOWED, ask(api, AclOperation.WRITE, ResourceType.TOPIC, "events"));
        assertEquals(DENIED, ask(api, AclOperation.WRITE, ResourceType.TOPIC, "audit"));
        // The API's policy now names "audit" instead of "events"; the consumer key is gone.
        replacePolicies(PolicyFixtures.file(API_KEY, "api", API_POLICY.replace(topicArn("events"), topicArn("audit"))));
        assertEquals(DENIED, ask(api, AclOperation.WRITE, ResourceType.TOPIC, "events"));
        assertEquals(ALLOWED, ask(api, AclOperation.WRITE, ResourceType.TOPIC, "audit"));
        assertEquals(DENIED, ask(sasl(CONSUMER_KEY, ApiKeys.FETCH), AclOperation.READ, ResourceType.TOPIC, "events"));
        assertTrue(warn.get(warn.size() - 1).contains("not in the policies file"), warn.get(warn.size() - 1));
        long computed = authorizer.decisionsComputed();
        ask(api, AclOperation.WRITE, ResourceType.TOPIC, "audit");
        assertEquals(computed, authorizer.decisionsComputed(), "the new version's decisions are cached");
    }

    @Test
    void aBrokenPoliciesFileKeepsThePreviousPoliciesInForce() throws Exception {
        RequestContext api = sasl(API_KEY, ApiKeys.PRODUCE);
        assertEquals(ALLOWED, ask(api, AclOperation.WRITE, ResourceType.TOPIC, "events"));
        replacePolicies("{\"cluster_arn\": \"not an arn\"");
        assertEquals(ALLOWED, ask(api, AclOperation.WRITE, ResourceType.TOPIC, "events"));
        assertEquals(DENIED, ask(api, AclOperation.WRITE, ResourceType.TOPIC, "audit"));
        replacePolicies(PolicyFixtures.file(API_KEY, "api", ADMIN_POLICY));
        assertEquals(ALLOWED, ask(api, AclOperation.WRITE, ResourceType.TOPIC, "audit"), "a good version applies again");
    }

    @Test
    void closeReportsHowManyCallsWereAuthorizedAndTheTimeSpent() {
        RequestContext api = sasl(API_KEY, ApiKeys.PRODUCE);
        for (int i = 0; i < 5; i++) {
            ask(api, AclOperation.WRITE, ResourceType.TOPIC, "events");
        }
        authorizer.authorizeByResourceType(api, AclOperation.WRITE, ResourceType.TOPIC);
        ask(context("PLAINTEXT", KafkaPrincipal.ANONYMOUS, ApiKeys.PRODUCE), AclOperation.WRITE,
                ResourceType.TOPIC, "events"); // the operator's listener is not counted
        info.clear();
        authorizer.close();
        assertEquals(1, info.size());
        assertTrue(info.get(0).matches("MSK IAM authorizer closing: calls=6 decisions_computed=2"
                + " time_ms=[0-9]+\\.[0-9]{3} mean_us=[0-9]+\\.[0-9]{3}"), info.get(0));
    }

    @Test
    void allowLineNamesPrincipalOperationActionArnAndStatement() {
        ask(sasl(API_KEY, ApiKeys.PRODUCE), AclOperation.WRITE, ResourceType.TOPIC, "events");
        assertEquals(List.of("MSK IAM ALLOW principal=api access_key=" + API_KEY + " operation=WRITE"
                + " resource=TOPIC:events request=PRODUCE iam_action=kafka-cluster:WriteData iam_resource="
                + topicArn("events") + " checked=kafka-cluster:Connect,kafka-cluster:WriteData,kafka-cluster:DescribeTopic"
                + " decided_by=\"allowed by \\\"ProduceEvents\\\" (policies[0].Statement[1])\""), info);
        assertTrue(warn.isEmpty());
    }

    @Test
    void denyLineIsWarnedWithTheReason() {
        ask(sasl(API_KEY, ApiKeys.JOIN_GROUP), AclOperation.READ, ResourceType.GROUP, "esm-1");
        assertEquals(List.of("MSK IAM DENY principal=api access_key=" + API_KEY + " operation=READ"
                + " resource=GROUP:esm-1 request=JOIN_GROUP iam_action=kafka-cluster:AlterGroup iam_resource="
                + groupArn("esm-1") + " decided_by=\"implicit deny: no statement allows\""), warn);
        ask(sasl(CONSUMER_KEY, ApiKeys.FETCH), AclOperation.READ, ResourceType.TOPIC, "secret");
        assertTrue(warn.get(1).contains("iam_action=kafka-cluster:ReadData")
                && warn.get(1).contains("decided_by=\"explicit deny by \\\"NotSecret\\\" (policies[0].Statement[3])\""),
                warn.get(1));
    }

    @Test
    void aMissingRequiredActionIsNamedAsSuch() throws Exception {
        Path policies = dir.resolve("required.json");
        Files.writeString(policies, PolicyFixtures.file("AKIAREADONLY", "reader", """
                {"Statement": [
                  {"Effect": "Allow", "Action": "kafka-cluster:Connect", "Resource": "%s"},
                  {"Effect": "Allow", "Action": "kafka-cluster:ReadData", "Resource": "%s"}]}"""
                .formatted(CLUSTER_ARN, topicArn("*"))));
        MskIamAuthorizer reader = configured(Map.of("msk.iam.policies.file", policies.toString()));
        assertEquals(DENIED, reader.authorize(sasl("AKIAREADONLY", ApiKeys.FETCH),
                List.of(action(AclOperation.READ, ResourceType.TOPIC, "events", true))).get(0));
        String line = warn.get(warn.size() - 1);
        assertTrue(line.contains("iam_action=kafka-cluster:DescribeTopic required_by=kafka-cluster:ReadData"), line);
    }

    @Test
    void connectOnTheClusterIsRequiredForEveryRequest() throws Exception {
        Path policies = dir.resolve("noconnect.json");
        Files.writeString(policies, PolicyFixtures.file("AKIANOCONNECT", "writer", """
                {"Statement": {"Effect": "Allow", "Action": ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
                 "Resource": "%s"}}""".formatted(topicArn("events"))));
        MskIamAuthorizer writer = configured(Map.of("msk.iam.policies.file", policies.toString()));
        assertEquals(DENIED, writer.authorize(sasl("AKIANOCONNECT", ApiKeys.PRODUCE),
                List.of(action(AclOperation.WRITE, ResourceType.TOPIC, "events", true))).get(0));
        String line = warn.get(warn.size() - 1);
        assertTrue(line.contains("iam_action=kafka-cluster:Connect required_by=kafka-cluster:WriteData iam_resource="
                + CLUSTER_ARN + " "), line);
    }

    @Test
    void kafkasQuietProbesAreLoggedAtInfoAndWarnedWhenARealRequestIsDenied() {
        RequestContext api = sasl(API_KEY, ApiKeys.METADATA);
        authorizer.authorize(api, List.of(action(AclOperation.DESCRIBE, ResourceType.TOPIC, "audit", false)));
        assertEquals(1, info.size());
        assertTrue(warn.isEmpty());
        ask(sasl(API_KEY, ApiKeys.DESCRIBE_CONFIGS), AclOperation.DESCRIBE, ResourceType.TOPIC, "audit");
        ask(api, AclOperation.DESCRIBE, ResourceType.TOPIC, "audit");
        assertEquals(1, warn.size(), "warned once, from the cache");
        assertEquals(1, authorizer.decisionsComputed());
        assertTrue(info.get(0).contains(" request=METADATA "), info.get(0));
        assertTrue(warn.get(0).contains(" request=DESCRIBE_CONFIGS "), "names the request that failed: " + warn.get(0));
    }

    @Test
    void clusterWideCreateIsLeftToThePerTopicCheck() {
        RequestContext admin = sasl(ADMIN_KEY, ApiKeys.CREATE_TOPICS);
        assertEquals(DENIED, authorizer.authorize(admin,
                List.of(action(AclOperation.CREATE, ResourceType.CLUSTER, "kafka-cluster", false))).get(0));
        assertTrue(info.get(0).contains("MSK authorizes creation per topic"), info.get(0));
        assertEquals(ALLOWED, ask(admin, AclOperation.CREATE, ResourceType.TOPIC, "events"));
        assertEquals(DENIED, ask(sasl(API_KEY, ApiKeys.CREATE_TOPICS), AclOperation.CREATE, ResourceType.TOPIC, "events"));
    }

    @Test
    void interBrokerOperationIsDeniedToClients() {
        assertEquals(DENIED, ask(sasl(ADMIN_KEY, ApiKeys.WRITE_TXN_MARKERS), AclOperation.CLUSTER_ACTION,
                ResourceType.CLUSTER, "kafka-cluster"));
    }

    @Test
    void serverlessClusterRefusesActionsTheTableMarksNotApplicable() throws Exception {
        RequestContext admin = sasl(ADMIN_KEY, ApiKeys.DESCRIBE_CONFIGS);
        assertEquals(DENIED, ask(admin, AclOperation.DESCRIBE_CONFIGS, ResourceType.CLUSTER, "kafka-cluster"));
        assertTrue(warn.get(0).contains("kafka-cluster:DescribeClusterDynamicConfiguration does not apply to serverless"),
                warn.get(0));
        assertEquals(DENIED, ask(admin, AclOperation.ALTER, ResourceType.CLUSTER, "kafka-cluster"));
        assertEquals(ALLOWED, ask(admin, AclOperation.DESCRIBE, ResourceType.CLUSTER, "kafka-cluster"));
        assertEquals(ALLOWED, ask(admin, AclOperation.DESCRIBE_CONFIGS, ResourceType.TOPIC, "events"));

        MskIamAuthorizer provisioned = configured(Map.of("msk.iam.cluster.type", "provisioned"));
        assertEquals(ALLOWED, provisioned.authorize(admin, List.of(
                action(AclOperation.DESCRIBE_CONFIGS, ResourceType.CLUSTER, "kafka-cluster", true))).get(0));
    }

    @Test
    void authorizeByResourceTypeAllowsOnlyAGrantCoveringEveryResourceOfTheType() {
        RequestContext api = sasl(API_KEY, ApiKeys.INIT_PRODUCER_ID);
        // WriteData on one topic ARN: an idempotent producer without WriteDataIdempotently fails, as on MSK.
        assertEquals(DENIED, ask(api, AclOperation.IDEMPOTENT_WRITE, ResourceType.CLUSTER, "kafka-cluster"));
        assertEquals(DENIED, authorizer.authorizeByResourceType(api, AclOperation.WRITE, ResourceType.TOPIC));
        // ReadData on topic/local/u-1/* does cover "some topic".
        RequestContext consumer = sasl(CONSUMER_KEY, ApiKeys.INIT_PRODUCER_ID);
        assertEquals(ALLOWED, authorizer.authorizeByResourceType(consumer, AclOperation.READ, ResourceType.TOPIC));
        assertEquals(DENIED, authorizer.authorizeByResourceType(consumer, AclOperation.WRITE, ResourceType.TOPIC));
        RequestContext admin = sasl(ADMIN_KEY, ApiKeys.INIT_PRODUCER_ID);
        assertEquals(ALLOWED, authorizer.authorizeByResourceType(admin, AclOperation.WRITE, ResourceType.TOPIC));
        assertEquals(ALLOWED, ask(admin, AclOperation.IDEMPOTENT_WRITE, ResourceType.CLUSTER, "kafka-cluster"));
        String probe = info.stream().filter(l -> l.contains("operation=READ(any)")).findFirst().orElseThrow();
        assertTrue(probe.contains("iam_resource=" + topicArn("*")), probe);
        int computed = (int) authorizer.decisionsComputed();
        authorizer.authorizeByResourceType(admin, AclOperation.WRITE, ResourceType.TOPIC);
        assertEquals(computed, authorizer.decisionsComputed(), "cached too");
    }

    @Test
    void startReadiesEveryListenerAtOnce() {
        Endpoint sasl = new Endpoint("SASL_SSL", SecurityProtocol.SASL_SSL, "127.0.0.1", 9093);
        Endpoint plain = new Endpoint("PLAINTEXT", SecurityProtocol.PLAINTEXT, "127.0.0.1", 9092);
        Map<Endpoint, ? extends CompletionStage<Void>> ready = authorizer.start(new AuthorizerServerInfo() {
            @Override
            public ClusterResource clusterResource() {
                return new ClusterResource("c");
            }

            @Override
            public int brokerId() {
                return 1;
            }

            @Override
            public java.util.Collection<Endpoint> endpoints() {
                return List.of(sasl, plain);
            }

            @Override
            public Endpoint interBrokerEndpoint() {
                return plain;
            }

            @Override
            public java.util.Collection<String> earlyStartListeners() {
                return List.of();
            }
        });
        assertEquals(2, ready.size());
        ready.values().forEach(stage -> assertTrue(stage.toCompletableFuture().isDone()
                && !stage.toCompletableFuture().isCompletedExceptionally()));
    }

    @Test
    void aclsAreRefusedWithAClearMessage() throws Exception {
        AclBinding binding = new AclBinding(new ResourcePattern(ResourceType.TOPIC, "events", PatternType.LITERAL),
                new AccessControlEntry("User:x", "*", AclOperation.READ, AclPermissionType.ALLOW));
        var created = authorizer.createAcls(sasl(ADMIN_KEY, ApiKeys.CREATE_ACLS), List.of(binding)).get(0)
                .toCompletableFuture().get();
        assertTrue(created.exception().orElseThrow() instanceof InvalidRequestException);
        assertTrue(created.exception().orElseThrow().getMessage().contains("ACLs are not supported"));
        var deleted = authorizer.deleteAcls(sasl(ADMIN_KEY, ApiKeys.DELETE_ACLS), List.of(AclBindingFilter.ANY)).get(0)
                .toCompletableFuture().get();
        assertTrue(deleted.exception().orElseThrow().getMessage().contains("ACLs are not supported"));
        InvalidRequestException described = assertThrows(InvalidRequestException.class,
                () -> authorizer.acls(AclBindingFilter.ANY));
        assertTrue(described.getMessage().contains("msk.iam.policies.file"));
    }

    @Test
    void badConfigurationStopsTheBrokerWithTheReason() {
        MskIamAuthorizer fresh = new MskIamAuthorizer();
        ConfigException missing = assertThrows(ConfigException.class, () -> fresh.configure(Map.of()));
        assertTrue(missing.getMessage().contains("msk.iam.policies.file"));
        KafkaException unreadable = assertThrows(KafkaException.class,
                () -> fresh.configure(Map.of("msk.iam.policies.file", dir.resolve("missing.json").toString())));
        assertTrue(unreadable.getMessage().contains("missing.json"), unreadable.getMessage());
        ConfigException type = assertThrows(ConfigException.class, () -> fresh.configure(Map.of(
                "msk.iam.policies.file", "x", "msk.iam.cluster.type", "dedicated")));
        assertTrue(type.getMessage().contains("msk.iam.cluster.type"));
        assertThrows(IllegalStateException.class, () -> fresh.authorize(sasl(API_KEY, ApiKeys.PRODUCE), List.of()));
    }
}
