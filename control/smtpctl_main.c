/*
 * main() of smtpctl, also installed as sendmail, mailq and newaliases:
 * the name it is called by picks the personality.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "smtpctl.h"

int
main(int argc, char **argv)
{
	const char	*name;

	name = argv[0] ? strrchr(argv[0], '/') : NULL;
	name = name ? name + 1 : (argv[0] ? argv[0] : "smtpctl");
	log_init(1, 0);
	log_procname(name);
	if (strcmp(name, "sendmail") == 0 || strcmp(name, "send-mail") == 0 ||
	    strcmp(name, "mailq") == 0 || strcmp(name, "newaliases") == 0)
		return sendmail_main(strcmp(name, "send-mail") == 0 ?
		    "sendmail" : name, argc, argv);
	return smtpctl_main(argc, argv);
}
