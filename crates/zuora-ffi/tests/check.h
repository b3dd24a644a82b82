/* What both C tests share: a check that counts failures instead of stopping, and the two ways
 * they read the library's text. */
#ifndef ZUORA_TEST_CHECK_H
#define ZUORA_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "zuora.h"

static int failures = 0;
#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                              \
        }                                                                            \
    } while (0)
#define TEXT(literal) ((ZuoraStr){(const uint8_t *)(literal), strlen(literal)})

/* Text from the library is NUL-terminated, so strstr may read it. */
static int contains(ZuoraStr text, const char *needle) {
    return text.ptr != NULL && strstr((const char *)text.ptr, needle) != NULL;
}

static int equals(ZuoraStr text, const char *expected) {
    return text.len == strlen(expected) && memcmp(text.ptr, expected, text.len) == 0;
}

#endif
