/* ab_sign_tool.c - our signer and batch encoder for the SDK cross-check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "sink/batch.h"
#include "sink/sign.h"

/*
 * ab_sign_tool headers --date D --nonce N --ak ID --secret S
 *                      [--token T] [--region R]
 *     prints the PutEvents headers, one "name: value" line each, then a
 *     line "string-to-sign: " with the signed string's newlines as "\n".
 * ab_sign_tool body --bus B
 *     reads one structured CloudEvent per stdin line and prints the
 *     PutEvents body that carries them.
 */

static const char *arg(int argc, char **argv, const char *name)
{
        for (int i = 2; i + 1 < argc; i++)
                if (!strcmp(argv[i], name))
                        return argv[i + 1];
        return NULL;
}

static int headers(int argc, char **argv)
{
        struct ab_sign_creds creds   = {arg(argc, argv, "--ak"),
                                        arg(argc, argv, "--secret"),
                                        arg(argc, argv, "--token")};
        struct ab_sign_putevents req = {&creds, arg(argc, argv, "--date"),
                                        arg(argc, argv, "--nonce"),
                                        arg(argc, argv, "--region"), NULL};
        struct ab_buf out, sts;
        int rc = 1;

        if (!creds.access_key_id || !creds.access_key_secret || !req.date ||
            !req.nonce) {
                fprintf(stderr, "headers: --date --nonce --ak --secret "
                                "are required\n");
                return 2;
        }
        ab_buf_init(&out, 0);
        ab_buf_init(&sts, 0);
        if (!ab_sign_putevents_headers(&out, &req, &sts)) {
                fputs(out.data, stdout);
                fputs("string-to-sign: ", stdout);
                for (size_t i = 0; i < sts.len; i++) {
                        if (sts.data[i] == '\n')
                                fputs("\\n", stdout);
                        else
                                putchar(sts.data[i]);
                }
                putchar('\n');
                rc = 0;
        }
        ab_buf_fini(&out);
        ab_buf_fini(&sts);
        return rc;
}

static int body(int argc, char **argv)
{
        const char *bus = arg(argc, argv, "--bus");
        struct ab_batch_limits lim;
        struct ab_batch batch;
        struct ab_json_doc doc;
        struct ab_buf ev;
        char line[65536];
        const char *text;
        size_t len;
        int rc = 0;

        if (!bus) {
                fprintf(stderr, "body: --bus is required\n");
                return 2;
        }
        ab_batch_limits_default(&lim);
        ab_batch_init(&batch, &lim);
        ab_json_doc_init(&doc);
        ab_buf_init(&ev, 0);
        while (!rc && fgets(line, sizeof(line), stdin)) {
                struct ab_batch_event_info info;
                struct ab_error err;

                ab_buf_reset(&ev);
                line[strcspn(line, "\n")] = '\0';
                if (ab_batch_encode_event(&ev, &doc, line, strlen(line), bus,
                                          NULL, &lim, &info, &err) ||
                    ab_batch_add(&batch, ev.data, ev.len, info.counted)) {
                        fprintf(stderr, "body: cannot add event\n");
                        rc = 1;
                }
        }
        text = ab_batch_finish(&batch, &len);
        if (!rc && text)
                fwrite(text, 1, len, stdout);
        ab_buf_fini(&ev);
        ab_json_doc_fini(&doc);
        ab_batch_fini(&batch);
        return rc || !text;
}

int main(int argc, char **argv)
{
        if (argc >= 2 && !strcmp(argv[1], "headers"))
                return headers(argc, argv);
        if (argc >= 2 && !strcmp(argv[1], "body"))
                return body(argc, argv);
        fprintf(stderr, "usage: ab_sign_tool headers|body ...\n");
        return 2;
}
