package eventpipeline.mskiam;

/**
 * The outcome of evaluating one principal's policies for one action on one resource, with the
 * statement that decided it (null for an implicit deny).
 */
record IamDecision(Outcome outcome, PolicyStatement statement, String note) {

    enum Outcome { ALLOW, EXPLICIT_DENY, IMPLICIT_DENY }

    static IamDecision allow(PolicyStatement statement) {
        return new IamDecision(Outcome.ALLOW, statement, null);
    }

    static IamDecision explicitDeny(PolicyStatement statement) {
        String note = statement.hasCondition()
                ? "its Condition is not evaluated locally, so the Deny applies (fail closed)" : null;
        return new IamDecision(Outcome.EXPLICIT_DENY, statement, note);
    }

    /** @param conditionalAllow an Allow that would match but has a Condition, or null */
    static IamDecision implicitDeny(PolicyStatement conditionalAllow) {
        String note = conditionalAllow == null ? null : conditionalAllow.label()
                + " would allow it but has a Condition, which the local broker cannot evaluate";
        return new IamDecision(Outcome.IMPLICIT_DENY, null, note);
    }

    boolean allowed() {
        return outcome == Outcome.ALLOW;
    }

    /** What the decision log prints after "decided_by=". */
    String describe() {
        String text = switch (outcome) {
            case ALLOW -> "allowed by " + statement.label();
            case EXPLICIT_DENY -> "explicit deny by " + statement.label();
            case IMPLICIT_DENY -> "implicit deny: no statement allows";
        };
        return note == null ? text : text + " (" + note + ")";
    }
}
