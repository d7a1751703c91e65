/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml - the ppml-deploy command line.  Commands are data (commands.def);
 * each lives in its own cmd_<name>.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef PPML_VERSION
#define PPML_VERSION "0.0.0-dev"
#endif

static const struct cli_cmd commands[] = {
#define PPML_CMD(n, s) {#n, s, cmd_##n##_usage, cmd_##n},
#include "commands.def"
#undef PPML_CMD
	{NULL, NULL, NULL, NULL},
};

static void print_main_help(FILE *out)
{
	fprintf(out,
		"usage: ppml [--version] [--help] COMMAND [ARGS]\n"
		"\n"
		"ppml-deploy: sign, measure, package and attest Intel SGX enclaves for\n"
		"confidential machine learning.\n"
		"\n"
		"Commands:\n");
	for (const struct cli_cmd *c = commands; c->name; c++)
		fprintf(out, "  %-12s %s\n", c->name, c->summary);
	fprintf(out,
		"\n"
		"Run 'ppml help COMMAND' or 'ppml COMMAND --help' for a command's options.\n"
		"Exit codes: 0 ok, 1 verification or policy refused, 2 usage error, 3 other failure.\n");
}

static const struct cli_cmd *find(const char *name)
{
	for (const struct cli_cmd *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int cli_exit_for(ppml_status st)
{
	switch (st) {
	case PPML_OK:
		return CLI_EXIT_OK;
	case PPML_E_REFUSED:
		return CLI_EXIT_REFUSED;
	default:
		return CLI_EXIT_FAILURE;
	}
}

int cli_fail(const char *cmd, const struct ppml_err *err)
{
	fprintf(stderr, "ppml %s: %s\n", cmd, err->msg[0] ? err->msg : ppml_status_name(err->code));
	return cli_exit_for(err->code);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "ppml %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'ppml %s --help')\n", cmd);
	return CLI_EXIT_USAGE;
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

void cli_print_usage(FILE *out, const char *usage)
{
	fputs(usage, out);
}

int main(int argc, char **argv)
{
	const struct cli_cmd *c;

	if (argc < 2) {
		print_main_help(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_main_help(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("ppml %s\n", PPML_VERSION);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc < 3) {
			print_main_help(stdout);
			return CLI_EXIT_OK;
		}
		c = find(argv[2]);
		if (!c) {
			fprintf(stderr, "ppml help: no command '%s' (run 'ppml --help' for the list)\n",
				argv[2]);
			return CLI_EXIT_USAGE;
		}
		cli_print_usage(stdout, c->usage);
		return CLI_EXIT_OK;
	}
	c = find(argv[1]);
	if (!c) {
		fprintf(stderr, "ppml: '%s' is not a ppml command (run 'ppml --help' for the list)\n",
			argv[1]);
		return CLI_EXIT_USAGE;
	}
	if (cli_wants_help(argc - 1, argv + 1)) {
		cli_print_usage(stdout, c->usage);
		return CLI_EXIT_OK;
	}
	return c->run(argc - 1, argv + 1);
}
