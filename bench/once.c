/*
 * Sends every path of a file exactly once, over N keep-alive connections, and prints the throughput
 * and latency percentiles as JSON.
 *
 *   once HOST PORT CONNECTIONS PATHS_FILE [RATE]
 *
 * Closed loop by default: each connection sends its next request when the last is answered, which
 * finds the throughput. With RATE (requests a second), open: request i is due at start + i / RATE
 * and goes on the first free connection, and its latency counts from when it was due, so time spent
 * waiting for a free connection is not hidden (no coordinated omission).
 *
 * wrk cycles through its paths for a set time, so a query list is repeated and a server's cache
 * answers the repeats; this client measures a list in which nothing repeats (bench/run's distinct
 * search row). One thread and epoll, so it takes little of the CPU it shares with the server.
 * Responses must carry Content-Length (Shopfloor's do). Loopback targets only; ends by itself.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { BUFFER = 1 << 20 };

struct connection {
    int fd;
    uint64_t started; /* ns */
    char *in;
    size_t have;
};

static char **paths;
static long path_count, next_path, done, non_2xx;
static double rate;       /* 0: closed loop */
static uint64_t began;
static FILE *trace;       /* ONCE_TRACE=FILE: each request's start and latency in ms, for finding stalls */
static uint64_t *latencies;
static const char *host;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int compare(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

/* When request `i` is due in an open run. */
static uint64_t due(long i) { return began + (uint64_t)((double)i * 1e9 / rate); }

/* Sends the next path on `c` (in an open run, only once it is due); returns 0 when none was sent. */
static int send_next(struct connection *c) {
    if (next_path >= path_count) return 0;
    uint64_t scheduled = rate > 0 ? due(next_path) : now_ns();
    if (rate > 0 && scheduled > now_ns()) return 0;
    const char *path = paths[next_path++];
    char request[4096];
    int length = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host);
    if (length <= 0 || length >= (int)sizeof request) { fprintf(stderr, "once: path too long\n"); exit(1); }
    c->started = scheduled;
    c->have = 0;
    for (int sent = 0; sent < length;) {
        ssize_t n = write(c->fd, request + sent, (size_t)(length - sent));
        if (n < 0) { if (errno == EINTR) continue; die("write"); }
        sent += (int)n;
    }
    return 1;
}

/* The length of the whole response at the start of `c->in`, or 0 while it is still arriving. */
static size_t complete_length(const struct connection *c) {
    char *end = memmem(c->in, c->have, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t head = (size_t)(end - c->in) + 4;
    size_t body = 0;
    for (char *line = c->in; line < end;) {
        char *next = memmem(line, (size_t)(end - line), "\r\n", 2);
        if (!next) next = end;
        if (next - line > 15 && strncasecmp(line, "content-length:", 15) == 0) body = strtoul(line + 15, NULL, 10);
        line = next + 2;
    }
    return c->have >= head + body ? head + body : 0;
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) { fprintf(stderr, "usage: once HOST PORT CONNECTIONS PATHS_FILE [RATE]\n"); return 2; }
    rate = argc == 6 ? atof(argv[5]) : 0;
    if (getenv("ONCE_TRACE")) trace = fopen(getenv("ONCE_TRACE"), "w");
    host = argv[1];
    if (strncmp(host, "127.", 4) != 0) { fprintf(stderr, "once: loopback targets only\n"); return 2; }
    int port = atoi(argv[2]);
    int count = atoi(argv[3]);
    if (count < 1 || count > 4096) { fprintf(stderr, "once: 1 to 4096 connections\n"); return 2; }

    FILE *file = fopen(argv[4], "r");
    if (!file) die("paths");
    size_t capacity = 1024;
    paths = malloc(capacity * sizeof *paths);
    char *line = NULL;
    size_t size = 0;
    ssize_t length;
    while ((length = getline(&line, &size, file)) > 0) {
        while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r')) line[--length] = 0;
        if (length == 0) continue;
        if ((size_t)path_count == capacity) paths = realloc(paths, (capacity *= 2) * sizeof *paths);
        paths[path_count++] = strdup(line);
    }
    fclose(file);
    if (path_count == 0) { fprintf(stderr, "once: no paths\n"); return 2; }
    latencies = calloc((size_t)path_count, sizeof *latencies);

    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) { fprintf(stderr, "once: bad host\n"); return 2; }
    int poll = epoll_create1(0);
    struct connection *connections = calloc((size_t)count, sizeof *connections);
    for (int i = 0; i < count; i++) {
        struct connection *c = &connections[i];
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&address, sizeof address) < 0) die("connect");
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->in = malloc(BUFFER);
        struct epoll_event event = { .events = EPOLLIN, .data.ptr = c };
        if (epoll_ctl(poll, EPOLL_CTL_ADD, c->fd, &event) < 0) die("epoll_ctl");
    }

    /* Idle connections, as a stack. */
    struct connection **idle = calloc((size_t)count, sizeof *idle);
    int idle_count = 0;
    began = now_ns();
    for (int i = 0; i < count; i++) {
        if (!send_next(&connections[i])) idle[idle_count++] = &connections[i];
    }
    struct epoll_event events[256];
    uint64_t quiet_since = now_ns();
    while (done < path_count) {
        /* Open: what is due goes out on idle connections; wait no longer than the next due time. */
        while (idle_count > 0 && send_next(idle[idle_count - 1])) idle_count--;
        /* Sleeps to the next due time to the microsecond (epoll_wait's milliseconds would spin). */
        uint64_t wait = 10000000;
        if (rate > 0 && next_path < path_count && idle_count > 0) {
            uint64_t now = now_ns(), next = due(next_path);
            wait = next > now ? next - now : 0;
        }
        struct timespec timeout = { .tv_sec = (time_t)(wait / 1000000000u), .tv_nsec = (long)(wait % 1000000000u) };
        int ready = epoll_pwait2(poll, events, 256, &timeout, NULL);
        if (ready < 0) { if (errno == EINTR) continue; die("epoll_wait"); }
        if (ready == 0) {
            if (now_ns() - quiet_since > 10000000000u) { fprintf(stderr, "once: no answer for 10 s\n"); return 1; }
            continue;
        }
        quiet_since = now_ns();
        for (int e = 0; e < ready; e++) {
            struct connection *c = events[e].data.ptr;
            ssize_t n = read(c->fd, c->in + c->have, BUFFER - c->have);
            if (n <= 0) {
                if (n < 0 && errno == EINTR) continue;
                fprintf(stderr, "once: connection closed\n");
                return 1;
            }
            c->have += (size_t)n;
            size_t whole = complete_length(c);
            if (whole == 0) {
                if (c->have == BUFFER) { fprintf(stderr, "once: response over 1 MiB\n"); return 1; }
                continue;
            }
            if (c->have != whole) { fprintf(stderr, "once: bytes after a response\n"); return 1; }
            if (trace) fprintf(trace, "%.3f %.3f\n", (double)(c->started - began) / 1e6, (double)(now_ns() - c->started) / 1e6);
            latencies[done++] = now_ns() - c->started;
            if (memcmp(c->in, "HTTP/1.1 2", 10) != 0) non_2xx++;
            if (!send_next(c)) idle[idle_count++] = c;
        }
    }
    double seconds = (double)(now_ns() - began) / 1e9;
    qsort(latencies, (size_t)done, sizeof *latencies, compare);
#define AT(p) ((double)latencies[(size_t)((double)(done - 1) * (p))] / 1e6)
    printf("{\"load\": \"%s\", \"requests\": %ld, \"non_2xx\": %ld, \"seconds\": %.3f, \"requests_per_second\": %.0f, "
           "\"p50_ms\": %.2f, \"p90_ms\": %.2f, \"p99_ms\": %.2f, \"max_ms\": %.2f}\n",
           rate > 0 ? "open" : "closed", done, non_2xx, seconds, (double)done / seconds, AT(0.50), AT(0.90), AT(0.99), AT(1.0));
    return 0;
}
