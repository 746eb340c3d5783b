/* fake_eb.c - runs and scripts the fake EventBridge for C tests. */
#include "tests/support/fake_eb.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef AB_PYTHON3
#define AB_PYTHON3 "python3"
#endif

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

        nanosleep(&ts, NULL);
}

int fake_eb_start(struct fake_eb *f, const char *const *extra)
{
        char script[512], portfile[128];
        const char *argv[32];
        int n = 0;

        memset(f, 0, sizeof(*f));
        snprintf(f->dir, sizeof(f->dir), "/tmp/ab-fake-eb-XXXXXX");
        if (!mkdtemp(f->dir)) {
                perror("mkdtemp");
                return -1;
        }
        snprintf(script, sizeof(script), "%s/tests/support/fake_eventbridge.py",
                 AB_SOURCE_DIR);
        snprintf(portfile, sizeof(portfile), "%s/port", f->dir);
        argv[n++] = AB_PYTHON3;
        argv[n++] = script;
        argv[n++] = "--port-file";
        argv[n++] = portfile;
        for (int i = 0; extra && extra[i] && n < 30; i++)
                argv[n++] = extra[i];
        argv[n] = NULL;
        f->pid  = fork();
        if (f->pid == 0) {
                execv(AB_PYTHON3, (char *const *)argv);
                _exit(127);
        }
        if (f->pid < 0)
                return -1;
        /* Poll for the port file the fake writes once it listens. */
        for (int i = 0; i < 1500; i++) {
                FILE *fp = fopen(portfile, "r");
                int status;

                if (fp) {
                        int ok = fscanf(fp, "%d", &f->port) == 1;

                        fclose(fp);
                        if (ok) {
                                snprintf(f->endpoint, sizeof(f->endpoint),
                                         "http://127.0.0.1:%d", f->port);
                                return 0;
                        }
                }
                if (waitpid(f->pid, &status, WNOHANG) == f->pid) {
                        fprintf(stderr, "fake_eventbridge exited early\n");
                        f->pid = 0;
                        return -1;
                }
                sleep_ms(20);
        }
        fprintf(stderr, "fake_eventbridge did not start\n");
        return -1;
}

void fake_eb_stop(struct fake_eb *f)
{
        char path[128];

        if (f->pid > 0) {
                int waited_ms = 0;

                /* A fake that ignores SIGTERM would hang the test until
                 * its timeout: give it 10 s, then say so and fail. */
                kill(f->pid, SIGTERM);
                while (waitpid(f->pid, NULL, WNOHANG) == 0) {
                        if (waited_ms >= 10000) {
                                kill(f->pid, SIGKILL);
                                waitpid(f->pid, NULL, 0);
                                fprintf(stderr,
                                        "fake_eventbridge.py did not "
                                        "exit within 10 s of SIGTERM\n");
                                abort();
                        }
                        sleep_ms(10);
                        waited_ms += 10;
                }
                f->pid = 0;
        }
        if (f->dir[0]) {
                snprintf(path, sizeof(path), "%s/port", f->dir);
                unlink(path);
                rmdir(f->dir);
                f->dir[0] = '\0';
        }
}

struct resp {
        char *data;
        size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
        struct resp *r = ud;
        char *d        = realloc(r->data, r->len + size * n + 1);

        if (!d)
                return 0;
        memcpy(d + r->len, p, size * n);
        r->len += size * n;
        d[r->len] = '\0';
        r->data   = d;
        return size * n;
}

static json_t *call(struct fake_eb *f, const char *path, const char *post)
{
        struct resp r = {NULL, 0};
        char url[256];
        long status = 0;
        json_t *j   = NULL;
        CURL *h     = curl_easy_init();

        if (!h)
                return NULL;
        snprintf(url, sizeof(url), "%s%s", f->endpoint, path);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
        if (post)
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
        if (curl_easy_perform(h) == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (status == 200 && r.data)
                j = json_loads(r.data, 0, NULL);
        curl_easy_cleanup(h);
        free(r.data);
        return j;
}

int fake_eb_script(struct fake_eb *f, const char *actions_json)
{
        char body[4096];
        json_t *j;

        snprintf(body, sizeof(body), "{\"actions\": %s}", actions_json);
        j = call(f, "/_control/script", body);
        if (!j)
                return -1;
        json_decref(j);
        return 0;
}

json_t *fake_eb_state(struct fake_eb *f)
{
        return call(f, "/_control/state", NULL);
}

long fake_eb_count(json_t *state, const char *id)
{
        json_t *v = json_object_get(json_object_get(state, "events"), id);

        return v ? (long)json_integer_value(v) : 0;
}
