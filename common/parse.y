/* smtpd.conf grammar (stub until the foundation issue's grammar lands). */
%{
#include <stdio.h>
#include <stdlib.h>

#include "config.h"

int	yylex(void);
void	yyerror(const char *);
%}
%token ERROR
%%
grammar	: /* empty */ ;
%%
int
yylex(void)
{
	return 0;
}

void
yyerror(const char *s)
{
	fprintf(stderr, "%s\n", s);
}

struct smtpd_config *
config_parse(const char *path)
{
	(void)path;
	return NULL;
}
