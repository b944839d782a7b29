/* SPDX-License-Identifier: MIT */
/*
 * libc.c - stdio.h and string.h of this directory: formatted output to
 * the UART or a buffer, and the usual memory and string functions. Small
 * and slow on purpose; correct for what the tests and examples print.
 * Build it with -fno-tree-loop-distribute-patterns, or GCC may turn the
 * loop in memset into a call to memset.
 */
#include <stdint.h>

#include "stdio.h"
#include "string.h"
#include "virt.h"

struct qemu_riscv_file {
    int unused;
};
static struct qemu_riscv_file files[2];
FILE *const stdout = &files[0];
FILE *const stderr = &files[1];

/* Where formatted output goes: the UART (buf NULL) or buf, of which at
 * most cap - 1 bytes are written; len counts every byte produced. */
struct sink {
    char *buf;
    size_t cap, len;
};

static void emit(struct sink *o, char c)
{
    if (!o->buf)
        virt_putc(c);
    else if (o->len + 1 < o->cap)
        o->buf[o->len] = c;
    o->len++;
}

static void emit_pad(struct sink *o, char c, int n)
{
    while (n-- > 0)
        emit(o, c);
}

/* One conversion's text (s, n bytes, after prefix), padded to width. */
static void emit_field(struct sink *o, const char *prefix, const char *s,
                       int n, int width, int left, int zero)
{
    int plen = (int)strlen(prefix);
    int pad = width - plen - n;

    if (!left && !zero)
        emit_pad(o, ' ', pad);
    while (*prefix)
        emit(o, *prefix++);
    if (!left && zero)
        emit_pad(o, '0', pad);
    while (n-- > 0)
        emit(o, *s++);
    if (left)
        emit_pad(o, ' ', pad);
}

static int format(struct sink *o, const char *fmt, va_list ap)
{
    char digits[24];

    for (; *fmt; fmt++) {
        int left = 0, zero = 0, width = 0, prec = -1, lng = 0;
        const char *prefix = "";
        unsigned long long v;
        unsigned base = 10;
        int n;

        if (*fmt != '%') {
            emit(o, *fmt);
            continue;
        }
        for (fmt++; *fmt == '-' || *fmt == '0'; fmt++) {
            if (*fmt == '-')
                left = 1;
            else
                zero = 1;
        }
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                left = 1;
                width = -width;
            }
            fmt++;
        }
        for (; *fmt >= '0' && *fmt <= '9'; fmt++)
            width = width * 10 + (*fmt - '0');
        if (*fmt == '.') {
            prec = 0;
            if (*++fmt == '*') {
                prec = va_arg(ap, int);
                fmt++;
            }
            for (; *fmt >= '0' && *fmt <= '9'; fmt++)
                prec = prec * 10 + (*fmt - '0');
        }
        /* lng: 0 int, 1 long (size_t is one here), 2 long long. */
        for (; *fmt == 'l' || *fmt == 'z' || *fmt == 'h'; fmt++)
            lng += *fmt == 'l' || *fmt == 'z';
        if (left)
            zero = 0;

        switch (*fmt) {
        case '%':
            emit(o, '%');
            continue;
        case 'c':
            digits[0] = (char)va_arg(ap, int);
            emit_field(o, "", digits, 1, width, left, 0);
            continue;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            for (n = 0; s[n] && (prec < 0 || n < prec); n++) {
            }
            emit_field(o, "", s, n, width, left, 0);
            continue;
        }
        case 'd':
        case 'i': {
            long long sv = lng > 1 ? va_arg(ap, long long)
                           : lng ? va_arg(ap, long) : va_arg(ap, int);
            v = sv < 0 ? 0ull - (unsigned long long)sv
                       : (unsigned long long)sv;
            if (sv < 0)
                prefix = "-";
            break;
        }
        case 'u':
        case 'x':
        case 'X':
            v = lng > 1 ? va_arg(ap, unsigned long long)
                : lng   ? va_arg(ap, unsigned long)
                        : va_arg(ap, unsigned);
            base = *fmt == 'u' ? 10 : 16;
            break;
        case 'p':
            v = (unsigned long)(uintptr_t)va_arg(ap, void *);
            base = 16;
            prefix = "0x";
            break;
        default: /* unknown: show it as it was written */
            emit(o, '%');
            if (!*fmt)
                return (int)o->len;
            emit(o, *fmt);
            continue;
        }
        /* Digits, least significant first, then reversed in place. */
        n = 0;
        do {
            unsigned d = (unsigned)(v % base);
            digits[n++] = (char)(d < 10 ? '0' + d
                                        : (*fmt == 'X' ? 'A' : 'a') + d - 10);
            v /= base;
        } while (v);
        while (n < prec)
            digits[n++] = '0';
        for (int i = 0; i < n / 2; i++) {
            char t = digits[i];
            digits[i] = digits[n - 1 - i];
            digits[n - 1 - i] = t;
        }
        emit_field(o, prefix, digits, n, width, left, zero && prec < 0);
    }
    return (int)o->len;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct sink o = { buf, size, 0 };
    int n = format(&o, fmt, ap);
    if (buf && size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int sprintf(char *buf, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(buf, SIZE_MAX, fmt, ap);
    va_end(ap);
    return n;
}

int vfprintf(FILE *f, const char *fmt, va_list ap)
{
    struct sink o = { NULL, 0, 0 };
    (void)f;
    return format(&o, fmt, ap);
}

int vprintf(const char *fmt, va_list ap)
{
    return vfprintf(stdout, fmt, ap);
}

int fprintf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vfprintf(f, fmt, ap);
    va_end(ap);
    return n;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vfprintf(stdout, fmt, ap);
    va_end(ap);
    return n;
}

int fputc(int c, FILE *f)
{
    (void)f;
    virt_putc((char)c);
    return (unsigned char)c;
}

int putchar(int c)
{
    return fputc(c, stdout);
}

int fputs(const char *s, FILE *f)
{
    while (*s)
        fputc(*s++, f);
    return 0;
}

int puts(const char *s)
{
    fputs(s, stdout);
    return putchar('\n');
}

int fflush(FILE *f)
{
    (void)f; /* the UART is unbuffered */
    return 0;
}

void *memset(void *s, int c, size_t n)
{
    unsigned char *p = s;
    while (n--)
        *p++ = (unsigned char)c;
    return s;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;
    for (; n; n--, p++, q++) {
        if (*p != *q)
            return *p - *q;
    }
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

char *strcat(char *restrict dst, const char *restrict src)
{
    memcpy(dst + strlen(dst), src, strlen(src) + 1);
    return dst;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b || !*a)
            return (unsigned char)*a - (unsigned char)*b;
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}
