/* corpus.c - deterministic benchmark payloads for every built-in integration
 * and the seed-001 shape. */
#include "bench/corpus.h"

#include <stdio.h>
#include <string.h>

#include "bench/benchutil.h"
#include "core/mem.h"
#include "core/timefmt.h"

/*
 * HOW IT WORKS
 * Record i draws from its own random stream, splitmix64(seed, i), so a
 * record never depends on the ones before it. The draws pick the key (the
 * values that identify the alert: instance, resource, IP...), the role
 * (firing, recovery or malformed) and the values that change from push to
 * push (metric values, message numbers), which land in annotations or the
 * message and so never change the fingerprint. The alert's start time is
 * a function of its key, its end (on a recovery) ten minutes later.
 *
 * Payloads are written from templates in which "@0".."@9" stand for
 * arguments, so the percent signs of form bodies and messages stay
 * readable. The templates are shortened real pushes of each source.
 */

/* 2026-11-22T03:00:00Z: alert start times count from here. */
#define CORPUS_EPOCH_MS 1795316400000LL

static const char *const kind_names[AB_BENCH__COUNT] = {
#define AB__BENCH_NAME(id, name, integ) name,
    AB_BENCH_KIND_MAP(AB__BENCH_NAME)
#undef AB__BENCH_NAME
};

static const char *const kind_integs[AB_BENCH__COUNT] = {
#define AB__BENCH_INTEG(id, name, integ) integ,
    AB_BENCH_KIND_MAP(AB__BENCH_INTEG)
#undef AB__BENCH_INTEG
};

const char *ab_bench_kind_name(enum ab_bench_kind k)
{
        return (unsigned)k < AB_BENCH__COUNT ? kind_names[k] : "unknown";
}

const char *ab_bench_kind_integration(enum ab_bench_kind k)
{
        return (unsigned)k < AB_BENCH__COUNT ? kind_integs[k] : "unknown";
}

int ab_bench_kind_lookup(const char *name)
{
        for (int k = 0; k < AB_BENCH__COUNT; k++)
                if (!strcmp(kind_names[k], name))
                        return k;
        return -1;
}

/* ---------------------------------------------------------------- random */

static uint64_t splitmix64(uint64_t *s)
{
        uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double unit(uint64_t *s)
{
        return (double)(splitmix64(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---------------------------------------------------------------- templates */

/* Append \p tpl with "@N" replaced by args[N]. */
static ab_err_t expand(struct ab_buf *out, const char *tpl,
                       const char *const *args, size_t nargs)
{
        const char *p = tpl;
        ab_err_t rc   = AB_OK;

        while (*p && !rc) {
                const char *at = strchr(p, '@');
                size_t i;

                if (!at)
                        return ab_buf_append_str(out, p);
                rc = ab_buf_append(out, p, (size_t)(at - p));
                if (at[1] < '0' || at[1] > '9')
                        return rc ? rc : AB_ERR_INTERNAL;
                i = (size_t)(at[1] - '0');
                if (!rc && i < nargs)
                        rc = ab_buf_append_str(out, args[i]);
                p = at + 2;
        }
        return rc;
}

/* What the emitters vary, per record. */
struct draw {
        uint32_t key;
        bool recovery;
        bool noname; /* malformed: the alert name's key is misspelt */
        uint64_t v;  /* changing values */
};

struct args {
        char a[10][96];
        const char *p[10];
};

static void args_init(struct args *a)
{
        for (int i = 0; i < 10; i++) {
                a->a[i][0] = '\0';
                a->p[i]    = a->a[i];
        }
}

static int64_t start_ms(uint32_t key)
{
        return CORPUS_EPOCH_MS - (int64_t)(key % 86400) * 1000;
}

/* RFC 3339 with 9 fraction digits, as ARMS writes them. */
static void time_nanos(int64_t ms, char *out, size_t n)
{
        char t[AB_TIME_RFC3339_LEN];
        size_t len = ab_time_format(ms, t);

        snprintf(out, n, "%.*s000000Z", (int)(len - 1), t);
}

/* CloudMonitor's compact local time, 20190409T121826.922+0800. */
static void time_compact(int64_t ms, char *out, size_t n)
{
        char t[AB_TIME_RFC3339_LEN];

        ab_time_format(ms + 8 * 3600 * 1000, t);
        snprintf(out, n, "%.4s%.2s%.2sT%.2s%.2s%.2s.%.3s+0800", t, t + 5, t + 8,
                 t + 11, t + 14, t + 17, t + 20);
}

/* Prometheus Alertmanager webhook v4, two alerts (about 1.2 KB). */
static const char tpl_alertmanager[] =
    "{\"receiver\":\"alertbridge\",\"status\":\"@0\",\"alerts\":[{\"status\":"
    "\"@0\",\"labels\":{\"@9\":\"HighErrorRate\",\"instance\":\"@1:9100\","
    "\"job\":\"checkout\",\"severity\":\"critical\",\"team\":\"payments\","
    "\"env\":\"production\"},\"annotations\":{\"summary\":\"5xx ratio above "
    "5% on checkout\",\"description\":\"checkout returns @2% errors over "
    "5m\",\"runbook_url\":\"https://runbooks.example.com/HighErrorRate\"},"
    "\"startsAt\":\"@3\",\"endsAt\":\"@4\",\"generatorURL\":\"http://"
    "prometheus:9090/graph?g0.expr=rate%28http_errors_total%5B5m%5D%29&g0.tab"
    "=1\",\"fingerprint\":\"@5\"},{\"status\":\"@0\",\"labels\":{\"alertname"
    "\":\"DiskFillingUp\",\"instance\":\"@1:9100\",\"job\":\"node\","
    "\"severity\":\"warning\",\"device\":\"/dev/vda1\",\"env\":\"production\""
    "},\"annotations\":{\"summary\":\"disk will fill within 24h\","
    "\"description\":\"/dev/vda1 has @6% left\"},\"startsAt\":\"@3\","
    "\"endsAt\":\"@4\",\"generatorURL\":\"http://prometheus:9090/graph?g0."
    "expr=predict_linear%28node_filesystem_free_bytes%5B6h%5D%2C24%2A3600%29"
    "\",\"fingerprint\":\"@7\"}],\"groupLabels\":{},\"commonLabels\":{\"env\":"
    "\"production\"},\"commonAnnotations\":{},\"externalURL\":\"http://"
    "alertmanager:9093\",\"version\":\"4\",\"groupKey\":\"{}:{}\","
    "\"truncatedAlerts\":0}";

/* ARMS webhook with $alertmanager_content (formats.md §3b), one alert. */
static const char tpl_arms[] =
    "{\"alerts\":[{\"annotations\":{\"_aliyun_arms_alert_value\":\"@2\","
    "\"_aliyun_arms_alert_message\":\"null\\n\xe6\xb6\x88\xe6\x81\xaf"
    "ID: "
    "ac10c42a16124966960554200d2450-@6\\n\",\"_aliyun_arms_alert_now_value\":"
    "\"@2\",\"message\":\"\xe5\x91\xbd\xe5\x90\x8d\xe7\xa9\xba\xe9\x97\xb4: "
    "arms-prom / Pod: @5 / \xe5\xae\xb9\xe5\x99\xa8: kube-state-metrics "
    "\xe5\x86\x85\xe5\xad\x98\xe4\xbd\xbf\xe7\x94\xa8\xe7\x8e\x87\xe8\xb6\x85"
    "\xe8\xbf\x87"
    "80%, \xe5\xbd\x93\xe5\x89\x8d\xe5\x80\xbc@2%\",\"value\":"
    "\"@2\",\"_aliyun_arms_alert_past_value\":\"@2\"},\"endsAt\":\"@4\","
    "\"fingerprint\":\"@7\",\"labels\":{\"container\":\"kube-state-metrics\","
    "\"severity\":\"warning\",\"_aliyun_arms_alert_level\":\"ERROR\","
    "\"instance\":\"@1:10255\",\"clustername\":\"klyz1688-kubernetes-1\","
    "\"_aliyun_arms_alert_type\":\"101\",\"_aliyun_arms_integration_name\":"
    "\"\xe6\xb5\x8b\xe8\xaf\x95\xe9\x9b\x86\xe6\x88\x90-prometheus\",\"@9\":"
    "\"\xe5\xae\xb9\xe5\x99\xa8\xe5\x86\x85\xe5\xad\x98\xe4\xbd\xbf\xe7\x94"
    "\xa8\xe7\x8e\x87\xe5\xa4\xa7\xe4\xba\x8e"
    "80%\",\"_aliyun_arms_userid\":"
    "\"1131971649496228\",\"_aliyun_arms_involvedObject_name\":\"klyz1688-"
    "kubernetes-1\",\"pod_name\":\"@5\",\"_aliyun_arms_involvedObject_id\":"
    "\"cb36dcafb9b9340498fad2e1f40b9a254\",\"_aliyun_arms_region_id\":\"cn-"
    "hangzhou\",\"_aliyun_arms_involvedObject_kind\":\"cluster\","
    "\"_aliyun_arms_product_type\":\"PROMETHEUS\",\"namespace\":\"arms-prom\","
    "\"_aliyun_arms_integration_id\":\"80\",\"_aliyun_arms_involvedObject_"
    "type\":\"ManagedKubernetes\",\"_aliyun_arms_alert_rule_id\":\"3927051\"},"
    "\"startsAt\":\"@3\",\"status\":\"@0\"}],\"commonAnnotations\":{},"
    "\"commonLabels\":{},\"externalURL\":\"https://alerts.console.aliyun.com/"
    "#/alarm/alert/detail/2848\",\"groupLabels\":{\"alertname\":\"\xe5\xae"
    "\xb9\xe5\x99\xa8\xe5\x86\x85\xe5\xad\x98\xe4\xbd\xbf\xe7\x94\xa8\xe7\x8e"
    "\x87\xe5\xa4\xa7\xe4\xba\x8e"
    "80%\"},\"receiver\":\"testjiubian\","
    "\"status\":\"@0\"}";

/* CloudMonitor threshold callback, form-encoded (formats.md §3c). */
static const char tpl_cloudmonitor[] =
    "lastTime=@6%E5%88%86%E9%92%9F&rawMetricName=code5XX_stage&expression="
    "%24Value+%3E%3D+5&metricName=code5XX_stage&instanceName=api-gw-@1&"
    "signature=FpaZx5JmbQaKGAKM90Wj95oZh%2Fo%3D&transId=db5f2204-00ae-11ee-"
    "a24f-@7&groupId=41263096&regionName=null&productGroupName=new-"
    "ecommerce-pd&metricProject=acs_apigateway&userId=1273560756088235&"
    "curValue=@2&unit=%E4%B8%AA&@9=API%E7%BD%91%E5%85%B3_%E8%BF%94%E5%9B%9E"
    "%E7%A0%815XX%E4%B8%AA%E6%95%B0&regionId=cn-shenzhen&namespace="
    "acs_apigateway&triggerLevel=@3&alertState=@0&preTriggerLevel=@4&ruleId="
    "alarmRule_uuid_bf585f0992efef820bdab9920a57e178d8ae545f32f&dimensions="
    "%7BapiStageName%3DRELEASE%2C+apiUid%3D@5%2C+region%3Dcn-shenzhen%2C+"
    "userId%3D1273560756088235%7D&timestamp=@8";

/* CloudMonitor event subscription push (formats.md §3d). */
static const char tpl_cloudmonitor_event[] =
    "{\"ver\":\"1.0\",\"id\":\"2256A988-0B26-4E2B-820A-@7\",\"product\":"
    "\"ECS\",\"resourceId\":\"acs:ecs:cn-hangzhou:1690700000000030:instance/"
    "i-bp1ecr@1go2go\",\"level\":\"CRITICAL\",\"@9\":\"Instance:"
    "SystemMaintenance.Reboot:@0\",\"userId\":\"1690700000000030\","
    "\"eventTime\":\"@3\",\"regionId\":\"cn-hangzhou\",\"instanceName\":"
    "\"web-@1\",\"content\":{\"eventId\":\"e-bp11trd@1pqum2\",\"publishTime\":"
    "\"2019-04-09T04:18:26Z\",\"notBefore\":\"2019-04-12T01:01:01Z\","
    "\"instanceId\":\"i-bp1ecr@1go2go\",\"eventType\":\"SystemMaintenance."
    "Reboot\",\"eventStatus\":\"@0\",\"reason\":\"hardware maintenance of the "
    "host, the instance restarts once (attempt @6)\",\"executeStartTime\":"
    "\"2019-04-12T01:01:01Z\",\"executeFinishTime\":\"2019-04-12T01:06:01Z\","
    "\"impactLevel\":\"minor\",\"description\":\"the physical host of "
    "the instance needs maintenance; the instance is restarted once during "
    "the window\"}}";

/* A payload that already speaks ARMS alert fields (integrations/generic). */
static const char tpl_generic[] =
    "{\"@9\":\"BackupFailed\",\"severity\":\"@3\",\"message\":\"nightly "
    "backup of orders-db-@1 failed: disk quota exceeded (@6 GiB used of 512 "
    "GiB)\",\"source\":\"backup-@1\",\"check\":\"backup\",\"class\":"
    "\"database\",\"service\":\"orders\",\"value\":\"@6\",\"startat\":\"@8\","
    "@0\"generatorUrl\":\"https://backup.example.com/jobs/@1\",\"labels\":{"
    "\"team\":\"storage\",\"env\":\"production\",\"region\":\"eu-west-1\","
    "\"tier\":\"1\",\"cluster\":\"orders-main\"},\"annotations\":{\"runbook\":"
    "\"https://runbooks.example.com/backup-failed\",\"dashboard\":\"https://"
    "grafana.example.com/d/backup?var-host=backup-@1\",\"last_success\":"
    "\"2026-11-21T01:00:00Z\",\"description\":\"the nightly job copies the "
    "orders database to object storage; it failed at the upload step after "
    "3 retries, the previous backup is 2 days old\"}}";

/* The ARMS custom integration example of seed 001, batch of two. */
static const char tpl_network[] =
    "{\"@9-type\":\"network\",\"trigger-location\":\"cn-hangzhou\","
    "\"trigger-severity\":\"MAX\",\"@9-policy\":\"package errors > 5%\","
    "\"trigger-event\":\"inbound tcp package errors is @6%\","
    "\"trigger-check\":\"tcp package error percentage\",\"trigger-value\":"
    "\"@6\",\"trigger-time\":\"@8\",@0\"metadata\":[{\"agent\":\"SERVER\","
    "\"ip\":\"141.219.@1\",\"fqdn\":\"websrv@2.damenport.org\","
    "\"microServiceId\":\"ms-login-@2\",\"accountId\":\"1504000433993\","
    "\"service\":\"login-@2\"},{\"agent\":\"CONTAINER\",\"ip\":\"172.1.@1\","
    "\"fqdn\":\"websrv@3.damenport.org\",\"microServiceId\":\"ms-login-@3\","
    "\"accountId\":\"129930302939\",\"service\":\"login-@3\"}],"
    "\"equipments\":[{\"equipmentId\":\"112\"},{\"equipmentId\":\"113\"}]}";

static void ip_pair(uint32_t key, char *out, size_t n)
{
        snprintf(out, n, "%u.%u", (key >> 8) & 255u, key & 255u);
}

static ab_err_t emit(struct ab_buf *out, enum ab_bench_kind kind,
                     const struct draw *d)
{
        int64_t t0 = start_ms(d->key);
        int64_t t1 = t0 + 600000;
        unsigned v = (unsigned)(d->v % 1000);
        struct args a;

        args_init(&a);
        switch (kind) {
        case AB_BENCH_ALERTMANAGER:
                snprintf(a.a[0], 96, "%s", d->recovery ? "resolved" : "firing");
                snprintf(a.a[1], 96, "10.%u.%u.%u", (d->key >> 16) & 255u,
                         (d->key >> 8) & 255u, d->key & 255u);
                snprintf(a.a[2], 96, "%u.%u", v / 100, v % 100);
                ab_time_format(t0, a.a[3]);
                if (d->recovery)
                        ab_time_format(t1, a.a[4]);
                else
                        snprintf(a.a[4], 96, "0001-01-01T00:00:00Z");
                snprintf(a.a[5], 96, "%016llx",
                         (unsigned long long)d->key * 0x9E3779B1u);
                snprintf(a.a[6], 96, "%u", v % 40);
                snprintf(a.a[7], 96, "%016llx",
                         (unsigned long long)d->key * 0x85EBCA77u);
                snprintf(a.a[9], 96, "%s",
                         d->noname ? "alert_name" : "alertname");
                return expand(out, tpl_alertmanager, a.p, 10);
        case AB_BENCH_ARMS:
                snprintf(a.a[0], 96, "%s", d->recovery ? "resolved" : "firing");
                snprintf(a.a[1], 96, "10.0.%u.%u", (d->key >> 8) & 255u,
                         d->key & 255u);
                snprintf(a.a[2], 96, "%u.%03u", 80 + v % 20, v);
                time_nanos(t0, a.a[3], 96);
                time_nanos(d->recovery ? t1 : t0 + 540000, a.a[4], 96);
                snprintf(a.a[5], 96, "kube-state-metrics-ccb59dbff-%05u",
                         d->key);
                snprintf(a.a[6], 96, "%u", (unsigned)(d->v % 10000000));
                snprintf(a.a[7], 96, "%016llx%016llx",
                         (unsigned long long)d->key * 0x9E3779B1u,
                         (unsigned long long)d->key);
                snprintf(a.a[9], 96, "%s",
                         d->noname ? "alert_name" : "alertname");
                return expand(out, tpl_arms, a.p, 10);
        case AB_BENCH_CLOUDMONITOR: {
                const char *level = d->key % 3 ? "CRITICAL" : "WARN";

                snprintf(a.a[0], 96, "%s", d->recovery ? "OK" : "ALERT");
                snprintf(a.a[1], 96, "%05u", d->key);
                snprintf(a.a[2], 96, "%u", d->recovery ? v % 5 : 5 + v);
                snprintf(a.a[3], 96, "%s", d->recovery ? "OK" : level);
                snprintf(a.a[4], 96, "%s", d->recovery ? level : "null");
                snprintf(a.a[5], 96, "%08x42df3c02c3124cc3becd911e", d->key);
                snprintf(a.a[6], 96, "%u", v % 60);
                snprintf(a.a[7], 96, "%012llx",
                         (unsigned long long)(d->v & 0xFFFFFFFFFFFFull));
                snprintf(a.a[8], 96, "%lld",
                         (long long)(d->recovery ? t1 : t0));
                snprintf(a.a[9], 96, "%s",
                         d->noname ? "alertTitle" : "alertName");
                return expand(out, tpl_cloudmonitor, a.p, 10);
        }
        case AB_BENCH_CLOUDMONITOR_EVENT:
                snprintf(a.a[0], 96, "%s",
                         d->recovery ? "Executed" : "Scheduled");
                snprintf(a.a[1], 96, "%08u", d->key);
                time_compact(d->recovery ? t1 : t0, a.a[3], 96);
                snprintf(a.a[6], 96, "%u", v);
                snprintf(a.a[7], 96, "%012llX",
                         (unsigned long long)(d->v & 0xFFFFFFFFFFFFull));
                snprintf(a.a[9], 96, "%s", d->noname ? "title" : "name");
                return expand(out, tpl_cloudmonitor_event, a.p, 10);
        case AB_BENCH_GENERIC:
                snprintf(a.a[0], 96, "%s",
                         d->recovery ? "\"status\":\"resolved\"," : "");
                snprintf(a.a[1], 96, "%05u", d->key);
                snprintf(a.a[3], 96, "P%u", 1 + d->key % 4);
                snprintf(a.a[6], 96, "%u", 480 + v % 32);
                snprintf(a.a[8], 96, "%lld", (long long)t0);
                snprintf(a.a[9], 96, "%s",
                         d->noname ? "alert_name" : "alertname");
                return expand(out, tpl_generic, a.p, 10);
        case AB_BENCH_NETWORK:
                snprintf(a.a[0], 96, "%s",
                         d->recovery ? "\"eventType\":\"resolved\"," : "");
                ip_pair(d->key, a.a[1], 96);
                snprintf(a.a[2], 96, "%u", 2 * d->key);
                snprintf(a.a[3], 96, "%u", 2 * d->key + 1);
                snprintf(a.a[6], 96, "%u", 5 + v % 90);
                snprintf(a.a[8], 96, "%lld", (long long)t0);
                snprintf(a.a[9], 96, "%s", d->noname ? "untrigger" : "trigger");
                return expand(out, tpl_network, a.p, 10);
        default:
                return AB_ERR_INTERNAL;
        }
}

/* ---------------------------------------------------------------- corpus */

static ab_err_t push_record(struct ab_bench_corpus *c, size_t *cap)
{
        if (c->n == *cap) {
                size_t ncap = *cap ? *cap * 2 : 256;
                struct ab_bench_record *r =
                    ab_realloc(c->recs, ncap * sizeof(*r));

                if (!r)
                        return AB_ERR_NOMEM;
                c->recs = r;
                *cap    = ncap;
        }
        memset(&c->recs[c->n], 0, sizeof(c->recs[c->n]));
        c->n++;
        return AB_OK;
}

/* Break record \p r: cut JSON in the middle of a value, give a form body a
 * bad %-escape. */
static ab_err_t corrupt(struct ab_bench_corpus *c, struct ab_bench_record *r)
{
        if (r->kind == AB_BENCH_CLOUDMONITOR) {
                ab_err_t rc = ab_buf_append_str(&c->data, "&bad=%ZZ");

                if (!rc)
                        r->len += 8;
                return rc;
        }
        ab_buf_truncate(&c->data, r->off + r->len / 2);
        r->len /= 2;
        return AB_OK;
}

ab_err_t ab_bench_corpus_generate(const struct ab_bench_corpus_conf *conf,
                                  struct ab_bench_corpus *c)
{
        enum ab_bench_kind kinds[AB_BENCH__COUNT];
        size_t nkinds = 0, cap = 0;
        ab_err_t rc = AB_OK;

        memset(c, 0, sizeof(*c));
        ab_buf_init(&c->data, UINT32_MAX - 1);
        if (!conf->keys || conf->recovery_share < 0 ||
            conf->malformed_share < 0 ||
            conf->recovery_share + conf->malformed_share > 1)
                return AB_ERR_USAGE;
        for (int k = 0; k < AB_BENCH__COUNT; k++)
                if (!conf->kinds || (conf->kinds & (1u << k)))
                        kinds[nkinds++] = (enum ab_bench_kind)k;
        if (!nkinds)
                return AB_ERR_USAGE;
        for (size_t i = 0; i < conf->count && !rc; i++) {
                uint64_t s = conf->seed * 0xD1B54A32D192ED03ULL + i;
                struct ab_bench_record *r;
                struct draw d;
                double role;

                rc = push_record(c, &cap);
                if (rc)
                        break;
                r       = &c->recs[c->n - 1];
                r->kind = kinds[i % nkinds];
                memset(&d, 0, sizeof(d));
                d.key        = (uint32_t)(splitmix64(&s) % conf->keys);
                role         = unit(&s);
                d.v          = splitmix64(&s);
                r->malformed = role < conf->malformed_share;
                r->recovery  = !r->malformed && role < conf->malformed_share +
                                                          conf->recovery_share;
                d.recovery = r->recovery;
                d.noname   = r->malformed && (d.v & 1);
                r->key     = d.key;
                r->off     = (uint32_t)c->data.len;
                rc         = emit(&c->data, r->kind, &d);
                if (rc)
                        break;
                r->len = (uint32_t)(c->data.len - r->off);
                if (r->malformed && !d.noname)
                        rc = corrupt(c, r);
        }
        if (rc)
                ab_bench_corpus_fini(c);
        return rc;
}

void ab_bench_corpus_fini(struct ab_bench_corpus *c)
{
        if (!c)
                return;
        ab_buf_fini(&c->data);
        ab_free(c->recs);
        c->recs = NULL;
        c->n    = 0;
}

const char *ab_bench_reference_payload(bool resolved)
{
        static char ref[2][2048];
        struct draw d = {0, resolved, false, 723};
        char *out     = ref[resolved ? 1 : 0];
        struct ab_buf b;

        if (out[0])
                return out;
        ab_buf_init(&b, sizeof(ref[0]) - 1);
        if (!emit(&b, AB_BENCH_ALERTMANAGER, &d))
                memcpy(out, b.data, b.len + 1);
        ab_buf_fini(&b);
        return out;
}

void ab_bench_corpus_defaults(struct ab_bench_corpus_conf *conf)
{
        memset(conf, 0, sizeof(*conf));
        conf->seed            = 1;
        conf->keys            = 1000;
        conf->recovery_share  = 0.1;
        conf->malformed_share = 0.01;
}

int ab_bench_corpus_option(struct ab_bench_corpus_conf *conf, int opt,
                           const char *arg)
{
        uint64_t u;

        switch (opt) {
        case 'k':
                if (ab_bench_parse_u64(arg, &u) || !u || u > UINT32_MAX)
                        return -1;
                conf->keys = (uint32_t)u;
                return 0;
        case 'R':
                return ab_bench_parse_double(arg, &conf->recovery_share);
        case 'M':
                return ab_bench_parse_double(arg, &conf->malformed_share);
        case 's':
                return ab_bench_parse_u64(arg, &conf->seed);
        default:
                return -1;
        }
}
