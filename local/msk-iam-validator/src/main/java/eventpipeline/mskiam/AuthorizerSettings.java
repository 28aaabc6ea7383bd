package eventpipeline.mskiam;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;

/**
 * The authorizer's broker properties, validated in configure() so a typo stops the broker with
 * the property's name instead of authorizing something else.
 *
 * @param policiesFile {@code msk.iam.policies.file} (required): see {@link PoliciesFile}
 * @param listener {@code msk.iam.authorizer.listener} (default SASL_SSL): the listener that stands
 *        in for MSK; only its requests (and requests the controller handles for them) are
 *        authorized against IAM policies
 * @param serverless {@code msk.iam.cluster.type} = {@code serverless} (default) or
 *        {@code provisioned}: on serverless, actions the MSK table marks as not applicable to
 *        serverless clusters are denied whatever the policies say
 */
record AuthorizerSettings(Path policiesFile, String listener, boolean serverless) {
    static final String POLICIES_FILE = "msk.iam.policies.file";
    static final String LISTENER = "msk.iam.authorizer.listener";
    static final String CLUSTER_TYPE = "msk.iam.cluster.type";
    static final String DEFAULT_LISTENER = "SASL_SSL";

    static AuthorizerSettings from(Map<String, ?> configs) {
        String file = text(configs, POLICIES_FILE, null);
        if (file == null) {
            throw new ConfigException("MSK IAM authorizer needs broker property " + POLICIES_FILE
                    + " (path of the JSON file with the cluster ARN and each access key's IAM policies)");
        }
        // Kafka upper-cases listener names (ListenerName.normalised), so compare that way.
        String listener = text(configs, LISTENER, DEFAULT_LISTENER).toUpperCase(Locale.ROOT);
        String clusterType = text(configs, CLUSTER_TYPE, "serverless");
        if (!clusterType.equals("serverless") && !clusterType.equals("provisioned")) {
            throw new ConfigException(CLUSTER_TYPE, clusterType, "must be serverless or provisioned");
        }
        return new AuthorizerSettings(Path.of(file), listener, clusterType.equals("serverless"));
    }

    private static String text(Map<String, ?> configs, String name, String fallback) {
        Object value = configs.get(name);
        if (value == null || value.toString().isBlank()) {
            return fallback;
        }
        return value.toString().trim();
    }
}
