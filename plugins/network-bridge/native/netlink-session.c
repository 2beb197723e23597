/* mini-docker-netlink: the bridge driver's long-lived rtnetlink session (plugins/network-bridge/
 * netlink-session.ts). One request per line on stdin, one answer per line on stdout, in order:
 *
 *   attach <netns> <host veth> <bridge> <mtu> <ifname> <mac> <ip>/<prefix> <gateway|-> <alias>
 *   detach <host veth> [<alias>]
 *   release <host veth> [<alias>]
 *
 * answered "ok" or "error <errno> <message>". <netns> is a path, or pid:<pid>:<parent>: the
 * namespace of the process <pid>, through a pidfd, refused unless the process is <parent>'s child
 * (a container's init, the child of its shim: a pid reused by another process is not wired). A line longer than MAX_LINE - 1 bytes (before its
 * newline) is one request, refused with EMSGSIZE; so is one too large for a netlink batch. An
 * attach is two netlink batches and no process: in the daemon's namespace, the veth pair (its
 * peer made inside the container's namespace, by fd), its host end on the bridge and up, then its
 * alias; inside the container's namespace (a socket made there after setns, the session going
 * back to its own at once), the peer and lo up, the address, the default route. A host end of the
 * same name left by the same container's earlier run (its alias is this attach's: the exit does not
 * wait for the pair's deletion) is deleted first; a device of that name that is not this
 * container's is left alone and the attach fails with EEXIST. A detach deletes the host end (its
 * peer goes with it); one already gone is no error. Given an alias, a detach deletes the host end
 * only when its alias is that one (or it has none: a pair whose alias was never written), and a
 * release lets go only of a hold made by an attach with that alias: the undo of an attach refused
 * with EEXIST (another container's device of the same name, ids sharing their first characters)
 * then leaves the other container's pair and hold alone.
 *
 * The session holds the namespace of each pair it made (the fd it made the pair with, kept under
 * the host end's name) until `release` of that name, an attach of the same name (the old one is
 * let go first) or the session's end: so the namespace, and the pair in it, outlive the container's
 * last process, and the kernel's teardown of them (cleanup_net: the pair unregistered, RCU grace
 * periods under rtnl_lock) runs when the daemon lets go, after the exit was answered, instead of
 * beside the exit's own steps (docs/networking.md, "The namespace's hold"). The session ends at EOF
 * on stdin (the daemon closed it, or died): every fd it holds is closed by its exit, so a held
 * namespace never outlives the daemon's session. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_MSGS 8
/* A request line holds at most MAX_LINE - 1 bytes before its newline; a longer one is read to its
 * newline and answered with one error (EMSGSIZE). */
#define MAX_LINE 2048

struct batch {
  _Alignas(struct nlmsghdr) char buf[4096];
  size_t len;
  size_t offsets[MAX_MSGS];
  const char *what[MAX_MSGS];
  int n;
  /* Set when a message or an attribute did not fit: the batch is refused, never sent. */
  int overflow;
  /* The sequence number of the first message: numbers grow across batches, so an answer left
   * over from an earlier batch is never taken for one of this batch. */
  uint32_t seq0;
};

static uint32_t next_seq = 1;

static void batch_begin(struct batch *b) {
  b->len = 0;
  b->n = 0;
  b->overflow = 0;
  b->seq0 = next_seq;
}

struct failure {
  int err;
  char msg[512];
};

__attribute__((format(printf, 3, 4))) static int fail(struct failure *f, int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->msg, sizeof f->msg, fmt, ap);
  va_end(ap);
  f->err = err;
  return -1;
}

static struct nlmsghdr *msg_at(struct batch *b, int i) { return (struct nlmsghdr *)(b->buf + b->offsets[i]); }

/* Where the puts of a batch that overflowed write instead (its content is never sent). */
static _Alignas(struct nlmsghdr) char spill[256];

/* Starts a message with its fixed header; later puts append attributes to it. */
static void *msg_begin(struct batch *b, const char *what, uint16_t type, uint16_t flags, size_t body) {
  size_t at = NLMSG_ALIGN(b->len);
  if (b->overflow || b->n >= MAX_MSGS || body > sizeof spill - NLMSG_HDRLEN || at + NLMSG_SPACE(body) > sizeof b->buf) {
    b->overflow = 1;
    memset(spill, 0, sizeof spill);
    return spill + NLMSG_HDRLEN;
  }
  struct nlmsghdr *h = (struct nlmsghdr *)(b->buf + at);
  memset(h, 0, NLMSG_SPACE(body));
  h->nlmsg_len = (uint32_t)NLMSG_LENGTH(body);
  h->nlmsg_type = type;
  h->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
  h->nlmsg_seq = b->seq0 + (uint32_t)b->n;
  next_seq = h->nlmsg_seq + 1;
  b->offsets[b->n] = at;
  b->what[b->n] = what;
  b->n++;
  b->len = at + NLMSG_ALIGN(h->nlmsg_len);
  return NLMSG_DATA(h);
}

static struct rtattr *attr_put(struct batch *b, uint16_t type, const void *data, size_t len) {
  if (b->overflow || b->n == 0 || len > UINT16_MAX - RTA_LENGTH(0) || b->len + RTA_SPACE(len) > sizeof b->buf) {
    b->overflow = 1;
    return (struct rtattr *)spill;
  }
  struct nlmsghdr *h = msg_at(b, b->n - 1);
  struct rtattr *a = (struct rtattr *)(b->buf + b->len);
  a->rta_type = type;
  a->rta_len = (uint16_t)RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  b->len += RTA_ALIGN(a->rta_len);
  h->nlmsg_len = (uint32_t)(b->len - b->offsets[b->n - 1]);
  return a;
}

static void attr_u32(struct batch *b, uint16_t type, uint32_t v) { attr_put(b, type, &v, sizeof v); }
static void attr_str(struct batch *b, uint16_t type, const char *s) { attr_put(b, type, s, strlen(s) + 1); }
static struct rtattr *nest_begin(struct batch *b, uint16_t type) { return attr_put(b, type, NULL, 0); }
static void nest_end(struct batch *b, struct rtattr *a) {
  if (!b->overflow) a->rta_len = (uint16_t)(b->buf + b->len - (char *)a);
}

/* Appends bytes that are no attribute (a nested message's header) to the last message. */
static void raw_put(struct batch *b, const void *data, size_t len) {
  if (b->overflow || b->len + NLMSG_ALIGN(len) > sizeof b->buf) {
    b->overflow = 1;
    return;
  }
  memcpy(b->buf + b->len, data, len);
  b->len += NLMSG_ALIGN(len);
}

static int nl_socket(struct failure *f) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return fail(f, errno, "netlink socket: %s", strerror(errno));
  int one = 1;
  /* Errors say why (the kernel's extended ack), without echoing the whole request back. */
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  return fd;
}

/* The kernel's extended-ack text of an error answer, or "". */
static const char *ext_ack_text(const struct nlmsghdr *h) {
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return "";
  const struct nlmsgerr *e = NLMSG_DATA(h);
  const char *p = (const char *)e + sizeof *e, *end = (const char *)h + h->nlmsg_len;
  while (p + sizeof(struct nlattr) <= end) {
    const struct nlattr *a = (const struct nlattr *)p;
    if (a->nla_len < sizeof *a || p + a->nla_len > end) break;
    if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) return (const char *)a + NLA_HDRLEN;
    p += NLA_ALIGN(a->nla_len);
  }
  return "";
}

/* Sends the batch in one write and reads one ack per message; the first failed message names the error
 * (the kernel runs the messages after it too: each of them is a consequence of the earlier ones). */
static int batch_send(int fd, struct batch *b, const char *where, struct failure *f) {
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (b->overflow) return fail(f, EMSGSIZE, "%s: the request does not fit in one netlink batch of %zu bytes and %d messages", where, sizeof b->buf, MAX_MSGS);
  ssize_t sent;
  do sent = sendto(fd, b->buf, b->len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) return fail(f, errno, "%s: netlink send: %s", where, strerror(errno));
  int acked = 0, first = -1, first_err = 0;
  char first_text[256] = "";
  _Alignas(struct nlmsghdr) char in[8192];
  while (acked < b->n) {
    ssize_t got = recv(fd, in, sizeof in, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return fail(f, got < 0 ? errno : EPIPE, "%s: netlink receive: %s", where, got < 0 ? strerror(errno) : "closed");
    for (struct nlmsghdr *h = (struct nlmsghdr *)in; NLMSG_OK(h, (unsigned)got); h = NLMSG_NEXT(h, got)) {
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      const struct nlmsgerr *e = NLMSG_DATA(h);
      uint32_t i = h->nlmsg_seq - b->seq0;
      if (h->nlmsg_seq < b->seq0 || i >= (uint32_t)b->n) continue;
      acked++;
      if (e->error != 0 && (first < 0 || (int)i < first)) {
        first = (int)i;
        first_err = -e->error;
        snprintf(first_text, sizeof first_text, "%s", ext_ack_text(h));
      }
    }
  }
  if (first < 0) return 0;
  return fail(f, first_err, "%s: %s: %s%s%s", where, b->what[first], strerror(first_err), first_text[0] ? ": " : "", first_text);
}

static int parse_mac(const char *s, unsigned char mac[6]) {
  return sscanf(s, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -1;
}

struct attach_req {
  const char *netns, *veth, *bridge, *ifname, *alias;
  uint32_t mtu;
  unsigned char mac[6];
  struct in_addr ip, gateway;
  unsigned prefix;
  int has_gateway;
};

static int parse_attach(char **w, int n, struct attach_req *r, struct failure *f) {
  if (n != 10) return fail(f, EINVAL, "attach: want 9 fields, got %d", n - 1);
  r->netns = w[1];
  r->veth = w[2];
  r->bridge = w[3];
  r->mtu = (uint32_t)strtoul(w[4], NULL, 10);
  r->ifname = w[5];
  r->alias = w[9];
  if (strlen(r->veth) >= IFNAMSIZ || strlen(r->ifname) >= IFNAMSIZ) return fail(f, EINVAL, "attach: interface name too long");
  if (parse_mac(w[6], r->mac) < 0) return fail(f, EINVAL, "attach: bad mac %s", w[6]);
  char *slash = strchr(w[7], '/');
  if (!slash) return fail(f, EINVAL, "attach: want <ip>/<prefix>, got %s", w[7]);
  *slash = '\0';
  r->prefix = (unsigned)strtoul(slash + 1, NULL, 10);
  if (inet_pton(AF_INET, w[7], &r->ip) != 1 || r->prefix > 32) return fail(f, EINVAL, "attach: bad address %s/%s", w[7], slash + 1);
  r->has_gateway = strcmp(w[8], "-") != 0;
  if (r->has_gateway && inet_pton(AF_INET, w[8], &r->gateway) != 1) return fail(f, EINVAL, "attach: bad gateway %s", w[8]);
  return 0;
}

/* The container's side: a socket in its namespace and its interfaces' indexes, read there. */
static int enter_target(int host_ns, int target_ns, const char *ifname, int *sock, int *ifindex, int *lo, struct failure *f) {
  if (setns(target_ns, CLONE_NEWNET) < 0) return fail(f, errno, "setns into the container's namespace: %s", strerror(errno));
  int r = 0;
  if ((*sock = nl_socket(f)) < 0) r = -1;
  else if ((*ifindex = (int)if_nametoindex(ifname)) == 0) r = fail(f, errno, "%s not found in the container's namespace", ifname);
  else if ((*lo = (int)if_nametoindex("lo")) == 0) r = fail(f, errno, "lo not found in the container's namespace");
  if (setns(host_ns, CLONE_NEWNET) < 0) {
    /* A session left in a container's namespace would make the next pairs there: end it. */
    fprintf(stderr, "mini-docker-netlink: setns back to the daemon's namespace: %s\n", strerror(errno));
    exit(1);
  }
  return r;
}

/* The first batch of an attach, in the session's namespace: the pair (its peer made inside the
 * container's namespace, by fd), its host end on the bridge and up, then the host end's alias. */
static void pair_batch(struct batch *b, const struct attach_req *r, unsigned bridge, int target_ns) {
  batch_begin(b);
  struct ifinfomsg *link = msg_begin(b, "make the veth pair", RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof *link);
  link->ifi_family = AF_UNSPEC;
  link->ifi_flags = IFF_UP;
  link->ifi_change = IFF_UP;
  attr_str(b, IFLA_IFNAME, r->veth);
  attr_u32(b, IFLA_MTU, r->mtu);
  attr_u32(b, IFLA_MASTER, bridge);
  struct rtattr *info = nest_begin(b, IFLA_LINKINFO);
  attr_str(b, IFLA_INFO_KIND, "veth");
  struct rtattr *data = nest_begin(b, IFLA_INFO_DATA);
  struct rtattr *peer = nest_begin(b, VETH_INFO_PEER);
  struct ifinfomsg peer_link = {.ifi_family = AF_UNSPEC};
  raw_put(b, &peer_link, sizeof peer_link);
  attr_str(b, IFLA_IFNAME, r->ifname);
  attr_u32(b, IFLA_MTU, r->mtu);
  attr_put(b, IFLA_ADDRESS, r->mac, sizeof r->mac);
  attr_u32(b, IFLA_NET_NS_FD, (uint32_t)target_ns);
  nest_end(b, peer);
  nest_end(b, data);
  nest_end(b, info);
  if (!b->overflow) msg_at(b, 0)->nlmsg_len = (uint32_t)(b->len - b->offsets[0]);
  struct ifinfomsg *named = msg_begin(b, "set the host end's alias", RTM_NEWLINK, 0, sizeof *named);
  named->ifi_family = AF_UNSPEC;
  attr_str(b, IFLA_IFNAME, r->veth);
  attr_str(b, IFLA_IFALIAS, r->alias);
}

/* The alias of the link named `name` in the session's namespace, into `out` ("" when it has none).
 * Returns 1 when found, 0 when there is no such link, -1 on another error (f says why). */
static int link_alias(int sock, const char *name, char *out, size_t size, struct failure *f) {
  struct batch b;
  batch_begin(&b);
  struct ifinfomsg *get = msg_begin(&b, "read the link", RTM_GETLINK, 0, sizeof *get);
  get->ifi_family = AF_UNSPEC;
  attr_str(&b, IFLA_IFNAME, name);
  /* A get is answered by the link (RTM_NEWLINK) and, asked with NLM_F_ACK, an ack. */
  if (b.overflow) return fail(f, EMSGSIZE, "%s: request too large", name);
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t sent;
  do sent = sendto(sock, b.buf, b.len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) return fail(f, errno, "%s: netlink send: %s", name, strerror(errno));
  out[0] = '\0';
  int found = 0;
  _Alignas(struct nlmsghdr) char in[8192];
  for (;;) {
    ssize_t got = recv(sock, in, sizeof in, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return fail(f, got < 0 ? errno : EPIPE, "%s: netlink receive: %s", name, got < 0 ? strerror(errno) : "closed");
    for (struct nlmsghdr *h = (struct nlmsghdr *)in; NLMSG_OK(h, (unsigned)got); h = NLMSG_NEXT(h, got)) {
      if (h->nlmsg_seq != b.seq0) continue;
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        if (e->error == 0) return found;
        if (e->error == -ENODEV) return 0;
        return fail(f, -e->error, "%s: read the link: %s", name, strerror(-e->error));
      }
      if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg))) continue;
      found = 1;
      struct ifinfomsg *info = NLMSG_DATA(h);
      int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *info));
      for (struct rtattr *a = IFLA_RTA(info); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type != IFLA_IFALIAS) continue;
        size_t n = RTA_PAYLOAD(a);
        if (n >= size) n = size - 1;
        memcpy(out, RTA_DATA(a), n);
        out[n] = '\0';
      }
    }
  }
}

/* A host end named `veth` exists already (the pair is about to be made). When it is the same
 * container's (its alias is the one this attach writes: a pair of the container's earlier run,
 * whose namespace died and whose deletion the kernel or the detach session has not finished), it
 * is deleted here and 0 returned, so the attach makes the pair again. Anything else (another
 * container's device of the same name, a device that is not ours) is left alone: -1 with EEXIST.
 * Checked before the pair's batch, whose second message would otherwise write our alias on it. */
static int take_back_stale(int sock, const char *veth, const char *alias, struct failure *f) {
  char found[256];
  int r = link_alias(sock, veth, found, sizeof found, f);
  if (r <= 0) return r; /* gone meanwhile (0), or the read failed */
  if (strcmp(found, alias) != 0) return fail(f, EEXIST, "%s: a device of that name exists and is not this container's (alias \"%s\")", veth, found);
  struct batch b;
  batch_begin(&b);
  struct ifinfomsg *link = msg_begin(&b, "delete the container's earlier pair", RTM_DELLINK, 0, sizeof *link);
  link->ifi_family = AF_UNSPEC;
  attr_str(&b, IFLA_IFNAME, veth);
  if (batch_send(sock, &b, veth, f) == 0) return 0;
  return f->err == ENODEV ? 0 : -1;
}

/* The parent pid in /proc/<pid>/status, or -1. */
static pid_t parent_of(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  const char *p = strstr(buf, "\nPPid:");
  return p ? (pid_t)strtol(p + 7, NULL, 10) : -1;
}

/* The network namespace of the process `pid`, which must be `parent`'s child (a container's init,
 * the child of its shim), as an fd. Named by a pidfd taken first: the parent read after it is the
 * pidfd's process's when that process still runs after the read (a pid is not reused while its
 * process runs), and the namespace is entered through the pidfd itself (setns, Linux 5.8), so a pid
 * reused by another process (the host's, after the container's init died and before its exit was
 * recorded) is refused instead of wired. */
static int netns_of_process(int host_ns, pid_t pid, pid_t parent, struct failure *f) {
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0 && errno == ENOSYS) return fail(f, ENOSYS, "pidfd_open %d: %s (the kernel is too old: Linux 5.8 or later is needed)", (int)pid, strerror(errno));
  if (pidfd < 0) return fail(f, errno, "pidfd_open %d: %s (the container's process is gone)", (int)pid, strerror(errno));
  pid_t found = parent_of(pid);
  if (found != parent) {
    close(pidfd);
    return fail(f, ESRCH, "process %d is not the container's: its parent is %d, not the container's shim %d", (int)pid, (int)found, (int)parent);
  }
  if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
    int err = errno;
    close(pidfd);
    return fail(f, err, "process %d: %s (the container's process is gone)", (int)pid, strerror(err));
  }
  if (setns(pidfd, CLONE_NEWNET) < 0) {
    int err = errno;
    close(pidfd);
    /* Before Linux 5.8 setns takes no pidfd: EINVAL */
    const char *why = err == EINVAL ? " (the kernel is too old: Linux 5.8 or later is needed)" : "";
    return fail(f, err, "setns into the network namespace of process %d: %s%s", (int)pid, strerror(err), why);
  }
  close(pidfd);
  int ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int err = errno;
  if (setns(host_ns, CLONE_NEWNET) < 0) {
    /* A session left in a container's namespace would make the next pairs there: end it. */
    fprintf(stderr, "mini-docker-netlink: setns back to the daemon's namespace: %s\n", strerror(errno));
    exit(1);
  }
  if (ns < 0) return fail(f, err, "open the network namespace of process %d: %s", (int)pid, strerror(err));
  return ns;
}

/* The attach's namespace word: a path, or "pid:<pid>:<parent>" (netns_of_process). */
static int open_target(int host_ns, const char *word, struct failure *f) {
  int pid = 0, parent = 0, end = 0;
  if (strncmp(word, "pid:", 4) == 0) {
    if (sscanf(word, "pid:%d:%d%n", &pid, &parent, &end) != 2 || word[end] != '\0' || pid <= 0 || parent <= 0)
      return fail(f, EINVAL, "attach: bad namespace %s (want a path or pid:<pid>:<parent>)", word);
    return netns_of_process(host_ns, (pid_t)pid, (pid_t)parent, f);
  }
  int fd = open(word, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(f, errno, "open %s: %s", word, strerror(errno));
  return fd;
}

/* The namespaces held, by host end: one per pair this session made and nobody released yet. */
struct hold {
  char veth[IFNAMSIZ];
  char alias[256];
  int fd;
};
static struct hold *holds;
static size_t n_holds, cap_holds;

/* Lets go of the namespace held under `veth`, if any and, given an alias, if its attach had that
 * alias (its last holder gone, the kernel tears it down). */
static void release_hold(const char *veth, const char *alias) {
  for (size_t i = 0; i < n_holds; i++) {
    if (strcmp(holds[i].veth, veth) != 0) continue;
    if (alias && strcmp(holds[i].alias, alias) != 0) return;
    close(holds[i].fd);
    holds[i] = holds[--n_holds];
    return;
  }
}

/* Keeps `fd` (the container's namespace) under `veth`, letting go of one held there before. When
 * the table cannot grow the fd is closed: the namespace then dies with its last process, as
 * without a hold. */
static void keep_hold(const char *veth, const char *alias, int fd) {
  release_hold(veth, NULL);
  if (n_holds == cap_holds) {
    size_t cap = cap_holds ? cap_holds * 2 : 16;
    struct hold *grown = realloc(holds, cap * sizeof *grown);
    if (!grown) {
      close(fd);
      return;
    }
    holds = grown;
    cap_holds = cap;
  }
  snprintf(holds[n_holds].veth, sizeof holds[n_holds].veth, "%s", veth);
  snprintf(holds[n_holds].alias, sizeof holds[n_holds].alias, "%s", alias);
  holds[n_holds++].fd = fd;
}

static int attach(int host_sock, int host_ns, char **w, int n, struct failure *f) {
  struct attach_req r;
  if (parse_attach(w, n, &r, f) < 0) return -1;
  /* The bridge by name, in the session's (the daemon's) namespace: a bridge made again has a new index. */
  unsigned bridge = if_nametoindex(r.bridge);
  if (bridge == 0) return fail(f, errno, "bridge %s: %s (the network's bridge is missing: ensureNetwork first)", r.bridge, strerror(errno));
  int target_ns = open_target(host_ns, r.netns, f);
  if (target_ns < 0) return -1;
  struct batch b;
  /* The same container's pair of an earlier run may still be there (an exit does not wait for its deletion). */
  int rc = if_nametoindex(r.veth) != 0 ? take_back_stale(host_sock, r.veth, r.alias, f) : 0;
  if (rc == 0) {
    pair_batch(&b, &r, bridge, target_ns);
    rc = batch_send(host_sock, &b, r.veth, f);
  }

  int sock = -1, ifindex = 0, lo = 0;
  if (rc == 0) rc = enter_target(host_ns, target_ns, r.ifname, &sock, &ifindex, &lo, f);
  if (rc < 0) {
    close(target_ns);
    if (sock >= 0) close(sock);
    return -1;
  }
  /* The pair exists from here: its namespace is held until release (a failure below is undone by
   * the driver's detach, which releases it). */
  keep_hold(r.veth, r.alias, target_ns);
  batch_begin(&b);
  struct ifinfomsg *up = msg_begin(&b, "set it up", RTM_NEWLINK, 0, sizeof *up);
  *up = (struct ifinfomsg){.ifi_family = AF_UNSPEC, .ifi_index = ifindex, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  struct ifinfomsg *lo_up = msg_begin(&b, "set lo up", RTM_NEWLINK, 0, sizeof *lo_up);
  *lo_up = (struct ifinfomsg){.ifi_family = AF_UNSPEC, .ifi_index = lo, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  struct ifaddrmsg *addr = msg_begin(&b, "add the address", RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof *addr);
  *addr = (struct ifaddrmsg){.ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)r.prefix, .ifa_scope = RT_SCOPE_UNIVERSE, .ifa_index = (unsigned)ifindex};
  attr_put(&b, IFA_LOCAL, &r.ip, sizeof r.ip);
  attr_put(&b, IFA_ADDRESS, &r.ip, sizeof r.ip);
  if (r.has_gateway) {
    struct rtmsg *route = msg_begin(&b, "add the default route", RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, sizeof *route);
    *route = (struct rtmsg){.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT, .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST};
    attr_put(&b, RTA_GATEWAY, &r.gateway, sizeof r.gateway);
    attr_u32(&b, RTA_OIF, (uint32_t)ifindex);
  }
  rc = batch_send(sock, &b, r.ifname, f);
  close(sock);
  return rc;
}

static int detach(int host_sock, char **w, int n, struct failure *f) {
  if ((n != 2 && n != 3) || strlen(w[1]) >= IFNAMSIZ) return fail(f, EINVAL, "detach: want <host veth> [<alias>]");
  if (n == 3) {
    char found[256];
    int r = link_alias(host_sock, w[1], found, sizeof found, f);
    if (r < 0) return -1;
    if (r == 0) return 0; /* gone already */
    if (found[0] != '\0' && strcmp(found, w[2]) != 0) return 0; /* another container's: left alone */
  }
  struct batch b;
  batch_begin(&b);
  struct ifinfomsg *link = msg_begin(&b, "delete the veth pair", RTM_DELLINK, 0, sizeof *link);
  link->ifi_family = AF_UNSPEC;
  attr_str(&b, IFLA_IFNAME, w[1]);
  if (batch_send(host_sock, &b, w[1], f) == 0) return 0;
  return f->err == ENODEV ? 0 : -1; /* gone already: its namespace died and took the pair along */
}

static int release(char **w, int n, struct failure *f) {
  if ((n != 2 && n != 3) || strlen(w[1]) >= IFNAMSIZ) return fail(f, EINVAL, "release: want <host veth> [<alias>]");
  release_hold(w[1], n == 3 ? w[2] : NULL);
  return 0;
}

int main(void) {
  struct failure f = {0};
  /* One fd per running container's namespace: as many as the hard limit allows. */
  struct rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  int host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int host_sock = nl_socket(&f);
  if (host_ns < 0 || host_sock < 0) {
    fprintf(stderr, "mini-docker-netlink: %s\n", host_ns < 0 ? strerror(errno) : f.msg);
    return 1;
  }
  char line[MAX_LINE];
  while (fgets(line, sizeof line, stdin)) {
    /* A line longer than the buffer is read to its newline and answered once, never taken as two requests. */
    int overlong = 0;
    if (strchr(line, '\n') == NULL && !feof(stdin)) {
      int c = getchar(); /* a newline right after MAX_LINE - 1 bytes ends a line that fits */
      if (c != '\n' && c != EOF) {
        overlong = 1;
        while ((c = getchar()) != EOF && c != '\n') {
        }
      }
    }
    char *w[12];
    int n = 0;
    if (!overlong)
      for (char *save = NULL, *t = strtok_r(line, " \n", &save); t && n < 12; t = strtok_r(NULL, " \n", &save)) w[n++] = t;
    f = (struct failure){0};
    int rc = overlong ? fail(&f, EMSGSIZE, "request longer than %d bytes", MAX_LINE - 1)
             : n == 0 ? fail(&f, EINVAL, "empty request")
             : strcmp(w[0], "attach") == 0 ? attach(host_sock, host_ns, w, n, &f)
             : strcmp(w[0], "detach") == 0 ? detach(host_sock, w, n, &f)
             : strcmp(w[0], "release") == 0 ? release(w, n, &f)
                                          : fail(&f, EINVAL, "unknown request %s", w[0]);
    if (rc == 0) fputs("ok\n", stdout);
    else {
      for (char *p = f.msg; *p; p++)
        if (*p == '\n') *p = ' ';
      printf("error %d %s\n", f.err, f.msg);
    }
    fflush(stdout);
  }
  return 0;
}
