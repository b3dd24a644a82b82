/* The whole trip from C, with libcurl as the HTTP stack and zuora-rs deciding everything else:
 * credentials, find a report by name, search, run it (filters, track id, idempotency key),
 * wait, get, latest, the rows as JSON, the export as CSV, cancel, interrupt, and the failures
 * a caller meets (unknown run, wrong credentials, no server). One driver loop, `drive`, serves
 * every task. Run by `cargo xtask ffi-test` under valgrind against zuora-sim on loopback, with
 * ZUORA_BASE_URL, ZUORA_CLIENT_ID, ZUORA_CLIENT_SECRET and ZUORA_OUT_DIR set, and
 * ZUORA_FAULTY_BASE_URL naming a second simulator (same seed) that injects faults. */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

/* ---- The driver: libcurl moves the bytes, the task decides. ---- */

#define MAX_HEADERS 64

/* Where an export's converted bytes go: a file, or a table spool (typed by zuora-rs). */
typedef struct {
    FILE *file;
    ZuoraTableSpool *spool;
    size_t largest; /* the largest single piece of output handed over */
} Sink;

typedef struct {
    ZuoraTask *task;
    Sink *out; /* NULL: no export expected */
    CURL *curl;
    int head_given;
    int stopped; /* the task ended inside a callback: the transfer was aborted */
    size_t header_count;
    char *names[MAX_HEADERS];
    char *values[MAX_HEADERS];
} Exchange;

static void forget_headers(Exchange *x) {
    for (size_t i = 0; i < x->header_count; i++) {
        free(x->names[i]);
        free(x->values[i]);
    }
    x->header_count = 0;
}

static char *copy_trimmed(const char *start, size_t len) {
    while (len > 0 && (*start == ' ' || *start == '\t')) start++, len--;
    while (len > 0 && (start[len - 1] == '\r' || start[len - 1] == '\n' || start[len - 1] == ' ')) len--;
    char *copy = malloc(len + 1);
    if (copy == NULL) return NULL;
    memcpy(copy, start, len);
    copy[len] = '\0';
    return copy;
}

static size_t on_header(char *line, size_t size, size_t count, void *user) {
    Exchange *x = user;
    size_t len = size * count;
    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        forget_headers(x); /* a new status line: an interim answer's headers do not count */
        return len;
    }
    const char *colon = memchr(line, ':', len);
    if (colon == NULL || x->header_count == MAX_HEADERS) return len;
    char *name = copy_trimmed(line, (size_t)(colon - line));
    char *value = copy_trimmed(colon + 1, len - (size_t)(colon - line) - 1);
    if (name == NULL || value == NULL) {
        free(name);
        free(value);
        return 0;
    }
    x->names[x->header_count] = name;
    x->values[x->header_count] = value;
    x->header_count++;
    return len;
}

static ZuoraCode give_head(Exchange *x) {
    long status = 0;
    curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
    ZuoraHeader headers[MAX_HEADERS];
    for (size_t i = 0; i < x->header_count; i++) {
        headers[i].name = (ZuoraBytes){(const uint8_t *)x->names[i], strlen(x->names[i])};
        headers[i].value = (ZuoraBytes){(const uint8_t *)x->values[i], strlen(x->values[i])};
    }
    x->head_given = 1;
    return zuora_task_on_head(x->task, (uint16_t)status, headers, x->header_count);
}

static int write_out(Exchange *x, ZuoraBytes converted) {
    if (converted.len == 0) return 1;
    if (x->out == NULL) return 0;
    if (converted.len > x->out->largest) x->out->largest = converted.len;
    if (x->out->spool != NULL) return zuora_table_spool_write(x->out->spool, converted) == ZUORA_OK;
    return x->out->file != NULL && fwrite(converted.ptr, 1, converted.len, x->out->file) == converted.len;
}

static size_t on_body(char *data, size_t size, size_t count, void *user) {
    Exchange *x = user;
    size_t len = size * count;
    if (!x->head_given && give_head(x) != ZUORA_OK) {
        x->stopped = 1;
        return 0;
    }
    ZuoraBytes converted = {NULL, 0};
    ZuoraBytes chunk = {(const uint8_t *)data, len};
    do { /* a gzip chunk expanding past a batch comes out a batch at a time */
        if (zuora_task_on_body(x->task, chunk, &converted) != ZUORA_OK || !write_out(x, converted)) {
            x->stopped = 1;
            return 0; /* libcurl aborts the transfer */
        }
        chunk = (ZuoraBytes){NULL, 0};
    } while (zuora_task_draining(x->task));
    return len;
}

static void sleep_ms(uint64_t ms) {
    struct timespec pause = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&pause, NULL);
}

/* Sends the task's request and hands back what came of it. */
static void send_request(ZuoraTask *task, CURL *curl, Sink *out) {
    const ZuoraRequest *request = zuora_task_request(task);
    Exchange x = {task, out, curl, 0, 0, 0, {NULL}, {NULL}};
    struct curl_slist *headers = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; i < zuora_request_header_count(request); i++) {
        ZuoraStr line;
        if (zuora_request_header_line(request, i, &line) == ZUORA_OK) {
            headers = curl_slist_append(headers, (const char *)line.ptr);
        }
    }
    ZuoraBytes body = zuora_request_body(request);
    uint64_t timeout = zuora_request_timeout_ms(request);
    uint64_t idle = zuora_request_idle_timeout_ms(request);
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, (const char *)zuora_request_url(request).ptr);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, (const char *)zuora_request_method(request).ptr);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (body.len > 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, (const char *)body.ptr);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
    }
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout);
    if (idle > 0) {
        /* A streamed export: no overall cap, but no more than `idle` without a byte. */
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, (long)((idle + 999) / 1000));
    } else {
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)timeout);
    }
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &x);
    CURLcode result = curl_easy_perform(curl);
    if (x.stopped) {
        /* The task ended in a callback (a corrupt export, say); nothing more to hand back. */
    } else if (result == CURLE_OK) {
        ZuoraBytes converted = {NULL, 0};
        if (!x.head_given) give_head(&x);
        if (zuora_task_on_body_end(task, &converted) == ZUORA_OK) write_out(&x, converted);
    } else {
        ZuoraTransportError kind = ZUORA_TRANSPORT_IO;
        bool sent = true;
        if (result == CURLE_COULDNT_CONNECT || result == CURLE_COULDNT_RESOLVE_HOST) {
            kind = ZUORA_TRANSPORT_CONNECT;
            sent = false;
        } else if (result == CURLE_OPERATION_TIMEDOUT) {
            kind = ZUORA_TRANSPORT_TIMEOUT;
        }
        const char *message = curl_easy_strerror(result);
        zuora_task_on_transport_error(task, kind, sent, TEXT(message));
    }
    forget_headers(&x);
    curl_slist_free_all(headers);
}

typedef struct {
    size_t sends, sleeps, pages;
    size_t row_bytes;
} Trace;

/* Drives any task to its end; returns its outcome. */
static ZuoraCode drive(ZuoraTask *task, CURL *curl, Sink *out, Trace *trace) {
    Trace ignored = {0, 0, 0, 0};
    if (trace == NULL) trace = &ignored;
    for (;;) {
        switch (zuora_task_step(task)) {
        case ZUORA_STEP_SEND:
            trace->sends++;
            send_request(task, curl, out);
            break;
        case ZUORA_STEP_SLEEP:
            trace->sleeps++;
            sleep_ms(zuora_task_sleep_ms(task));
            zuora_task_resume(task);
            break;
        case ZUORA_STEP_ROWS: {
            ZuoraStr rows = zuora_task_rows(task);
            CHECK(rows.len >= 2 && rows.ptr[0] == '[' && rows.ptr[rows.len - 1] == ']');
            trace->pages++;
            trace->row_bytes += rows.len;
            zuora_task_resume(task);
            break;
        }
        case ZUORA_STEP_DONE:
            return zuora_task_outcome(task);
        }
    }
}

/* ---- The trip. ---- */

static const char *env(const char *name) {
    const char *value = getenv(name);
    if (value == NULL) {
        fprintf(stderr, "trip: %s is not set\n", name);
        exit(2);
    }
    return value;
}

static ZuoraSession *session_for_attempts(const char *base_url, const char *id, const char *secret, uint64_t attempts);

static ZuoraSession *session_for(const char *base_url, const char *id, const char *secret) {
    return session_for_attempts(base_url, id, secret, 3);
}

static ZuoraSession *session_for_attempts(const char *base_url, const char *id, const char *secret, uint64_t attempts) {
    ZuoraConfig *config = NULL;
    ZuoraSession *session = NULL;
    CHECK(zuora_config_new(&config) == ZUORA_OK);
    CHECK(zuora_config_set_base_url(config, TEXT(base_url)) == ZUORA_OK);
    CHECK(zuora_config_set_credentials(config, TEXT(id), TEXT(secret)) == ZUORA_OK);
    CHECK(zuora_config_set_retry(config, ZUORA_RETRY_MAX_ATTEMPTS, attempts) == ZUORA_OK);
    CHECK(zuora_config_set_retry(config, ZUORA_RETRY_BASE_DELAY_MS, 20) == ZUORA_OK);
    CHECK(zuora_config_set_timeout(config, ZUORA_TIMEOUT_ATTEMPT, 10000) == ZUORA_OK);
    CHECK(zuora_session_new(config, 7, &session) == ZUORA_OK);
    zuora_config_free(config);
    return session;
}

static void copy_text(char *buffer, size_t size, ZuoraStr text) {
    size_t len = text.len < size - 1 ? text.len : size - 1;
    if (len > 0) memcpy(buffer, text.ptr, len);
    buffer[len] = '\0';
}

static ZuoraWaitOptions quick_wait(void) {
    ZuoraWaitOptions wait = zuora_wait_options_default();
    wait.timeout_ms = 60000;
    wait.poll_first_ms = 100;
    wait.poll_max_ms = 400;
    return wait;
}

/* Starts a run of `report_id`; its id goes to `run_id`. */
static void start_run(ZuoraSession *session, CURL *curl, const char *report_id, char *run_id, size_t size) {
    ZuoraRunOptions *options = NULL;
    ZuoraTask *task = NULL;
    CHECK(zuora_run_options_new(TEXT(report_id), ZUORA_VIEW_DETAIL, &options) == ZUORA_OK);
    CHECK(zuora_run_options_set_track_id(options, TEXT("c-trip")) == ZUORA_OK);
    CHECK(zuora_session_run_report(session, options, &task) == ZUORA_OK);
    CHECK(drive(task, curl, NULL, NULL) == ZUORA_OK);
    const ZuoraRun *run = zuora_task_run(task);
    CHECK(run != NULL && zuora_run_id(run).len == 32);
    CHECK(equals(zuora_run_track_id(run), "c-trip"));
    copy_text(run_id, size, zuora_run_id(run));
    zuora_task_free(task);
    zuora_run_options_free(options);
}

/* The run's export downloaded as TSV into a table spool with `set` applied to it, then moved
 * into `stream`; returns the code of finish. */
static ZuoraCode download_table(ZuoraSession *session, CURL *curl, const char *run_id,
                                void (*set)(ZuoraTableSpool *), struct ArrowArrayStream *stream) {
    ZuoraTableSpool *spool = NULL;
    ZuoraTask *task = NULL;
    CHECK(zuora_table_spool_new(TEXT("en-US"), &spool) == ZUORA_OK);
    if (set != NULL) set(spool);
    CHECK(zuora_session_download(session, TEXT(run_id), ZUORA_FORMAT_TSV, &task) == ZUORA_OK);
    Sink to_table = {NULL, spool, 0};
    CHECK(drive(task, curl, &to_table, NULL) == ZUORA_OK);
    zuora_task_free(task);
    ZuoraCode finished = zuora_table_spool_finish(spool, stream);
    zuora_table_spool_free(spool);
    return finished;
}

static const struct ArrowSchema *child_named(const struct ArrowSchema *schema, const char *name) {
    for (int64_t i = 0; i < schema->n_children; i++) {
        if (strcmp(schema->children[i]->name, name) == 0) return schema->children[i];
    }
    return NULL;
}

static void no_such_column(ZuoraTableSpool *spool) {
    CHECK(zuora_table_spool_set_column_type(spool, TEXT("Nowhere"), TEXT("text")) == ZUORA_OK);
}

static void names_as_numbers(ZuoraTableSpool *spool) {
    CHECK(zuora_table_spool_set_column_type(spool, TEXT("Account: Name"), TEXT("money")) == ZUORA_ERR_INVALID_INPUT);
    CHECK(zuora_table_spool_set_column_type(spool, TEXT("Account: Name"), TEXT("integer")) == ZUORA_OK);
}

/* The export as a typed table through the Arrow C stream: amounts are decimals, dates
 * timestamps, names text, every row there; the user's types are checked. */
static void typed_table(ZuoraSession *session, CURL *curl, const char *run_id, uint64_t rows_total) {
    struct ArrowArrayStream stream;
    CHECK(download_table(session, curl, run_id, NULL, &stream) == ZUORA_OK);
    struct ArrowSchema schema;
    CHECK(stream.get_schema(&stream, &schema) == 0);
    CHECK(strcmp(schema.format, "+s") == 0 && schema.n_children == 8);
    const struct ArrowSchema *amount = child_named(&schema, "Invoice: Amount");
    const struct ArrowSchema *created = child_named(&schema, "Invoice: Created Date");
    const struct ArrowSchema *name = child_named(&schema, "Account: Name");
    CHECK(amount != NULL && strncmp(amount->format, "d:", 2) == 0);
    CHECK(created != NULL && strcmp(created->format, "tsm:") == 0); /* no time zone */
    CHECK(name != NULL && strcmp(name->format, "u") == 0);
    schema.release(&schema);
    CHECK(schema.release == NULL);
    uint64_t rows = 0, batches = 0;
    for (;;) {
        struct ArrowArray batch;
        CHECK(stream.get_next(&stream, &batch) == 0);
        if (batch.release == NULL) break; /* the end */
        CHECK(batch.n_children == 8 && batch.length > 0);
        rows += (uint64_t)batch.length;
        batches++;
        batch.release(&batch);
    }
    stream.release(&stream);
    CHECK(stream.release == NULL);
    CHECK(rows == rows_total && batches >= 1);
    printf("trip: typed table through the Arrow C stream, %llu rows in %llu batches\n",
           (unsigned long long)rows, (unsigned long long)batches);

    /* A type set for a column that is not there: refused when the columns are known. */
    CHECK(download_table(session, curl, run_id, no_such_column, &stream) == ZUORA_ERR_INVALID_INPUT);
    CHECK(contains(zuora_last_error(), "Nowhere"));

    /* A value that does not fit a type the user set ends the stream with row, column, value. */
    CHECK(download_table(session, curl, run_id, names_as_numbers, &stream) == ZUORA_OK);
    struct ArrowArray batch;
    CHECK(stream.get_next(&stream, &batch) != 0);
    const char *error = stream.get_last_error(&stream);
    CHECK(error != NULL && strstr(error, "Account: Name") != NULL && strstr(error, "row 1") != NULL);
    stream.release(&stream);
}

static void whole_trip(ZuoraSession *session, CURL *curl, const char *out_dir) {
    ZuoraTask *task = NULL;
    char report_id[64], run_id[64], path[512];

    CHECK(zuora_session_check_credentials(session, &task) == ZUORA_OK);
    CHECK(drive(task, curl, NULL, NULL) == ZUORA_OK);
    CHECK(zuora_task_token_expires_in_s(task) > 60);
    zuora_task_free(task);

    CHECK(zuora_session_search(session, TEXT("Invoice"), &task) == ZUORA_OK);
    CHECK(drive(task, curl, NULL, NULL) == ZUORA_OK);
    CHECK(zuora_task_report_count(task) >= 1);
    zuora_task_free(task);

    /* Find by exact name: a search the core narrows to one report. */
    CHECK(zuora_session_find_report(session, TEXT("Invoice Detail"), &task) == ZUORA_OK);
    CHECK(drive(task, curl, NULL, NULL) == ZUORA_OK);
    ZuoraStr id = {NULL, 0}, name = {NULL, 0};
    CHECK(zuora_task_report(task, 0, &id, &name) == ZUORA_OK);
    CHECK(id.len == 32 && equals(name, "Invoice Detail"));
    copy_text(report_id, sizeof report_id, id);
    zuora_task_free(task);

    /* An id is taken as is: nothing is sent. */
    Trace trace = {0, 0, 0, 0};
    CHECK(zuora_session_find_report(session, TEXT(report_id), &task) == ZUORA_OK);
    CHECK(drive(task, curl, NULL, &trace) == ZUORA_OK && trace.sends == 0);
    zuora_task_free(task);

    start_run(session, curl, report_id, run_id, sizeof run_id);

    ZuoraWaitOptions wait = quick_wait();
    memset(&trace, 0, sizeof trace);
    CHECK(zuora_session_wait(session, TEXT(run_id), &wait, &task) == ZUORA_OK);
    CHECK(drive(task, curl, NULL, &trace) == ZUORA_OK);
    CHECK(zuora_run_status(zuora_task_run(task)) == ZUORA_RUN_COMPLETED);
    CHECK(trace.sends >= 2 && trace.sleeps >= 1);
    zuora_task_free(task);

    CHECK(zuora_session_get_run(session, TEXT(run_id), &task) == ZUORA_OK);
    CHECK(drive(task, curl, NULL, NULL) == ZUORA_OK);
    const ZuoraRun *run = zuora_task_run(task);
    CHECK(zuora_run_status(run) == ZUORA_RUN_COMPLETED && equals(zuora_run_report_id(run), report_id));
    CHECK(zuora_run_request_id(run).len > 0 && zuora_run_started_on_ms(run) > 0);
    zuora_task_free(task);

    CHECK(zuora_session_latest_run(session, TEXT(report_id), &task) == ZUORA_OK);
    CHECK(drive(task, curl, NULL, NULL) == ZUORA_OK);
    CHECK(equals(zuora_run_id(zuora_task_run(task)), run_id));
    zuora_task_free(task);

    memset(&trace, 0, sizeof trace);
    CHECK(zuora_session_rows(session, TEXT(run_id), 100, &task) == ZUORA_OK);
    CHECK(drive(task, curl, NULL, &trace) == ZUORA_OK);
    uint64_t rows_total = zuora_task_rows_total(task);
    CHECK(rows_total > 0 && trace.pages >= 1 && trace.row_bytes > 0);
    zuora_task_free(task);

    snprintf(path, sizeof path, "%s/trip.csv", out_dir);
    FILE *csv = fopen(path, "wb");
    CHECK(csv != NULL);
    CHECK(zuora_session_download(session, TEXT(run_id), ZUORA_FORMAT_CSV, &task) == ZUORA_OK);
    Sink to_csv = {csv, NULL, 0};
    CHECK(drive(task, curl, &to_csv, NULL) == ZUORA_OK);
    uint64_t received = 0, written = 0;
    CHECK(zuora_task_export_bytes(task, &received, &written) == ZUORA_OK);
    CHECK(received > 0 && written > 0);
    long size = ftell(csv);
    CHECK(size >= 0 && (uint64_t)size == written);
    fclose(csv);
    zuora_task_free(task);
    printf("trip: report %s, run %s, %llu export bytes in, %llu CSV bytes out to %s\n", report_id, run_id,
           (unsigned long long)received, (unsigned long long)written, path);

    typed_table(session, curl, run_id, rows_total);

    /* Cancel a fresh run; waiting for it then ends with RUN_ENDED. */
    start_run(session, curl, report_id, run_id, sizeof run_id);
    CHECK(zuora_session_cancel_run(session, TEXT(run_id), &task) == ZUORA_OK);
    CHECK(drive(task, curl, NULL, NULL) == ZUORA_OK);
    CHECK(zuora_task_message(task).len > 0);
    zuora_task_free(task);
    CHECK(zuora_session_wait(session, TEXT(run_id), &wait, &task) == ZUORA_OK);
    CHECK(drive(task, curl, NULL, NULL) == ZUORA_ERR_RUN_ENDED);
    zuora_task_free(task);

    /* Interrupt a wait (as on Ctrl-C) and cancel its run on the way out. */
    start_run(session, curl, report_id, run_id, sizeof run_id);
    CHECK(zuora_session_wait(session, TEXT(run_id), &wait, &task) == ZUORA_OK);
    CHECK(zuora_task_step(task) == ZUORA_STEP_SEND);
    CHECK(zuora_task_interrupt(task, true) == ZUORA_OK);
    CHECK(zuora_task_step(task) == ZUORA_STEP_SEND); /* the cancel */
    CHECK(equals(zuora_request_method(zuora_task_request(task)), "DELETE"));
    CHECK(contains(zuora_request_url(zuora_task_request(task)), run_id));
    CHECK(drive(task, curl, NULL, NULL) == ZUORA_ERR_INTERRUPTED);
    CHECK(contains(zuora_error_message(zuora_task_error(task)), "cancelled"));
    zuora_task_free(task);
}

static void failures_over_the_network(ZuoraSession *session, CURL *curl, const char *base_url, const char *id) {
    ZuoraTask *task = NULL;
    CHECK(zuora_session_get_run(session, TEXT("ffffffffffffffffffffffffffffffff"), &task) == ZUORA_OK);
    CHECK(drive(task, curl, NULL, NULL) == ZUORA_ERR_RUN_NOT_FOUND);
    const ZuoraError *error = zuora_task_error(task);
    CHECK(error != NULL && zuora_error_http_status(error) >= 400 && zuora_error_request_id(error).len > 0);
    CHECK(zuora_task_run(task) == NULL);
    zuora_task_free(task);

    /* Wrong credentials: refused, and the secret is in no message. */
    ZuoraSession *wrong = session_for(base_url, id, "not-the-secret-4c1d");
    CHECK(zuora_session_get_run(wrong, TEXT("ffffffffffffffffffffffffffffffff"), &task) == ZUORA_OK);
    CHECK(drive(task, curl, NULL, NULL) == ZUORA_ERR_AUTHENTICATION);
    CHECK(!contains(zuora_error_message(zuora_task_error(task)), "not-the-secret-4c1d"));
    zuora_task_free(task);
    zuora_session_free(wrong);

    /* No server: connection refused, retried within the policy, then a transport error that
     * says nothing was sent. */
    ZuoraSession *nowhere = session_for("http://127.0.0.1:1", id, "secret");
    Trace trace = {0, 0, 0, 0};
    CHECK(zuora_session_check_credentials(nowhere, &task) == ZUORA_OK);
    CHECK(drive(task, curl, NULL, &trace) == ZUORA_ERR_TRANSPORT);
    CHECK(trace.sends == 3 && trace.sleeps == 2);
    CHECK(contains(zuora_error_message(zuora_task_error(task)), "nothing was sent"));
    CHECK(equals(zuora_error_host(zuora_task_error(task)), "127.0.0.1"));
    zuora_task_free(task);
    zuora_session_free(nowhere);
}

/* Against a simulator that injects faults (5xx, 429, broken connections): every call is
 * retried by the library with one idempotency key, so no key ever starts two runs. */
static void faults_never_start_two_runs(CURL *curl, const char *base_url, const char *id, const char *secret) {
    ZuoraSession *session = session_for_attempts(base_url, id, secret, 10);
    ZuoraTask *task = NULL;
    char report_id[64], first[64], again[64], previous[64] = "";
    CHECK(zuora_session_find_report(session, TEXT("Invoice Detail"), &task) == ZUORA_OK);
    ZuoraCode found = drive(task, curl, NULL, NULL);
    CHECK(found == ZUORA_OK);
    ZuoraStr report = {NULL, 0}, name = {NULL, 0};
    if (found != ZUORA_OK || zuora_task_report(task, 0, &report, &name) != ZUORA_OK) {
        zuora_task_free(task);
        zuora_session_free(session);
        return;
    }
    copy_text(report_id, sizeof report_id, report);
    zuora_task_free(task);
    for (int n = 0; n < 8; n++) {
        char key[32];
        snprintf(key, sizeof key, "c-fault-%02d", n);
        for (int attempt = 0; attempt < 2; attempt++) {
            ZuoraRunOptions *options = NULL;
            CHECK(zuora_run_options_new(TEXT(report_id), ZUORA_VIEW_DETAIL, &options) == ZUORA_OK);
            CHECK(zuora_run_options_set_idempotency_key(options, TEXT(key)) == ZUORA_OK);
            CHECK(zuora_session_run_report(session, options, &task) == ZUORA_OK);
            CHECK(drive(task, curl, NULL, NULL) == ZUORA_OK);
            copy_text(attempt == 0 ? first : again, sizeof first, zuora_run_id(zuora_task_run(task)));
            zuora_task_free(task);
            zuora_run_options_free(options);
        }
        /* The same key again: Zuora replays the first answer instead of starting a run. */
        CHECK(strlen(first) == 32 && strcmp(first, again) == 0);
        CHECK(strcmp(first, previous) != 0);
        memcpy(previous, first, sizeof previous);
    }
    zuora_session_free(session);
}

/* ---- Against the hostile servers of `zuora-hostile` (issue 23: every driver under the
 * hostile suite). Each ends typed, in time, and no text shows the token. ---- */

#define HOSTILE_TOKEN "c652cbc0ea384b9f81856a93a2a74538"

static double seconds_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* One call of `what` ("get" or "download") against a scenario; its outcome, the error's
 * text checked for the token, and the seconds it took. */
static ZuoraCode hostile_call(CURL *curl, const char *scenario, const char *what, ZuoraConfig *config,
                              Sink *out, double *took) {
    char name[64];
    snprintf(name, sizeof name, "ZUORA_HOSTILE_%s", scenario);
    ZuoraSession *session = NULL;
    ZuoraTask *task = NULL;
    CHECK(zuora_config_set_base_url(config, TEXT(env(name))) == ZUORA_OK);
    CHECK(zuora_session_new(config, 7, &session) == ZUORA_OK);
    ZuoraStr run = TEXT("ff808081529f4e3401529fd61f080074");
    if (strcmp(what, "get") == 0) {
        CHECK(zuora_session_get_run(session, run, &task) == ZUORA_OK);
    } else {
        CHECK(zuora_session_download(session, run, ZUORA_FORMAT_CSV, &task) == ZUORA_OK);
    }
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    ZuoraCode code = drive(task, curl, out, NULL);
    *took = seconds_since(&start);
    if (code != ZUORA_OK) {
        ZuoraStr message = zuora_error_message(zuora_task_error(task));
        CHECK(message.len > 0 && !contains(message, HOSTILE_TOKEN));
        if (contains(message, HOSTILE_TOKEN)) fprintf(stderr, "%s: the token leaked\n", scenario);
    }
    zuora_task_free(task);
    zuora_session_free(session);
    return code;
}

static void hostile_servers(CURL *curl, const char *out_dir) {
    const char *client_id = env("ZUORA_HOSTILE_CLIENT_ID");
    ZuoraConfig *config = NULL;
    CHECK(zuora_config_new(&config) == ZUORA_OK);
    CHECK(zuora_config_set_credentials(config, TEXT(client_id), TEXT("any-secret")) == ZUORA_OK);
    CHECK(zuora_config_set_retry(config, ZUORA_RETRY_MAX_ATTEMPTS, 2) == ZUORA_OK);
    CHECK(zuora_config_set_retry(config, ZUORA_RETRY_BASE_DELAY_MS, 20) == ZUORA_OK);
    CHECK(zuora_config_set_timeout(config, ZUORA_TIMEOUT_ATTEMPT, 1000) == ZUORA_OK);
    CHECK(zuora_config_set_timeout(config, ZUORA_TIMEOUT_OVERALL, 3000) == ZUORA_OK);
    double took = 0;

    /* A gzip bomb answer: refused past the answer cap, not inflated whole. */
    CHECK(hostile_call(curl, "BOMB", "get", config, NULL, &took) == ZUORA_ERR_API);
    /* A 401 storm: one refresh, then authentication fails (the body echoes the token). */
    CHECK(hostile_call(curl, "UNAUTHORIZED", "get", config, NULL, &took) == ZUORA_ERR_AUTHENTICATION);
    /* A 400 whose message echoes the token: the error says it without the token. */
    ZuoraCode echoed = hostile_call(curl, "ECHO", "get", config, NULL, &took);
    CHECK(echoed != ZUORA_OK && echoed != ZUORA_ERR_PANIC && echoed != ZUORA_ERR_INTERNAL);
    /* A redirect: never followed (the witness behind it counts any visit). */
    ZuoraCode redirected = hostile_call(curl, "REDIRECT", "get", config, NULL, &took);
    CHECK(redirected != ZUORA_OK && redirected != ZUORA_ERR_PANIC && redirected != ZUORA_ERR_INTERNAL);
    /* A server that never answers: over within the overall timeout (3 s) and a second. */
    ZuoraCode silent = hostile_call(curl, "SILENT", "get", config, NULL, &took);
    CHECK(silent == ZUORA_ERR_TIMED_OUT || silent == ZUORA_ERR_TRANSPORT);
    CHECK(took < 4.0);
    if (took >= 4.0) fprintf(stderr, "silent: %.1f s\n", took);

    /* A malformed export (a lone surrogate): a typed error. */
    Sink sink = {NULL, NULL, 0};
    char path[4096];
    snprintf(path, sizeof path, "%s/hostile.csv", out_dir);
    sink.file = fopen(path, "wb");
    CHECK(sink.file != NULL);
    CHECK(hostile_call(curl, "MALFORMED", "download", config, &sink, &took) == ZUORA_ERR_EXPORT_BROKEN);
    fclose(sink.file);

    /* A gzip export expanding a thousandfold: whole and right, handed over a batch (1 MiB)
     * at a time, whatever one chunk of libcurl's expands to. */
    CHECK(zuora_config_set_timeout(config, ZUORA_TIMEOUT_OVERALL, 600000) == ZUORA_OK);
    sink = (Sink){fopen(path, "wb"), NULL, 0};
    CHECK(sink.file != NULL);
    CHECK(hostile_call(curl, "EXPANDING", "download", config, &sink, &took) == ZUORA_OK);
    long rows = strtol(env("ZUORA_HOSTILE_EXPANDING_ROWS"), NULL, 10);
    CHECK(ftell(sink.file) == (rows + 1) * 5);
    CHECK(sink.largest > 0 && sink.largest <= (1u << 20) + (64u << 10));
    fclose(sink.file);
    /* ... and with a cap on the export's size: ended, typed, no more than the cap written. */
    CHECK(zuora_config_set_max_export_bytes(config, 1000000) == ZUORA_OK);
    sink = (Sink){fopen(path, "wb"), NULL, 0};
    CHECK(sink.file != NULL);
    CHECK(hostile_call(curl, "EXPANDING", "download", config, &sink, &took) == ZUORA_ERR_EXPORT_BROKEN);
    CHECK(ftell(sink.file) <= 1000000);
    fclose(sink.file);
    remove(path);
    zuora_config_free(config);
}

int main(void) {
    const char *base_url = env("ZUORA_BASE_URL");
    const char *client_id = env("ZUORA_CLIENT_ID");
    const char *client_secret = env("ZUORA_CLIENT_SECRET");
    const char *out_dir = env("ZUORA_OUT_DIR");
    CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    CURL *curl = curl_easy_init();
    CHECK(curl != NULL);
    ZuoraSession *session = session_for(base_url, client_id, client_secret);

    whole_trip(session, curl, out_dir);
    failures_over_the_network(session, curl, base_url, client_id);
    faults_never_start_two_runs(curl, env("ZUORA_FAULTY_BASE_URL"), client_id, client_secret);
    hostile_servers(curl, out_dir);

    zuora_session_free(session);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    if (failures > 0) {
        fprintf(stderr, "trip: %d checks failed\n", failures);
        return 1;
    }
    printf("trip: all checks passed\n");
    return 0;
}
