// AlertCodec.java - the byte layouts the peer keeps in Kafka: a mapped alert
// on the repartition topic and an open alert in the store and its changelog.
package alertbridge.peers;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A mapped alert is one status byte (0 firing, 1 resolved) then the UTF-8
 * JSON fragment its events show. An open alert is four fixed-width
 * big-endian numbers: open, first and last firing time (ms) and the count
 * of firings merged into it.
 */
final class AlertCodec {
    private AlertCodec() {}

    static byte[] encode(AlertmanagerMapper.Alert a) {
        byte[] fragment = a.fragment();
        byte[] out = new byte[1 + fragment.length];
        out[0] = (byte) (a.resolved() ? 1 : 0);
        System.arraycopy(fragment, 0, out, 1, fragment.length);
        return out;
    }

    static boolean resolved(byte[] encoded) {
        return encoded[0] == 1;
    }

    static byte[] fragment(byte[] encoded) {
        return Arrays.copyOfRange(encoded, 1, encoded.length);
    }

    /** The state of one open alert. */
    record OpenAlert(long openMs, long firstMs, long lastMs, long count) {
        /** A firing at {@code t} merged in: late ones count but never move
         *  last seen back (docs/lifecycle.md, Out-of-order timestamps). */
        OpenAlert merge(long t) {
            return new OpenAlert(openMs, Math.min(firstMs, t), Math.max(lastMs, t), count + 1);
        }
    }

    private static final int OPEN_ALERT_BYTES = 32;

    static final Serde<OpenAlert> OPEN_ALERT_SERDE = Serdes.serdeFrom(
            (Serializer<OpenAlert>) (topic, a) -> a == null ? null
                    : ByteBuffer.allocate(OPEN_ALERT_BYTES).putLong(a.openMs()).putLong(a.firstMs())
                            .putLong(a.lastMs()).putLong(a.count()).array(),
            (Deserializer<OpenAlert>) (topic, b) -> {
                if (b == null)
                    return null;
                ByteBuffer in = ByteBuffer.wrap(b);
                return new OpenAlert(in.getLong(), in.getLong(), in.getLong(), in.getLong());
            });
}
