package eventpipeline.mskiam;

/** Where authorization decision lines go: the broker log (SLF4J) in the broker, a list in tests. */
interface DecisionSink {
    void info(String line);

    void warn(String line);
}
