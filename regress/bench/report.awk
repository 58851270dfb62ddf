# regress/bench/report.awk: the bench table from the results lines
#   MTA MODE SCENARIO ROUND ok acc=N rate=R dlv=N drate=R cpu_ms=C pss_mb=M p50=.. p99=.. errs=..
#   MTA MODE SCENARIO ROUND skip reason=WHY
# For each (mode, scenario, MTA) the median of the rounds; then, when
# both ran, the ratio smtpd/postfix of each figure.

function median(key,    n, i, j, t, v) {
	n = cnt[key]
	if (n == 0)
		return -1
	for (i = 1; i <= n; i++)
		v[i] = val[key, i]
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	if (n % 2)
		return v[(n + 1) / 2]
	return (v[n / 2] + v[n / 2 + 1]) / 2
}

function add(key, x) {
	val[key, ++cnt[key]] = x
}

function fmt(x, f) {
	return x < 0 ? "-" : sprintf(f, x)
}

function ratio(a, b) {
	return (a < 0 || b <= 0) ? "-" : sprintf("%.2f", a / b)
}

{
	id = $2 " " $3
	if (!(id in seen)) {
		seen[id] = 1
		order[++nid] = id
	}
	mtas[$1] = 1
	k = id SUBSEP $1
	if ($5 == "skip") {
		skip[k] = $6
		next
	}
	ran[k] = 1
	for (i = 6; i <= NF; i++) {
		split($i, kv, "=")
		f[kv[1]] = kv[2]
	}
	add(k SUBSEP "rate", f["rate"])
	add(k SUBSEP "drate", f["dlv"] > 0 ? f["drate"] : -1)
	add(k SUBSEP "dlvpct", f["acc"] > 0 ? 100 * f["dlv"] / f["acc"] : 0)
	add(k SUBSEP "cpu", f["cpu_ms"])
	add(k SUBSEP "pss", f["pss_mb"])
	add(k SUBSEP "p50", f["p50"])
	add(k SUBSEP "p99", f["p99"])
	if (f["errs"] != "-")
		errs[k] = errs[k] " " f["errs"]
}

END {
	hdr = sprintf("%-8s %-8s %-8s %10s %11s %9s %10s %9s %8s %8s  %s",
	    "mode", "scenario", "mta", "accepted/s", "delivered/s", "dlv%",
	    "cpu_ms/msg", "pss_MB", "p50_ms", "p99_ms", "notes")
	print hdr
	gsub(/./, "-", hdr)
	print hdr
	for (o = 1; o <= nid; o++) {
		split(order[o], m, " ")
		for (t = 0; t < 2; t++) {
			mta = t == 0 ? "smtpd" : "postfix"
			k = order[o] SUBSEP mta
			if (k in skip) {
				printf "%-8s %-8s %-8s %10s %11s %9s %10s %9s %8s %8s  %s\n",
				    m[1], m[2], mta, "-", "-", "-", "-", "-", "-",
				    "-", skip[k]
				continue
			}
			if (!(k in ran))
				continue
			for (x in fig)
				delete fig[x]
			fig[mta, "rate"] = median(k SUBSEP "rate")
			printf "%-8s %-8s %-8s %10s %11s %9s %10s %9s %8s %8s  %s\n",
			    m[1], m[2], mta, fmt(median(k SUBSEP "rate"), "%.1f"),
			    fmt(median(k SUBSEP "drate"), "%.1f"),
			    fmt(median(k SUBSEP "dlvpct"), "%.0f%%"),
			    fmt(median(k SUBSEP "cpu"), "%.2f"),
			    fmt(median(k SUBSEP "pss"), "%.1f"),
			    fmt(median(k SUBSEP "p50"), "%.1f"),
			    fmt(median(k SUBSEP "p99"), "%.1f"),
			    (k in errs) ? "errors:" errs[k] : ""
		}
		a = order[o] SUBSEP "smtpd"
		b = order[o] SUBSEP "postfix"
		if ((a in ran) && (b in ran))
			printf "%-8s %-8s %-8s %10s %11s %9s %10s %9s %8s %8s  %s\n",
			    m[1], m[2], "ratio",
			    ratio(median(a SUBSEP "rate"), median(b SUBSEP "rate")),
			    ratio(median(a SUBSEP "drate"), median(b SUBSEP "drate")),
			    "",
			    ratio(median(a SUBSEP "cpu"), median(b SUBSEP "cpu")),
			    ratio(median(a SUBSEP "pss"), median(b SUBSEP "pss")),
			    ratio(median(a SUBSEP "p50"), median(b SUBSEP "p50")),
			    ratio(median(a SUBSEP "p99"), median(b SUBSEP "p99")),
			    "smtpd/postfix"
	}
}
