/* seglog: the client utility (seglog(1)).  Global options, then one
 * subcommand; see client.h. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

#ifndef SEGLOG_SHIP_HELPER
/* `seglog ship` runs the shipper program with this command line: the one
 * next to this executable (a build tree), else the installed one. */
static int
seglog_exec_ship(char **argv)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	if (n > 0) {
		char *slash;
		path[n] = '\0';
		slash = strrchr(path, '/');
		if (slash && (size_t)(slash + 1 - path) + sizeof("seglog-ship") <= sizeof(path)) {
			strcpy(slash + 1, "seglog-ship");
			if (access(path, X_OK) == 0) {
				argv[0] = path;
				execv(path, argv);
			}
		}
	}
	argv[0] = (char *)PKGLIBEXECDIR "/seglog-ship";
	execv(argv[0], argv);
	fprintf(stderr, "seglog: cannot run %s: %s (seglog ship needs it; is seglog installed "
		"completely?)\n", argv[0], strerror(errno));
	return CLIENT_EXIT_FAILURE;
}
#endif

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: seglog [-s SOCKET] [-d DIR] COMMAND [OPTIONS] [ARGS]\n"
		"\n"
		"Commands:\n"
		"  send [-t TAG] [-p FACILITY.LEVEL] [--no-wait] [MESSAGE...]\n"
		"                    send one record, or one per stdin line; waits until durable\n"
		"  tail [-f] [-n N]  the last N records (10), -f follows across rotations\n"
		"  cat               every record, in seq order\n"
		"  verify            check every line, header, name and seq of the directory\n"
		"  status [-o json]  the running daemon's figures\n"
		"  rotate            seal current now; returns once sealed\n"
		"  sync              returns once every record received so far is durable\n"
		"  reload            the daemon re-reads its configuration\n"
		"  vacuum --size S | --time T | --files N [--force]\n"
		"                    remove the oldest sealed segments now\n"
		"  ship --brokers B --topic T\n"
		"                    ship durable records to Kafka (docs/shipping.md)\n"
		"\n"
		"Global options:\n"
		"  -s, --socket PATH  daemon socket (default $SEGLOG_SOCKET, else %s)\n"
		"  -d, --dir DIR      data directory (default $SEGLOG_DIR, else %s)\n"
		"  -h, --help         this text;  --version  the version\n"
		"\n"
		"'seglog COMMAND --help' describes a command's options; see seglog(1).\n",
		RUNSTATEDIR "/seglog/seglog.sock", LOCALSTATEDIR "/log/seglog");
}

/* The global options into o: 0 to go on, 1 after --help or --version,
 * -1 for a usage error (printed).  "+": stop at the subcommand, whose
 * options are its own. */
static int
seglog_parse(struct client_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+s:d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("seglog %s\n", PACKAGE_VERSION);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

#ifndef SEGLOG_SHIP_HELPER
static const struct seglog_command {
	const char *name;
	int (*fn)(const struct client_opts *o, int argc, char **argv);
} seglog_commands[] = {
	{ "send", cmd_send },	  { "tail", cmd_tail },	    { "cat", cmd_tail },
	{ "verify", cmd_verify }, { "status", cmd_status }, { "rotate", cmd_ctl },
	{ "sync", cmd_ctl },	  { "reload", cmd_ctl },    { "vacuum", cmd_ctl },
};
#endif

/* Runs the subcommand argv[0]; orig_argv is the whole command line, for
 * the shipper program. */
static int
seglog_run(const struct client_opts *o, int argc, char **argv, char **orig_argv)
{
	const char *cmd = argv[0];

#ifdef SEGLOG_SHIP_HELPER
	(void)orig_argv;
	if (strcmp(cmd, "ship") == 0)
		return cmd_ship(o, argc, argv);
	fprintf(stderr, "seglog-ship: runs only 'seglog ship' (see seglog(1))\n");
	return CLIENT_EXIT_USAGE;
#else
	if (strcmp(cmd, "ship") == 0)
		return seglog_exec_ship(orig_argv);
	for (size_t i = 0; i < sizeof(seglog_commands) / sizeof(seglog_commands[0]); i++)
		if (strcmp(cmd, seglog_commands[i].name) == 0)
			return seglog_commands[i].fn(o, argc, argv);
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return CLIENT_EXIT_OK;
	}
	fprintf(stderr, "seglog: unknown command '%s'; try 'seglog --help'\n", cmd);
	return CLIENT_EXIT_USAGE;
#endif
}

int
main(int argc, char **argv)
{
	struct client_opts o = {
		.socket = getenv("SEGLOG_SOCKET"),
		.dir = getenv("SEGLOG_DIR"),
	};
	int k;

	if (!o.socket || !*o.socket)
		o.socket = RUNSTATEDIR "/seglog/seglog.sock";
	if (!o.dir || !*o.dir)
		o.dir = LOCALSTATEDIR "/log/seglog";
	k = seglog_parse(&o, argc, argv);
	if (k != 0)
		return k > 0 ? CLIENT_EXIT_OK : CLIENT_EXIT_USAGE;
	k = optind;
	optind = 0; /* a full reset of getopt for the subcommand */
	return seglog_run(&o, argc - k, argv + k, argv);
}
