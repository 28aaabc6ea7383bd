package eventpipeline.mskiam;

import static eventpipeline.mskiam.PolicyFixtures.groupArn;
import static eventpipeline.mskiam.PolicyFixtures.statements;
import static eventpipeline.mskiam.PolicyFixtures.topicArn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * IAM evaluation as the IAM User Guide describes it ("The difference between explicit and implicit
 * denies", "IAM JSON policy elements: Action / NotAction / Resource / NotResource"), with the local
 * rule for Conditions (fail closed).
 */
class IamPolicyEvaluatorTest {
    private static final String WRITE = "kafka-cluster:WriteData";
    private static final String READ = "kafka-cluster:ReadData";

    private static IamDecision evaluate(List<PolicyStatement> statements, String action, String arn) {
        return IamPolicyEvaluator.evaluate(statements, action, arn);
    }

    @Test
    void allowStatementAllowsItsActionOnItsResource() {
        List<PolicyStatement> s = statements("""
                {"Version": "2012-10-17", "Statement": [{"Sid": "Write", "Effect": "Allow",
                  "Action": "kafka-cluster:WriteData", "Resource": "%s"}]}""".formatted(topicArn("a")));
        IamDecision decision = evaluate(s, WRITE, topicArn("a"));
        assertEquals(IamDecision.Outcome.ALLOW, decision.outcome());
        assertEquals("allowed by \"Write\" (policies[0].Statement[0])", decision.describe());
        assertEquals(IamDecision.Outcome.IMPLICIT_DENY, evaluate(s, WRITE, topicArn("b")).outcome());
        assertEquals(IamDecision.Outcome.IMPLICIT_DENY, evaluate(s, READ, topicArn("a")).outcome());
    }

    @Test
    void nothingAllowsMeansImplicitDeny() {
        IamDecision decision = evaluate(statements("""
                {"Statement": {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}}"""),
                WRITE, topicArn("a"));
        assertEquals(IamDecision.Outcome.IMPLICIT_DENY, decision.outcome());
        assertNull(decision.statement());
        assertEquals("implicit deny: no statement allows", decision.describe());
    }

    @Test
    void explicitDenyBeatsAllowWhateverTheOrder() {
        String allow = """
                {"Statement": {"Sid": "AllowAll", "Effect": "Allow", "Action": "kafka-cluster:*", "Resource": "*"}}""";
        String deny = """
                {"Statement": {"Sid": "NoWrite", "Effect": "Deny", "Action": "kafka-cluster:WriteData",
                  "Resource": "%s"}}""".formatted(topicArn("secret"));
        for (List<PolicyStatement> s : List.of(statements(allow, deny), statements(deny, allow))) {
            IamDecision decision = evaluate(s, WRITE, topicArn("secret"));
            assertEquals(IamDecision.Outcome.EXPLICIT_DENY, decision.outcome());
            assertTrue(decision.describe().startsWith("explicit deny by \"NoWrite\""), decision.describe());
            assertEquals(IamDecision.Outcome.ALLOW, evaluate(s, WRITE, topicArn("public")).outcome());
        }
    }

    @Test
    void wildcardsInActionsAndResources() {
        List<PolicyStatement> s = statements("""
                {"Statement": [
                  {"Effect": "Allow", "Action": "kafka-cluster:*Topic", "Resource": "%s"},
                  {"Effect": "Allow", "Action": "kafka-cluster:?lterGroup", "Resource": "%s"}]}"""
                .formatted(PolicyFixtures.ARN_PREFIX + "topic/local/*", groupArn("esm-?")));
        assertTrue(evaluate(s, "kafka-cluster:DescribeTopic", topicArn("any")).allowed());
        assertTrue(evaluate(s, "kafka-cluster:CreateTopic", topicArn("other")).allowed());
        assertEquals(IamDecision.Outcome.IMPLICIT_DENY,
                evaluate(s, "kafka-cluster:DescribeTopicDynamicConfiguration", topicArn("any")).outcome());
        assertTrue(evaluate(s, "kafka-cluster:AlterGroup", groupArn("esm-1")).allowed());
        assertEquals(IamDecision.Outcome.IMPLICIT_DENY, evaluate(s, "kafka-cluster:AlterGroup", groupArn("esm-12")).outcome());
    }

    @Test
    void actionCaseIgnoredResourceCaseKept() {
        List<PolicyStatement> s = statements("""
                {"Statement": {"Effect": "Allow", "Action": "KAFKA-CLUSTER:writedata", "Resource": "%s"}}"""
                .formatted(topicArn("Events")));
        assertTrue(evaluate(s, WRITE, topicArn("Events")).allowed());
        assertEquals(IamDecision.Outcome.IMPLICIT_DENY, evaluate(s, WRITE, topicArn("events")).outcome());
    }

    @Test
    void actionAndResourceAsStringOrList() {
        String asStrings = """
                {"Statement": {"Effect": "Allow", "Action": "kafka-cluster:WriteData", "Resource": "%s"}}"""
                .formatted(topicArn("a"));
        String asLists = """
                {"Statement": [{"Effect": "Allow", "Action": ["kafka-cluster:ReadData", "kafka-cluster:WriteData"],
                  "Resource": ["%s", "%s"]}]}""".formatted(topicArn("b"), topicArn("a"));
        assertTrue(evaluate(statements(asStrings), WRITE, topicArn("a")).allowed());
        assertTrue(evaluate(statements(asLists), WRITE, topicArn("a")).allowed());
        assertTrue(evaluate(statements(asLists), READ, topicArn("b")).allowed());
        assertEquals(IamDecision.Outcome.IMPLICIT_DENY, evaluate(statements(asLists), WRITE, topicArn("c")).outcome());
    }

    @Test
    void notActionAllowsEverythingElseOnItsResources() {
        List<PolicyStatement> s = statements("""
                {"Statement": {"Effect": "Allow", "NotAction": "kafka-cluster:Delete*", "Resource": "%s"}}"""
                .formatted(topicArn("*")));
        assertTrue(evaluate(s, WRITE, topicArn("a")).allowed());
        assertEquals(IamDecision.Outcome.IMPLICIT_DENY, evaluate(s, "kafka-cluster:DeleteTopic", topicArn("a")).outcome());
        assertEquals(IamDecision.Outcome.IMPLICIT_DENY, evaluate(s, WRITE, groupArn("a")).outcome());
    }

    @Test
    void notResourceWithDenyProtectsAllButTheListed() {
        List<PolicyStatement> s = statements("""
                {"Statement": [
                  {"Effect": "Allow", "Action": "kafka-cluster:*", "Resource": "*"},
                  {"Sid": "OnlyEvents", "Effect": "Deny", "Action": "kafka-cluster:WriteData", "NotResource": "%s"}]}"""
                .formatted(topicArn("events")));
        assertTrue(evaluate(s, WRITE, topicArn("events")).allowed());
        IamDecision other = evaluate(s, WRITE, topicArn("audit"));
        assertEquals(IamDecision.Outcome.EXPLICIT_DENY, other.outcome());
        assertEquals("\"OnlyEvents\" (policies[0].Statement[1])", other.statement().label());
    }

    @Test
    void otherServicesStatementsAreNotMatched() {
        List<PolicyStatement> s = statements("""
                {"Statement": [
                  {"Effect": "Allow", "Action": ["kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"], "Resource": "*"},
                  {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
                  {"Effect": "Deny", "Action": "sqs:*", "Resource": "*"}]}""");
        assertEquals(IamDecision.Outcome.IMPLICIT_DENY, evaluate(s, WRITE, topicArn("a")).outcome());
        assertEquals(IamDecision.Outcome.IMPLICIT_DENY,
                evaluate(s, "kafka-cluster:DescribeCluster", PolicyFixtures.CLUSTER_ARN).outcome());
    }

    @Test
    void allowWithConditionNeverAllowsAndSaysWhy() {
        List<PolicyStatement> s = statements("""
                {"Statement": {"Sid": "OnlyFromVpc", "Effect": "Allow", "Action": "kafka-cluster:WriteData",
                  "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}}}""");
        IamDecision decision = evaluate(s, WRITE, topicArn("a"));
        assertEquals(IamDecision.Outcome.IMPLICIT_DENY, decision.outcome());
        assertTrue(decision.describe().contains("\"OnlyFromVpc\" (policies[0].Statement[0]) would allow it but has a Condition"),
                decision.describe());
    }

    @Test
    void denyWithConditionAlwaysDenies() {
        List<PolicyStatement> s = statements("""
                {"Statement": [
                  {"Effect": "Allow", "Action": "kafka-cluster:*", "Resource": "*"},
                  {"Effect": "Deny", "Action": "kafka-cluster:WriteData", "Resource": "*",
                   "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}""");
        IamDecision decision = evaluate(s, WRITE, topicArn("a"));
        assertEquals(IamDecision.Outcome.EXPLICIT_DENY, decision.outcome());
        assertTrue(decision.describe().contains("fail closed"), decision.describe());
        assertTrue(evaluate(s, READ, topicArn("a")).allowed());
    }

    @Test
    void conditionsAreReportedOnceAtLoad() {
        PoliciesFile file = PolicyFixtures.parse(PolicyFixtures.file("AKIATEST", "api", """
                {"Statement": [
                  {"Effect": "Allow", "Action": "kafka-cluster:Connect", "Resource": "*"},
                  {"Sid": "Cond", "Effect": "Allow", "Action": "kafka-cluster:WriteData", "Resource": "*",
                   "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]}"""));
        assertEquals(1, file.warnings().size());
        String warning = file.warnings().get(0);
        assertTrue(warning.contains("principal api (AKIATEST)") && warning.contains("\"Cond\" (policies[0].Statement[1])")
                && warning.contains("never allows"), warning);
    }

    @Test
    void statementsOfSeveralPoliciesAreEvaluatedTogether() {
        List<PolicyStatement> s = statements(
                "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"kafka-cluster:ReadData\", \"Resource\": \"*\"}}",
                "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"kafka-cluster:WriteData\", \"Resource\": \"*\"}}");
        IamDecision write = evaluate(s, WRITE, topicArn("a"));
        assertTrue(write.allowed());
        assertEquals("policies[1].Statement[0]", write.statement().label());
    }
}
