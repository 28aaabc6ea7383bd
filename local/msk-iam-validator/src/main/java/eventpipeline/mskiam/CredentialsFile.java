package eventpipeline.mskiam;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The local stand-in for IAM: a properties file of {@code <access key id>=<secret access key>}
 * lines, one per identity allowed to connect.
 */
final class CredentialsFile {
    private CredentialsFile() {
    }

    static Map<String, String> load(Path path) throws IOException {
        Properties props = new Properties();
        try (Reader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            props.load(reader);
        }
        Map<String, String> secrets = new HashMap<>();
        for (String key : props.stringPropertyNames()) {
            String secret = props.getProperty(key).trim();
            if (!key.isBlank() && !secret.isEmpty()) {
                secrets.put(key.trim(), secret);
            }
        }
        if (secrets.isEmpty()) {
            throw new IOException("no <access key id>=<secret> entries in " + path);
        }
        return secrets;
    }
}
