/* seglog ship's producer (ship_internal.h): librdkafka configured for
 * idempotence, its events (delivery reports, errors, logs) served from the
 * main queue, and produce with the key and headers of docs/shipping.md.
 * What a report means for the cursor is shipq's business; what a failure
 * means for the state machine is ship.c's (ship_recover, ship_stop). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "ship_internal.h"

/* --- the producer ------------------------------------------------------- */

static int
ship_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value)
{
	char errstr[512];

	if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
		return log_error_errno(-EINVAL, "librdkafka property %s=%s: %s", key, value, errstr);
	return 0;
}

/* One -X KEY=VALUE, warning when it gives up a guarantee. */
static int
ship_conf_user(rd_kafka_conf_t *conf, const char *prop)
{
	_cleanup_free_ char *kv = strdup(prop);
	char *eq = kv ? strchr(kv, '=') : NULL;

	if (!eq)
		return log_error_errno(-EINVAL, "librdkafka property '%s': expected KEY=VALUE", prop);
	*eq = '\0';
	if ((strcmp(kv, "enable.idempotence") == 0 && strcmp(eq + 1, "true") != 0) ||
	    (strcmp(kv, "acks") == 0 && strcmp(eq + 1, "all") != 0 && strcmp(eq + 1, "-1") != 0))
		log_warning("-X %s=%s: the shipper's guarantees (no loss, no duplicate a consumer "
			    "cannot remove) need enable.idempotence=true and acks=all "
			    "(docs/shipping.md)", kv, eq + 1);
	return ship_conf_set(conf, kv, eq + 1);
}

/* The producer's configuration: idempotent, acks=all, zstd, then the
 * user's -X properties; NULL (logged) if librdkafka refuses one. */
static rd_kafka_conf_t *
ship_conf_new(const struct ship_config *cfg)
{
	static const char *const fixed[][2] = {
		{ "enable.idempotence", "true" },
		{ "acks", "all" },
		/* never give up on a record in librdkafka's queue: a timed-out
		 * record would be resent after younger ones were delivered */
		{ "message.timeout.ms", "0" },
		{ "log.queue", "true" },
		/* a byte bound too (librdkafka's default is 1 GiB): 64 MiB of
		 * records in flight keeps a backlog of large records well
		 * inside the unit's MemoryHigh=384M */
		{ "queue.buffering.max.kbytes", "65536" },
		{ "client.id", "seglog-ship" },
	};
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	int r = 0;

	for (size_t i = 0; i < ELEMENTSOF(fixed) && r == 0; i++)
		r = ship_conf_set(conf, fixed[i][0], fixed[i][1]);
	if (r == 0)
		r = ship_conf_set(conf, "bootstrap.servers", cfg->brokers);
	if (r == 0)
		r = ship_conf_set(conf, "compression.type", cfg->compression ? cfg->compression : "zstd");
	for (size_t i = 0; i < cfg->n_props && r == 0; i++)
		r = ship_conf_user(conf, cfg->props[i]);
	if (r < 0) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_events(conf, RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR | RD_KAFKA_EVENT_LOG);
	return conf;
}

/* Builds the producer (ship_conf_new); delivery reports, errors and logs
 * arrive as events on the main queue, whose io-event fd (a pipe) wakes the
 * loop (rd_kafka_queue_io_event_enable: one byte when the queue turns
 * non-empty). */
int
ship_producer_new(struct ship *s)
{
	rd_kafka_conf_t *conf = ship_conf_new(s->cfg);
	char errstr[512];

	if (!conf)
		return -EINVAL;
	s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!s->rk) {
		rd_kafka_conf_destroy(conf);
		return log_error_errno(-EINVAL, "Cannot create the Kafka producer: %s", errstr);
	}
	s->mainq = rd_kafka_queue_get_main(s->rk);
	rd_kafka_set_log_queue(s->rk, s->mainq);
	rd_kafka_queue_io_event_enable(s->mainq, s->pipe_wr, "k", 1);
	/* the fd is written only when the queue turns non-empty: events
	 * queued before the line above would never wake us, so look now */
	event_active(s->kafka_ev, EV_READ, 0);
	s->rkt = rd_kafka_topic_new(s->rk, s->cfg->topic, NULL);
	if (!s->rkt)
		return log_error_errno(-EINVAL, "Kafka topic %s: %s", s->cfg->topic,
				       rd_kafka_err2str(rd_kafka_last_error()));
	return 0;
}

static void ship_handle_event(struct ship *s, rd_kafka_event_t *ev);

/* Serves every event queued now, without waiting. */
void
ship_drain_events(struct ship *s)
{
	rd_kafka_event_t *ev;

	while (s->mainq && (ev = rd_kafka_queue_poll(s->mainq, 0))) {
		ship_handle_event(s, ev);
		rd_kafka_event_destroy(ev);
	}
}

/* Purges what is queued and in flight (their reports say _PURGE_*),
 * serves the reports that were already there, and destroys the producer.
 * Confirmations served here still advance the cursor. */
void
ship_producer_free(struct ship *s)
{
	if (!s->rk)
		return;
	rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT |
				      RD_KAFKA_PURGE_F_NON_BLOCKING);
	ship_drain_events(s);
	rd_kafka_queue_io_event_enable(s->mainq, -1, NULL, 0);
	rd_kafka_topic_destroy(s->rkt);
	rd_kafka_queue_destroy(s->mainq);
	s->mainq = NULL;
	s->rkt = NULL;
	rd_kafka_destroy(s->rk);
	s->rk = NULL;
}

/* Errors the record itself causes: resending cannot help. */
static bool
ship_err_permanent(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
	case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_INVALID_RECORD:
	case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
	case RD_KAFKA_RESP_ERR__INVALID_ARG:
		return true;
	default:
		return false;
	}
}

/* One delivery report.  Permanent errors stop shipping (or, with the skip
 * policy, count as done); every other error poisons the ledger, and the
 * caller recovers once the batch is served. */
static void
ship_delivered(struct ship *s, const rd_kafka_message_t *m)
{
	uintptr_t token = (uintptr_t)m->_private;
	char why[256];

	if (m->err && ship_err_permanent(m->err) && s->state != SHIP_RETRYING) {
		uint64_t seq = shipq_confirmed(s->q) + 1;
		if (s->cfg->on_error == SHIP_ON_ERROR_SKIP) {
			if (shipq_report(s->q, token, true) != SHIPQ_STALE) {
				s->st.skipped++;
				log_warning("Kafka refused a record (%s): skipped by policy",
					    rd_kafka_err2str(m->err));
			}
			return;
		}
		snprintf(why, sizeof(why), "Kafka refused the record after seq %" PRIu64 ": %s",
			 seq - 1, rd_kafka_err2str(m->err));
		(void)shipq_report(s->q, token, false);
		ship_stop(s, why);
		return;
	}
	if (shipq_report(s->q, token, m->err == 0) == SHIPQ_STALE)
		return;
	if (m->err) {
		if (!s->fail_why[0])
			snprintf(s->fail_why, sizeof(s->fail_why), "delivery failed: %s",
				 rd_kafka_err2str(m->err));
		return;
	}
	s->st.shipped++;
	s->st.shipped_bytes += m->len;
}

static void
ship_handle_event(struct ship *s, rd_kafka_event_t *ev)
{
	const rd_kafka_message_t *m;
	const char *fac, *str;
	int level;

	switch (rd_kafka_event_type(ev)) {
	case RD_KAFKA_EVENT_DR:
		while ((m = rd_kafka_event_message_next(ev)))
			ship_delivered(s, m);
		break;
	case RD_KAFKA_EVENT_ERROR:
		if (rd_kafka_event_error_is_fatal(ev)) {
			char errstr[160];
			rd_kafka_resp_err_t e = rd_kafka_fatal_error(s->rk, errstr, sizeof(errstr));
			snprintf(s->fail_why, sizeof(s->fail_why), "fatal producer error %s: %s",
				 rd_kafka_err2name(e), errstr);
			s->fatal = true; /* recovered from after this batch of events */
		} else {
			log_warning("Kafka: %s", rd_kafka_event_error_string(ev));
		}
		break;
	case RD_KAFKA_EVENT_LOG:
		if (rd_kafka_event_log(ev, &fac, &str, &level) == 0 && level <= LOG_NOTICE)
			log_internal(level < LOG_WARNING ? LOG_WARNING : level, 0, "Kafka %s: %s",
				     fac, str);
		break;
	default:
		break;
	}
}

/* Hands the pending record to librdkafka (which copies it).  Returns 0 when
 * accepted, -ENOBUFS when the producer's queue or the ledger is full (wait
 * for reports), -ECANCELED when shipping stopped or is recovering. */
int
ship_produce(struct ship *s)
{
	char seqbuf[24];
	uintptr_t token;
	rd_kafka_resp_err_t err;
	int n = (int)(record_put_u64(seqbuf, s->pending_seq) - seqbuf);

	if (shipq_push(s->q, s->pending_seq, s->pending_time_us, (uint32_t)s->buf_len, &token) < 0)
		return -ENOBUFS;
	err = rd_kafka_producev(s->rk, RD_KAFKA_V_RKT(s->rkt),
				RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				RD_KAFKA_V_VALUE(s->buf, s->buf_len),
				RD_KAFKA_V_KEY(s->cfg->host_id, s->host_len),
				RD_KAFKA_V_HEADER("host", s->cfg->host_id, (ssize_t)s->host_len),
				RD_KAFKA_V_HEADER("dir_id", s->dir_hex, 2 * RECORD_DIR_ID_LEN),
				RD_KAFKA_V_HEADER("seq", seqbuf, n),
				RD_KAFKA_V_TIMESTAMP((int64_t)(s->pending_time_us / 1000)),
				RD_KAFKA_V_OPAQUE((void *)token), RD_KAFKA_V_END);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		s->have_pending = false;
		return 0;
	}
	(void)shipq_cancel_last(s->q, token);
	if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
		return -ENOBUFS;
	if (ship_err_permanent(err)) {
		char why[256];
		if (s->cfg->on_error == SHIP_ON_ERROR_SKIP) {
			log_warning("Kafka refused seq %" PRIu64 " (%s): skipped by policy",
				    s->pending_seq, rd_kafka_err2str(err));
			s->st.skipped++;
			/* a ledger entry confirmed at once, so the cursor passes it */
			if (shipq_push(s->q, s->pending_seq, s->pending_time_us, 0, &token) == 0)
				(void)shipq_report(s->q, token, true);
			s->have_pending = false;
			return 0;
		}
		snprintf(why, sizeof(why), "Kafka refuses seq %" PRIu64 ": %s", s->pending_seq,
			 rd_kafka_err2str(err));
		ship_stop(s, why);
		return -ECANCELED;
	}
	snprintf(s->fail_why, sizeof(s->fail_why), "produce failed: %s", rd_kafka_err2str(err));
	ship_recover(s, s->fail_why);
	return -ECANCELED;
}
