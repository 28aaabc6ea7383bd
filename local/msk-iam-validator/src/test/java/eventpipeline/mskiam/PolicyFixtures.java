package eventpipeline.mskiam;

import java.util.List;

/** Builds policies files and statements from JSON text, the way the broker loads them. */
final class PolicyFixtures {
    static final String CLUSTER_ARN = "arn:aws:kafka:us-east-1:000000000000:cluster/local/u-1";
    static final String ARN_PREFIX = "arn:aws:kafka:us-east-1:000000000000:";

    private PolicyFixtures() {
    }

    static String topicArn(String topic) {
        return ARN_PREFIX + "topic/local/u-1/" + topic;
    }

    static String groupArn(String group) {
        return ARN_PREFIX + "group/local/u-1/" + group;
    }

    /** A policies file with one principal whose policies are the given JSON documents. */
    static String file(String accessKeyId, String name, String... policies) {
        return "{\"cluster_arn\": \"" + CLUSTER_ARN + "\", \"principals\": {\"" + accessKeyId
                + "\": {\"name\": \"" + name + "\", \"policies\": [" + String.join(",", policies) + "]}}}";
    }

    static PoliciesFile parse(String json) {
        try {
            return PoliciesFile.parse(json, "test.json");
        } catch (PoliciesFileException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    /** The statements of one principal "AKIATEST" whose policies are the given documents. */
    static List<PolicyStatement> statements(String... policies) {
        return parse(file("AKIATEST", "test", policies)).principalsByAccessKey().get("AKIATEST").statements();
    }
}
