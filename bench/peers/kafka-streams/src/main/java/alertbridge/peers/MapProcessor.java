// MapProcessor.java - the peer's map stage: one raw payload in, one record
// per alert keyed by fingerprint out (or the payload as a dead letter).
package alertbridge.peers;

import java.util.List;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forwards, per alert of the payload, a record whose key is the alert's
 * fingerprint and whose value is {@link AlertCodec}'s encoding, at the
 * payload's timestamp (the event time, as in alertbridge). A payload that
 * alertbridge would reject is forwarded unchanged with a null key: the
 * topology sends those to the dead-letter topic. Fingerprints are never
 * null, so the key tells the two apart.
 */
final class MapProcessor implements Processor<byte[], byte[], String, byte[]> {
    private static final Logger LOG = LoggerFactory.getLogger(MapProcessor.class);

    private final AlertmanagerMapper mapper = new AlertmanagerMapper();
    private ProcessorContext<String, byte[]> context;
    private long rejected;

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        this.context = context;
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        List<AlertmanagerMapper.Alert> alerts;
        try {
            alerts = mapper.map(record.value() == null ? new byte[0] : record.value());
        } catch (AlertmanagerMapper.Rejected e) {
            if (rejected++ == 0)
                LOG.warn("dead letter (first of this task): {}", e.getMessage());
            context.forward(record.withKey(null));
            return;
        }
        for (AlertmanagerMapper.Alert a : alerts)
            context.forward(record.withKey(a.fingerprint()).withValue(AlertCodec.encode(a)));
    }

    @Override
    public void close() {
        LOG.info("map stage closed: {} payloads dead-lettered", rejected);
    }
}
