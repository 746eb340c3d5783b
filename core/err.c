/* err.c - names, descriptions and the caller-owned error detail. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const err_codes[] = {
#define AB__ERR_CODE(name, cls, code, desc) code,
    AB_ERR_MAP(AB__ERR_CODE)
#undef AB__ERR_CODE
};

static const char *const err_descs[] = {
#define AB__ERR_DESC(name, cls, code, desc) desc,
    AB_ERR_MAP(AB__ERR_DESC)
#undef AB__ERR_DESC
};

static const enum ab_err_class err_classes[] = {
#define AB__ERR_CLASS(name, cls, code, desc) AB_ERR_CLASS_##cls,
    AB_ERR_MAP(AB__ERR_CLASS)
#undef AB__ERR_CLASS
};

const char *ab_err_code(ab_err_t err)
{
        if ((unsigned)err >= AB_ERR__COUNT)
                return "unknown";
        return err_codes[err];
}

const char *ab_err_desc(ab_err_t err)
{
        if ((unsigned)err >= AB_ERR__COUNT)
                return "unknown error";
        return err_descs[err];
}

enum ab_err_class ab_err_class(ab_err_t err)
{
        if ((unsigned)err >= AB_ERR__COUNT)
                return AB_ERR_CLASS_FATAL;
        return err_classes[err];
}

void ab_error_clear(struct ab_error *e)
{
        if (!e)
                return;
        e->code       = AB_OK;
        e->has_offset = 0;
        e->offset     = 0;
        e->path[0]    = '\0';
        e->text[0]    = '\0';
}

__attribute__((format(printf, 4, 0))) static void
error_vset(struct ab_error *e, ab_err_t code, const char *path, const char *fmt,
           va_list ap)
{
        e->code       = code;
        e->has_offset = 0;
        e->offset     = 0;
        snprintf(e->path, sizeof(e->path), "%s", path ? path : "");
        vsnprintf(e->text, sizeof(e->text), fmt, ap);
}

ab_err_t ab_error_set(struct ab_error *e, ab_err_t code, const char *path,
                      const char *fmt, ...)
{
        va_list ap;

        if (!e)
                return code;
        va_start(ap, fmt);
        error_vset(e, code, path, fmt, ap);
        va_end(ap);
        return code;
}

ab_err_t ab_error_set_at(struct ab_error *e, ab_err_t code, size_t offset,
                         const char *fmt, ...)
{
        va_list ap;

        if (!e)
                return code;
        va_start(ap, fmt);
        error_vset(e, code, NULL, fmt, ap);
        va_end(ap);
        e->has_offset = 1;
        e->offset     = offset;
        return code;
}

void ab_error_prefix(struct ab_error *e, const char *prefix)
{
        size_t plen, tlen, cap;

        if (!e)
                return;
        cap  = sizeof(e->text) - 1;
        plen = strlen(prefix) + 2;
        if (plen > cap)
                plen = cap;
        tlen = strlen(e->text);
        if (plen + tlen > cap)
                tlen = cap - plen;
        memmove(e->text + plen, e->text, tlen);
        memcpy(e->text, prefix, plen >= 2 ? plen - 2 : plen);
        if (plen >= 2) {
                e->text[plen - 2] = ':';
                e->text[plen - 1] = ' ';
        }
        e->text[plen + tlen] = '\0';
}

void ab_error_suffix(struct ab_error *e, const char *suffix)
{
        size_t tlen, slen;

        if (!e)
                return;
        tlen = strlen(e->text);
        slen = strlen(suffix);
        if (tlen + slen > sizeof(e->text) - 1)
                slen = sizeof(e->text) - 1 - tlen;
        memcpy(e->text + tlen, suffix, slen);
        e->text[tlen + slen] = '\0';
}

const char *ab_error_format(const struct ab_error *e, char *out, size_t outsize)
{
        const char *text = e->text[0] ? e->text : ab_err_desc(e->code);

        if (e->path[0] && e->has_offset)
                snprintf(out, outsize, "%s: %s: %s (at byte %zu)",
                         ab_err_code(e->code), e->path, text, e->offset);
        else if (e->path[0])
                snprintf(out, outsize, "%s: %s: %s", ab_err_code(e->code),
                         e->path, text);
        else if (e->has_offset)
                snprintf(out, outsize, "%s: %s (at byte %zu)",
                         ab_err_code(e->code), text, e->offset);
        else
                snprintf(out, outsize, "%s: %s", ab_err_code(e->code), text);
        return out;
}
