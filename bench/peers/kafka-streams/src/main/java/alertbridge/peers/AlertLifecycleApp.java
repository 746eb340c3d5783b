// AlertLifecycleApp.java - the Kafka Streams peer of alertbridge's two-stage
// pipeline: options, topology, and a process that stops cleanly on SIGTERM.
package alertbridge.peers;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The topology, the same two stages as alertbridge's stateful pipeline
 * (docs/stateful-pipeline.md):
 *
 * <pre>
 * raw topics ─► map (MapProcessor) ─┬─ null key ─► dead-letter topic
 *                                   └─ key = fingerprint
 *                                        ─► repartition "alerts" (internal topic)
 *                                        ─► lifecycle (LifecycleProcessor,
 *                                           store "open-alerts": RocksDB +
 *                                           changelog) ─► events topic
 * </pre>
 *
 * The repartition makes it correct on unkeyed input, as alertbridge's
 * {@code <group>.alerts} does. Everything else is Kafka Streams' defaults
 * (one stream thread, the store's changelog, commit.interval.ms 30 s in
 * at_least_once and 100 ms in exactly_once_v2), with the store's record
 * cache on, as the DSL's own stores have it, which coalesces a commit
 * interval's changes of one key into one changelog record (alertbridge does
 * the same). {@code --property k=v} sets any other Streams property.
 *
 * <p>bench_e2e stops it with SIGTERM and wants exit status 0, as
 * alertbridge gives after a clean stop: the shutdown hook closes the
 * streams (committing) and then halts with 0, or with 1 if the streams had
 * failed before.
 */
public final class AlertLifecycleApp {
    private static final Logger LOG = LoggerFactory.getLogger(AlertLifecycleApp.class);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(60);

    private static final String USAGE = String.join("\n",
            "usage: alertbridge-peer-kafka-streams --bootstrap-servers HOST:PORT",
            "       --application-id ID --input TOPIC[,TOPIC...] --events TOPIC",
            "       --dead-letters TOPIC [--guarantee exactly_once|at_least_once]",
            "       [--state-dir DIR] [--property KEY=VALUE]...",
            "",
            "Maps Alertmanager webhook payloads to alerts, repartitions them by",
            "fingerprint and writes one JSON event per create and close (see",
            "bench/peers/README.md). Stops cleanly on SIGTERM.");

    private AlertLifecycleApp() {}

    /** The command line. */
    record Options(String brokers, String applicationId, List<String> inputs, String events,
            String deadLetters, String guarantee, String stateDir, Map<String, String> extra) {

        static Options parse(String[] args) {
            String brokers = null, app = null, events = null, dlq = null, dir = null;
            String guarantee = StreamsConfig.AT_LEAST_ONCE;
            List<String> inputs = new ArrayList<>();
            Map<String, String> extra = new java.util.LinkedHashMap<>();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("-h") || a.equals("--help")) {
                    System.out.println(USAGE);
                    System.exit(0);
                }
                if (i + 1 >= args.length)
                    usage(a + " needs a value");
                String v = args[++i];
                switch (a) {
                case "--bootstrap-servers" -> brokers = v;
                case "--application-id" -> app = v;
                case "--input" -> inputs.addAll(Arrays.asList(v.split(",")));
                case "--events" -> events = v;
                case "--dead-letters" -> dlq = v;
                case "--guarantee" -> guarantee = v.equals("exactly_once")
                        ? StreamsConfig.EXACTLY_ONCE_V2 : v;
                case "--state-dir" -> dir = v;
                case "--property" -> {
                    int eq = v.indexOf('=');
                    if (eq <= 0)
                        usage("--property wants KEY=VALUE, not " + v);
                    extra.put(v.substring(0, eq), v.substring(eq + 1));
                }
                default -> usage("unknown option " + a);
                }
            }
            if (brokers == null || app == null || inputs.isEmpty() || events == null || dlq == null)
                usage("--bootstrap-servers, --application-id, --input, --events and"
                        + " --dead-letters are required");
            if (!guarantee.equals(StreamsConfig.AT_LEAST_ONCE)
                    && !guarantee.equals(StreamsConfig.EXACTLY_ONCE_V2))
                usage("--guarantee is exactly_once (exactly_once_v2) or at_least_once, not "
                        + guarantee);
            return new Options(brokers, app, inputs, events, dlq, guarantee, dir, extra);
        }

        private static void usage(String problem) {
            System.err.println("alertbridge-peer-kafka-streams: " + problem + "\n" + USAGE);
            System.exit(2);
        }
    }

    static Topology topology(Options o) {
        StreamsBuilder b = new StreamsBuilder();
        b.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(LifecycleProcessor.STORE), Serdes.String(),
                AlertCodec.OPEN_ALERT_SERDE).withCachingEnabled());

        KStream<String, byte[]> mapped = b
                .stream(o.inputs(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
                .process(MapProcessor::new, Named.as("map"));
        Map<String, KStream<String, byte[]>> branches = mapped.split(Named.as("mapped-"))
                .branch((fp, v) -> fp == null, Branched.as("dead"))
                .defaultBranch(Branched.as("alerts"));
        branches.get("mapped-dead")
                .to(o.deadLetters(), Produced.with(Serdes.String(), Serdes.ByteArray()));
        branches.get("mapped-alerts")
                .repartition(Repartitioned.with(Serdes.String(), Serdes.ByteArray())
                        .withName("alerts"))
                .process(LifecycleProcessor::new, Named.as("lifecycle"), LifecycleProcessor.STORE)
                .to(o.events(), Produced.with(Serdes.String(), Serdes.ByteArray()));
        return b.build();
    }

    static Properties properties(Options o) {
        Properties p = new Properties();
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, o.brokers());
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, o.applicationId());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, o.guarantee());
        if (o.stateDir() != null)
            p.put(StreamsConfig.STATE_DIR_CONFIG, o.stateDir());
        p.putAll(o.extra());
        return p;
    }

    public static void main(String[] args) throws InterruptedException {
        Options o = Options.parse(args);
        Topology topology = topology(o);
        LOG.info("topology:\n{}", topology.describe());

        KafkaStreams streams = new KafkaStreams(topology, properties(o));
        CountDownLatch failed = new CountDownLatch(1);
        streams.setUncaughtExceptionHandler(e -> {
            LOG.error("stream thread failed", e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.PENDING_ERROR)
                failed.countDown();
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            boolean ok = failed.getCount() > 0;
            streams.close(CLOSE_TIMEOUT);
            LOG.info("stopped");
            Runtime.getRuntime().halt(ok ? 0 : 1);
        }, "shutdown"));
        streams.start();
        failed.await();
        LOG.error("stopping: Kafka Streams failed");
        System.exit(1);
    }
}
