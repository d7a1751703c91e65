/* SPDX-License-Identifier: Apache-2.0 */
/* ppml run --sim: stage 1 without SGX.  Verifies that what runs is what was
 * signed, then runs the manifest's entrypoint as a plain process with a
 * simulated attestation socket (include/ppml/simrun.h, simpki.h). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/enclave.h"
#include "ppml/hex.h"
#include "ppml/simpki.h"
#include "ppml/simrun.h"

extern char **environ;

const char cmd_run_usage[] =
	"usage: ppml run --sim --manifest APP.manifest.sgx --sigfile APP.sig [--libpal PATH]\n"
	"                [--root DIR] [--gramine-version 1.9|1.3] [--sim-dir DIR]\n"
	"                [-- ARGS...]\n"
	"\n"
	"Runs a signed Gramine application WITHOUT SGX, for stage 1.  Before anything\n"
	"starts it checks that what runs is what was signed: the SIGSTRUCT signature,\n"
	"MRENCLAVE recomputed from manifest.sgx and the PAL (equal to the signature's),\n"
	"and the SHA-256 of every measured file (loader.entrypoint and each trusted\n"
	"file); the first file that differs stops the run.  Then it runs what Gramine\n"
	"would run: libos.entrypoint resolved through fs.mounts (it must be a trusted\n"
	"file), with loader.argv and the environment of loader.env, from the current\n"
	"folder.  Nothing is isolated: this is a SIMULATION.\n"
	"\n"
	"The process finds PPML_SIM_ATTESTATION=unix:PATH in its environment: a socket\n"
	"(mode 0600) that takes 64 bytes of report data and answers an SGX quote whose\n"
	"report body carries this enclave's MRENCLAVE, MRSIGNER, attributes, ISVPRODID\n"
	"and ISVSVN, signed through the simulation PKI (`ppml sim init`).  `ppml attest`\n"
	"uses it.  Verifiers accept such quotes only with the simulation root\n"
	"configured, and report them as simulated.\n"
	"\n"
	"  --manifest FILE   the signed manifest (manifest.sgx)\n"
	"  --sigfile FILE    its SIGSTRUCT (.sig)\n"
	"  --libpal PATH     the PAL it was signed against (default: Gramine's, when\n"
	"                    installed, else the stand-in of `ppml sim pal`)\n"
	"  --root DIR        take absolute file: URIs (trusted files, mounts) under DIR,\n"
	"                    e.g. an image's root filesystem unpacked by umoci; run from\n"
	"                    the image's working folder under DIR (relative URIs)\n"
	"  --gramine-version V  the signer of manifest.sgx: 1.9 (default) or 1.3 (BigDL)\n"
	"  --sim-dir DIR     the simulation PKI (default as for `ppml sim`)\n"
	"  -- ARGS           extra arguments: only with loader.insecure__use_cmdline_argv\n"
	"\n"
	"Exit status: the application's (128+N if killed by signal N); 1 when a check\n"
	"refused to start it; 2 usage; 3 other failures.\n";

static volatile sig_atomic_t child_pid;

static void forward(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

int cmd_run(int argc, char **argv)
{
	const char *manifest = NULL, *sigfile = NULL, *libpal = NULL, *sim_dir = NULL,
		   *fsroot = NULL;
	char **extra = NULL, dbuf[PATH_MAX], pbuf[PATH_MAX], rundir[] = "/tmp/ppml-run-XXXXXX", sock[PATH_MAX];
	size_t n_extra = 0;
	int sim = 0, rc = CLI_EXIT_FAILURE;
	enum ppml_gramine_version gver = PPML_GRAMINE_1_9;
	struct ppml_err err = {0};
	struct ppml_simrun *r = NULL;
	struct ppml_simpki *pki = NULL;
	struct ppml_simatt *att = NULL;
	bool made_dir = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			extra = argv + i + 1;
			n_extra = (size_t)(argc - i - 1);
			break;
		}
		if (strcmp(argv[i], "--sim") == 0)
			sim = 1;
		else if (strcmp(argv[i], "--manifest") == 0 && i + 1 < argc)
			manifest = argv[++i];
		else if (strcmp(argv[i], "--sigfile") == 0 && i + 1 < argc)
			sigfile = argv[++i];
		else if (strcmp(argv[i], "--libpal") == 0 && i + 1 < argc)
			libpal = argv[++i];
		else if (strcmp(argv[i], "--sim-dir") == 0 && i + 1 < argc)
			sim_dir = argv[++i];
		else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
			fsroot = argv[++i];
		else if (strcmp(argv[i], "--gramine-version") == 0 && i + 1 < argc) {
			if (cli_gramine_version("run", argv[++i], &gver) != CLI_EXIT_OK)
				return CLI_EXIT_USAGE;
		}
		else
			return cli_usage_error("run", "unexpected argument '%s'", argv[i]);
	}
	if (!sim)
		return cli_usage_error("run", "only --sim exists: on SGX hardware, run the enclave "
					      "with gramine-sgx");
	if (!manifest || !sigfile)
		return cli_usage_error("run", "--manifest FILE and --sigfile FILE are required");
	if (!sim_dir && !(sim_dir = cli_sim_dir_default(dbuf, sizeof(dbuf))))
		return cli_usage_error("run", "no --sim-dir, and neither PPML_SIM_DIR, "
					      "XDG_DATA_HOME nor HOME is set");
	if (fsroot) {
		struct stat st;
		if (stat(fsroot, &st) != 0 || !S_ISDIR(st.st_mode))
			return cli_usage_error("run", "--root %s: not a folder", fsroot);
	}
	if (!libpal && !(libpal = ppml_enclave_default_libpal())) {
		if (cli_sim_pal_path(sim_dir, pbuf, sizeof(pbuf), &err) != PPML_OK)
			return cli_fail("run", &err);
		libpal = pbuf;
		fprintf(stderr, "ppml run: Gramine is not installed: measuring with the stand-in "
				"%s\n", libpal);
	}

	fprintf(stderr, "ppml run: checking %s, %s and every measured file...\n", manifest,
		sigfile);
	if (ppml_simrun_prepare(manifest, sigfile, libpal, gver, fsroot, extra, n_extra, environ, &r, &err) !=
	    PPML_OK) {
		ppml_err_prefix(&err, "not starting: ");
		rc = cli_fail("run", &err);
		goto out;
	}
	if (ppml_simpki_load(sim_dir, &pki, &err) != PPML_OK) {
		rc = cli_fail("run", &err);
		goto out;
	}
	if (!mkdtemp(rundir)) {
		fprintf(stderr, "ppml run: cannot create a private folder in /tmp: %s\n",
			strerror(errno));
		goto out;
	}
	made_dir = true;
	snprintf(sock, sizeof(sock), "%s/attestation.sock", rundir);
	struct ppml_sgx_report_body body;
	ppml_simrun_report_body(r, &body);
	if (ppml_simatt_start(pki, &body, sock, &att, &err) != PPML_OK) {
		rc = cli_fail("run", &err);
		goto out;
	}
	char mre[65], mrs[65];
	ppml_hex_encode(r->id->mrenclave, 32, mre);
	ppml_hex_encode(r->id->mrsigner, 32, mrs);
	fprintf(stderr,
		"==================== SIMULATION: NOT AN SGX ENCLAVE ====================\n"
		"mrenclave %s\nmrsigner  %s\nisvprodid %u  isvsvn %u  debug %s\n"
		"checked   %zu measured files (%llu bytes)\n"
		"running   %s (%s)\n"
		"quotes    signed by the simulation PKI in %s\n"
		"=========================================================================\n",
		mre, mrs, r->id->isvprodid, r->id->isvsvn, r->id->debug ? "yes" : "no",
		r->files_checked, r->bytes_checked, r->manifest_entrypoint, r->entrypoint, sim_dir);

	/* The child's environment: the manifest's, plus the socket. */
	size_t n_env = 0;
	while (r->envp[n_env])
		n_env++;
	char **envp = calloc(n_env + 2, sizeof(char *));
	char att_env[PATH_MAX + 64];
	if (!envp)
		goto out;
	memcpy(envp, r->envp, n_env * sizeof(char *));
	snprintf(att_env, sizeof(att_env), "%s=unix:%s", PPML_SIMATT_ENV, sock);
	envp[n_env] = att_env;

	struct sigaction sa = {.sa_handler = forward};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "ppml run: fork: %s\n", strerror(errno));
		free(envp);
		goto out;
	}
	if (pid == 0) {
		execve(r->entrypoint, r->argv, envp);
		fprintf(stderr, "ppml run: cannot execute %s: %s\n", r->entrypoint,
			strerror(errno));
		_exit(127);
	}
	child_pid = pid;
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	child_pid = 0;
	free(envp);
	if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		rc = 128 + WTERMSIG(status);
	fprintf(stderr, "ppml run: %s exited with %d (%lu simulated quotes served)\n",
		r->manifest_entrypoint, rc, ppml_simatt_count(att));
out:
	ppml_simatt_stop(att);
	if (made_dir)
		rmdir(rundir);
	ppml_simpki_free(pki);
	ppml_simrun_free(r);
	return rc;
}
