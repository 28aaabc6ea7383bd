package eventpipeline.mskiam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The policies file is checked at load, and a mistake names the JSON path that is wrong. */
class PoliciesFileTest {
    private static final String GOOD_POLICY = """
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kafka-cluster:Connect",
              "Resource": "%s"}]}""".formatted(PolicyFixtures.CLUSTER_ARN);

    @Test
    void loadsClusterAndPrincipalsFromAFile(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("policies.json");
        Files.writeString(path, """
                {"cluster_arn": "%s",
                 "principals": {
                   "AKIAAPI": {"name": "api", "policies": [%s]},
                   "AKIACONSUMER": {"name": "consumer", "policies": []}}}"""
                .formatted(PolicyFixtures.CLUSTER_ARN, GOOD_POLICY));
        PoliciesFile file = PoliciesFile.load(path);
        assertEquals(PolicyFixtures.CLUSTER_ARN, file.cluster().cluster());
        assertEquals("api", file.principalsByAccessKey().get("AKIAAPI").name());
        assertEquals(1, file.principalsByAccessKey().get("AKIAAPI").statements().size());
        assertEquals(0, file.principalsByAccessKey().get("AKIACONSUMER").statements().size());
        assertTrue(file.warnings().isEmpty());
    }

    @Test
    void missingFileIsNamed(@TempDir Path dir) {
        Path path = dir.resolve("nope.json");
        PoliciesFileException e = assertThrows(PoliciesFileException.class, () -> PoliciesFile.load(path));
        assertTrue(e.getMessage().contains(path.toString()), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            not JSON              | `{"cluster_arn": `                                                                    | is not valid JSON
            duplicate key         | `{"cluster_arn": "x", "cluster_arn": "y"}`                                            | Duplicate field
            unknown top key       | `{"cluster_arn": "CLUSTER", "principals": {}, "region": "x"}`                         | $ has unknown key "region"
            bad cluster ARN       | `{"cluster_arn": "arn:aws:kafka:us-east-1:1:cluster/x", "principals": {}}`           | $.cluster_arn 'arn:aws:kafka:us-east-1:1:cluster/x' is not an MSK cluster ARN
            no principals         | `{"cluster_arn": "CLUSTER", "principals": {}}`                                        | $.principals lists no access key id
            principal no name     | `{"cluster_arn": "CLUSTER", "principals": {"K": {"policies": []}}}`                   | $.principals.K.name must be a non-empty string
            policies not a list   | `{"cluster_arn": "CLUSTER", "principals": {"K": {"name": "a", "policies": {}}}}`      | $.principals.K.policies must be a list
            empty statements      | `{"cluster_arn": "CLUSTER", "principals": {"K": {"name": "a", "policies": [{"Statement": []}]}}}` | $.principals.K.policies[0].Statement must be a statement object or a non-empty list
            bad version           | `{"cluster_arn": "CLUSTER", "principals": {"K": {"name": "a", "policies": [{"Version": "2024-01-01", "Statement": {}}]}}}` | $.principals.K.policies[0].Version must be "2012-10-17"
            bad effect            | `{"cluster_arn": "CLUSTER", "principals": {"K": {"name": "a", "policies": [{"Statement": {"Effect": "allow", "Action": "*", "Resource": "*"}}]}}}` | $.principals.K.policies[0].Statement[0].Effect must be "Allow" or "Deny", not "allow"
            action and notaction  | `{"cluster_arn": "CLUSTER", "principals": {"K": {"name": "a", "policies": [{"Statement": {"Effect": "Allow", "Action": "*", "NotAction": "*", "Resource": "*"}}]}}}` | $.principals.K.policies[0].Statement[0] must have exactly one of Action and NotAction
            no resource           | `{"cluster_arn": "CLUSTER", "principals": {"K": {"name": "a", "policies": [{"Statement": {"Effect": "Allow", "Action": "*"}}]}}}` | $.principals.K.policies[0].Statement[0] must have exactly one of Resource and NotResource
            empty action list     | `{"cluster_arn": "CLUSTER", "principals": {"K": {"name": "a", "policies": [{"Statement": {"Effect": "Allow", "Action": [], "Resource": "*"}}]}}}` | $.principals.K.policies[0].Statement[0].Action must be a string or a non-empty list
            action not a string   | `{"cluster_arn": "CLUSTER", "principals": {"K": {"name": "a", "policies": [{"Statement": {"Effect": "Allow", "Action": ["kafka-cluster:Connect", 3], "Resource": "*"}}]}}}` | $.principals.K.policies[0].Statement[0].Action[1] must be a non-empty string
            action without prefix | `{"cluster_arn": "CLUSTER", "principals": {"K": {"name": "a", "policies": [{"Statement": {"Effect": "Allow", "Action": "WriteData", "Resource": "*"}}]}}}` | action "WriteData" is not "*" or service:action
            principal element     | `{"cluster_arn": "CLUSTER", "principals": {"K": {"name": "a", "policies": [{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}}]}}}` | Principal/NotPrincipal belong in resource-based policies
            unknown statement key | `{"cluster_arn": "CLUSTER", "principals": {"K": {"name": "a", "policies": [{"Statement": {"Effect": "Allow", "Actions": "*", "Resource": "*"}}]}}}` | has unknown key "Actions"
            policy variable       | `{"cluster_arn": "CLUSTER", "principals": {"K": {"name": "a", "policies": [{"Statement": {"Effect": "Deny", "Action": "*", "Resource": "arn:aws:kafka:us-east-1:000000000000:topic/local/u-1/${aws:username}"}}]}}}` | uses a policy variable (${...})
            condition not object  | `{"cluster_arn": "CLUSTER", "principals": {"K": {"name": "a", "policies": [{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": "x"}}]}}}` | .Condition must be an object
            """)
    void mistakesAreRefusedWithTheirPath(String why, String json, String expected) {
        String text = json.replace("CLUSTER", PolicyFixtures.CLUSTER_ARN);
        PoliciesFileException e = assertThrows(PoliciesFileException.class, () -> PoliciesFile.parse(text, "p.json"));
        assertTrue(e.getMessage().startsWith("MSK IAM policies file p.json"), e.getMessage());
        assertTrue(e.getMessage().contains(expected), why + ": " + e.getMessage());
    }
}
