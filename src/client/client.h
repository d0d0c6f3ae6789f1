/* The seglog client utility: shared options and the subcommands.
 * Each subcommand lives in its own cmd_*.c and parses its own options
 * (getopt_long, argv[0] is the subcommand name). */
#pragma once

#include <stdbool.h>

/* sysexits(3) values the subcommands use */
enum {
	CLIENT_EXIT_OK = 0,
	CLIENT_EXIT_FAILURE = 1,    /* records not acknowledged, problems found */
	CLIENT_EXIT_USAGE = 2,
	CLIENT_EXIT_UNAVAILABLE = 69, /* EX_UNAVAILABLE: the daemon is not there */
	CLIENT_EXIT_TEMPFAIL = 75,    /* EX_TEMPFAIL: it is there but refused us (limits,
				       * shutdown), closed or did not answer in time */
	CLIENT_EXIT_PROTOCOL = 76,    /* EX_PROTOCOL: it does not speak our protocol */
};

struct client_opts {
	const char *socket; /* -s, $SEGLOG_SOCKET, else the built-in default */
	const char *dir;    /* -d, $SEGLOG_DIR, else the built-in default */
};

int cmd_send(const struct client_opts *o, int argc, char **argv);
int cmd_status(const struct client_opts *o, int argc, char **argv);
int cmd_tail(const struct client_opts *o, int argc, char **argv); /* tail and cat */
int cmd_verify(const struct client_opts *o, int argc, char **argv);
/* rotate, sync, reload, vacuum: argv[0] names the verb */
int cmd_ctl(const struct client_opts *o, int argc, char **argv);
int cmd_ship(const struct client_opts *o, int argc, char **argv); /* cmd_ship.c, ship.c */
