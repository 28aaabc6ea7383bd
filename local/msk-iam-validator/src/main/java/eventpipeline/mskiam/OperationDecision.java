package eventpipeline.mskiam;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The answer to one Kafka authorization question (principal, operation, resource) and why, as one
 * log line. {@code iamAction}/{@code iamResource} name the check that decided: for an ALLOW the
 * operation's own action, for a DENY the first check that failed.
 */
record OperationDecision(boolean allowed, String principalName, String accessKeyId,
        String operation, String resource, String iamAction, String requiredBy,
        String iamResource, String decidedBy, List<MskAction> checked) {

    /** e.g. {@code MSK IAM DENY principal=api access_key=AKIA.. operation=READ resource=GROUP:g ...}. */
    String logLine(String request) {
        StringBuilder line = new StringBuilder(256)
                .append("MSK IAM ").append(allowed ? "ALLOW" : "DENY")
                .append(" principal=").append(quoteIfNeeded(principalName))
                .append(" access_key=").append(quoteIfNeeded(accessKeyId))
                .append(" operation=").append(operation)
                .append(" resource=").append(quoteIfNeeded(resource))
                .append(" request=").append(request)
                .append(" iam_action=").append(iamAction);
        if (requiredBy != null) {
            line.append(" required_by=").append(requiredBy);
        }
        line.append(" iam_resource=").append(quoteIfNeeded(iamResource));
        if (allowed && !checked.isEmpty()) {
            line.append(" checked=").append(checked.stream().map(MskAction::iamName)
                    .collect(Collectors.joining(",")));
        }
        return line.append(" decided_by=").append(quote(decidedBy)).toString();
    }

    /** Names come from clients (group ids may hold spaces): quote them when they would split. */
    static String quoteIfNeeded(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isWhitespace(c) || c == '"' || c == '\\' || Character.isISOControl(c)) {
                return quote(value);
            }
        }
        return value.isEmpty() ? "\"\"" : value;
    }

    static String quote(String value) {
        StringBuilder out = new StringBuilder(value.length() + 2).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (Character.isISOControl(c)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }
}
