/* The floor of the parts: a bare libcurl multi loop that polls every URL of
 * a file once per interval with HEAD over kept-alive connections, and does
 * nothing else (no state, no results, no output but a count). bench/run
 * measures its CPU per poll beside urlpoll's and the seed's, against the same
 * nginx: what libcurl and the kernel cost for the same polls, which a
 * monitor built on them cannot beat.
 *
 *   floor URL_FILE INTERVAL_SECONDS DURATION_SECONDS
 *
 * URL_FILE has one URL a line (blank lines and lines starting with # are
 * skipped). The first polls are spread over the first interval, as urlpoll
 * spreads them, and each URL is next due at its previous due time plus the
 * interval: poll k, of URL k mod n, is due at start + k * interval / n. With
 * one interval for every URL, due order is the file's order over and over, so
 * the queue of due polls is a counter going round a ring.
 *
 * The loop sleeps in epoll_wait until a socket is ready, libcurl's timer
 * expires or the next poll is due (curl_multi_socket_action with socket and
 * timer callbacks). It ends after DURATION_SECONDS (at most an hour) or on
 * SIGTERM/SIGINT, and prints "polls=DONE failed=F skipped=S seconds=T".
 *
 * Build: cc -O2 -o floor bench/floor.c -lcurl (bench/run does).
 */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

/* New transfers started per round of the loop, at most, as urlpoll's
 * pollers do: finished transfers then clock new ones instead of a burst of
 * due polls each opening a connection of its own. */
enum { START_PER_ROUND = 64, MAX_EVENTS = 256, MAX_DURATION_S = 3600 };

static CURLM *multi;
static int epfd;
static int64_t timer_due = -1; /* libcurl's timer, absolute µs; -1: none */
static volatile sig_atomic_t stopping;

static char **urls;          /* the URLs, in due order */
static size_t n;             /* how many */
static char *busy;           /* per URL: its last poll still runs */
static CURL **idle;          /* easy handles free for the next poll */
static size_t n_idle;
static unsigned long long done, failed, skipped;

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* CURLMOPT_SOCKETFUNCTION: watch socket s for what libcurl asks, or stop. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp,
                     void *socketp) {
  (void)easy, (void)userp;
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, s, NULL); /* fails if closed: fine */
    return 0;
  }
  struct epoll_event ev = {0};
  ev.data.fd = s;
  ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) |
              ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
  if (socketp == NULL) { /* new to us: mark it so that next time is MOD */
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, s, &ev) != 0 && errno == EEXIST)
      epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ev);
    curl_multi_assign(multi, s, &epfd);
  } else {
    epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ev);
  }
  return 0;
}

/* CURLMOPT_TIMERFUNCTION: libcurl wants a call in timeout_ms, or none (-1). */
static int on_timer(CURLM *m, long timeout_ms, void *userp) {
  (void)m, (void)userp;
  timer_due = timeout_ms < 0 ? -1 : now_us() + (int64_t)timeout_ms * 1000;
  return 0;
}

static size_t discard(char *data, size_t size, size_t nmemb, void *userp) {
  (void)data, (void)userp;
  return size * nmemb;
}

/* Starts a poll of URL i on an idle easy handle (a new one if none is):
 * options other than the URL stay set between transfers. */
static void start_poll(size_t i) {
  if (busy[i]) { /* due again before its last poll ended */
    ++skipped;
    return;
  }
  CURL *e = n_idle > 0 ? idle[--n_idle] : NULL;
  if (e == NULL) {
    e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L); /* HEAD */
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
  }
  curl_easy_setopt(e, CURLOPT_URL, urls[i]);
  curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)(uintptr_t)i);
  busy[i] = 1;
  curl_multi_add_handle(multi, e);
}

/* Counts the finished transfers and returns their handles to the idle list
 * (their connections stay in the multi handle's cache). */
static void reap(void) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    CURL *e = msg->easy_handle;
    if (msg->data.result == CURLE_OK)
      ++done;
    else
      ++failed;
    void *i;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, &i);
    busy[(uintptr_t)i] = 0;
    curl_multi_remove_handle(multi, e); /* msg is invalid from here */
    idle[n_idle++] = e;
  }
}

static void read_urls(const char *path) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    perror(path);
    exit(2);
  }
  size_t cap = 1024;
  urls = malloc(cap * sizeof *urls);
  char *line = NULL;
  size_t len = 0;
  ssize_t got;
  while ((got = getline(&line, &len, f)) > 0) {
    while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
      line[--got] = '\0';
    if (got == 0 || line[0] == '#')
      continue;
    if (n == cap)
      urls = realloc(urls, (cap *= 2) * sizeof *urls);
    urls[n++] = strdup(line);
  }
  free(line);
  fclose(f);
}

static void on_signal(int sig) { (void)sig, stopping = 1; }

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: floor URL_FILE INTERVAL_SECONDS DURATION_SECONDS\n");
    return 2;
  }
  read_urls(argv[1]);
  double interval_s = atof(argv[2]), duration_s = atof(argv[3]);
  if (n == 0 || interval_s <= 0 || duration_s <= 0 ||
      duration_s > MAX_DURATION_S) {
    fprintf(stderr, "floor: need URLs, an interval > 0 and a duration in "
                    "(0, %d] seconds\n", MAX_DURATION_S);
    return 2;
  }
  busy = calloc(n, 1);
  idle = malloc(n * sizeof *idle); /* at most one handle per URL exists */

  /* No SA_RESTART: a signal ends epoll_wait with EINTR. */
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  curl_global_init(CURL_GLOBAL_DEFAULT);
  multi = curl_multi_init();
  epfd = epoll_create1(EPOLL_CLOEXEC);
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
  /* Keep every host's connections. By default the cache holds 4 per easy
   * handle added, which with a few transfers in flight is fewer than the
   * hosts, and the oldest connection would be closed after each poll. */
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 4096L);

  int64_t start = now_us(), end = start + (int64_t)(duration_s * 1e6);
  int64_t interval_us = (int64_t)(interval_s * 1e6);
  uint64_t k = 0; /* the next poll: URL k % n, due at due(k) */
#define DUE(k) (start + (int64_t)((k) * (uint64_t)interval_us / n))
  struct epoll_event events[MAX_EVENTS];
  int running;
  while (!stopping) {
    int64_t t = now_us();
    if (t >= end)
      break;
    for (int s = 0; s < START_PER_ROUND && DUE(k) <= t; ++s, ++k)
      start_poll(k % n);
    /* Sleep until the next poll is due, libcurl's timer or the end. */
    int64_t wake = DUE(k);
    if (timer_due >= 0 && timer_due < wake)
      wake = timer_due;
    if (end < wake)
      wake = end;
    int timeout_ms = wake <= t ? 0 : (int)((wake - t + 999) / 1000);
    int ready = epoll_wait(epfd, events, MAX_EVENTS, timeout_ms);
    if (ready < 0 && errno != EINTR) {
      perror("epoll_wait");
      break;
    }
    for (int i = 0; i < ready; ++i) {
      int flags = ((events[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                  ((events[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                  ((events[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
      curl_multi_socket_action(multi, events[i].data.fd, flags, &running);
    }
    if (timer_due >= 0 && now_us() >= timer_due) {
      timer_due = -1; /* the call may set a new one */
      curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    reap();
  }
  printf("polls=%llu failed=%llu skipped=%llu seconds=%.1f\n", done, failed,
         skipped, (now_us() - start) / 1e6);
  fflush(stdout);
  return 0;
}
