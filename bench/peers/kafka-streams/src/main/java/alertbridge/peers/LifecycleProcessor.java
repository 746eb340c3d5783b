// LifecycleProcessor.java - the peer's lifecycle stage: open on the first
// firing, merge duplicates silently, close on resolution.
package alertbridge.peers;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * alertbridge's state machine (docs/lifecycle.md) for the transitions the
 * benchmark exercises, one fingerprint at a time from the store
 * {@link #STORE} (RocksDB, changelogged):
 *
 * <table>
 *   <caption>input and state to what happens</caption>
 *   <tr><th>input at t</th><th>no open alert</th><th>open alert</th></tr>
 *   <tr><td>firing</td><td>open, {@code create}</td><td>merge, no event</td></tr>
 *   <tr><td>resolved</td><td>orphan, dropped</td><td>t &gt;= last firing: delete, {@code close};
 *       else stale, dropped</td></tr>
 * </table>
 *
 * alertbridge's defaults leave out the rest for this input: the
 * alertmanager integration has no auto-clear, the benchmark sets no cap of
 * open alerts and no actions arrive. Each event is one small JSON object
 * keyed by fingerprint, with the CloudEvents type alertbridge gives it.
 */
final class LifecycleProcessor implements Processor<String, byte[], String, byte[]> {
    static final String STORE = "open-alerts";

    private static final Logger LOG = LoggerFactory.getLogger(LifecycleProcessor.class);
    private static final String CREATE = "aliyun:arms:alarm:create";
    private static final String CLOSE = "aliyun:arms:alarm:close";

    private ProcessorContext<String, byte[]> context;
    private KeyValueStore<String, AlertCodec.OpenAlert> store;
    private final ByteArrayOutputStream event = new ByteArrayOutputStream(256);
    private long creates, merges, closes, orphans, stale;

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        this.context = context;
        this.store = context.getStateStore(STORE);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        String fp = record.key();
        long t = record.timestamp();
        AlertCodec.OpenAlert open = store.get(fp);

        if (!AlertCodec.resolved(record.value())) {
            if (open == null) {
                store.put(fp, new AlertCodec.OpenAlert(t, t, t, 1));
                creates++;
                emit(record, CREATE, 1);
            } else {
                store.put(fp, open.merge(t));
                merges++;
            }
        } else if (open == null) {
            orphans++;
        } else if (t < open.lastMs()) {
            stale++;
        } else {
            store.delete(fp);
            closes++;
            emit(record, CLOSE, open.count());
        }
    }

    private void emit(Record<String, byte[]> record, String type, long count) {
        event.reset();
        event.writeBytes(("{\"type\":\"" + type + "\",\"fingerprint\":\"" + record.key()
                + "\",\"time\":" + record.timestamp() + ",\"count\":" + count + ",")
                .getBytes(StandardCharsets.US_ASCII));
        event.writeBytes(AlertCodec.fragment(record.value()));
        event.write('}');
        context.forward(record.withValue(event.toByteArray()));
    }

    @Override
    public void close() {
        LOG.info("lifecycle stage closed: {} creates, {} merges, {} closes, {} orphan and {} stale"
                + " recoveries", creates, merges, closes, orphans, stale);
    }
}
