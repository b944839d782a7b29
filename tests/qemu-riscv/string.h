/* SPDX-License-Identifier: MIT */
/*
 * string.h - the string functions the tests and examples use (and memset,
 * memcpy, memmove and memcmp, which the compiler may call on its own), for
 * a target without a C library. In libc.c.
 */
#ifndef QEMU_RISCV_STRING_H
#define QEMU_RISCV_STRING_H

#include <stddef.h>

void *memset(void *s, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
char *strcat(char *restrict dst, const char *restrict src);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

#endif /* QEMU_RISCV_STRING_H */
