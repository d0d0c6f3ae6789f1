/* seglogd: the ingest daemon.  main() only wires the modules together. */
#include "config.h"

#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("seglogd %s\n", PACKAGE_VERSION);
		return 0;
	}
	fprintf(stderr, "<3>seglogd: not implemented yet\n");
	return 1;
}
