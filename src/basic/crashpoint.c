#include "config.h"

#include "crashpoint.h"

#ifdef SEGLOG_CRASH_POINTS
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
	bool parsed;
	char name[64];
	unsigned long at, percent, hits;
	unsigned seed;
} crashpoint_cfg;

/* Reads SEGLOG_CRASH_AT once: "NAME:N" or "NAME:N:PERCENT". */
static void
crashpoint_parse(void)
{
	const char *v = getenv("SEGLOG_CRASH_AT");
	const char *colon;
	size_t len;

	crashpoint_cfg.parsed = true;
	if (!v || !(colon = strchr(v, ':')))
		return;
	len = (size_t)(colon - v);
	if (len == 0 || len >= sizeof(crashpoint_cfg.name))
		return;
	memcpy(crashpoint_cfg.name, v, len);
	crashpoint_cfg.at = strtoul(colon + 1, NULL, 10);
	colon = strchr(colon + 1, ':');
	crashpoint_cfg.percent = colon ? strtoul(colon + 1, NULL, 10) : 0;
	crashpoint_cfg.seed = (unsigned)getpid();
}

void
crashpoint_hit(const char *name)
{
	char msg[128];
	int n;

	if (!crashpoint_cfg.parsed)
		crashpoint_parse();
	if (!crashpoint_cfg.at || strcmp(name, crashpoint_cfg.name) != 0)
		return;
	crashpoint_cfg.hits++;
	if (crashpoint_cfg.hits < crashpoint_cfg.at)
		return;
	if (crashpoint_cfg.hits > crashpoint_cfg.at &&
	    (unsigned long)(rand_r(&crashpoint_cfg.seed) % 100) >= crashpoint_cfg.percent)
		return;
	n = snprintf(msg, sizeof(msg), "crash point %s #%lu: killing\n", name,
		     crashpoint_cfg.hits);
	if (n > 0)
		(void)!write(STDERR_FILENO, msg, (size_t)n);
	raise(SIGKILL);
}
#endif
