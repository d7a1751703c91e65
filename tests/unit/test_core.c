/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <sys/stat.h>

#include "harness.h"
#include "ppml/buf.h"
#include "ppml/file.h"
#include "ppml/hex.h"

TEST(buf_grows_and_terminates)
{
	struct ppml_buf b = {0};
	for (int i = 0; i < 1000; i++)
		REQUIRE(ppml_buf_printf(&b, "%d,", i) == PPML_OK);
	CHECK(b.len == strlen((char *)b.data));
	CHECK(memcmp(b.data, "0,1,2,", 6) == 0);
	CHECK(memcmp(b.data + b.len - 4, "999,", 4) == 0);
	ppml_buf_free(&b);
	ppml_buf_free(NULL);
}

TEST(hex_roundtrip_and_rejects)
{
	uint8_t in[4] = {0x00, 0xab, 0x10, 0xff}, out[4];
	char hex[9];
	struct ppml_err err = {0};
	ppml_hex_encode(in, 4, hex);
	CHECK_STREQ(hex, "00ab10ff");
	CHECK(ppml_hex_decode("00AB10ff", out, 4, "x", &err) == PPML_OK);
	CHECK(memcmp(in, out, 4) == 0);
	CHECK(ppml_hex_decode("00ab10f", out, 4, "field", &err) == PPML_E_INPUT);
	CHECK(strstr(err.msg, "field: expected 8 hex digits") != NULL);
	CHECK(ppml_hex_decode("00ab10fg", out, 4, "field", &err) == PPML_E_INPUT);
	CHECK(strstr(err.msg, "character 8") != NULL);
}

TEST(file_atomic_write_no_clobber_and_mode)
{
	char dir[] = "/tmp/ppml-test-XXXXXX", path[256];
	uint8_t *data = NULL;
	size_t len = 0;
	struct stat st;
	struct ppml_err err = {0};

	REQUIRE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	CHECK(ppml_file_write_atomic(path, "secret", 6, 0600, 1, &err) == PPML_OK);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(ppml_file_write_atomic(path, "other", 5, 0600, 1, &err) == PPML_E_EXISTS);
	CHECK(ppml_file_read(path, 100, &data, &len, &err) == PPML_OK);
	CHECK(len == 6 && memcmp(data, "secret", 6) == 0);
	free(data);
	CHECK(ppml_file_read(path, 5, &data, &len, &err) == PPML_E_LIMIT);
	CHECK(data == NULL);
	unlink(path);
	CHECK(ppml_file_read(path, 5, &data, &len, &err) == PPML_E_NOTFOUND);
	rmdir(dir);
}

TEST(outputs_are_all_or_nothing)
{
	char dir[] = "/tmp/ppml-test-XXXXXX", a[256], b[256];
	struct ppml_err err = {0};
	struct ppml_outputs *o;

	REQUIRE(mkdtemp(dir) != NULL);
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	o = ppml_outputs_new();
	REQUIRE(o != NULL);
	CHECK(ppml_outputs_stage(o, a, "1", 1, 0644, &err) == PPML_OK);
	CHECK(ppml_outputs_stage(o, b, "2", 1, 0644, &err) == PPML_OK);
	CHECK(access(a, F_OK) != 0);
	ppml_outputs_free(o); /* aborted: nothing appears, temporaries gone */
	CHECK(access(a, F_OK) != 0 && access(b, F_OK) != 0);
	CHECK(rmdir(dir) == 0);
}

int main(void)
{
	RUN(buf_grows_and_terminates);
	RUN(hex_roundtrip_and_rejects);
	RUN(file_atomic_write_no_clobber_and_mode);
	RUN(outputs_are_all_or_nothing);
	HARNESS_EXIT();
}
