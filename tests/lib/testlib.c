#include "testlib.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void tl_mkdtemp(char *buf, size_t len, const char *tag)
{
	const char *base = getenv("RLOG_TEST_TMPDIR");
	if (base == NULL || base[0] == '\0') {
		base = "/tmp";
	}
	int n = snprintf(buf, len, "%s/%s-XXXXXX", base, tag);
	assert_true(n > 0 && (size_t)n < len);
	assert_non_null(mkdtemp(buf));
}

void tl_rmtree(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL) {
		return;
	}
	struct dirent *e;
	char p[4096];
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0) {
			continue;
		}
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(path);
}

void tl_payload(uint8_t *buf, size_t len, uint64_t index, uint64_t term,
		uint32_t salt)
{
	uint64_t x =
	    index * 0x9E3779B97F4A7C15ull ^ term * 0xC2B2AE3D27D4EB4Full ^ salt;
	for (size_t i = 0; i < len; i++) {
		x ^= x >> 33;
		x *= 0xFF51AFD7ED558CCDull;
		x ^= x >> 29;
		buf[i] = (uint8_t)x;
	}
}

/* ---- Added for the API suites. ---- */

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

void tl_copydir(const char *src, const char *dst)
{
	DIR *d = opendir(src);
	assert_non_null(d);
	struct dirent *e;
	char from[4096];
	char to[4096];
	static uint8_t buf[65536];
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0) {
			continue;
		}
		snprintf(from, sizeof(from), "%s/%s", src, e->d_name);
		snprintf(to, sizeof(to), "%s/%s", dst, e->d_name);
		struct stat st;
		assert_int_equal(stat(from, &st), 0);
		if (!S_ISREG(st.st_mode)) {
			continue;
		}
		int in = open(from, O_RDONLY);
		assert_true(in >= 0);
		int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(out >= 0);
		for (;;) {
			ssize_t n = read(in, buf, sizeof(buf));
			assert_true(n >= 0);
			if (n == 0) {
				break;
			}
			assert_int_equal(write(out, buf, (size_t)n), n);
		}
		close(in);
		close(out);
	}
	closedir(d);
}

size_t tl_count_suffix(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t count = 0;
	size_t slen = strlen(suffix);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len >= slen &&
		    strcmp(e->d_name + len - slen, suffix) == 0) {
			count++;
		}
	}
	closedir(d);
	return count;
}

struct rlog *tl_open_dir(const char *dir, uint64_t segment_size_bytes,
			 uint32_t entry_size_max_bytes)
{
	struct rlog_options opts;
	rlog_options_init(&opts);
	opts.dir = dir;
	opts.segment_size_bytes = segment_size_bytes;
	opts.entry_size_max_bytes = entry_size_max_bytes;
	struct rlog *log = NULL;
	int rc = rlog_open(&opts, &log);
	if (rc != 0) {
		fprintf(stderr, "rlog_open(%s): %s: %s\n", dir,
			rlog_strerror(rc), rlog_open_errmsg());
	}
	assert_int_equal(rc, 0);
	assert_non_null(log);
	return log;
}

int tl_open_vfs(struct rlog_vfs *vfs, uint64_t segment_size_bytes,
		struct rlog **out)
{
	struct rlog_options opts;
	rlog_options_init(&opts);
	opts.vfs = vfs;
	opts.segment_size_bytes = segment_size_bytes;
	return rlog_open(&opts, out);
}

void tl_batch_init(struct tl_batch *b)
{
	memset(b, 0, sizeof(*b));
}

void tl_batch_clear(struct tl_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free((void *)(uintptr_t)b->entries[i].payload);
	}
	b->n = 0;
}

void tl_batch_free(struct tl_batch *b)
{
	tl_batch_clear(b);
	free(b->entries);
	free(b->salts);
	memset(b, 0, sizeof(*b));
}

void tl_batch_add(struct tl_batch *b, uint64_t index, uint64_t term,
		  enum rlog_payload_kind kind, uint32_t salt, size_t len)
{
	if (b->n == b->cap) {
		size_t cap = b->cap == 0 ? 16 : b->cap * 2;
		b->entries = realloc(b->entries, cap * sizeof(*b->entries));
		b->salts = realloc(b->salts, cap * sizeof(*b->salts));
		assert_non_null(b->entries);
		assert_non_null(b->salts);
		b->cap = cap;
	}
	uint8_t *payload = NULL;
	if (len > 0) {
		payload = malloc(len);
		assert_non_null(payload);
		tl_payload(payload, len, index, term, salt);
	}
	struct rlog_entry *e = &b->entries[b->n];
	e->index = index;
	e->term = term;
	e->kind = kind;
	e->payload = payload;
	e->payload_len = len;
	b->salts[b->n] = salt;
	b->n++;
}

void tl_model_init(struct tl_model *m, size_t cap)
{
	memset(m, 0, sizeof(*m));
	m->e = calloc(cap, sizeof(*m->e));
	assert_non_null(m->e);
	m->cap = cap;
}

void tl_model_free(struct tl_model *m)
{
	free(m->e);
	memset(m, 0, sizeof(*m));
}

void tl_model_copy(struct tl_model *dst, const struct tl_model *src)
{
	struct tl_mentry *e = dst->e;
	size_t cap = dst->cap;
	if (cap < src->cap) {
		e = realloc(e, src->cap * sizeof(*e));
		assert_non_null(e);
		cap = src->cap;
	}
	memcpy(e, src->e, src->cap * sizeof(*e));
	*dst = *src;
	dst->e = e;
	dst->cap = cap;
}

uint64_t tl_model_first(const struct tl_model *m)
{
	return m->purged_index + 1;
}

void tl_model_append(struct tl_model *m, const struct tl_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct rlog_entry *e = &b->entries[i];
		assert_int_equal(e->index, m->last + 1);
		assert_true(e->index < m->cap);
		m->e[e->index].term = e->term;
		m->e[e->index].kind = e->kind;
		m->e[e->index].salt = b->salts[i];
		m->e[e->index].len = e->payload_len;
		m->last = e->index;
	}
}

void tl_model_truncate(struct tl_model *m, uint64_t from_index)
{
	assert_true(from_index >= tl_model_first(m));
	assert_true(from_index <= m->last + 1);
	m->last = from_index - 1;
}

void tl_model_replace(struct tl_model *m, const struct tl_batch *b)
{
	assert_true(b->n > 0);
	tl_model_truncate(m, b->entries[0].index);
	tl_model_append(m, b);
}

void tl_model_purge(struct tl_model *m, uint64_t index, uint64_t term)
{
	if (index <= m->purged_index) {
		return;
	}
	m->purged_index = index;
	m->purged_term = term;
	if (index >= m->last) {
		m->last = index;
	}
}

void tl_model_reset(struct tl_model *m)
{
	m->purged_index = 0;
	m->purged_term = 0;
	m->last = 0;
}

void tl_model_set_hs(struct tl_model *m, const struct rlog_hard_state *hs)
{
	m->has_hs = true;
	m->hs = *hs;
}

void tl_model_payload(const struct tl_model *m, uint64_t index, uint8_t *buf)
{
	const struct tl_mentry *e = &m->e[index];
	tl_payload(buf, e->len, index, e->term, e->salt);
}

bool tl_entry_equals(const struct rlog_entry *got, const struct tl_model *m,
		     uint64_t index)
{
	const struct tl_mentry *e = &m->e[index];
	if (got->index != index || got->term != e->term ||
	    got->kind != e->kind || got->payload_len != e->len) {
		return false;
	}
	if (e->len == 0) {
		return true;
	}
	if (got->payload == NULL) {
		return false;
	}
	uint8_t *want = malloc(e->len);
	assert_non_null(want);
	tl_model_payload(m, index, want);
	bool same = memcmp(want, got->payload, e->len) == 0;
	free(want);
	return same;
}

bool tl_hs_equal(const struct rlog_hard_state *a,
		 const struct rlog_hard_state *b)
{
	if (a->current_term != b->current_term || a->has_vote != b->has_vote) {
		return false;
	}
	if (!a->has_vote) {
		return true;
	}
	return a->voted_for_id == b->voted_for_id &&
	       a->voted_for_term == b->voted_for_term &&
	       a->committed == b->committed;
}

static bool tl_model_matches_hs(struct rlog *log, const struct tl_model *m,
				char *why, size_t why_len)
{
	struct rlog_hard_state hs;
	memset(&hs, 0, sizeof(hs));
	int rc = rlog_hard_state_load(log, &hs);
	if (!m->has_hs) {
		if (rc != RLOG_ENOTFOUND) {
			snprintf(why, why_len,
				 "hard_state_load: want ENOTFOUND, got %d", rc);
			return false;
		}
		return true;
	}
	if (rc != 0) {
		snprintf(why, why_len, "hard_state_load: got %d", rc);
		return false;
	}
	if (!tl_hs_equal(&hs, &m->hs)) {
		snprintf(why, why_len,
			 "hard state: want term %llu vote %d, got term %llu "
			 "vote %d",
			 (unsigned long long)m->hs.current_term, m->hs.has_vote,
			 (unsigned long long)hs.current_term, hs.has_vote);
		return false;
	}
	return true;
}

static bool tl_model_matches_bounds(struct rlog *log, const struct tl_model *m,
				    char *why, size_t why_len)
{
	uint64_t first = rlog_first_index(log);
	uint64_t last = rlog_last_index(log);
	uint64_t pidx = 0;
	uint64_t pterm = 0;
	rlog_purged(log, &pidx, &pterm);
	if (first != tl_model_first(m) || last != m->last ||
	    pidx != m->purged_index || pterm != m->purged_term) {
		snprintf(
		    why, why_len,
		    "bounds: want first %llu last %llu purged {%llu,%llu}, "
		    "got first %llu last %llu purged {%llu,%llu}",
		    (unsigned long long)tl_model_first(m),
		    (unsigned long long)m->last,
		    (unsigned long long)m->purged_index,
		    (unsigned long long)m->purged_term,
		    (unsigned long long)first, (unsigned long long)last,
		    (unsigned long long)pidx, (unsigned long long)pterm);
		return false;
	}
	uint64_t term = 0;
	if (pidx > 0 && (rlog_term(log, pidx, &term) != 0 || term != pterm)) {
		snprintf(why, why_len, "rlog_term(purge index %llu) wrong",
			 (unsigned long long)pidx);
		return false;
	}
	struct rlog_entry got;
	if (rlog_get(log, last + 1, &got) != RLOG_ENOTFOUND ||
	    (pidx > 0 && rlog_get(log, pidx, &got) != RLOG_ENOTFOUND)) {
		snprintf(why, why_len, "get outside [first, last] found");
		return false;
	}
	return true;
}

bool tl_model_matches(struct rlog *log, const struct tl_model *m, char *why,
		      size_t why_len)
{
	if (!tl_model_matches_bounds(log, m, why, why_len)) {
		return false;
	}
	for (uint64_t i = tl_model_first(m); i <= m->last; i++) {
		struct rlog_entry got;
		memset(&got, 0, sizeof(got));
		int rc = rlog_get(log, i, &got);
		if (rc != 0) {
			snprintf(why, why_len, "get %llu: %d (%s)",
				 (unsigned long long)i, rc, rlog_errmsg(log));
			return false;
		}
		if (!tl_entry_equals(&got, m, i)) {
			snprintf(why, why_len,
				 "entry %llu differs: got index %llu term %llu "
				 "kind %d len %zu, want term %llu kind %d "
				 "len %zu",
				 (unsigned long long)i,
				 (unsigned long long)got.index,
				 (unsigned long long)got.term, (int)got.kind,
				 got.payload_len,
				 (unsigned long long)m->e[i].term,
				 (int)m->e[i].kind, m->e[i].len);
			return false;
		}
		uint64_t term = 0;
		if (rlog_term(log, i, &term) != 0 || term != m->e[i].term) {
			snprintf(why, why_len, "rlog_term(%llu) wrong",
				 (unsigned long long)i);
			return false;
		}
	}
	return tl_model_matches_hs(log, m, why, why_len);
}

void tl_model_check(struct rlog *log, const struct tl_model *m)
{
	char why[512];
	if (!tl_model_matches(log, m, why, sizeof(why))) {
		fail_msg("log differs from the model: %s", why);
	}
}
