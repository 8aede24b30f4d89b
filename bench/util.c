/*
 * bench/util.c: clock, CRC32C, PRNG, files and /proc readers for rlog-bench.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "internal.h"

double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- CRC32C: the engine's own, so the raw baseline checksums exactly as
 * rlog does (hardware when the CPU has it). ---- */
uint32_t bench_crc32c(uint32_t crc, const void *buf, size_t len)
{
	return rlog__crc32c(crc, buf, len);
}

bool bench_crc32c_hw(void)
{
	uint32_t out;
	return rlog__crc32c_hw(0, "", 0, &out);
}

/* xorshift64* */
uint64_t bench_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* ---- Files. ---- */
static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	int rv = (flag == FTW_DP || flag == FTW_D) ? rmdir(path) : unlink(path);
	if (rv != 0 && errno != ENOENT) {
		fprintf(stderr, "rlog-bench: remove %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

int bench_rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		return errno == ENOENT ? 0 : -1;
	}
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

int bench_mkdir_p(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof(buf)) {
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] == '/' || buf[i] == '\0') {
			char c = buf[i];
			buf[i] = '\0';
			if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
				fprintf(stderr, "rlog-bench: mkdir %s: %s\n",
					buf, strerror(errno));
				return -1;
			}
			buf[i] = c;
		}
	}
	return 0;
}

static uint64_t du_total;

static int du_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_F) {
		du_total += (uint64_t)st->st_blocks * 512u;
	}
	return 0;
}

uint64_t bench_du(const char *path)
{
	du_total = 0;
	if (nftw(path, du_one, 16, FTW_PHYS) != 0) {
		return 0;
	}
	return du_total;
}

/* ---- /proc. ---- */
uint64_t bench_rss_now(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	if (f == NULL) {
		return 0;
	}
	unsigned long long size = 0, res = 0;
	int n = fscanf(f, "%llu %llu", &size, &res);
	fclose(f);
	if (n != 2) {
		return 0;
	}
	return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (f == NULL) {
		return 0;
	}
	char line[256];
	size_t kl = strlen(key);
	uint64_t v = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			v = (uint64_t)strtoull(line + kl + 1, NULL, 10) * 1024u;
			break;
		}
	}
	fclose(f);
	return v;
}

uint64_t bench_rss_peak(void)
{
	return status_kb("VmHWM");
}

void bench_proc_io(uint64_t *wchar, uint64_t *write_bytes)
{
	*wchar = 0;
	*write_bytes = 0;
	FILE *f = fopen("/proc/self/io", "r");
	if (f == NULL) {
		return;
	}
	char line[256];
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "wchar:", 6) == 0) {
			*wchar = (uint64_t)strtoull(line + 6, NULL, 10);
		} else if (strncmp(line, "write_bytes:", 12) == 0) {
			*write_bytes = (uint64_t)strtoull(line + 12, NULL, 10);
		}
	}
	fclose(f);
}

int bench_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		p += (size_t)w;
		len -= (size_t)w;
	}
	return 0;
}

int bench_pread_all(int fd, void *buf, size_t len, uint64_t off, size_t *got)
{
	uint8_t *p = buf;
	size_t done = 0;
	while (done < len) {
		ssize_t r =
		    pread(fd, p + done, len - done, (off_t)(off + done));
		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		if (r == 0) {
			break;
		}
		done += (size_t)r;
	}
	*got = done;
	return 0;
}

void bench_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

uint64_t bench_get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--) {
		v = (v << 8) | p[i];
	}
	return v;
}
