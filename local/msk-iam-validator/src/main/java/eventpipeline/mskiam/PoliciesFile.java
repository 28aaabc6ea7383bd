package eventpipeline.mskiam;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The authorizer's configuration file ({@code msk.iam.policies.file}): the local cluster's ARN and,
 * per access key id, the role it stands for and that role's IAM policy documents.
 * <pre>
 * {"cluster_arn": "arn:aws:kafka:us-east-1:000000000000:cluster/local/UUID",
 *  "principals": {"AKIA...": {"name": "api", "policies": [ {"Version": "2012-10-17",
 *                                                          "Statement": [...]} ]}}}
 * </pre>
 * Everything is checked at load; a mistake stops the broker with the JSON path that is wrong
 * rather than silently granting or denying something else.
 */
record PoliciesFile(MskClusterArn cluster, Map<String, LocalPrincipal> principalsByAccessKey,
        List<String> warnings) {

    private static final Set<String> TOP_KEYS = Set.of("cluster_arn", "principals");
    private static final Set<String> PRINCIPAL_KEYS = Set.of("name", "policies");
    private static final Set<String> POLICY_KEYS = Set.of("Version", "Id", "Statement");
    private static final Set<String> STATEMENT_KEYS = Set.of(
            "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition");
    /**
     * The policy language versions IAM accepts (IAM User Guide, "IAM JSON policy elements: Version",
     * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html).
     */
    private static final Set<String> VERSIONS = Set.of("2012-10-17", "2008-10-17");

    PoliciesFile {
        principalsByAccessKey = Map.copyOf(principalsByAccessKey);
        warnings = List.copyOf(warnings);
    }

    static PoliciesFile load(Path path) throws PoliciesFileException {
        String text;
        try {
            text = Files.readString(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new PoliciesFileException("MSK IAM policies file " + path + " cannot be read: " + e);
        }
        return parse(text, path.toString());
    }

    static PoliciesFile parse(String json, String source) throws PoliciesFileException {
        JsonNode root;
        try {
            root = new ObjectMapper()
                    .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                    .readTree(json);
        } catch (JsonProcessingException e) {
            throw new PoliciesFileException("MSK IAM policies file " + source + " is not valid JSON: " + e.getOriginalMessage()
                    + " (line " + e.getLocation().getLineNr() + ")");
        }
        return new Reader(source).file(root);
    }

    /** Walks the tree, keeping the source name for error messages and collecting warnings. */
    private static final class Reader {
        private final String source;
        private final List<String> warnings = new ArrayList<>();

        Reader(String source) {
            this.source = source;
        }

        PoliciesFile file(JsonNode root) throws PoliciesFileException {
            requireObject(root, "$", TOP_KEYS);
            String arnText = requireString(root.get("cluster_arn"), "$.cluster_arn");
            MskClusterArn cluster;
            try {
                cluster = MskClusterArn.parse(arnText);
            } catch (IllegalArgumentException e) {
                throw error("$.cluster_arn", e.getMessage());
            }
            JsonNode principals = root.get("principals");
            requireObject(principals, "$.principals", null);
            Map<String, LocalPrincipal> byKey = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> entry : principals.properties()) {
                byKey.put(entry.getKey(), principal(entry.getKey(), entry.getValue()));
            }
            if (byKey.isEmpty()) {
                throw error("$.principals", "lists no access key id");
            }
            return new PoliciesFile(cluster, byKey, warnings);
        }

        private LocalPrincipal principal(String accessKeyId, JsonNode node) throws PoliciesFileException {
            String at = "$.principals." + accessKeyId;
            if (accessKeyId.isBlank()) {
                throw error(at, "the access key id is empty");
            }
            requireObject(node, at, PRINCIPAL_KEYS);
            String name = requireString(node.get("name"), at + ".name");
            JsonNode policies = node.get("policies");
            if (policies == null || !policies.isArray()) {
                throw error(at + ".policies", "must be a list of IAM policy documents");
            }
            List<PolicyStatement> statements = new ArrayList<>();
            for (int p = 0; p < policies.size(); p++) {
                statements.addAll(policy(policies.get(p), at + ".policies[" + p + "]", p, name, accessKeyId));
            }
            return new LocalPrincipal(accessKeyId, name, statements);
        }

        private List<PolicyStatement> policy(JsonNode node, String at, int policyIndex, String role,
                String accessKeyId) throws PoliciesFileException {
            requireObject(node, at, POLICY_KEYS);
            JsonNode version = node.get("Version");
            if (version != null && !(version.isTextual() && VERSIONS.contains(version.asText()))) {
                throw error(at + ".Version", "must be \"2012-10-17\" (or the older \"2008-10-17\")");
            }
            JsonNode statementNode = node.get("Statement");
            List<JsonNode> statements = new ArrayList<>();
            if (statementNode != null && statementNode.isObject()) {
                statements.add(statementNode);
            } else if (statementNode != null && statementNode.isArray() && !statementNode.isEmpty()) {
                statementNode.forEach(statements::add);
            } else {
                throw error(at + ".Statement", "must be a statement object or a non-empty list of them");
            }
            List<PolicyStatement> parsed = new ArrayList<>();
            for (int s = 0; s < statements.size(); s++) {
                String position = "policies[" + policyIndex + "].Statement[" + s + "]";
                PolicyStatement statement = statement(statements.get(s), at + ".Statement[" + s + "]", position);
                if (statement.hasCondition()) {
                    warnings.add("principal " + role + " (" + accessKeyId + "): " + statement.label()
                            + " has a Condition, which the local broker cannot evaluate: as an "
                            + (statement.allow() ? "Allow it never allows" : "Deny it always applies"));
                }
                parsed.add(statement);
            }
            return parsed;
        }

        private PolicyStatement statement(JsonNode node, String at, String position) throws PoliciesFileException {
            if (node != null && node.isObject() && (node.has("Principal") || node.has("NotPrincipal"))) {
                throw error(at, "Principal/NotPrincipal belong in resource-based policies, not in the"
                        + " identity-based policies of a role");
            }
            requireObject(node, at, STATEMENT_KEYS);
            String label = position;
            JsonNode sid = node.get("Sid");
            if (sid != null) {
                label = "\"" + requireString(sid, at + ".Sid") + "\" (" + position + ")";
            }
            String effect = requireString(node.get("Effect"), at + ".Effect");
            if (!effect.equals("Allow") && !effect.equals("Deny")) {
                throw error(at + ".Effect", "must be \"Allow\" or \"Deny\", not \"" + effect + "\"");
            }
            boolean notAction = exactlyOne(node, at, "Action", "NotAction");
            List<String> actions = stringOrList(node.get(notAction ? "NotAction" : "Action"),
                    at + (notAction ? ".NotAction" : ".Action"));
            for (String action : actions) {
                if (!action.equals("*") && action.indexOf(':') <= 0) {
                    throw error(at, "action \"" + action + "\" is not \"*\" or service:action");
                }
            }
            boolean notResource = exactlyOne(node, at, "Resource", "NotResource");
            List<String> resources = stringOrList(node.get(notResource ? "NotResource" : "Resource"),
                    at + (notResource ? ".NotResource" : ".Resource"));
            for (String resource : resources) {
                // In a 2012-10-17 policy "${aws:username}" and the like are policy variables, which
                // need the request context AWS has; taken literally, a Deny would silently not apply.
                if (resource.contains("${")) {
                    throw error(at, "resource \"" + resource + "\" uses a policy variable (${...}),"
                            + " which the local broker cannot resolve");
                }
            }
            JsonNode condition = node.get("Condition");
            if (condition != null && !condition.isObject()) {
                throw error(at + ".Condition", "must be an object");
            }
            return new PolicyStatement(label, effect.equals("Allow"), actions, notAction,
                    resources, notResource, condition != null);
        }

        /** True when the statement uses the Not form; exactly one of the pair must be present. */
        private boolean exactlyOne(JsonNode node, String at, String plain, String not) throws PoliciesFileException {
            boolean hasPlain = node.has(plain);
            boolean hasNot = node.has(not);
            if (hasPlain == hasNot) {
                throw error(at, "must have exactly one of " + plain + " and " + not);
            }
            return hasNot;
        }

        private List<String> stringOrList(JsonNode node, String at) throws PoliciesFileException {
            List<String> values = new ArrayList<>();
            if (node != null && node.isTextual()) {
                values.add(node.asText());
            } else if (node != null && node.isArray() && !node.isEmpty()) {
                for (int i = 0; i < node.size(); i++) {
                    values.add(requireString(node.get(i), at + "[" + i + "]"));
                }
            } else {
                throw error(at, "must be a string or a non-empty list of strings");
            }
            for (String value : values) {
                if (value.isEmpty()) {
                    throw error(at, "must not contain an empty string");
                }
            }
            return values;
        }

        private void requireObject(JsonNode node, String at, Set<String> allowedKeys) throws PoliciesFileException {
            if (node == null || !node.isObject()) {
                throw error(at, "must be a JSON object");
            }
            if (allowedKeys == null) {
                return;
            }
            for (Map.Entry<String, JsonNode> property : node.properties()) {
                String key = property.getKey();
                if (!allowedKeys.contains(key)) {
                    throw error(at, "has unknown key \"" + key + "\" (allowed: "
                            + String.join(", ", allowedKeys.stream().sorted().toList()) + ")");
                }
            }
        }

        private String requireString(JsonNode node, String at) throws PoliciesFileException {
            if (node == null || !node.isTextual() || node.asText().isBlank()) {
                throw error(at, "must be a non-empty string");
            }
            return node.asText();
        }

        private PoliciesFileException error(String at, String problem) {
            return new PoliciesFileException("MSK IAM policies file " + source + ": " + at + " " + problem);
        }
    }
}
