/* A Kafka cluster for the shipping tests: librdkafka's mock cluster (a real
 * Kafka protocol peer, rdkafka_mock.h) with fault injection from stdin.
 *
 *   mockcluster [-b BROKERS] [-t TOPIC[:PARTITIONS]]...
 *
 * Prints its bootstrap list as the first line on stdout, then reads
 * commands, one a line, answering "ok" or "error: ..." on stdout:
 *
 *   down ID | up ID              a broker stops / resumes answering
 *   rtt ID MS                    a broker's round-trip time
 *   err API NAME|CODE [COUNT]    the next COUNT (1) requests of API (produce,
 *                                metadata, initproducerid or a number) fail
 *                                with that error, e.g.
 *                                "err produce OUT_OF_ORDER_SEQUENCE_NUMBER"
 *   clear API                    drops errors still stacked for API
 *   topic NAME PARTITIONS        creates a topic
 *
 * Runs until SIGTERM or SIGINT (end of stdin just stops the commands). */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static int
mock_api(const char *s)
{
	static const struct {
		const char *name;
		int key;
	} apis[] = {
		{ "produce", 0 }, { "fetch", 1 }, { "metadata", 3 }, { "initproducerid", 22 },
	};
	char *end;
	long v;

	for (size_t i = 0; i < sizeof(apis) / sizeof(apis[0]); i++)
		if (strcasecmp(s, apis[i].name) == 0)
			return apis[i].key;
	v = strtol(s, &end, 10);
	return *s && !*end && v >= 0 && v < 100 ? (int)v : -1;
}

/* An error code from its name (as rd_kafka_err2name prints it, with or
 * without a leading "_") or its number. */
static int
mock_err(const char *s, rd_kafka_resp_err_t *ret)
{
	const struct rd_kafka_err_desc *d;
	size_t n;
	char *end;
	long v = strtol(s, &end, 10);

	if (*s && !*end) {
		*ret = (rd_kafka_resp_err_t)v;
		return 0;
	}
	rd_kafka_get_err_descs(&d, &n);
	for (size_t i = 0; i < n; i++)
		if (d[i].name && strcasecmp(d[i].name, s) == 0) {
			*ret = d[i].code;
			return 0;
		}
	return -EINVAL;
}

static const char *
mock_command(rd_kafka_mock_cluster_t *mc, char *line)
{
	char *argv[4] = { NULL };
	int argc = 0;
	rd_kafka_resp_err_t err;
	int api;

	for (char *t = strtok(line, " \t\r\n"); t && argc < 4; t = strtok(NULL, " \t\r\n"))
		argv[argc++] = t;
	if (argc == 0)
		return NULL;
	if ((strcmp(argv[0], "down") == 0 || strcmp(argv[0], "up") == 0) && argc == 2) {
		int id = atoi(argv[1]);
		err = argv[0][0] == 'd' ? rd_kafka_mock_broker_set_down(mc, id)
					: rd_kafka_mock_broker_set_up(mc, id);
		return err ? rd_kafka_err2str(err) : "ok";
	}
	if (strcmp(argv[0], "rtt") == 0 && argc == 3) {
		err = rd_kafka_mock_broker_set_rtt(mc, atoi(argv[1]), atoi(argv[2]));
		return err ? rd_kafka_err2str(err) : "ok";
	}
	if (strcmp(argv[0], "err") == 0 && argc >= 3) {
		int cnt = argc == 4 ? atoi(argv[3]) : 1;
		if ((api = mock_api(argv[1])) < 0 || mock_err(argv[2], &err) < 0 || cnt < 1)
			return "error: usage: err API NAME|CODE [COUNT]";
		for (int i = 0; i < cnt; i++)
			rd_kafka_mock_push_request_errors(mc, (int16_t)api, 1, err);
		return "ok";
	}
	if (strcmp(argv[0], "clear") == 0 && argc == 2) {
		if ((api = mock_api(argv[1])) < 0)
			return "error: unknown API";
		rd_kafka_mock_clear_request_errors(mc, (int16_t)api);
		return "ok";
	}
	if (strcmp(argv[0], "topic") == 0 && argc == 3) {
		err = rd_kafka_mock_topic_create(mc, argv[1], atoi(argv[2]), 1);
		return err ? rd_kafka_err2str(err) : "ok";
	}
	return "error: unknown command";
}

int
main(int argc, char **argv)
{
	char errstr[512], line[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_mock_cluster_t *mc;
	rd_kafka_t *rk;
	sigset_t mask;
	int brokers = 1, sfd, c;
	bool stdin_open = true;

	while ((c = getopt(argc, argv, "b:t:")) != -1)
		if (c == 'b')
			brokers = atoi(optarg);
	if (brokers < 1) {
		fprintf(stderr, "mockcluster: -b needs at least 1 broker\n");
		return 2;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		perror("mockcluster: signalfd");
		return 1;
	}
	/* the handle only hosts the cluster; it never connects anywhere */
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		fprintf(stderr, "mockcluster: %s\n", errstr);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, brokers);
	if (!mc) {
		fprintf(stderr, "mockcluster: cannot create the mock cluster\n");
		return 1;
	}
	optind = 1;
	while ((c = getopt(argc, argv, "b:t:")) != -1) {
		char *colon;
		if (c != 't')
			continue;
		colon = strchr(optarg, ':');
		if (colon)
			*colon = '\0';
		rd_kafka_mock_topic_create(mc, optarg, colon ? atoi(colon + 1) : 1,
					   brokers < 3 ? brokers : 3);
	}
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	for (;;) {
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
				       { .fd = stdin_open ? 0 : -1, .events = POLLIN } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents) {
			const char *ans;
			if (!fgets(line, sizeof(line), stdin)) {
				stdin_open = false;
				continue;
			}
			ans = mock_command(mc, line);
			if (ans) {
				printf("%s\n", ans);
				fflush(stdout);
			}
		}
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	close(sfd);
	return 0;
}
