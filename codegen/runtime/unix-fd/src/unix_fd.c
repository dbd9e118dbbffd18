// Unix stream sockets that pass file descriptors (SCM_RIGHTS), for the D-Bus
// transport (codegen/runtime/unix-fd-socket.ts). Node-API only, so one build
// runs on every Node version, and plain C, so the layer's recipe cross-builds
// it with nothing but the target's C compiler and Node's headers.
//
// Most of the socket is plain system calls with no state kept here: connect,
// recv, send, shutdown, close. The one object with a lifecycle is the Poller,
// which owns the socket's fd and the libuv poll handle watching it. The
// rules that keep it from ever touching freed memory (see ../README.md for
// the usocket crash they avoid):
//   - the poller's memory is the uv_poll_t's memory and is freed only once
//     libuv has called the close callback AND no JS object points at it any
//     more (close() detached it, or the wrapper was collected);
//   - while it is polling, a strong reference keeps the JS wrapper (and so
//     the callback) alive: a watched socket is never collected mid-flight;
//   - close() is idempotent, stops polling, closes the fd at once and never
//     calls back into JS; a wrapper collected without close() is closed by
//     its finalizer the same way.
// Received fds are always created close-on-exec (MSG_CMSG_CLOEXEC): child
// processes spawned meanwhile must not inherit them.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

// Most fds one recvmsg accepts (the D-Bus reference limit per message is 16;
// dbus-daemon's default 1024 per connection is spread over many messages).
#define MAX_FDS_PER_RECV 253
#define MAX_FDS_PER_SEND 253

#define CHECK(env, call)                                                   \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      const napi_extended_error_info *info_ = NULL;                        \
      napi_get_last_error_info((env), &info_);                             \
      bool pending_ = false;                                               \
      napi_is_exception_pending((env), &pending_);                         \
      if (!pending_)                                                       \
        napi_throw_error((env), NULL,                                      \
                         info_ && info_->error_message ? info_->error_message \
                                                       : "node-api call failed"); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

// Throws an Error shaped like Node's own system errors: code, errno, syscall.
static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *what) {
  char message[512];
  snprintf(message, sizeof message, "%s %s: %s", syscall, what, strerror(err));
  napi_value msg, error, code, errnum, sc;
  const char *name = NULL;
  switch (err) {
    case ENOENT: name = "ENOENT"; break;
    case EACCES: name = "EACCES"; break;
    case EAGAIN: name = "EAGAIN"; break;
    case ECONNREFUSED: name = "ECONNREFUSED"; break;
    case ECONNRESET: name = "ECONNRESET"; break;
    case EPIPE: name = "EPIPE"; break;
    case EBADF: name = "EBADF"; break;
    case EINVAL: name = "EINVAL"; break;
    case EMFILE: name = "EMFILE"; break;
    case ENFILE: name = "ENFILE"; break;
    case ENOTSOCK: name = "ENOTSOCK"; break;
    case ENAMETOOLONG: name = "ENAMETOOLONG"; break;
    case ENOBUFS: name = "ENOBUFS"; break;
    case ENOMEM: name = "ENOMEM"; break;
    case ETOOMANYREFS: name = "ETOOMANYREFS"; break;
    default: name = "EIO"; break;
  }
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg) != napi_ok) return NULL;
  if (napi_create_error(env, NULL, msg, &error) != napi_ok) return NULL;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_int32(env, -err, &errnum);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
  napi_set_named_property(env, error, "code", code);
  napi_set_named_property(env, error, "errno", errnum);
  napi_set_named_property(env, error, "syscall", sc);
  napi_throw(env, error);
  return NULL;
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static bool get_fd(napi_env env, napi_value v, int *fd) {
  if (napi_get_value_int32(env, v, fd) != napi_ok || *fd < 0) {
    napi_throw_type_error(env, NULL, "expected a file descriptor (an integer >= 0)");
    return false;
  }
  return true;
}

// connect(path: string | Buffer): number
// A non-blocking AF_UNIX stream socket, connected. A path starting with NUL
// is an abstract address. Unix-domain connects complete at once or fail:
// EAGAIN means the listener's backlog is full (the caller retries later).
static napi_value js_connect(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t len = 0;
  bool is_buffer = false;
  if (argc >= 1) napi_is_buffer(env, argv[0], &is_buffer);
  if (is_buffer) {
    void *data;
    CHECK(env, napi_get_buffer_info(env, argv[0], &data, &len));
    if (len == 0 || len > sizeof addr.sun_path) return throw_errno(env, ENAMETOOLONG, "connect", "(socket path empty or too long)");
    memcpy(addr.sun_path, data, len);
  } else {
    if (argc < 1 || napi_get_value_string_utf8(env, argv[0], addr.sun_path, sizeof addr.sun_path, &len) != napi_ok) {
      napi_throw_type_error(env, NULL, "connect: expected a socket path");
      return NULL;
    }
    if (len == 0 || len >= sizeof addr.sun_path - 1) return throw_errno(env, ENAMETOOLONG, "connect", "(socket path empty or too long)");
  }
  char what[sizeof addr.sun_path + 1];
  memcpy(what, addr.sun_path, len);
  what[len] = 0;
  if (what[0] == 0) what[0] = '@';
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket", what);
  socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
  int rc;
  do rc = connect(fd, (struct sockaddr *)&addr, alen);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "connect", what);
  }
  napi_value result;
  CHECK(env, napi_create_int32(env, fd, &result));
  return result;
}

static void close_fds(const int *fds, size_t n) {
  for (size_t i = 0; i < n; i++) close(fds[i]);
}

// recv(fd, maxBytes): { data: Buffer, fds: number[] } | null
// null: nothing to read now (EAGAIN). data.length 0 and no fds: end of stream.
// The Buffer is exactly as long as what was read (one copy out of a
// per-thread scratch area): a D-Bus message is usually a few hundred bytes.
static _Thread_local char scratch[64 * 1024];

static napi_value js_recv(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd;
  uint32_t max;
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "recv(fd, maxBytes)");
    return NULL;
  }
  if (!get_fd(env, argv[0], &fd)) return NULL;
  if (napi_get_value_uint32(env, argv[1], &max) != napi_ok || max == 0) {
    napi_throw_type_error(env, NULL, "recv: maxBytes must be a positive integer");
    return NULL;
  }
  size_t size = max < sizeof scratch ? max : sizeof scratch;
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(MAX_FDS_PER_RECV * sizeof(int))];
  } control;
  struct iovec iov = {.iov_base = scratch, .iov_len = size};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  ssize_t n;
  do n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      napi_value null;
      napi_get_null(env, &null);
      return null;
    }
    return throw_errno(env, errno, "recvmsg", "(D-Bus socket)");
  }
  // Collect every fd first, so that none leaks if what follows fails.
  int fds[MAX_FDS_PER_RECV];
  size_t nfds = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count && nfds < MAX_FDS_PER_RECV; i++) {
      int f;
      memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      fds[nfds++] = f;
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    // The kernel dropped (and closed) fds that did not fit: the stream can
    // no longer tell which message owns which fd.
    close_fds(fds, nfds);
    return throw_errno(env, ETOOMANYREFS, "recvmsg", "(more file descriptors than fit in one read)");
  }
  napi_value result, data, array;
  void *copy;
  if (napi_create_object(env, &result) != napi_ok || napi_create_array_with_length(env, nfds, &array) != napi_ok ||
      napi_create_buffer_copy(env, (size_t)n, scratch, &copy, &data) != napi_ok) {
    close_fds(fds, nfds);
    return NULL;
  }
  for (size_t i = 0; i < nfds; i++) {
    napi_value v;
    if (napi_create_int32(env, fds[i], &v) != napi_ok || napi_set_element(env, array, (uint32_t)i, v) != napi_ok) {
      close_fds(fds, nfds);
      return NULL;
    }
  }
  if (napi_set_named_property(env, result, "data", data) != napi_ok || napi_set_named_property(env, result, "fds", array) != napi_ok) {
    close_fds(fds, nfds);
    return NULL;
  }
  return result;
}

// send(fd, data: Buffer, fds?: number[]): number
// Bytes written (fds, if any, go with the first byte); -1 when the socket
// buffer is full (EAGAIN: nothing was written, fds included).
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd;
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "send(fd, data, fds?)");
    return NULL;
  }
  if (!get_fd(env, argv[0], &fd)) return NULL;
  void *data;
  size_t len;
  bool is_buffer = false;
  napi_is_buffer(env, argv[1], &is_buffer);
  if (!is_buffer) {
    napi_throw_type_error(env, NULL, "send: data must be a Buffer");
    return NULL;
  }
  CHECK(env, napi_get_buffer_info(env, argv[1], &data, &len));
  int fds[MAX_FDS_PER_SEND];
  uint32_t nfds = 0;
  napi_valuetype t = napi_undefined;
  if (argc >= 3) napi_typeof(env, argv[2], &t);
  if (t != napi_undefined && t != napi_null) {
    bool is_array = false;
    napi_is_array(env, argv[2], &is_array);
    if (!is_array) {
      napi_throw_type_error(env, NULL, "send: fds must be an array of file descriptors");
      return NULL;
    }
    CHECK(env, napi_get_array_length(env, argv[2], &nfds));
    if (nfds > MAX_FDS_PER_SEND) return throw_errno(env, ETOOMANYREFS, "sendmsg", "(too many file descriptors in one message)");
    for (uint32_t i = 0; i < nfds; i++) {
      napi_value v;
      CHECK(env, napi_get_element(env, argv[2], i, &v));
      if (!get_fd(env, v, &fds[i])) return NULL;
    }
  }
  if (len == 0 && nfds > 0) {
    napi_throw_type_error(env, NULL, "send: fds need at least one byte of data to travel with");
    return NULL;
  }
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(MAX_FDS_PER_SEND * sizeof(int))];
  } control;
  struct iovec iov = {.iov_base = data, .iov_len = len};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (nfds > 0) {
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
  }
  ssize_t n;
  do n = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) n = -1;
    else return throw_errno(env, errno, "sendmsg", "(D-Bus socket)");
  }
  napi_value result;
  CHECK(env, napi_create_int64(env, (int64_t)n, &result));
  return result;
}

// shutdown(fd): no more writes (the peer reads end of stream).
static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd;
  if (argc < 1 || !get_fd(env, argv[0], &fd)) return NULL;
  if (shutdown(fd, SHUT_WR) < 0 && errno != ENOTCONN) return throw_errno(env, errno, "shutdown", "(D-Bus socket)");
  return undefined(env);
}

// closeFd(fd): closes an fd (one received and never taken, for instance).
static napi_value js_close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd;
  if (argc < 1 || !get_fd(env, argv[0], &fd)) return NULL;
  close(fd);
  return undefined(env);
}

// ---------------------------------------------------------------- Poller

typedef struct {
  uv_poll_t handle;          // first: the close callback gets it back as the poller
  napi_env env;
  napi_ref self;             // the JS wrapper: weak, strong while polling
  napi_ref callback;
  napi_async_context async;
  int fd;                    // owned: closed by close()
  bool polling;
  bool closing;              // uv_close called
  bool uv_closed;            // libuv's close callback ran
  bool wrapped;              // a JS wrapper still points here
  bool env_gone;             // the environment is being torn down: no more Node-API calls
  bool hooked;               // the environment cleanup hook is registered
} poller_t;

static void poller_env_teardown(void *arg);

static void poller_maybe_free(poller_t *p) {
  if (p->uv_closed && !p->wrapped) free(p);
}

static void on_uv_closed(uv_handle_t *handle) {
  poller_t *p = (poller_t *)handle;
  p->uv_closed = true;
  if (!p->env_gone) {
    // Released here, not in close(): close() may run inside this poller's
    // own callback, which is still using them.
    if (p->callback) napi_delete_reference(p->env, p->callback);
    if (p->self) napi_delete_reference(p->env, p->self);
    if (p->async) napi_async_destroy(p->env, p->async);
    if (p->hooked) napi_remove_env_cleanup_hook(p->env, poller_env_teardown, p);
  }
  p->callback = NULL;
  p->self = NULL;
  p->async = NULL;
  poller_maybe_free(p);
}

static void poller_begin_close(poller_t *p) {
  if (p->closing) return;
  p->closing = true;
  if (p->polling) {
    uv_poll_stop(&p->handle);
    p->polling = false;
    if (!p->env_gone && p->self) napi_reference_unref(p->env, p->self, NULL);
  }
  uv_close((uv_handle_t *)&p->handle, on_uv_closed);
  // libuv has already dropped the fd from its epoll set.
  close(p->fd);
  p->fd = -1;
}

static void poller_env_teardown(void *arg) {
  poller_t *p = arg;
  p->env_gone = true;
  poller_begin_close(p);
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  poller_t *p = (poller_t *)handle;
  if (p->closing || p->env_gone) return;
  napi_env env = p->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[2], result;
  if (napi_get_reference_value(env, p->callback, &cb) == napi_ok && cb != NULL) {
    napi_get_global(env, &recv); // make_callback wants an object as `this`
    napi_create_int32(env, status, &argv[0]);
    napi_create_int32(env, events, &argv[1]);
    // make_callback: async hooks context, microtasks drained afterwards.
    if (napi_make_callback(env, p->async, recv, cb, 2, argv, &result) == napi_pending_exception) {
      napi_value error;
      if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
    }
  }
  // p may be closing now, but its memory lives until on_uv_closed.
  napi_close_handle_scope(env, scope);
}

static void poller_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  poller_t *p = data;
  p->wrapped = false;
  poller_begin_close(p); // collected without close(): the fd is closed all the same
  poller_maybe_free(p);
}

// new Poller(fd, callback(status, events)): takes ownership of fd (closed
// even when the constructor throws).
static napi_value poller_new(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  int fd;
  if (argc < 2 || !get_fd(env, argv[0], &fd)) return argc < 2 ? (napi_throw_type_error(env, NULL, "new Poller(fd, callback)"), NULL) : NULL;
  napi_valuetype t;
  napi_typeof(env, argv[1], &t);
  if (t != napi_function) {
    napi_throw_type_error(env, NULL, "Poller: callback must be a function");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(env, napi_get_uv_event_loop(env, &loop));
  poller_t *p = calloc(1, sizeof *p);
  if (!p) {
    close(fd);
    return throw_errno(env, ENOMEM, "calloc", "(Poller)");
  }
  p->env = env;
  p->fd = fd;
  int rc = uv_poll_init(loop, &p->handle, fd);
  if (rc < 0) {
    free(p);
    close(fd);
    return throw_errno(env, -rc, "uv_poll_init", "(D-Bus socket)");
  }
  // From here on the memory belongs to libuv until on_uv_closed.
  napi_value name;
  if (napi_create_reference(env, argv[1], 1, &p->callback) != napi_ok ||
      napi_create_string_utf8(env, "UnixFdSocket", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &p->async) != napi_ok ||
      napi_wrap(env, self, p, poller_finalize, NULL, &p->self) != napi_ok) {
    poller_begin_close(p);
    return NULL;
  }
  p->wrapped = true;
  p->hooked = napi_add_env_cleanup_hook(env, poller_env_teardown, p) == napi_ok;
  return self;
}

static poller_t *unwrap_open(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  void *data = NULL;
  if (napi_unwrap(env, self, &data) != napi_ok || data == NULL) return NULL;
  return data;
}

// poller.start(events): 1 readable, 2 writable, 0 stop. Throws once closed.
static napi_value poller_start(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  poller_t *p = unwrap_open(env, info, &argc, argv);
  if (!p || p->closing) {
    napi_throw_error(env, "ERR_SOCKET_CLOSED", "the socket is closed");
    return NULL;
  }
  int32_t events = 0;
  if (argc >= 1) napi_get_value_int32(env, argv[0], &events);
  events &= UV_READABLE | UV_WRITABLE;
  if (events == 0) {
    if (p->polling) {
      uv_poll_stop(&p->handle);
      p->polling = false;
      napi_reference_unref(env, p->self, NULL);
    }
    return undefined(env);
  }
  int rc = uv_poll_start(&p->handle, events, on_poll);
  if (rc < 0) return throw_errno(env, -rc, "uv_poll_start", "(D-Bus socket)");
  if (!p->polling) {
    p->polling = true;
    napi_reference_ref(env, p->self, NULL);
  }
  return undefined(env);
}

// poller.close(): stops polling, closes the fd. Safe to call again.
static napi_value poller_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value self;
  CHECK(env, napi_get_cb_info(env, info, &argc, NULL, &self, NULL));
  void *data = NULL;
  if (napi_remove_wrap(env, self, &data) != napi_ok || data == NULL) {
    // already closed: napi_remove_wrap failing leaves no exception behind
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    return undefined(env);
  }
  poller_t *p = data;
  p->wrapped = false;
  poller_begin_close(p);
  poller_maybe_free(p);
  return undefined(env);
}

// poller.fd: the socket's fd, -1 once closed.
static napi_value poller_fd(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  poller_t *p = unwrap_open(env, info, &argc, NULL);
  napi_value result;
  napi_create_int32(env, p && !p->closing ? p->fd : -1, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
      {"connect", NULL, js_connect, NULL, NULL, NULL, napi_default, NULL},
      {"recv", NULL, js_recv, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"shutdown", NULL, js_shutdown, NULL, NULL, NULL, napi_default, NULL},
      {"closeFd", NULL, js_close_fd, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions));
  napi_property_descriptor methods[] = {
      {"start", NULL, poller_start, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, poller_close, NULL, NULL, NULL, napi_default, NULL},
      {"fd", NULL, NULL, poller_fd, NULL, NULL, napi_default, NULL},
  };
  napi_value poller;
  CHECK(env, napi_define_class(env, "Poller", NAPI_AUTO_LENGTH, poller_new, NULL, sizeof methods / sizeof methods[0], methods, &poller));
  CHECK(env, napi_set_named_property(env, exports, "Poller", poller));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
