/* SPDX-License-Identifier: MIT */
/*
 * stdio.h - the little of stdio the tests and examples use, for a target
 * without a C library: output only, all of it to the UART (libc.c).
 *
 * printf understands the flags '-' and '0', a width and a precision
 * (digits or '*'), the lengths 'l' and 'll' (and 'z', 'h', 'hh'), and the
 * conversions d i u x X c s p %. No floating point.
 */
#ifndef QEMU_RISCV_STDIO_H
#define QEMU_RISCV_STDIO_H

#include <stdarg.h>
#include <stddef.h>

typedef struct qemu_riscv_file FILE;
extern FILE *const stdout;
extern FILE *const stderr;
#define stdout stdout
#define stderr stderr

#define EOF (-1)

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int fprintf(FILE *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int vfprintf(FILE *f, const char *fmt, va_list ap);
int sprintf(char *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int putchar(int c);
int fputc(int c, FILE *f);
int puts(const char *s);
int fputs(const char *s, FILE *f);
int fflush(FILE *f);

#endif /* QEMU_RISCV_STDIO_H */
