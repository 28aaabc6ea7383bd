package eventpipeline.mskiam;

import java.util.List;

/**
 * Evaluates identity-based policy statements the way IAM does for a request within one account:
 * an applicable Deny wins over any Allow, an applicable Allow allows, and otherwise the request is
 * implicitly denied. Sources (IAM User Guide): "The difference between explicit and implicit
 * denies"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html)
 * and "Policy evaluation for requests within a single account"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html).
 *
 * <p>Conditions are not evaluated (the local broker has no request context keys to test): an
 * Allow with a Condition never allows and a Deny with a Condition always applies, so a policy that
 * works here never grants more than it would on AWS.
 */
final class IamPolicyEvaluator {
    private IamPolicyEvaluator() {
    }

    static IamDecision evaluate(List<PolicyStatement> statements, String action, String arn) {
        PolicyStatement allowing = null;
        PolicyStatement conditionalAllow = null;
        for (PolicyStatement statement : statements) {
            if (!statement.appliesTo(action, arn)) {
                continue;
            }
            if (!statement.allow()) {
                return IamDecision.explicitDeny(statement);
            }
            if (statement.hasCondition()) {
                conditionalAllow = conditionalAllow == null ? statement : conditionalAllow;
            } else if (allowing == null) {
                allowing = statement;
            }
        }
        return allowing != null ? IamDecision.allow(allowing) : IamDecision.implicitDeny(conditionalAllow);
    }
}
