-- ingest_post.lua - wrk script for bench/ingest.sh: POST a 1 KB Alertmanager
-- webhook (version 4, one firing alert) to alertbridge ingest, and count
-- the answers by status so the bench can compare the 200s with the records.
local path = os.getenv("AB_INGEST_PATH") or "/api/v1/integrations/alertmanager/bench"

local function body()
        local alert = '{"status":"firing","labels":{"alertname":"HighLatency",' ..
                '"severity":"critical","instance":"web-%d:9100","job":"node",' ..
                '"service":"checkout","team":"payments","env":"prod"},' ..
                '"annotations":{"summary":"p99 latency above 500ms for 5m",' ..
                '"description":"%s"},"startsAt":"2026-01-01T00:00:00Z",' ..
                '"endsAt":"0001-01-01T00:00:00Z",' ..
                '"generatorURL":"http://prometheus:9090/graph?g0.expr=x",' ..
                '"fingerprint":"%016x"}'
        local head = '{"version":"4","groupKey":"{}:{alertname=\\"HighLatency\\"}",' ..
                '"truncatedAlerts":0,"status":"firing","receiver":"alertbridge",' ..
                '"groupLabels":{"alertname":"HighLatency"},' ..
                '"commonLabels":{"alertname":"HighLatency","severity":"critical"},' ..
                '"commonAnnotations":{},"externalURL":"http://alertmanager:9093",' ..
                '"alerts":['
        local n = math.random(1, 1000000)
        local s = head .. string.format(alert, n % 97, "%s", n) .. ']}'
        -- pad the description so the body is exactly 1024 bytes
        return string.format(s, string.rep("x", 1024 - #s + 2))
end

local threads = {}

function setup(thread)
        table.insert(threads, thread)
end

function init(args)
        ok, other = 0, 0
        wrk.method = "POST"
        wrk.path = path
        wrk.headers["Content-Type"] = "application/json"
        wrk.body = body()
end

function response(status, headers, resp)
        if status == 200 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
        local oks, others = 0, 0
        for _, t in ipairs(threads) do
                oks = oks + t:get("ok")
                others = others + t:get("other")
        end
        io.write(string.format("BENCH requests=%d ok=%d other=%d errors=%d " ..
                "duration_s=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
                summary.requests, oks, others,
                summary.errors.connect + summary.errors.read +
                summary.errors.write + summary.errors.timeout,
                summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
                latency:percentile(50) / 1000, latency:percentile(99) / 1000,
                latency.max / 1000))
end
