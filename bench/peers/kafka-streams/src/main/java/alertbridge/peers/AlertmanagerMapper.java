// AlertmanagerMapper.java - maps one Alertmanager webhook payload to its
// alerts as alertbridge's built-in `alertmanager` integration identifies them.
package alertbridge.peers;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The mapping half of the peer, the same work as alertbridge's map stage
 * for integrations/alertmanager.yaml:
 *
 * <ul>
 *   <li>one alert per element of {@code alerts}; an alert whose own
 *       {@code status} is {@code resolved} is a recovery;
 *   <li>its labels are the source labels with the mapped label fields
 *       winning: {@code alertname} (required: a payload with an alert
 *       without it is rejected, as alertbridge rejects it with
 *       {@code no_alertname}), {@code severity} (the P-level of
 *       {@code _aliyun_arms_alert_level}, else of {@code severity}, by the
 *       integration's table, default P3) and {@code source}
 *       ({@code instance});
 *   <li>the fingerprint is alertbridge's, version 1 (docs/lifecycle.md):
 *       SHA-256 over the integration name and the label set in bytewise
 *       key order, the first 16 bytes in hex. The same payload gives the
 *       same fingerprints in both programs.
 * </ul>
 *
 * A payload that is not JSON, has no {@code alerts} array, or has an alert
 * without labels or alert name is rejected whole. Not thread-safe: one per
 * processor.
 */
final class AlertmanagerMapper {
    /** Thrown for a payload alertbridge would dead-letter. */
    static final class Rejected extends Exception {
        private static final long serialVersionUID = 1L;

        Rejected(String message) {
            super(message, null, false, false);
        }
    }

    /** One mapped alert: its fingerprint, whether it resolves, and the
     *  members its events show, as a JSON fragment. */
    record Alert(String fingerprint, boolean resolved, byte[] fragment) {}

    static final String INTEGRATION = "alertmanager";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonStringEncoder QUOTE = JsonStringEncoder.getInstance();
    private static final HexFormat HEX = HexFormat.of();

    private final MessageDigest sha256;
    private final byte[] prefix; // str(version) str(integration) str("labels")
    private byte[] buf = new byte[1024];
    private int len;

    AlertmanagerMapper() {
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
        len = 0;
        putStr(bytes("alertbridge-fingerprint-v1"));
        putStr(bytes(INTEGRATION));
        putStr(bytes("labels"));
        prefix = Arrays.copyOf(buf, len);
    }

    /** The alerts of {@code payload}, in order. */
    List<Alert> map(byte[] payload) throws Rejected {
        JsonNode root;
        try {
            root = JSON.readTree(payload);
        } catch (JsonProcessingException e) {
            throw new Rejected("not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new Rejected("unreadable: " + e.getMessage());
        }
        JsonNode alerts = root == null ? null : root.get("alerts");
        if (alerts == null || !alerts.isArray())
            throw new Rejected("no alerts array");
        List<Alert> out = new ArrayList<>(alerts.size());
        for (JsonNode a : alerts)
            out.add(alert(a));
        return out;
    }

    private Alert alert(JsonNode a) throws Rejected {
        JsonNode labels = a.get("labels");
        if (labels == null || !labels.isObject())
            throw new Rejected("labels.alertname is required");
        JsonNode name = labels.get("alertname");
        if (name == null || !name.isTextual())
            throw new Rejected("labels.alertname is required");

        // Source labels first (the last of duplicate keys wins, as in
        // alertbridge), then the mapped label fields over them.
        Map<String, String> set = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : labels.properties())
            set.put(e.getKey(), e.getValue().isNull() ? null : e.getValue().asText());
        JsonNode level = labels.get("_aliyun_arms_alert_level");
        String severity = pLevel(level != null ? level : labels.get("severity"));
        JsonNode instance = labels.get("instance");
        set.put("alertname", name.asText());
        set.put("severity", severity);
        if (instance != null && !instance.isNull())
            set.put("source", instance.asText());

        JsonNode status = a.get("status");
        boolean resolved = status != null && "resolved".equals(status.asText());
        String fp = fingerprint(set);
        String fragment = "\"alertname\":\"" + quote(name.asText()) + "\",\"severity\":\""
                + severity + "\"" + (instance != null && !instance.isNull()
                        ? ",\"source\":\"" + quote(instance.asText()) + "\""
                        : "");
        return new Alert(fp, resolved, bytes(fragment));
    }

    /** The integration's severity table (case-insensitive), default P3. */
    static String pLevel(JsonNode v) {
        if (v == null || v.isNull())
            return "P3";
        switch (v.asText().toLowerCase(Locale.ROOT)) {
        case "p1": case "critical": case "fatal": case "emergency": case "disaster": case "page":
            return "P1";
        case "p2": case "error": case "major": case "high":
            return "P2";
        case "p4": case "info": case "informational": case "notice": case "low": case "none":
        case "debug": case "ok":
            return "P4";
        default:
            return "P3";
        }
    }

    /** Fingerprint version 1 of a label set (docs/lifecycle.md). */
    String fingerprint(Map<String, String> labels) {
        byte[][] keys = new byte[labels.size()][];
        byte[][] values = new byte[labels.size()][];
        int n = 0;
        for (Map.Entry<String, String> e : labels.entrySet()) {
            keys[n] = bytes(e.getKey());
            values[n] = e.getValue() == null ? null : bytes(e.getValue());
            n++;
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++)
            order[i] = i;
        Arrays.sort(order, (x, y) -> Arrays.compareUnsigned(keys[x], keys[y]));

        len = 0;
        put(prefix, prefix.length);
        putU32(n);
        for (int i : order) {
            putStr(keys[i]);
            if (values[i] == null) {
                putByte(0);
            } else {
                putByte(1);
                putStr(values[i]);
            }
        }
        sha256.reset();
        sha256.update(buf, 0, len);
        return HEX.formatHex(sha256.digest(), 0, 16);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String quote(String s) {
        return new String(QUOTE.quoteAsString(s));
    }

    private void putStr(byte[] s) {
        putU32(s.length);
        put(s, s.length);
    }

    private void putU32(int v) {
        ensure(4);
        buf[len++] = (byte) (v >>> 24);
        buf[len++] = (byte) (v >>> 16);
        buf[len++] = (byte) (v >>> 8);
        buf[len++] = (byte) v;
    }

    private void putByte(int v) {
        ensure(1);
        buf[len++] = (byte) v;
    }

    private void put(byte[] s, int n) {
        ensure(n);
        System.arraycopy(s, 0, buf, len, n);
        len += n;
    }

    private void ensure(int n) {
        if (len + n > buf.length)
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
    }
}
