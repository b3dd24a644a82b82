/* The smallest program a C user builds against the released library, with nothing but
 * `cc demo.c $(pkg-config --cflags --libs zuora)`: it makes settings, a session from them (a
 * base URL that is not one is refused), and frees them. `cargo xtask dist-test` builds it against the unpacked archive. */
#include <stdio.h>
#include <string.h>

#include <zuora.h>

int main(void) {
    ZuoraConfig *config = NULL;
    if (zuora_config_new(&config) != ZUORA_OK || config == NULL) {
        fprintf(stderr, "zuora_config_new failed\n");
        return 1;
    }
    const char *url = "http://127.0.0.1:8080";
    ZuoraStr good = {(const uint8_t *)url, strlen(url)};
    const char *bad_url = "not a url";
    ZuoraStr bad = {(const uint8_t *)bad_url, strlen(bad_url)};
    const char *id = "client-id", *secret = "client-secret";
    ZuoraStr client_id = {(const uint8_t *)id, strlen(id)};
    ZuoraStr client_secret = {(const uint8_t *)secret, strlen(secret)};
    ZuoraSession *session = NULL, *refused = NULL;
    int failed = zuora_config_set_credentials(config, client_id, client_secret) != ZUORA_OK ||
                 zuora_config_set_base_url(config, good) != ZUORA_OK ||
                 zuora_session_new(config, 42, &session) != ZUORA_OK || session == NULL;
    /* Checked when a session is made from the settings: nothing is ever sent to it. */
    failed |= zuora_config_set_base_url(config, bad) != ZUORA_OK ||
              zuora_session_new(config, 42, &refused) != ZUORA_ERR_INVALID_INPUT || refused != NULL;
    zuora_session_free(session);
    zuora_config_free(config);
    ZuoraStr version = zuora_version();
    printf("libzuora %.*s: %s\n", (int)version.len, (const char *)version.ptr,
           failed ? "FAILED" : "ok");
    return failed;
}
