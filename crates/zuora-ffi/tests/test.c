/* The C ABI from C: build requests, parse answers, ask the retry policy, convert an export.
 * Exact bytes are asserted; run under valgrind by `cargo xtask ffi-test` (0 leaks, 0 errors). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "zuora.h"

static int failures = 0;
#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
            failures++;                                                                \
        }                                                                              \
    } while (0)
#define S(text) (const uint8_t *)(text), strlen(text)

static int equals(const uint8_t *ptr, size_t len, const char *expected) {
    return len == strlen(expected) && memcmp(ptr, expected, len) == 0;
}

static const char *last_error(void) {
    static char buffer[512];
    const uint8_t *ptr = NULL;
    size_t len = 0;
    if (zuora_last_error(&ptr, &len) != ZUORA_OK) return "(no message)";
    if (len >= sizeof buffer) len = sizeof buffer - 1;
    memcpy(buffer, ptr, len);
    buffer[len] = '\0';
    return buffer;
}

static int header_is(const ZuoraRequest *request, size_t index, const char *name, const char *value) {
    const uint8_t *n, *v;
    size_t nl, vl;
    return zuora_request_header(request, index, &n, &nl, &v, &vl) == ZUORA_OK && equals(n, nl, name) && equals(v, vl, value);
}

static void run_report_request(void) {
    ZuoraRequest *request = NULL;
    ZuoraCode code = zuora_run_report_request_new(
        S("https://rest.zuora.com"), S("c652cbc0ea384b9f81856a93a2a74538"), S("ff808081529f4e3401529fd373730070"),
        S("detail"), S("3f0c5d2e-6a47-4f0e-9d39-0c6b8f2e51aa"), S("nightly-invoices"), &request);
    CHECK(code == ZUORA_OK);
    const uint8_t *ptr;
    size_t len, count = 0;
    CHECK(zuora_request_method(request, &ptr, &len) == ZUORA_OK && equals(ptr, len, "POST"));
    CHECK(zuora_request_url(request, &ptr, &len) == ZUORA_OK &&
          equals(ptr, len, "https://rest.zuora.com/reporting/api/rest/v1/reports/ff808081529f4e3401529fd373730070/reportrun?viewType=Detail"));
    CHECK(zuora_request_header_count(request, &count) == ZUORA_OK && count == 4);
    CHECK(header_is(request, 0, "authorization", "Bearer c652cbc0ea384b9f81856a93a2a74538"));
    CHECK(header_is(request, 1, "zuora-track-id", "nightly-invoices"));
    CHECK(header_is(request, 2, "content-type", "application/json"));
    CHECK(header_is(request, 3, "idempotency-key", "3f0c5d2e-6a47-4f0e-9d39-0c6b8f2e51aa"));
    CHECK(zuora_request_header(request, 4, &ptr, &len, &ptr, &len) == ZUORA_ERR_RANGE);
    CHECK(zuora_request_body(request, &ptr, &len) == ZUORA_OK && equals(ptr, len, "[]"));
    zuora_request_free(request);
}

static void token_request(void) {
    ZuoraRequest *request = NULL;
    CHECK(zuora_token_request_new(S("https://rest.apisandbox.zuora.com"), S("my-client"), S("s3cr&t"), &request) == ZUORA_OK);
    const uint8_t *ptr;
    size_t len, count = 0;
    CHECK(zuora_request_url(request, &ptr, &len) == ZUORA_OK && equals(ptr, len, "https://rest.apisandbox.zuora.com/oauth/token"));
    CHECK(zuora_request_body(request, &ptr, &len) == ZUORA_OK &&
          equals(ptr, len, "client_id=my-client&client_secret=s3cr%26t&grant_type=client_credentials"));
    CHECK(zuora_request_header_count(request, &count) == ZUORA_OK && count == 1);
    CHECK(header_is(request, 0, "content-type", "application/x-www-form-urlencoded"));
    zuora_request_free(request);
}

static void invalid_input_fails_as_in_rust(void) {
    ZuoraRequest *request = NULL;
    ZuoraCode code = zuora_run_report_request_new(S("https://rest.zuora.com"), S("t"), S("r1"), S("Detail"), NULL, 0, S("job:1"), &request);
    CHECK(code == ZUORA_ERR_FORBIDDEN_CHARACTER);
    CHECK(strstr(last_error(), "position 4") != NULL);
    CHECK(request == NULL);
    char long_key[300];
    memset(long_key, 'k', sizeof long_key);
    code = zuora_run_report_request_new(S("https://rest.zuora.com"), S("t"), S("r1"), S("Detail"), (const uint8_t *)long_key, 256, NULL, 0, &request);
    CHECK(code == ZUORA_ERR_TOO_LONG);
    CHECK(zuora_run_report_request_new(S("https://rest.zuora.com"), S("t"), S("r1"), S("Pivot"), NULL, 0, NULL, 0, &request) == ZUORA_ERR_NOT_ONE_OF);
    CHECK(zuora_run_report_request_new(S("http://zuora.example.com"), S("t"), S("r1"), S("Detail"), NULL, 0, NULL, 0, &request) == ZUORA_ERR_MALFORMED);
    CHECK(zuora_run_report_request_new(S("https://rest.zuora.com"), S("t"), NULL, 3, S("Detail"), NULL, 0, NULL, 0, &request) == ZUORA_ERR_NULL);
    CHECK(zuora_run_report_request_new(S("https://rest.zuora.com"), S("t"), S(""), S("Detail"), NULL, 0, NULL, 0, &request) == ZUORA_ERR_EMPTY);
    CHECK(zuora_run_report_request_new(S("https://rest.zuora.com"), S("t"), S("r1"), S("Detail"), NULL, 0, NULL, 0, NULL) == ZUORA_ERR_NULL);
    const uint8_t bad_utf8[] = {0xff, 0xfe};
    CHECK(zuora_run_report_request_new(S("https://rest.zuora.com"), S("t"), bad_utf8, 2, S("Detail"), NULL, 0, NULL, 0, &request) == ZUORA_ERR_UTF8);
    CHECK(request == NULL);
    zuora_request_free(NULL);
    zuora_result_free(NULL);
    zuora_export_decoder_free(NULL);
}

static ZuoraResult *parse(int operation, uint16_t status, const ZuoraHeader *headers, size_t count, const char *body) {
    ZuoraResult *result = NULL;
    CHECK(zuora_parse_response(operation, status, headers, count, (const uint8_t *)body, strlen(body), &result) == ZUORA_OK);
    return result;
}

static void parsing(void) {
    ZuoraHeader headers[] = {
        {S("Zuora-Request-Id"), S("0c1a5ef0-9ccd-4a66-bb1c-9a4b6f1d2e3f")},
        {S("Zuora-Track-Id"), S("t-1")},
    };
    ZuoraResult *ok = parse(ZUORA_OP_RUN_REPORT, 200, headers, 2, "{\"success\":true,\"response\":{\"reportRunId\":\"ff808081529f4e3401529fd61f080074\"}}");
    ZuoraOutcome outcome;
    const uint8_t *ptr;
    size_t len;
    CHECK(zuora_result_outcome(ok, &outcome) == ZUORA_OK && outcome == ZUORA_OUTCOME_OK);
    CHECK(zuora_result_report_run_id(ok, &ptr, &len) == ZUORA_OK && equals(ptr, len, "ff808081529f4e3401529fd61f080074"));
    CHECK(zuora_result_request_id(ok, &ptr, &len) == ZUORA_OK && equals(ptr, len, "0c1a5ef0-9ccd-4a66-bb1c-9a4b6f1d2e3f"));
    zuora_result_free(ok);

    ZuoraResult *zan = parse(ZUORA_OP_RUN_REPORT, 400, headers, 2,
        "{\"success\":false,\"response\":\"{\\\"errorId\\\":\\\"E1\\\",\\\"message\\\":\\\"An error occurred. The report with ID x does not exist.\\\",\\\"errorCode\\\":\\\"ZAN-USAGE-REST-ERROR\\\"}\",\"links\":null}");
    uint16_t status = 0;
    uint64_t expires = 0;
    CHECK(zuora_result_outcome(zan, &outcome) == ZUORA_OK && outcome == ZUORA_OUTCOME_REPORTING_ERROR);
    CHECK(zuora_result_numbers(zan, &status, &expires) == ZUORA_OK && status == 400);
    CHECK(zuora_result_message(zan, &ptr, &len) == ZUORA_OK &&
          equals(ptr, len, "ZAN-USAGE-REST-ERROR: An error occurred. The report with ID x does not exist."));
    CHECK(zuora_result_track_id(zan, &ptr, &len) == ZUORA_OK && equals(ptr, len, "t-1"));
    ZuoraDecision decision;
    uint64_t delay = 0;
    CHECK(zuora_retry_decide(zan, 0, true, 1, 0, 300000, false, 1, 0, 0.5, &decision, &delay) == ZUORA_OK && decision == ZUORA_GIVE_UP);
    zuora_result_free(zan);

    ZuoraHeader limited_headers[] = {{S("Retry-After"), S("3")}};
    ZuoraResult *limited = parse(ZUORA_OP_RUN_REPORT, 429, limited_headers, 1, "{\"message\":\"request exceeded limit\"}");
    CHECK(zuora_result_outcome(limited, &outcome) == ZUORA_OK && outcome == ZUORA_OUTCOME_MESSAGE);
    CHECK(zuora_retry_decide(limited, 0, true, 1, 0, 300000, false, 2, 0, 0.5, &decision, &delay) == ZUORA_OK);
    CHECK(decision == ZUORA_RETRY_AFTER && delay == 3000);
    zuora_result_free(limited);

    ZuoraResult *html = parse(ZUORA_OP_GET_RUN, 502, NULL, 0, "<html><title>502 Bad Gateway</title></html>");
    CHECK(zuora_result_outcome(html, &outcome) == ZUORA_OK && outcome == ZUORA_OUTCOME_NOT_JSON);
    zuora_result_free(html);

    CHECK(zuora_retry_decide(NULL, 1, false, 1, 0, 300000, false, 2, 0, 0.5, &decision, &delay) == ZUORA_OK);
    CHECK(decision == ZUORA_RETRY_AFTER && delay == 500);
    CHECK(zuora_retry_decide(NULL, 3, true, 1, 0, 300000, false, 2, 0, 0.5, &decision, &delay) == ZUORA_OK && decision == ZUORA_GIVE_UP);
    CHECK(zuora_retry_decide(NULL, 9, true, 1, 0, 300000, false, 2, 0, 0.5, &decision, &delay) == ZUORA_ERR_RANGE);
    /* A NaN or out-of-range jitter is refused, not a panic behind the guard. */
    CHECK(zuora_retry_decide(NULL, 1, false, 1, 0, 300000, false, 2, 0, NAN, &decision, &delay) == ZUORA_ERR_RANGE);
    CHECK(zuora_retry_decide(NULL, 1, false, 1, 0, 300000, false, 2, 0, 1.5, &decision, &delay) == ZUORA_ERR_RANGE);
    ZuoraResult *none = NULL;
    CHECK(zuora_parse_response(42, 200, NULL, 0, NULL, 0, &none) == ZUORA_ERR_RANGE && none == NULL);
}

static void export_decoder(void) {
    /* "a\tb, c\n1\t\"x\ty\"\n" as UTF-16LE with a BOM. */
    const char *text = "a\tb, c\n1\t\"x\ty\"\n";
    uint8_t utf16[64];
    size_t n = 0;
    utf16[n++] = 0xFF;
    utf16[n++] = 0xFE;
    for (const char *c = text; *c; c++) {
        utf16[n++] = (uint8_t)*c;
        utf16[n++] = 0;
    }
    ZuoraExportDecoder *decoder = NULL;
    CHECK(zuora_export_decoder_new(0, false, &decoder) == ZUORA_OK);
    char csv[128];
    size_t used = 0;
    for (size_t at = 0; at < n; at += 3) {
        const uint8_t *out;
        size_t out_len;
        size_t chunk = n - at < 3 ? n - at : 3;
        CHECK(zuora_export_decoder_feed(decoder, utf16 + at, chunk, &out, &out_len) == ZUORA_OK);
        memcpy(csv + used, out, out_len);
        used += out_len;
    }
    const uint8_t *out;
    size_t out_len;
    CHECK(zuora_export_decoder_finish(decoder, &out, &out_len) == ZUORA_OK);
    memcpy(csv + used, out, out_len);
    used += out_len;
    CHECK(equals((const uint8_t *)csv, used, "a,\"b, c\"\r\n1,x\ty\r\n"));
    zuora_export_decoder_free(decoder);

    CHECK(zuora_export_decoder_new(0, false, &decoder) == ZUORA_OK);
    const uint8_t cut[] = {0xFF, 0xFE, '"', 0, 'x', 0};
    CHECK(zuora_export_decoder_feed(decoder, cut, sizeof cut, &out, &out_len) == ZUORA_OK);
    CHECK(zuora_export_decoder_finish(decoder, &out, &out_len) == ZUORA_ERR_EXPORT);
    zuora_export_decoder_free(decoder);
}

int main(void) {
    const uint8_t *version;
    size_t version_len;
    CHECK(zuora_version(&version, &version_len) == ZUORA_OK && version_len >= 5);
    run_report_request();
    token_request();
    invalid_input_fails_as_in_rust();
    parsing();
    export_decoder();
    if (failures) {
        fprintf(stderr, "%d failed\n", failures);
        return 1;
    }
    printf("C ABI test: all checks passed\n");
    return 0;
}
