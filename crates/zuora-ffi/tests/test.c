#define _GNU_SOURCE /* memmem */
/* The C ABI's rules without a network: settings and arguments checked by the Rust types
 * (same codes as Rust's ErrorKind), NULL handling, calls out of turn, the first request of a
 * task, and secrets kept out of every message. Run by `cargo xtask ffi-test` under valgrind
 * (0 leaks, 0 errors). */
#include <stdio.h>
#include <string.h>

#include "check.h"

static const char *SECRET = "s3cr&t-never-shown";

static ZuoraConfig *config_for(const char *base_url) {
    ZuoraConfig *config = NULL;
    CHECK(zuora_config_new(&config) == ZUORA_OK);
    CHECK(zuora_config_set_base_url(config, TEXT(base_url)) == ZUORA_OK);
    CHECK(zuora_config_set_credentials(config, TEXT("my-client"), TEXT(SECRET)) == ZUORA_OK);
    return config;
}

static void version_and_conventions(void) {
    ZuoraStr version = zuora_version();
    CHECK(version.len >= 5 && version.ptr[version.len] == '\0');
    /* Accessors give neutral values for NULL; functions that can fail say so. */
    CHECK(zuora_task_step(NULL) == ZUORA_STEP_DONE);
    CHECK(zuora_task_request(NULL) == NULL);
    CHECK(zuora_run_id(NULL).len == 0);
    CHECK(zuora_request_header_count(NULL) == 0);
    CHECK(zuora_config_new(NULL) == ZUORA_ERR_NULL);
    CHECK(zuora_session_new(NULL, 0, NULL) == ZUORA_ERR_NULL);
    CHECK(contains(zuora_last_error(), "NULL"));
    zuora_config_free(NULL);
    zuora_session_free(NULL);
    zuora_task_free(NULL);
    zuora_run_options_free(NULL);
}

static void settings_are_checked_as_in_rust(void) {
    ZuoraConfig *config = config_for("https://rest.zuora.com");
    CHECK(zuora_config_set_retry(config, ZUORA_RETRY_MAX_ATTEMPTS, 0) == ZUORA_ERR_INVALID_INPUT);
    CHECK(zuora_config_set_retry(config, ZUORA_RETRY_MAX_ATTEMPTS, 51) == ZUORA_ERR_INVALID_INPUT);
    CHECK(zuora_config_set_retry(config, ZUORA_RETRY_MAX_ATTEMPTS, 5) == ZUORA_OK);
    /* Enums travel as integers: a value no enum declares is refused, never trusted. */
    CHECK(zuora_config_set_timeout(config, 99, 1000) == ZUORA_ERR_STATE);
    CHECK(contains(zuora_last_error(), "ZuoraTimeout"));
    CHECK(zuora_config_set_timeout(config, 0, 1000) == ZUORA_ERR_STATE);
    CHECK(zuora_config_set_retry(config, 0xFFFFFFFFu, 1) == ZUORA_ERR_STATE);
    CHECK(zuora_config_set_max_body_bytes(config, 10) == ZUORA_ERR_INVALID_INPUT);
    CHECK(zuora_config_set_environment(config, TEXT("MOON")) == ZUORA_ERR_INVALID_INPUT);
    CHECK(zuora_config_set_environment(config, TEXT("SBX")) == ZUORA_OK);
    const uint8_t not_utf8[] = {0xff, 0xfe};
    CHECK(zuora_config_set_user_agent(config, (ZuoraStr){not_utf8, 2}) == ZUORA_ERR_UTF8);
    ZuoraSession *session = NULL;
    CHECK(zuora_session_new(config, 1, &session) == ZUORA_OK);
    zuora_session_free(session);

    /* Checked together when the session is made, as Rust's `build`: the message names the
     * setting and never the secret. */
    CHECK(zuora_config_set_base_url(config, TEXT("not a url")) == ZUORA_OK);
    session = NULL;
    CHECK(zuora_session_new(config, 1, &session) == ZUORA_ERR_INVALID_INPUT && session == NULL);
    CHECK(!contains(zuora_last_error(), SECRET));
    CHECK(zuora_config_set_base_url(config, TEXT("https://rest.zuora.com")) == ZUORA_OK);
    CHECK(zuora_config_set_timeout(config, ZUORA_TIMEOUT_ATTEMPT, 0) == ZUORA_OK);
    CHECK(zuora_session_new(config, 1, &session) == ZUORA_ERR_INVALID_INPUT);
    zuora_config_free(config);
}

static void arguments_are_checked_before_anything_is_sent(void) {
    ZuoraConfig *config = config_for("https://rest.zuora.com");
    /* One attempt: an unreadable answer ends the task at once instead of being retried. */
    CHECK(zuora_config_set_retry(config, ZUORA_RETRY_MAX_ATTEMPTS, 1) == ZUORA_OK);
    ZuoraSession *session = NULL;
    CHECK(zuora_session_new(config, 1, &session) == ZUORA_OK);
    ZuoraTask *task = NULL;
    CHECK(zuora_session_get_run(session, TEXT(""), &task) == ZUORA_ERR_INVALID_INPUT && task == NULL);
    CHECK(contains(zuora_last_error(), "ReportRunId"));
    CHECK(zuora_session_get_run(session, TEXT(".."), &task) == ZUORA_ERR_INVALID_INPUT && task == NULL);
    CHECK(zuora_session_download(session, TEXT("ff808081529f4e3401529fd61f080074"), 7, &task) == ZUORA_ERR_STATE && task == NULL);
    ZuoraRunOptions *bad_options = NULL;
    CHECK(zuora_run_options_new(TEXT("ff808081529f4e3401529fd373730070"), 3, &bad_options) == ZUORA_ERR_STATE && bad_options == NULL);
    CHECK(zuora_session_get_run(session, TEXT("ff808081529f4e3401529fd61f080074"), &task) == ZUORA_OK);
    CHECK(zuora_task_on_transport_error(task, 5, true, TEXT("?")) == ZUORA_ERR_STATE);
    CHECK(zuora_task_on_transport_error(task, ZUORA_TRANSPORT_IO, true, TEXT("reset")) == ZUORA_OK);
    zuora_task_free(task);
    task = NULL;
    CHECK(zuora_session_rows(session, TEXT("ff808081529f4e3401529fd61f080074"), 0, &task) == ZUORA_OK);
    CHECK(zuora_task_outcome(task) == ZUORA_ERR_INVALID_INPUT); /* over before anything was sent */
    CHECK(contains(zuora_error_message(zuora_task_error(task)), "pageSize"));
    zuora_task_free(task);
    task = NULL;
    CHECK(zuora_session_search(session, TEXT("   "), &task) == ZUORA_ERR_INVALID_INPUT && task == NULL);
    CHECK(zuora_session_find_report(session, TEXT(""), &task) == ZUORA_ERR_INVALID_INPUT);
    ZuoraWaitOptions wait = zuora_wait_options_default();
    CHECK(wait.timeout_ms == 3600000 && wait.poll_first_ms == 1000 && wait.poll_max_ms == 30000 && !wait.cancel_on_timeout);
    wait.poll_first_ms = 0; /* 2,000 looks a second would eat a tenant's rate limit */
    CHECK(zuora_session_wait(session, TEXT("ff808081529f4e3401529fd61f080074"), &wait, &task) == ZUORA_ERR_INVALID_INPUT);
    CHECK(contains(zuora_last_error(), "poll"));

    ZuoraRunOptions *options = NULL;
    CHECK(zuora_run_options_new(TEXT("a\tb"), ZUORA_VIEW_DETAIL, &options) == ZUORA_ERR_INVALID_INPUT && options == NULL);
    CHECK(zuora_run_options_new(TEXT("ff808081529f4e3401529fd373730070"), ZUORA_VIEW_SUMMARY, &options) == ZUORA_OK);
    CHECK(zuora_run_options_set_track_id(options, TEXT("job:1")) == ZUORA_ERR_INVALID_INPUT);
    CHECK(contains(zuora_last_error(), "position 4"));
    char long_key[300];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    CHECK(zuora_run_options_set_idempotency_key(options, TEXT(long_key)) == ZUORA_ERR_INVALID_INPUT);
    CHECK(zuora_run_options_set_filters_json(options, TEXT("{not json")) == ZUORA_ERR_INVALID_INPUT);
    CHECK(zuora_run_options_set_filters_json(
              options, TEXT("{\"logicalOperator\":{\"value\":\"AND\"},\"filterClauses\":[{\"field\":{\"id\":\"Account.Name\",\"type\":\"Text\"},\"operator\":\"=\",\"value\":\"Acme\"}]}")) == ZUORA_OK);
    CHECK(zuora_run_options_set_track_id(options, TEXT("nightly-invoices")) == ZUORA_OK);
    CHECK(zuora_run_options_set_idempotency_key(options, TEXT("3f0c5d2e-6a47-4f0e-9d39-0c6b8f2e51aa")) == ZUORA_OK);

    /* A run's first request is the token's (none is cached): the form holds the secret, and
     * it goes nowhere but /oauth/token. */
    CHECK(zuora_session_run_report(session, options, &task) == ZUORA_OK);
    CHECK(zuora_task_step(task) == ZUORA_STEP_SEND);
    const ZuoraRequest *request = zuora_task_request(task);
    CHECK(equals(zuora_request_method(request), "POST"));
    CHECK(equals(zuora_request_url(request), "https://rest.zuora.com/oauth/token"));
    CHECK(contains(zuora_request_url(request), "/oauth/token")); /* NUL-terminated */
    ZuoraBytes body = zuora_request_body(request);
    CHECK(body.len > 0 && memmem(body.ptr, body.len, "client_secret=s3cr%26t-never-shown", 34) != NULL);
    CHECK(zuora_request_timeout_ms(request) > 0 && zuora_request_idle_timeout_ms(request) == 0);
    CHECK(zuora_request_max_response_bytes(request) == 16 * 1024 * 1024);
    ZuoraStr line = {NULL, 0};
    CHECK(zuora_request_header_line(request, 0, &line) == ZUORA_OK && contains(line, "content-type: "));
    CHECK(zuora_request_header_line(request, 99, &line) == ZUORA_ERR_STATE);

    /* Out of turn: a body before a head, a resume while sending, an outcome before the end. */
    ZuoraBytes out = {NULL, 0};
    CHECK(zuora_task_on_body(task, (ZuoraBytes){(const uint8_t *)"x", 1}, &out) == ZUORA_ERR_STATE);
    CHECK(zuora_task_resume(task) == ZUORA_ERR_STATE);
    CHECK(zuora_task_outcome(task) == ZUORA_ERR_STATE);

    /* A token answer cut short, with the live token in it: the error keeps the token out. */
    ZuoraHeader json = {{(const uint8_t *)"content-type", 12}, {(const uint8_t *)"application/json", 16}};
    CHECK(zuora_task_on_head(task, 200, &json, 1) == ZUORA_OK);
    const char *answer = "{\"access_token\":\"tok-4f9a-live\",\"expires_in\":35";
    CHECK(zuora_task_on_body(task, (ZuoraBytes){(const uint8_t *)answer, strlen(answer)}, &out) == ZUORA_OK && out.len == 0);
    CHECK(zuora_task_on_body_end(task, &out) == ZUORA_OK);
    CHECK(zuora_task_step(task) == ZUORA_STEP_DONE);
    CHECK(zuora_task_outcome(task) == ZUORA_ERR_API);
    CHECK(!contains(zuora_error_message(zuora_task_error(task)), "tok-4f9a-live"));
    CHECK(zuora_task_run(task) == NULL);
    zuora_task_free(task);

    /* A head that is not HTTP: said, and the task has moved on (a retry, or its end). */
    CHECK(zuora_session_check_credentials(session, &task) == ZUORA_OK);
    CHECK(zuora_task_on_head(task, 1000, &json, 1) == ZUORA_ERR_TRANSPORT);
    CHECK(contains(zuora_last_error(), "not HTTP"));
    CHECK(zuora_task_step(task) != ZUORA_STEP_SEND || zuora_task_request(task) != NULL);
    CHECK(zuora_task_on_body(task, (ZuoraBytes){(const uint8_t *)"x", 1}, &out) == ZUORA_ERR_STATE);
    zuora_task_free(task);

    /* Stopped before it began: interrupted. */
    CHECK(zuora_session_check_credentials(session, &task) == ZUORA_OK);
    CHECK(zuora_task_interrupt(task, false) == ZUORA_OK);
    CHECK(zuora_task_outcome(task) == ZUORA_ERR_INTERRUPTED);
    zuora_task_free(task);

    zuora_run_options_free(options);
    zuora_session_free(session);
    zuora_config_free(config);
}

int main(void) {
    version_and_conventions();
    settings_are_checked_as_in_rust();
    arguments_are_checked_before_anything_is_sent();
    if (failures > 0) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("zuora-ffi C test: all checks passed\n");
    return 0;
}
