/* SPDX-License-Identifier: Apache-2.0 */
/* TOML tree: construction, lookup, ownership. */
#include <stdlib.h>
#include <string.h>

#include "ppml/toml.h"
#include "internal.h"

static struct ppml_toml_value *new_value(enum ppml_toml_type type)
{
	struct ppml_toml_value *v = calloc(1, sizeof(*v));
	if (v)
		v->type = type;
	return v;
}

void ppml_toml_free(struct ppml_toml_value *v)
{
	if (!v)
		return;
	switch (v->type) {
	case PPML_TOML_STRING:
		free(v->u.s.ptr);
		break;
	case PPML_TOML_ARRAY:
		for (size_t i = 0; i < v->u.a.len; i++)
			ppml_toml_free(v->u.a.items[i]);
		free(v->u.a.items);
		break;
	case PPML_TOML_TABLE:
		for (size_t i = 0; i < v->u.t.len; i++) {
			free(v->u.t.items[i].key);
			ppml_toml_free(v->u.t.items[i].value);
		}
		free(v->u.t.items);
		break;
	default:
		break;
	}
	free(v);
}

struct ppml_toml_value *ppml_toml_new_table(void)
{
	return new_value(PPML_TOML_TABLE);
}

struct ppml_toml_value *ppml_toml_new_array(void)
{
	return new_value(PPML_TOML_ARRAY);
}

struct ppml_toml_value *ppml_toml_new_string(const char *s, size_t len)
{
	struct ppml_toml_value *v = new_value(PPML_TOML_STRING);
	if (!v)
		return NULL;
	v->u.s.ptr = malloc(len + 1);
	if (!v->u.s.ptr) {
		free(v);
		return NULL;
	}
	if (len)
		memcpy(v->u.s.ptr, s, len);
	v->u.s.ptr[len] = '\0';
	v->u.s.len = len;
	return v;
}

struct ppml_toml_value *ppml_toml_new_integer(int64_t i)
{
	struct ppml_toml_value *v = new_value(PPML_TOML_INTEGER);
	if (v)
		v->u.i = i;
	return v;
}

struct ppml_toml_value *ppml_toml_new_float(double f)
{
	struct ppml_toml_value *v = new_value(PPML_TOML_FLOAT);
	if (v)
		v->u.f = f;
	return v;
}

struct ppml_toml_value *ppml_toml_new_bool(bool b)
{
	struct ppml_toml_value *v = new_value(PPML_TOML_BOOLEAN);
	if (v)
		v->u.b = b;
	return v;
}

ppml_status ppml_toml_table_add(struct ppml_toml_value *table, const char *key, size_t klen,
			     struct ppml_toml_value *val)
{
	char *kcopy;

	if (table->u.t.len == table->u.t.cap) {
		size_t ncap = table->u.t.cap ? table->u.t.cap * 2 : 8;
		struct ppml_toml_kv *ni = realloc(table->u.t.items, ncap * sizeof(*ni));
		if (!ni) {
			ppml_toml_free(val);
			return PPML_E_NOMEM;
		}
		table->u.t.items = ni;
		table->u.t.cap = ncap;
	}
	kcopy = malloc(klen + 1);
	if (!kcopy) {
		ppml_toml_free(val);
		return PPML_E_NOMEM;
	}
	memcpy(kcopy, key, klen);
	kcopy[klen] = '\0';
	table->u.t.items[table->u.t.len].key = kcopy;
	table->u.t.items[table->u.t.len].key_len = klen;
	table->u.t.items[table->u.t.len].value = val;
	table->u.t.len++;
	return PPML_OK;
}

struct ppml_toml_value *ppml_toml_clone(const struct ppml_toml_value *v)
{
	struct ppml_toml_value *c;

	if (!v)
		return NULL;
	switch (v->type) {
	case PPML_TOML_STRING:
		c = ppml_toml_new_string(v->u.s.ptr, v->u.s.len);
		break;
	case PPML_TOML_ARRAY:
		c = new_value(PPML_TOML_ARRAY);
		for (size_t i = 0; c && i < v->u.a.len; i++) {
			struct ppml_toml_value *item = ppml_toml_clone(v->u.a.items[i]);
			if (!item || ppml_toml_push(c, item) != PPML_OK) {
				ppml_toml_free(c);
				c = NULL;
			}
		}
		break;
	case PPML_TOML_TABLE:
		c = new_value(PPML_TOML_TABLE);
		for (size_t i = 0; c && i < v->u.t.len; i++) {
			const struct ppml_toml_kv *kv = &v->u.t.items[i];
			struct ppml_toml_value *item = ppml_toml_clone(kv->value);
			if (!item || ppml_toml_table_add(c, kv->key, kv->key_len, item) != PPML_OK) {
				ppml_toml_free(c);
				c = NULL;
			}
		}
		break;
	default:
		c = new_value(v->type);
		if (c)
			c->u = v->u;
		break;
	}
	if (c)
		c->flags = v->flags;
	return c;
}

static struct ppml_toml_kv *find(const struct ppml_toml_value *table, const char *key)
{
	size_t klen;

	if (!table || table->type != PPML_TOML_TABLE)
		return NULL;
	klen = strlen(key);
	for (size_t i = 0; i < table->u.t.len; i++) {
		struct ppml_toml_kv *kv = &table->u.t.items[i];
		if (kv->key_len == klen && memcmp(kv->key, key, klen) == 0)
			return kv;
	}
	return NULL;
}

struct ppml_toml_value *ppml_toml_get(const struct ppml_toml_value *table, const char *key)
{
	struct ppml_toml_kv *kv = find(table, key);
	return kv ? kv->value : NULL;
}

ppml_status ppml_toml_append(struct ppml_toml_value *table, const char *key,
			     struct ppml_toml_value *val)
{
	if (!table || table->type != PPML_TOML_TABLE || !val) {
		ppml_toml_free(val);
		return PPML_E_INTERNAL;
	}
	if (find(table, key)) {
		ppml_toml_free(val);
		return PPML_E_EXISTS;
	}
	return ppml_toml_table_add(table, key, strlen(key), val);
}

ppml_status ppml_toml_set(struct ppml_toml_value *table, const char *key,
			  struct ppml_toml_value *val)
{
	struct ppml_toml_kv *kv = find(table, key);
	if (!kv)
		return ppml_toml_append(table, key, val);
	if (!val)
		return PPML_E_INTERNAL;
	ppml_toml_free(kv->value);
	kv->value = val;
	return PPML_OK;
}

ppml_status ppml_toml_push(struct ppml_toml_value *array, struct ppml_toml_value *val)
{
	if (!array || array->type != PPML_TOML_ARRAY || !val) {
		ppml_toml_free(val);
		return PPML_E_INTERNAL;
	}
	if (array->u.a.len == array->u.a.cap) {
		size_t ncap = array->u.a.cap ? array->u.a.cap * 2 : 8;
		struct ppml_toml_value **ni = realloc(array->u.a.items, ncap * sizeof(*ni));
		if (!ni) {
			ppml_toml_free(val);
			return PPML_E_NOMEM;
		}
		array->u.a.items = ni;
		array->u.a.cap = ncap;
	}
	array->u.a.items[array->u.a.len++] = val;
	return PPML_OK;
}
