package eventpipeline.mskiam;

/** A token that MSK would refuse; the message is the reason, safe to log (never holds secrets). */
public final class TokenRejectedException extends Exception {
    private static final long serialVersionUID = 1L;

    public TokenRejectedException(String reason) {
        super(reason);
    }
}
