/* seglog: the client utility. */
#include "config.h"

#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("seglog %s\n", PACKAGE_VERSION);
		return 0;
	}
	fprintf(stderr, "seglog: not implemented yet\n");
	return 1;
}
