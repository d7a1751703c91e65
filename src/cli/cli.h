/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli.h - what every `ppml` subcommand shares.
 *
 * Exit codes (the only place where errors become exit codes):
 *   0 ok, 1 verification or policy refused, 2 usage, 3 anything else.
 */
#ifndef PPML_CLI_H
#define PPML_CLI_H

#include <stdio.h>

#include "ppml/err.h"

enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_REFUSED = 1,
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_FAILURE = 3,
};

struct cli_cmd {
	const char *name;
	const char *summary;
	const char *usage; /* full help text, printed by --help and `ppml help NAME` */
	int (*run)(int argc, char **argv);
};

/* Every command: `int cmd_NAME(int argc, char **argv)` and `extern const char cmd_NAME_usage[]`
 * (argv[0] is the command name).  The list lives in commands.def. */
#define PPML_CMD(name, summary) \
	int cmd_##name(int argc, char **argv); \
	extern const char cmd_##name##_usage[];
#include "commands.def"
#undef PPML_CMD

/* Prints "ppml CMD: message" on stderr and returns the exit code for err's status. */
int cli_fail(const char *cmd, const struct ppml_err *err);
/* Prints "ppml CMD: <fmt>" and a hint to run --help; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) PPML_PRINTF(2, 3);
/* Maps a library status to an exit code. */
int cli_exit_for(ppml_status st);
/* True if argv holds -h or --help before a "--". */
int cli_wants_help(int argc, char **argv);
/* Prints the usage text of the named command to out. */
void cli_print_usage(FILE *out, const char *usage);

#endif
