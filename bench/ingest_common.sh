# ingest_common.sh - what bench/ingest.sh and bench/ingest_callgrind.sh share (sourced): the topic, the ingest config, readiness and the 200 counter.

# ingest_setup WORK TOPIC_PREFIX: creates a 2-partition topic on
# $AB_KAFKA_BROKERS and writes WORK/ingest.yaml for a free loopback port;
# sets topic, port and url.
ingest_setup() {
        local work=$1 py=/usr/bin/python3
        topic=$2-$(date +%s)-$$
        port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        url=http://127.0.0.1:$port
        $py - "$AB_KAFKA_BROKERS" "$topic" <<'PY'
import sys
from confluent_kafka.admin import AdminClient, NewTopic
a = AdminClient({"bootstrap.servers": sys.argv[1]})
for f in a.create_topics([NewTopic(sys.argv[2], 2, 1)]).values():
    f.result(60)
PY
        cat >"$work/ingest.yaml" <<EOF
kafka: {brokers: "$AB_KAFKA_BROKERS"}
ingest:
  listen: 127.0.0.1:$port
  threads: 2
  integrations:
    - {name: alertmanager, topic: $topic, tokens: [bench],
       integration: alertmanager}
log_level: warn
EOF
}

# ingest_wait_ready SECONDS: polls /readyz until it answers 200 or the
# time is up.
ingest_wait_ready() {
        local i
        for ((i = 0; i < $1 * 10; i++)); do
                curl -sf "$url/readyz" >/dev/null && return 0
                sleep 0.1
        done
        return 1
}

# The server's count of 200 answers.
ingest_ok_count() {
        curl -s "$url/metrics" |
                sed -n 's/^alertbridge_ingest_requests_total{integration="alertmanager",code="200"} //p'
}
