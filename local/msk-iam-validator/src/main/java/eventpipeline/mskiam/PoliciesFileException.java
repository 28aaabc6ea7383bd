package eventpipeline.mskiam;

/** The policies file cannot be used; the message names the file and the offending JSON path. */
public final class PoliciesFileException extends Exception {
    private static final long serialVersionUID = 1L;

    public PoliciesFileException(String message) {
        super(message);
    }
}
