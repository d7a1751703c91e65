# SPDX-License-Identifier: Apache-2.0
# The command front end: help, version, unknown commands, exit codes.
. "$(dirname "$0")/lib.sh"

out=$("$PPML" --help) && echo "$out" | grep -q '^Commands:' \
	&& pass help || fail help "ppml --help did not list commands"
out=$("$PPML" --version) && echo "$out" | grep -Eq '^ppml [0-9]+\.[0-9]+\.[0-9]+' \
	&& pass version || fail version "unexpected: $out"
"$PPML" no-such-cmd 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q "'no-such-cmd' is not a ppml command" "$TMP/err" \
	&& pass unknown_command_is_usage_error || fail unknown_command_is_usage_error "rc=$rc"
"$PPML" 2>/dev/null; rc=$?
[ $rc -eq 2 ] && pass no_args_is_usage_error || fail no_args_is_usage_error "rc=$rc"
# every listed command answers --help and `ppml help CMD` with its usage
bad=""
for c in $("$PPML" --help | awk '/^Commands:/{f=1;next} f&&/^  [a-z]/{print $1}'); do
	a=$("$PPML" "$c" --help) || bad="$bad $c"
	b=$("$PPML" help "$c") || bad="$bad $c"
	[ -n "$a" ] && [ "$a" = "$b" ] || bad="$bad $c"
	echo "$a" | grep -q "^usage: ppml $c" || bad="$bad $c"
done
[ -z "$bad" ] && pass every_command_has_help || fail every_command_has_help "bad:$bad"
