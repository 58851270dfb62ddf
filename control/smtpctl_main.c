/*
 * smtpctl: the control tool (placeholder until the control issue lands;
 * prints its usage).
 */
#include <stdio.h>
#include <stdlib.h>

int
main(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "usage: smtpctl command [argument ...]\n");
	return 1;
}
