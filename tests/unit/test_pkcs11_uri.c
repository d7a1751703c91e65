/* SPDX-License-Identifier: Apache-2.0 */
/* The RFC 7512 URI parser: accepted forms, decoding, and every refusal. */
#include <string.h>

#include "harness.h"
#include "ppml/limits.h"
#include "ppml/pkcs11.h"

static ppml_status parse(const char *s, struct ppml_pkcs11_uri **u, struct ppml_err *err)
{
	return ppml_pkcs11_uri_parse(s, strlen(s), u, err);
}

TEST(uri_full_path_and_query)
{
	struct ppml_pkcs11_uri *u = NULL;
	struct ppml_err err = {0};
	REQUIRE(parse("pkcs11:token=My%20Token;manufacturer=SoftHSM%20project;model=SoftHSM%20v2;"
		      "serial=abc;slot-id=42;object=sgx:prod;id=%01%fF;type=private"
		      "?pin-source=file:/run/pin&module-path=/usr/lib/m.so",
		      &u, &err) == PPML_OK);
	CHECK_STREQ(u->token, "My Token");
	CHECK_STREQ(u->manufacturer, "SoftHSM project");
	CHECK_STREQ(u->model, "SoftHSM v2");
	CHECK_STREQ(u->serial, "abc");
	CHECK(u->has_slot_id && u->slot_id == 42);
	CHECK_STREQ(u->object, "sgx:prod");
	CHECK(u->id_len == 2 && u->id[0] == 0x01 && u->id[1] == 0xff);
	CHECK(u->type == PPML_PKCS11_TYPE_PRIVATE);
	CHECK_STREQ(u->pin_source, "/run/pin");
	CHECK_STREQ(u->module_path, "/usr/lib/m.so");
	ppml_pkcs11_uri_free(u);
}

TEST(uri_minimal_forms)
{
	struct ppml_pkcs11_uri *u = NULL;
	REQUIRE(parse("pkcs11:", &u, NULL) == PPML_OK);
	CHECK(!u->token && !u->object && !u->id && u->type == PPML_PKCS11_TYPE_ANY);
	ppml_pkcs11_uri_free(u);
	REQUIRE(parse("PKCS11:id=%00;type=public", &u, NULL) == PPML_OK);
	CHECK(u->id_len == 1 && u->id[0] == 0 && u->type == PPML_PKCS11_TYPE_PUBLIC);
	ppml_pkcs11_uri_free(u);
	REQUIRE(parse("pkcs11:object=a?pin-source=/abs/pin", &u, NULL) == PPML_OK);
	CHECK_STREQ(u->pin_source, "/abs/pin");
	ppml_pkcs11_uri_free(u);
	CHECK(ppml_pkcs11_is_uri("pkcs11:x") && !ppml_pkcs11_is_uri("key.pem") && !ppml_pkcs11_is_uri(NULL));
	ppml_pkcs11_uri_free(NULL);
}

TEST(uri_refusals)
{
	static const struct {
		const char *uri, *want;
	} bad[] = {
		{"pkcs11:object=a?pin-value=1234", "pin-value is refused"},
		{"pkcs11:token=a;token=b", "token appears twice"},
		{"pkcs11:id=%01;id=%02", "id appears twice"},
		{"pkcs11:id=%0", "malformed percent-escape"},
		{"pkcs11:id=%zz", "malformed percent-escape"},
		{"pkcs11:object=a%00b", "contains %00"},
		{"pkcs11:object=a b", "character RFC 7512 does not allow"},
		{"pkcs11:object=a/b", "character RFC 7512 does not allow"},
		{"pkcs11:;object=a", "empty attribute"},
		{"pkcs11:object=a;", "empty attribute"},
		{"pkcs11:object", "without '='"},
		{"pkcs11:object=", "empty value"},
		{"pkcs11:=a", "attribute name missing"},
		{"pkcs11:Object=a", "bad character in an attribute name"},
		{"pkcs11:library-description=x", "'library-description' is not supported"},
		{"pkcs11:type=cert", "type must be private or public"},
		{"pkcs11:slot-id=4x", "slot-id must be a decimal number"},
		{"pkcs11:object=a?", "empty query"},
		{"pkcs11:object=a#f", "fragment"},
		{"pkcs11:object=a?pin-source=https://x/pin", "pin-source must be a file"},
		{"pkcs11:object=a?module-name=softhsm2", "'module-name' is not supported"},
		{"pkcs11:token=0123456789abcdef0123456789abcdefX", "longer than 32 bytes"},
		{"pkcs11:model=0123456789abcdefX", "longer than 16 bytes"},
		{"key.pem", "not a PKCS#11 URI"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ppml_pkcs11_uri *u = (void *)1;
		struct ppml_err err = {0};
		ppml_status st = parse(bad[i].uri, &u, &err);
		CHECKF(st != PPML_OK && u == NULL, "%s was accepted", bad[i].uri);
		CHECKF(strstr(err.msg, bad[i].want) != NULL, "%s: message '%.200s' lacks '%s'",
		       bad[i].uri, err.msg, bad[i].want);
	}
}

TEST(uri_length_caps)
{
	char big[PPML_PKCS11_MAX_URI + 16];
	struct ppml_pkcs11_uri *u = NULL;
	struct ppml_err err = {0};
	size_t n;

	memcpy(big, "pkcs11:id=", 10);
	n = 10;
	for (size_t i = 0; i <= PPML_PKCS11_MAX_ID; i++, n += 3)
		memcpy(big + n, "%41", 3);
	CHECK(ppml_pkcs11_uri_parse(big, n, &u, &err) == PPML_E_LIMIT && !u);
	memset(big, 'a', sizeof(big));
	memcpy(big, "pkcs11:object=", 14);
	CHECK(ppml_pkcs11_uri_parse(big, PPML_PKCS11_MAX_URI + 1, &u, &err) == PPML_E_LIMIT && !u);
	/* Not NUL-terminated: exactly len bytes are read. */
	CHECK(ppml_pkcs11_uri_parse("pkcs11:object=abcdef", 16, &u, &err) == PPML_OK);
	CHECK_STREQ(u ? u->object : NULL, "ab");
	ppml_pkcs11_uri_free(u);
}

int main(void)
{
	RUN(uri_full_path_and_query);
	RUN(uri_minimal_forms);
	RUN(uri_refusals);
	RUN(uri_length_caps);
	HARNESS_EXIT();
}
