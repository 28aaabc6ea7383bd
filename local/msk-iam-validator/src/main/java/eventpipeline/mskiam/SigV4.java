package eventpipeline.mskiam;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** The pieces of AWS Signature Version 4 that a presigned GET URL needs, written from the spec. */
final class SigV4 {
    static final String ALGORITHM = "AWS4-HMAC-SHA256";
    /** SHA-256 of an empty body: presigned GETs sign the empty payload, not UNSIGNED-PAYLOAD. */
    static final String EMPTY_PAYLOAD_SHA256 =
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private static final HexFormat HEX = HexFormat.of();

    private SigV4() {
    }

    /** RFC 3986 encoding as SigV4 wants it: every byte but A-Z a-z 0-9 - _ . ~ becomes %XX. */
    static String uriEncode(String value) {
        StringBuilder out = new StringBuilder();
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            boolean unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                    || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
            if (unreserved) {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }

    /** Parameters (already decoded) encoded, sorted by encoded name then value, joined by '&'. */
    static String canonicalQuery(Map<String, String> params) {
        List<String[]> pairs = new ArrayList<>();
        for (Map.Entry<String, String> e : params.entrySet()) {
            pairs.add(new String[] {uriEncode(e.getKey()), uriEncode(e.getValue())});
        }
        pairs.sort((a, b) -> a[0].equals(b[0]) ? a[1].compareTo(b[1]) : a[0].compareTo(b[0]));
        StringBuilder out = new StringBuilder();
        for (String[] p : pairs) {
            if (out.length() > 0) {
                out.append('&');
            }
            out.append(p[0]).append('=').append(p[1]);
        }
        return out.toString();
    }

    /** Hex signature of a GET on "/" of {@code host} with only the host header signed. */
    static String presignedGetSignature(String host, Map<String, String> signedParams,
            String amzDate, String scopeDate, String region, String service, String secretKey) {
        String canonicalRequest = String.join("\n",
                "GET",
                "/",
                canonicalQuery(signedParams),
                "host:" + host,
                "",
                "host",
                EMPTY_PAYLOAD_SHA256);
        String scope = scopeDate + "/" + region + "/" + service + "/aws4_request";
        String stringToSign = String.join("\n",
                ALGORITHM, amzDate, scope, HEX.formatHex(sha256(canonicalRequest)));
        byte[] key = hmac(("AWS4" + secretKey).getBytes(StandardCharsets.UTF_8), scopeDate);
        key = hmac(key, region);
        key = hmac(key, service);
        key = hmac(key, "aws4_request");
        return HEX.formatHex(hmac(key, stringToSign));
    }

    /** Constant-time comparison so the check does not leak how many leading characters match. */
    static boolean sameSignature(String expectedHex, String givenHex) {
        return MessageDigest.isEqual(expectedHex.getBytes(StandardCharsets.US_ASCII),
                givenHex.toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII));
    }

    private static byte[] sha256(String data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
