#!/usr/bin/env bash
# kafka-broker.sh - fetch, start and stop a real single-node Apache Kafka
# (KRaft, combined broker + controller) on free loopback ports for tests.
#
# Usage: scripts/kafka-broker.sh fetch|start|stop|restart|status|env
#
#   fetch    gather the pinned broker's jars from Maven Central into the
#            cache (once; later runs reuse the cache and need no network)
#   start    fetch if needed, write the config into the run dir with fresh
#            data and free ports, format storage, start the JVM in the
#            background, wait until it serves, print the env file
#   stop     stop the broker (TERM, then KILL after a grace period); a
#            no-op when it is not running
#   restart  stop and start again on the same ports with the same data
#   status   exit 0 and print the env if the broker serves, else exit 3
#   env      print the env file: `eval "$(scripts/kafka-broker.sh env)"`
#
# Environment (all optional):
#   AB_KAFKA_DIR        run dir (config, data, log, pid, env);
#                       default <repo>/build/kafka-broker
#   AB_KAFKA_CACHE      jar cache; default
#                       ${XDG_CACHE_HOME:-~/.cache}/alertbridge/kafka-<version>
#   AB_KAFKA_M2         Maven local repository (default: Maven's own)
#   AB_KAFKA_TIMEOUT    seconds to wait for the broker to serve (default 90)
#   AB_KAFKA_HEAP       JVM heap options (default "-Xms256m -Xmx1g")
#
# The env file exports AB_KAFKA_BROKERS=127.0.0.1:<port> and AB_KAFKA_DIR.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pom=$repo/scripts/kafka/pom.xml
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
run_dir=${AB_KAFKA_DIR:-$repo/build/kafka-broker}
cache=${AB_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/alertbridge/kafka-$version}
timeout=${AB_KAFKA_TIMEOUT:-90}
heap=${AB_KAFKA_HEAP:--Xms256m -Xmx1g}

log() { echo "kafka-broker: $*" >&2; }
die() {
        log "error: $*"
        exit 1
}

# Print the broker's pid if it is alive, else nothing (exit 1).
broker_pid() {
        local pid
        [[ -f $run_dir/broker.pid ]] || return 1
        pid=$(<"$run_dir/broker.pid")
        [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
        echo "$pid"
}

cmd_fetch() {
        local tmp mvn_args=()
        if [[ -f $cache/.complete ]]; then
                log "kafka $version already cached in $cache"
                return 0
        fi
        command -v mvn >/dev/null || die "mvn not found (scripts/install-deps.sh)"
        log "fetching kafka $version from Maven Central into $cache"
        mkdir -p "$(dirname "$cache")"
        tmp=$(mktemp -d "$cache.tmp.XXXXXX")
        [[ -n ${AB_KAFKA_M2:-} ]] && mvn_args+=("-Dmaven.repo.local=$AB_KAFKA_M2")
        if ! mvn -B -f "$pom" "${mvn_args[@]}" \
                org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
                -DincludeScope=runtime -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
                grep -E "ERROR|FAIL" "$tmp.log" | head -n 20 >&2
                rm -rf "$tmp" "$tmp.log"
                die "maven could not fetch kafka $version"
        fi
        rm -f "$tmp.log"
        ls "$tmp"/kafka_2.13-"$version".jar >/dev/null ||
                die "kafka_2.13-$version.jar missing after fetch"
        touch "$tmp/.complete"
        rm -rf "$cache"
        mv "$tmp" "$cache"
        log "cached $(find "$cache" -name '*.jar' | wc -l) jars"
}

# Print two distinct free loopback TCP ports (broker, controller). The
# sockets are held until both are chosen so the kernel cannot repeat one.
free_ports() {
        python3 - <<'EOF'
import socket
socks = []
for _ in range(2):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# A KRaft cluster id: 16 random bytes, base64url without padding. One that
# starts with '-' would be read as an option by StorageTool: draw again.
cluster_id() {
        python3 -c '
import base64, uuid
while True:
    cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not cid.startswith("-"):
        print(cid)
        break'
}

write_config() {
        local port=$1 cport=$2
        cat >"$run_dir/server.properties" <<EOF
# Written by scripts/kafka-broker.sh: single-node KRaft test broker.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$run_dir/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
        cat >"$run_dir/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
EOF
        cat >"$run_dir/env" <<EOF
export AB_KAFKA_BROKERS=127.0.0.1:$port
export AB_KAFKA_DIR=$run_dir
EOF
        echo "$port $cport" >"$run_dir/ports"
}

# The JVM command line shared by the storage tool and the broker.
java_cmd() {
        read -r -a java <<<"$heap"
        java=(java "${java[@]}" -XX:+UseG1GC -Djava.awt.headless=true
                "-Dlog4j.configuration=file:$run_dir/log4j.properties"
                -cp "$cache/*")
}

# Succeeds once the broker answers a metadata request with itself.
serves() {
        local port
        port=$(cut -d' ' -f1 "$run_dir/ports")
        kcat -L -b "127.0.0.1:$port" -m 3 2>/dev/null |
                grep -q "broker 1 at 127.0.0.1:$port"
}

launch() {
        local pid start=$SECONDS java
        java_cmd
        "${java[@]}" kafka.tools.StorageTool format --ignore-formatted \
                -t "$(<"$run_dir/cluster.id")" -c "$run_dir/server.properties" \
                >>"$run_dir/format.log" 2>&1 ||
                die "storage format failed: $(tail -n 20 "$run_dir/format.log")"
        # A session of its own, so that whoever started the broker (a test
        # harness that kills its process group, a terminal) does not take
        # it down; the inner shell writes its pid, which exec hands to java.
        rm -f "$run_dir/broker.pid"
        setsid bash -c 'echo $$ >"$0/broker.pid"; exec "$@"' "$run_dir" \
                "${java[@]}" kafka.Kafka "$run_dir/server.properties" \
                </dev/null >>"$run_dir/broker.log" 2>&1 &
        while [[ ! -s $run_dir/broker.pid ]]; do
                ((SECONDS - start < timeout)) || die "broker did not start"
                sleep 0.1
        done
        pid=$(<"$run_dir/broker.pid")
        while ! serves; do
                if ! kill -0 "$pid" 2>/dev/null; then
                        tail -n 40 "$run_dir/broker.log" >&2
                        die "broker exited during start-up (log: $run_dir/broker.log)"
                fi
                if ((SECONDS - start >= timeout)); then
                        tail -n 40 "$run_dir/broker.log" >&2
                        cmd_stop
                        die "broker did not serve within ${timeout}s (log: $run_dir/broker.log)"
                fi
                sleep 0.5
        done
        log "kafka $version serving on $(cut -d' ' -f1 "$run_dir/ports") (pid $pid, $((SECONDS - start))s)"
        cat "$run_dir/env"
}

cmd_start() {
        local ports
        if broker_pid >/dev/null; then
                log "already running (pid $(broker_pid))"
                cat "$run_dir/env"
                return 0
        fi
        command -v java >/dev/null || die "java not found (scripts/install-deps.sh)"
        command -v kcat >/dev/null || die "kcat not found (scripts/install-deps.sh)"
        cmd_fetch
        rm -rf "$run_dir"
        mkdir -p "$run_dir/data"
        ports=$(free_ports)
        # shellcheck disable=SC2086 # two words: broker and controller port
        write_config $ports
        cluster_id >"$run_dir/cluster.id"
        launch
}

cmd_restart() {
        [[ -f $run_dir/ports && -f $run_dir/cluster.id ]] ||
                die "no broker was started in $run_dir"
        cmd_stop
        launch
}

cmd_stop() {
        local pid i
        if ! pid=$(broker_pid); then
                rm -f "$run_dir/broker.pid"
                log "not running"
                return 0
        fi
        kill -TERM "$pid"
        for ((i = 0; i < 600; i++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
                log "broker ignored TERM for 60s; killing it"
                kill -KILL "$pid"
        fi
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
        rm -f "$run_dir/broker.pid"
        log "stopped (pid $pid)"
}

cmd_status() {
        local pid
        if pid=$(broker_pid) && serves; then
                log "running (pid $pid)"
                cat "$run_dir/env"
                return 0
        fi
        log "not running"
        return 3
}

cmd_env() {
        [[ -f $run_dir/env ]] || die "no broker was started in $run_dir"
        cat "$run_dir/env"
}

case ${1:-} in
fetch | start | stop | restart | status | env) "cmd_$1" ;;
*)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
        exit 2
        ;;
esac
