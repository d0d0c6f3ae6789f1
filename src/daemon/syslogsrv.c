/* The syslog datagram socket: RFC 3164 / RFC 5424 messages as logger(1),
 * syslog(3) and language handlers send them, with the sender's
 * credentials from SCM_CREDENTIALS (unix(7)); what a message claims about
 * its pid is kept as a claim only. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "now.h"
#include "server.h"
#include "syslogmsg.h"

/* An RFC 3164 timestamp is the sender's local time, and senders on this
 * host share our time zone: its UTC offset, looked up once a minute rather
 * than per message (it changes only with DST or a new zone file). */
static int32_t
syslogsrv_utc_offset(uint64_t now_us)
{
	static uint64_t minute = UINT64_MAX;
	static int32_t offset;
	time_t now_s = (time_t)(now_us / 1000000);
	struct tm tm;

	if (now_us / 60000000 != minute) {
		minute = now_us / 60000000;
		offset = localtime_r(&now_s, &tm) ? (int32_t)tm.tm_gmtoff : 0;
	}
	return offset;
}

/* n cut to at most max bytes, not inside a UTF-8 sequence (a cut name
 * stays text, in -o json a string). */
static size_t
syslogsrv_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

void
syslogsrv_append(struct server *srv, const char *buf, size_t len, const struct ucred *cred,
		 uint64_t now_us, uint64_t mono_us)
{
	struct syslog_msg m;
	struct record r;
	int k;

	if (!ratelimit_allow(srv->rl_syslog, cred->uid, mono_us))
		return; /* counted; reported as a "suppressed" record */
	syslog_parse_local(buf, len, now_us, syslogsrv_utc_offset(now_us), &m);
	if (m.tag_len > RECORD_TAG_MAX)
		m.tag_len = RECORD_TAG_MAX;
	m.hostname_len = syslogsrv_cut(m.hostname, m.hostname_len, RECORD_HOST_MAX);
	m.msgid_len = syslogsrv_cut(m.msgid, m.msgid_len, RECORD_MSGID_MAX);
	if (m.msg_len + m.sd_len > srv->cfg->max_record) {
		srv->st.dropped_oversize++;
		srv->st.oversize_total++;
		return;
	}
	r = (struct record){
		.time_us = now_us,
		.pid = cred->pid,
		.uid = cred->uid,
		.gid = cred->gid,
		.facility = m.facility,
		.severity = m.severity,
		.tag = m.tag,
		.tag_len = m.tag_len,
		.msg = m.msg,
		.msg_len = m.msg_len,
		.claimed_pid = m.claimed_pid,
		.claimed_time_us = m.claimed_time_us,
		.hostname = m.hostname,
		.hostname_len = m.hostname_len,
		.msgid = m.msgid,
		.msgid_len = m.msgid_len,
		.sd = m.sd,
		.sd_len = m.sd_len,
	};
	k = engine_append(srv->engine, &r);
	if (k == 0) {
		srv->st.syslog_received++;
	} else if (k == -EMSGSIZE) {
		srv->st.dropped_oversize++;
		srv->st.oversize_total++;
	} else {
		srv->st.dropped_other++; /* out of memory or memory_limit (status) */
	}
}

/* The sender's credentials (SCM_CREDENTIALS; none: uid/gid -1), closing
 * any descriptors a sender passed (SCM_RIGHTS: not ours to keep). */
static struct ucred
syslogsrv_cred(struct msghdr *mh)
{
	struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
			memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
		else if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int *fds = (int *)CMSG_DATA(cm);
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t j = 0; j < k; j++)
				safe_close(fds[j]);
		}
	return cred;
}

/* The recvmmsg(2) vector of the syslog datagram socket, built once: per
 * slot a buffer of cap bytes (and one spare), its iovec and its control
 * buffer.  The kernel writes msg_len, msg_flags and msg_controllen back
 * (recvmsg(2)); only msg_controllen is reset before each call. */
struct syslogsrv_dgrams {
	size_t cap;
	struct mmsghdr mm[SERVER_DGRAM_BATCH];
	struct iovec iov[SERVER_DGRAM_BATCH];
	union syslogsrv_control {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(16 * sizeof(int))];
	} control[SERVER_DGRAM_BATCH];
	uint8_t buf[]; /* SERVER_DGRAM_BATCH x (cap + 1) */
};

/* The buffers are one allocation above the mmap threshold: pages a
 * datagram does not reach are never touched, so small datagrams cost a
 * page per slot. */
struct syslogsrv_dgrams *
syslogsrv_dgrams_new(size_t cap)
{
	struct syslogsrv_dgrams *d = malloc(sizeof(*d) + SERVER_DGRAM_BATCH * (cap + 1));

	if (!d)
		return NULL;
	d->cap = cap;
	for (int i = 0; i < SERVER_DGRAM_BATCH; i++) {
		d->iov[i] = (struct iovec){ d->buf + (size_t)i * (cap + 1), cap };
		d->mm[i].msg_hdr = (struct msghdr){
			.msg_iov = &d->iov[i], .msg_iovlen = 1,
			.msg_control = &d->control[i], .msg_controllen = sizeof(d->control[i]),
		};
	}
	return d;
}

struct syslogsrv_dgrams *
syslogsrv_dgrams_free(struct syslogsrv_dgrams *d)
{
	free(d);
	return NULL;
}

/* Reads up to SYSLOGSRV_WAKEUP_MAX datagrams per wake-up (fairness with
 * the stream clients), SERVER_DGRAM_BATCH per recvmmsg(2), stopping while
 * the engine is full: the kernel queue then fills and senders block, which
 * is the backpressure syslog(3) knows.  (A batch received is taken whole:
 * at most SERVER_DGRAM_BATCH - 1 datagrams past the engine's pause.) */
void
syslogsrv_readcb(int fd, short what, void *arg)
{
	enum { SYSLOGSRV_WAKEUP_MAX = 256 };
	struct server *srv = arg;
	struct syslogsrv_dgrams *d = srv->dgrams;
	uint64_t now = now_us(CLOCK_REALTIME), mono = now_us(CLOCK_MONOTONIC);

	for (int got = 0; got < SYSLOGSRV_WAKEUP_MAX;) {
		int n;

		if (!engine_can_accept(srv->engine))
			return; /* the engine has asked us to pause; it resumes us */
		for (int i = 0; i < SERVER_DGRAM_BATCH; i++)
			d->mm[i].msg_hdr.msg_controllen = sizeof(d->control[i]);
		n = recvmmsg(fd, d->mm, SERVER_DGRAM_BATCH, MSG_DONTWAIT | MSG_CMSG_CLOEXEC, NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warning_errno(errno, "recvmmsg on the syslog socket: %m");
			return;
		}
		for (int i = 0; i < n; i++) {
			struct ucred cred = syslogsrv_cred(&d->mm[i].msg_hdr);
			srv->st.dgrams++;
			if (d->mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
				srv->st.dropped_oversize++;
				srv->st.oversize_total++;
				continue;
			}
			syslogsrv_append(srv, (const char *)d->iov[i].iov_base, d->mm[i].msg_len,
					 &cred, now, mono);
		}
		if (n < SERVER_DGRAM_BATCH)
			return; /* the queue is empty */
		got += n;
	}
}

/* Once a second: writes "suppressed N messages from uid U" records for
 * the syslog rate-limit windows that ended, and a count of oversized
 * syslog messages.  Native records over the limit were refused to their
 * client, one by one: their windows are only reset here. */
void
syslogsrv_reportcb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct ratelimit_report rep[32];
	uint64_t now = now_us(CLOCK_REALTIME), mono = now_us(CLOCK_MONOTONIC);
	size_t n;
	char msg[160];

	while (ratelimit_expired(srv->rl_native, mono, rep, ELEMENTSOF(rep)) == ELEMENTSOF(rep))
		;
	if (!srv->engine || srv->paused)
		return;
	n = ratelimit_expired(srv->rl_syslog, mono, rep, ELEMENTSOF(rep));
	for (size_t i = 0; i <= n; i++) {
		int len;
		if (i < n)
			len = snprintf(msg, sizeof(msg), "suppressed %llu messages from uid %u "
				       "(rate_limit_burst %u per %llu ms)",
				       (unsigned long long)rep[i].suppressed, rep[i].uid,
				       srv->cfg->rate_limit_burst,
				       (unsigned long long)srv->cfg->rate_limit_interval_us / 1000);
		else if (srv->st.dropped_oversize)
			len = snprintf(msg, sizeof(msg), "dropped %llu syslog messages larger than "
				       "max_record (%u bytes)",
				       (unsigned long long)srv->st.dropped_oversize,
				       srv->cfg->max_record);
		else
			break;
		struct record r = {
			.time_us = now, .pid = getpid(), .uid = getuid(), .gid = getgid(),
			.facility = 5, .severity = 4, .tag = "seglogd", .tag_len = 7,
			.msg = msg, .msg_len = (size_t)len, .claimed_pid = RECORD_NO_CLAIMED_PID,
		};
		if (engine_append(srv->engine, &r) < 0)
			break; /* counts stay; reported next time */
		if (i == n)
			srv->st.dropped_oversize = 0;
	}
}
