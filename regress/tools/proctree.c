/*
 * proctree: CPU time and memory of a process and all its descendants,
 * from /proc, for `make bench`.  CPU is utime+stime+cutime+cstime of
 * every live process of the tree (children already reaped are in their
 * parent's cutime/cstime), PSS is the sum of Pss in smaps_rollup.
 *   proctree PID               one line: procs= cpu_s= pss_kb=
 *   proctree -i MS [-n MAX] PID  sample every MS until PID is gone,
 *                              SIGTERM/SIGINT, or MAX samples; then one
 *                              line: samples= procs_max= pss_peak_kb= cpu_s=
 */
#include <ctype.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PT_MAXPROC	32768

struct pt_proc {
	int		 pid, ppid;
	unsigned long	 ticks;
};

static volatile sig_atomic_t stop;

static void
on_sig(int sig)
{
	(void)sig;
	stop = 1;
}

/* ppid and CPU ticks from /proc/PID/stat; -1 if gone. */
static int
pt_stat(int pid, int *ppid, unsigned long *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	long cut, cst;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* the command name may hold spaces and parentheses: skip to the last ')' */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu "
	    "%ld %ld", ppid, &ut, &st, &cut, &cst) != 5)
		return -1;
	*ticks = ut + st + (cut > 0 ? cut : 0) + (cst > 0 ? cst : 0);
	return 0;
}

static long
pt_pss(int pid)
{
	char path[64], line[256];
	long kb = 0, v;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "Pss: %ld kB", &v) == 1) {
			kb = v;
			break;
		}
	fclose(fp);
	return kb;
}

/* One measure of the tree under root: returns the number of processes. */
static int
pt_measure(int root, double *cpu, long *pss)
{
	static struct pt_proc procs[PT_MAXPROC];
	static char in[PT_MAXPROC];
	struct dirent *de;
	DIR *d;
	int n = 0, i, changed, count = 0;
	unsigned long total = 0;

	*pss = 0;
	*cpu = 0;
	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < PT_MAXPROC) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		procs[n].pid = atoi(de->d_name);
		if (pt_stat(procs[n].pid, &procs[n].ppid, &procs[n].ticks) == 0)
			n++;
	}
	closedir(d);
	memset(in, 0, n);
	for (i = 0; i < n; i++)
		if (procs[i].pid == root)
			in[i] = 1;
	/* Close the set under "parent is in": at most n passes. */
	do {
		changed = 0;
		for (i = 0; i < n; i++) {
			int j;

			if (in[i])
				continue;
			for (j = 0; j < n; j++)
				if (in[j] && procs[j].pid == procs[i].ppid) {
					in[i] = changed = 1;
					break;
				}
		}
	} while (changed);
	for (i = 0; i < n; i++) {
		if (!in[i])
			continue;
		count++;
		total += procs[i].ticks;
		*pss += pt_pss(procs[i].pid);
	}
	*cpu = (double)total / sysconf(_SC_CLK_TCK);
	return count;
}

int
main(int argc, char **argv)
{
	struct timespec ts;
	long pss, peak = 0, max = 36000, samples = 0;
	double cpu, lastcpu = 0;
	int c, interval = 0, root, procs, pmax = 0;

	while ((c = getopt(argc, argv, "i:n:")) != -1) {
		switch (c) {
		case 'i': interval = atoi(optarg); break;
		case 'n': max = atol(optarg); break;
		default: goto usage;
		}
	}
	if (optind != argc - 1 || (root = atoi(argv[optind])) <= 0 ||
	    interval < 0)
		goto usage;
	if (interval == 0) {
		procs = pt_measure(root, &cpu, &pss);
		printf("procs=%d cpu_s=%.2f pss_kb=%ld\n", procs, cpu, pss);
		return procs > 0 ? 0 : 1;
	}
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	ts.tv_sec = interval / 1000;
	ts.tv_nsec = (interval % 1000) * 1000000L;
	while (!stop && samples < max) {
		if ((procs = pt_measure(root, &cpu, &pss)) == 0)
			break;
		samples++;
		lastcpu = cpu;
		if (pss > peak)
			peak = pss;
		if (procs > pmax)
			pmax = procs;
		nanosleep(&ts, NULL);
	}
	printf("samples=%ld procs_max=%d pss_peak_kb=%ld cpu_s=%.2f\n",
	    samples, pmax, peak, lastcpu);
	return 0;
usage:
	fprintf(stderr, "usage: proctree [-i ms [-n max]] pid\n");
	return 2;
}
