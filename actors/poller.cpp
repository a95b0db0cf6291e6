#include "actors/poller.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <re2/re2.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include <caf/actor_pool.hpp>
#include <caf/actor_system.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/sec.hpp>
#include <curl/curl.h>

#include "actors/health.hpp"
#include "actors/target_url.hpp"
#include "actors/transfer_outcome.hpp"

namespace urlpoll {

namespace {

/// One poll in flight.
struct transfer {
  poll_request request;
  caf::response_promise promise;
  caf::timestamp started;
  /// When it was due, moved from the system clock (the one `request.due`
  /// is on) to the steady clock as it arrived: a step of the system clock
  /// while it waits in line does not count as lateness.
  std::chrono::steady_clock::time_point due;
  caf::timespan lateness{0};
  /// The status line and the size of the answer's headers.
  answer_head head;
  char error_buffer[CURL_ERROR_SIZE] = {};
  curl_slist* headers = nullptr;
  size_t body_bytes = 0;
  /// The start of the body, kept only to match body-match against.
  std::string body;
  /// Why urlpoll ended the transfer itself, if it did (or head.too_big).
  bool body_cut = false;
  /// HEAD was refused and this is the GET that followed.
  bool head_refused = false;

  ~transfer() { curl_slist_free_all(headers); }
};

// Keeps the status line and drops every other header, and ends a transfer
// whose headers pass max_header_bytes (take_header_line).
size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto bytes = size * count;
  auto* job = static_cast<transfer*>(user);
  return take_header_line(job->head, data, bytes) ? bytes : 0;
}

// Reads at most max_body bytes of a body, keeping them only for body-match;
// past that the transfer ends: the answer is judged on what arrived.
size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto bytes = size * count;
  auto* job = static_cast<transfer*>(user);
  auto room = job->request.max_body -
              std::min<size_t>(job->body_bytes, job->request.max_body);
  if (!job->request.body_match.empty())
    job->body.append(data, std::min(bytes, room));
  job->body_bytes += bytes;
  if (bytes > room) {
    job->body_cut = true;
    return 0;
  }
  return bytes;
}

// "Nov 25 12:00:00 2026 GMT", libcurl's certinfo "Expire date:".
std::optional<caf::timestamp> parse_cert_date(const char* text) {
  std::tm tm{};
  if (strptime(text, "%b %d %H:%M:%S %Y GMT", &tm) == nullptr)
    return std::nullopt;
  return caf::timestamp{std::chrono::seconds{timegm(&tm)}};
}

// The expiry of the server's own certificate, from a transfer that did a
// TLS handshake; nullopt for one that reused a connection or had no TLS.
std::optional<caf::timestamp> cert_expiry_of(CURL* easy) {
  curl_certinfo* info = nullptr;
  if (curl_easy_getinfo(easy, CURLINFO_CERTINFO, &info) != CURLE_OK ||
      info == nullptr || info->num_of_certs < 1)
    return std::nullopt;
  constexpr char key[] = "Expire date:";
  constexpr size_t length = sizeof(key) - 1;
  for (auto* field = info->certinfo[0]; field != nullptr; field = field->next)
    if (std::strncmp(field->data, key, length) == 0)
      return parse_cert_date(field->data + length);
  return std::nullopt;
}

// "https://host:port" of a URL: whose certificate a connection has.
std::string origin_of(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos)
    return url;
  auto end = url.find_first_of("/?#", scheme_end + 3);
  auto origin = url.substr(0, end);
  auto at = origin.find('@', scheme_end + 3);
  if (at != std::string::npos)
    origin.erase(scheme_end + 3, at + 1 - (scheme_end + 3));
  return origin;
}

class poller : public caf::blocking_actor {
public:
  poller(caf::actor_config& cfg, size_t max_in_flight, std::string node)
    : caf::blocking_actor(cfg),
      max_in_flight_(std::max<size_t>(1, max_in_flight)),
      node_(std::move(node)),
      user_agent_("urlpoll/" URLPOLL_VERSION +
                  (node_.empty() ? std::string{} : " (node " + node_ + ")")),
      multi_(curl_multi_init()), epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev);
    // libcurl tells which sockets to watch and when its next timeout is;
    // epoll does the watching, so each wake-up costs O(ready sockets), not
    // O(transfers in flight).
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    // Keep-alive needs a cache that holds a connection to every host polled:
    // libcurl's default keeps 4 per transfer in flight, so at a few polls in
    // flight the connections to 32 hosts were closed and opened again for
    // nearly every poll (bench/run counts nginx's accepts). max_in_flight is
    // what fit_file_limit budgets descriptors for.
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS,
                      static_cast<long>(max_in_flight_));
  }

  ~poller() override {
    for (auto* easy : idle_handles_)
      curl_easy_cleanup(easy);
    curl_multi_cleanup(multi_);
    ::close(wake_);
    ::close(epoll_);
  }

  const char* name() const override { return "poller"; }

  /// New transfers per round of the event loop, at most.
  static constexpr size_t burst = 64;

  /// Polls given to this poller and not yet answered: what the pool's
  /// dispatch reads, from the sending thread, to choose a poller.
  size_t load() const { return assigned_.load(std::memory_order_relaxed); }
  void assign() { assigned_.fetch_add(1, std::memory_order_relaxed); }

  // A new message wakes the thread from epoll_wait at once. Only a sleeping
  // poller needs the system call: one awake takes the message on its next
  // round.
  void enqueue(caf::mailbox_element_ptr what,
               caf::execution_unit* host) override {
    caf::blocking_actor::enqueue(std::move(what), host);
    if (asleep_.exchange(false)) {
      uint64_t one = 1;
      [[maybe_unused]] auto n = ::write(wake_, &one, sizeof(one));
    }
  }

  void act() override {
    bool running = true;
    epoll_event events[256];
    while (running) {
      // Take every waiting message without blocking.
      bool idle = false;
      while (running && !idle)
        receive(
          [&](poll_atom, poll_request& request) {
            accept(std::move(request), make_response_promise());
          },
          // The watchdog's question: this loop still turns.
          [&](ping_atom) { return true; },
          [&](caf::exit_msg& msg) {
            fail_state(std::move(msg.reason));
            running = false;
          },
          caf::after(std::chrono::seconds(0)) >> [&] { idle = true; });
      if (!running)
        break;
      start_waiting();
      // Sleep until a socket is ready, libcurl's timer is due or a message
      // arrives. Saying so before looking at the mailbox a last time means
      // that a message enqueued in between writes to the eventfd.
      asleep_.store(true);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      int timeout = has_next_message() || can_start() ? 0 : wait_ms();
      int n = ::epoll_wait(epoll_, events, 256, timeout);
      asleep_.store(false);
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == wake_) {
          uint64_t count = 0;
          [[maybe_unused]] auto r = ::read(wake_, &count, sizeof(count));
          continue;
        }
        int flags = 0;
        if (events[i].events & EPOLLIN)
          flags |= CURL_CSELECT_IN;
        if (events[i].events & EPOLLOUT)
          flags |= CURL_CSELECT_OUT;
        // An error or hang-up: let libcurl read, so that it meets the error
        // itself and can name it ("connection reset by peer"); with
        // CURL_CSELECT_ERR it only says "select/poll returned error".
        if (events[i].events & (EPOLLERR | EPOLLHUP))
          flags |= CURL_CSELECT_IN;
        int in_flight = 0;
        curl_multi_socket_action(multi_, fd, flags, &in_flight);
      }
      if (timer_due_ && std::chrono::steady_clock::now() >= *timer_due_) {
        timer_due_.reset();
        int in_flight = 0;
        curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &in_flight);
      }
      int queued = 0;
      while (auto* info = curl_multi_info_read(multi_, &queued))
        if (info->msg == CURLMSG_DONE)
          finish(info->easy_handle, info->data.result);
    }
  }

  // However act() ended, every poll in flight gets its one answer: an error,
  // so that no resource waits forever for a poller that is gone.
  void on_exit() override {
    for (auto& [easy, job] : transfers_) {
      job->promise.deliver(caf::make_error(caf::sec::request_receiver_down));
      curl_multi_remove_handle(multi_, easy);
      curl_easy_cleanup(easy);
    }
    transfers_.clear();
    for (auto& job : waiting_)
      job->promise.deliver(caf::make_error(caf::sec::request_receiver_down));
    waiting_.clear();
  }

private:
  int wait_ms() const {
    if (!timer_due_)
      return 1000;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      *timer_due_ - std::chrono::steady_clock::now());
    return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1000));
  }

  // CURLMOPT_SOCKETFUNCTION: watch `fd` for what libcurl asks, or stop.
  static int on_socket(CURL*, curl_socket_t fd, int what, void* user,
                       void* known) {
    auto* self = static_cast<poller*>(user);
    if (what == CURL_POLL_REMOVE) {
      ::epoll_ctl(self->epoll_, EPOLL_CTL_DEL, fd, nullptr);
      return 0;
    }
    epoll_event ev{};
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) |
                (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    auto op = known != nullptr ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (::epoll_ctl(self->epoll_, op, fd, &ev) != 0)
      ::epoll_ctl(self->epoll_,
                  op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
    curl_multi_assign(self->multi_, fd, self);
    return 0;
  }

  // CURLMOPT_TIMERFUNCTION: libcurl wants a call in `ms`, or none (-1).
  static int on_timer(CURLM*, long ms, void* user) {
    auto* self = static_cast<poller*>(user);
    if (ms < 0)
      self->timer_due_.reset();
    else
      self->timer_due_ =
        std::chrono::steady_clock::now() + std::chrono::milliseconds{ms};
    return 0;
  }

  // A handle keeps its options between transfers (no curl_easy_reset, which
  // frees and rebuilds them): what is the same for every poll is set once
  // here, what differs is set in start() for each.
  CURL* take_handle() {
    if (!idle_handles_.empty()) {
      auto* easy = idle_handles_.back();
      idle_handles_.pop_back();
      return easy;
    }
    auto* easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, user_agent_.c_str());
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_CERTINFO, 1L);
    if (default_ca_file_.empty()) {
      char* ca = nullptr;
      if (curl_easy_getinfo(easy, CURLINFO_CAINFO, &ca) == CURLE_OK && ca)
        default_ca_file_ = ca;
    }
    return easy;
  }

  // Every poll waits in line until start_waiting() takes it.
  void accept(poll_request request, caf::response_promise promise) {
    auto job = std::make_unique<transfer>();
    job->due =
      std::chrono::steady_clock::now() - (caf::make_timestamp() - request.due);
    job->request = std::move(request);
    job->promise = std::move(promise);
    waiting_.push_back(std::move(job));
  }

  // Starts at most `burst` waiting polls per round of the event loop, and
  // never more than max_in_flight at once. The burst limit clocks new
  // transfers by finished ones: while answers come at once, a few dozen
  // connections carry every poll; while they are slow, rounds are quick and
  // in-flight grows to what the latency needs. Starting a whole tick of polls
  // at once instead opens a connection for each, and libcurl's cost per
  // transfer grows with its connections (bench/README.md).
  void start_waiting() {
    for (size_t i = 0;
         i < burst && !waiting_.empty() && transfers_.size() < max_in_flight_;
         ++i) {
      auto next = std::move(waiting_.front());
      waiting_.pop_front();
      start(std::move(next));
    }
  }

  bool can_start() const {
    return !waiting_.empty() && transfers_.size() < max_in_flight_;
  }

  void start(std::unique_ptr<transfer> job) {
    job->started = caf::make_timestamp();
    job->lateness =
      std::max(caf::timespan{0}, std::chrono::steady_clock::now() - job->due);
    auto* easy = take_handle();
    auto timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      job->request.timeout);
    curl_easy_setopt(easy, CURLOPT_URL, job->request.url.c_str());
    curl_easy_setopt(
      easy, CURLOPT_TIMEOUT_MS,
      static_cast<long>(std::max<int64_t>(1, timeout_ms.count())));
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, job.get());
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, job.get());
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, job->error_buffer);
    // Every option that differs between polls is set for every poll: a
    // handle carries the last poll's options otherwise.
    auto& rq = job->request;
    long fresh = rq.fresh_connection ? 1L : 0L;
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, fresh);
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, fresh);
    use_method(easy, rq.method);
    curl_slist_free_all(job->headers);
    job->headers = nullptr;
    for (auto& header : rq.headers)
      job->headers = curl_slist_append(job->headers, header.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, job->headers);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION,
                     rq.follow_redirects ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_MAXREDIRS,
                     static_cast<long>(rq.max_redirects));
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, rq.insecure ? 0L : 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, rq.insecure ? 0L : 2L);
    auto& ca = rq.ca_file.empty() ? default_ca_file_ : rq.ca_file;
    curl_easy_setopt(easy, CURLOPT_CAINFO, ca.empty() ? nullptr : ca.c_str());
    if (auto rc = curl_multi_add_handle(multi_, easy); rc != CURLM_OK) {
      poll_result result;
      result.node = node_;
      result.time = job->started;
      result.status =
        std::string{"could not start the transfer: "} + curl_multi_strerror(rc);
      job->promise.deliver(std::move(result));
      assigned_.fetch_sub(1, std::memory_order_relaxed);
      curl_easy_cleanup(easy);
      return;
    }
    transfers_.emplace(easy, std::move(job));
  }

  void finish(CURL* easy, CURLcode code) {
    auto i = transfers_.find(easy);
    if (i == transfers_.end())
      return;
    auto& job = *i->second;
    // HEAD refused: once more with GET, the body discarded.
    if (code == CURLE_OK && job.request.method == http_method::head &&
        !job.head_refused) {
      long answer = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &answer);
      if (answer == 405 || answer == 501) {
        curl_multi_remove_handle(multi_, easy);
        job.head_refused = true;
        job.head = answer_head{};
        job.body_bytes = 0;
        use_method(easy, http_method::get);
        if (curl_multi_add_handle(multi_, easy) == CURLM_OK)
          return;
        // Could not start the GET: the HEAD's answer stands.
      }
    }
    poll_result result;
    result.node = node_;
    result.head_refused = job.head_refused;
    result.time = job.started;
    result.lateness = job.lateness;
    auto timing = [easy](CURLINFO what) {
      curl_off_t us = 0;
      curl_easy_getinfo(easy, what, &us);
      return caf::timespan{std::chrono::microseconds{us}};
    };
    result.latency = timing(CURLINFO_TOTAL_TIME_T);
    result.timings.dns = timing(CURLINFO_NAMELOOKUP_TIME_T);
    result.timings.connect = timing(CURLINFO_CONNECT_TIME_T);
    result.timings.tls = timing(CURLINFO_APPCONNECT_TIME_T);
    result.timings.first_byte = timing(CURLINFO_STARTTRANSFER_TIME_T);
    long http_code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &http_code);
    // Ended by urlpoll at max-body: the answer is judged on what arrived.
    if (code == CURLE_WRITE_ERROR && job.body_cut)
      code = CURLE_OK;
    if (code == CURLE_WRITE_ERROR && job.head.too_big) {
      result.status = "the answer's headers are larger than " +
                      std::to_string(max_header_bytes / 1024) + " KiB";
    } else if (code == CURLE_OK && http_code > 0) {
      result.code = static_cast<uint16_t>(http_code);
      result.status = status_text(http_code, job.head.status_line);
    } else {
      long os_errno = 0;
      curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
      transfer_report report;
      report.curl_code = code;
      report.http_code = http_code;
      report.status_line = job.head.status_line;
      report.os_errno = static_cast<int>(os_errno);
      report.error_buffer = job.error_buffer;
      report.timeout = job.request.timeout;
      report.max_redirects = job.request.max_redirects;
      // libcurl's words may quote a URL: this one, or where it redirects.
      result.status = redact_urls_in(
        redact_password_in(describe_error(report), job.request.url));
    }
    if (job.request.url.compare(0, 8, "https://") == 0) {
      // A reused connection shows no certificate: the last handshake with
      // the same origin tells.
      auto origin = origin_of(job.request.url);
      if (auto expiry = cert_expiry_of(easy))
        cert_expiry_[origin] = *expiry;
      if (auto known = cert_expiry_.find(origin); known != cert_expiry_.end())
        result.cert_expiry = known->second;
    }
    judge(result, job.request, body_matches(job), caf::make_timestamp());
    job.promise.deliver(std::move(result));
    assigned_.fetch_sub(1, std::memory_order_relaxed);
    curl_multi_remove_handle(multi_, easy);
    // The job's buffers go with it: the idle handle must not point at them.
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, nullptr);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, nullptr);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
    transfers_.erase(i);
    // Back to the idle handles first, so that a waiting poll reuses it.
    idle_handles_.push_back(easy);
  }

  static void use_method(CURL* easy, http_method method) {
    if (method == http_method::get) {
      curl_easy_setopt(easy, CURLOPT_NOBODY, 0L);
      curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    }
  }

  // Whether the body read so far contains body-match (a substring) or
  // matches it (/regex/, compiled once per pattern).
  bool body_matches(const transfer& job) {
    auto& pattern = job.request.body_match;
    if (pattern.empty())
      return true;
    if (pattern.size() < 2 || pattern.front() != '/' || pattern.back() != '/')
      return job.body.find(pattern) != std::string::npos;
    auto i = regexes_.find(pattern);
    if (i == regexes_.end())
      i = regexes_
            .emplace(pattern,
                     std::make_unique<re2::RE2>(
                       pattern.substr(1, pattern.size() - 2), re2::RE2::Quiet))
            .first;
    // Refused at start-up when not ok; a remote coordinator may differ.
    return i->second->ok() && re2::RE2::PartialMatch(job.body, *i->second);
  }

  size_t max_in_flight_;
  std::string node_;
  std::string user_agent_;
  CURLM* multi_;
  int epoll_;
  int wake_;
  std::atomic<size_t> assigned_{0};
  /// True while act() is in (or about to enter) epoll_wait.
  std::atomic<bool> asleep_{false};
  std::optional<std::chrono::steady_clock::time_point> timer_due_;
  std::unordered_map<CURL*, std::unique_ptr<transfer>> transfers_;
  std::vector<CURL*> idle_handles_;
  /// The system's CA file, for polls that name none.
  std::string default_ca_file_;
  /// The last certificate expiry seen per origin (scheme://host:port).
  std::unordered_map<std::string, caf::timestamp> cert_expiry_;
  /// body-match /regex/es, compiled once. RE2: linear time and no
  /// recursion, so no body a server sends can crash or stall the poller.
  std::unordered_map<std::string, std::unique_ptr<re2::RE2>> regexes_;
  std::deque<std::unique_ptr<transfer>> waiting_;
};

// Fills the first poller before spilling over to the next: a poll goes to
// the first poller with less than a burst in hand, or, when all are that busy,
// to the one with least. At moderate rates one poller then wakes once per
// timer tick for all its polls (two pollers sharing them would each wake, at
// half again the CPU per poll); at high rates all of them work.
caf::actor_pool::policy fill_first() {
  return [](caf::actor_system&, caf::actor_pool::uplock& guard,
            const caf::actor_pool::actor_vec& pollers,
            caf::mailbox_element_ptr& what, caf::execution_unit* host) {
    // A pool from spawn_pollers holds pollers only.
    auto as_poller = [](const caf::actor& handle) {
      return static_cast<poller*>(
        caf::actor_cast<caf::abstract_actor*>(handle));
    };
    size_t chosen = 0;
    size_t least = std::numeric_limits<size_t>::max();
    for (size_t i = 0; i < pollers.size(); ++i) {
      auto load = as_poller(pollers[i])->load();
      if (load < least) {
        least = load;
        chosen = i;
      }
      if (load < poller::burst)
        break;
    }
    caf::actor selected = pollers[chosen];
    as_poller(selected)->assign();
    guard.unlock();
    selected->enqueue(std::move(what), host);
  };
}

} // namespace

poller_actor spawn_pollers(caf::actor_system& sys, size_t count,
                           size_t max_in_flight, std::string node) {
  auto spawn_one = [&sys, max_in_flight, node] {
    return sys.spawn<poller>(max_in_flight, node);
  };
  auto pool = caf::actor_pool::make(sys.dummy_execution_unit(), count,
                                    spawn_one, fill_first());
  return caf::actor_cast<poller_actor>(pool);
}

} // namespace urlpoll
