"""Medians across rounds, subject/peer ratios, the Markdown table and the JSON file."""
import json
import math
import os
import statistics

METRICS = ["rps", "cpu_us_per_req", "user_us_per_req", "sys_us_per_req", "cpu_pct", "p50_us",
           "p99_us", "rss_kb", "hwm_kb"]
RATIOS = ["rps", "cpu_us_per_req", "p99_us", "rss_kb"]
HIGHER_IS_BETTER = {"rps"}


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _spread(values):
    """Half the min-max range as a % of the median: a rough noise gauge."""
    values = [v for v in values if v is not None]
    if len(values) < 2 or not statistics.median(values):
        return None
    return 50.0 * (max(values) - min(values)) / statistics.median(values)


def sign_test(wins, losses):
    """Two-sided exact sign test: the chance of a split at least this uneven between two
    proxies that are in truth level (ties left out). Noise alone makes a median ratio stray
    from 1 on this machine; a small p says the difference is more than noise."""
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def _paired(mine, theirs, k):
    """Per-round ratios of one metric, and the rounds in which the subject did better."""
    pairs = [(mine[r["round"]].get(k), r.get(k)) for r in theirs if r["round"] in mine]
    ratios = [a / b for a, b in pairs if a is not None and b]
    better = sum(1 for x in ratios if (x > 1 if k in HIGHER_IS_BETTER else x < 1))
    worse = sum(1 for x in ratios if (x < 1 if k in HIGHER_IS_BETTER else x > 1))
    return {"median": _median(ratios), "better": better, "worse": worse,
            "rounds": len(ratios), "p": sign_test(better, worse)}


def summarize(runs, proxies, subject):
    by = {p: [r for r in runs if r["proxy"] == p] for p in proxies}
    medians = {}
    for p, rs in by.items():
        m = {k: _median([r.get(k) for r in rs]) for k in METRICS}
        m["errors"] = sum(r["errors"] for r in rs)
        m["rounds"] = len(rs)
        m["rps_spread_pct"] = _spread([r["rps"] for r in rs])
        m["cpu_spread_pct"] = _spread([r.get("cpu_us_per_req") for r in rs])
        medians[p] = m
    ratios = {}
    if subject in by:
        mine = {r["round"]: r for r in by[subject]}
        for p in proxies:
            if p in (subject, "direct"):
                continue
            # pair runs of the same round, then take the median
            ratios[p] = {k: _paired(mine, by[p], k) for k in RATIOS}
    return medians, ratios


def _f(v, scale=1.0, digits=1):
    return "–" if v is None else f"{v / scale:,.{digits}f}"


def _x(r):
    if r["median"] is None:
        return "–"
    return f"{r['median']:.2f}× · {r['better']}/{r['rounds']}, p {r['p']:.2f}"


def markdown(meta, medians, ratios, subject):
    lines = [f"## {meta['case']}: {meta['rounds']} rounds × {meta['duration']} s, "
             f"`{meta['load']}`; proxy on CPU {meta['proxy_cpu']}, "
             f"backend + {meta['client']} on CPU {meta['load_cpu']}", "",
             "| proxy | req/s | CPU µs/req | user, kernel µs/req | proxy CPU % | p50 ms | p99 ms "
             "| RSS MiB | peak RSS MiB | spread req/s, µs/req | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for p, m in medians.items():
        spread = ", ".join("–" if v is None else f"±{v:.1f}%"
                           for v in (m["rps_spread_pct"], m["cpu_spread_pct"]))
        split = f"{_f(m['user_us_per_req'], digits=2)}, {_f(m['sys_us_per_req'], digits=2)}"
        lines.append(f"| {p} | {_f(m['rps'], digits=0)} | {_f(m['cpu_us_per_req'], digits=2)} "
                     f"| {split} | {_f(m['cpu_pct'])} | {_f(m['p50_us'], 1e3, 3)} | {_f(m['p99_us'], 1e3, 3)} "
                     f"| {_f(m['rss_kb'], 1024)} | {_f(m['hwm_kb'], 1024)} | {spread} | {m['errors']} |")
    lines.append("")
    lines.append(f"Medians across rounds; `direct` = {meta['client']} straight to the backend "
                 "(no proxy).")
    if ratios:
        lines += ["", f"### {subject} / peer (median of per-round ratios)", "",
                  "| peer | req/s (>1 better) | CPU µs/req (<1 better) | p99 (<1 better) "
                  "| RSS (<1 better) |", "|---|---:|---:|---:|---:|"]
        for p, r in ratios.items():
            lines.append(f"| {p} | {_x(r['rps'])} | {_x(r['cpu_us_per_req'])} "
                         f"| {_x(r['p99_us'])} | {_x(r['rss_kb'])} |")
        lines += ["", f"Each cell: the median ratio · the rounds in which {subject} did better, "
                  "of all paired rounds, and the sign test's p: the chance of so uneven a split "
                  "if both were level. Above about 0.05, the difference is within the noise."]
    return "\n".join(lines)


def write_json(path, meta, runs, medians, ratios):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    runs = [{k: v for k, v in r.items() if k != "raw"} for r in runs]
    with open(path, "w") as f:
        json.dump({"meta": meta, "medians": medians, "ratios": ratios, "runs": runs},
                  f, indent=2)
        f.write("\n")
