/* seglog status: not written yet. */
#include "config.h"

#include <stdio.h>

#include "client.h"

int
cmd_status(const struct client_opts *o, int argc, char **argv)
{
	(void)o;
	(void)argc;
	fprintf(stderr, "seglog %s: not implemented yet\n", argv[0]);
	return CLIENT_EXIT_FAILURE;
}
