#!/usr/bin/env python3
"""Times the dashboard's pages against a running `vigil serve`, as a browser
would fetch them (one request at a time, whole body read), and prints p50 / p99
per page. Usage:

    python3 bench/pages.py --base http://127.0.0.1:8080 [--sessions 20] [--repeat 5] [--only chain]

`--only` keeps the pages whose name contains the text ("chain": the intent
chain's JSON, `GET /api/sessions/{id}`, for the random sessions).
"""
import argparse
import json
import random
import statistics
import sys
import time
import urllib.parse
import urllib.request


def fetch(url):
    t = time.perf_counter()
    with urllib.request.urlopen(url) as r:
        body = r.read()
        status = r.status
    return (time.perf_counter() - t) * 1000.0, status, len(body)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8080")
    ap.add_argument("--sessions", type=int, default=20, help="random sessions for the session page")
    ap.add_argument("--repeat", type=int, default=5, help="fetches of each list page")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default="", help="time only the pages whose name contains this")
    args = ap.parse_args()
    random.seed(args.seed)
    base = args.base.rstrip("/")
    with urllib.request.urlopen(base + "/api/sessions?limit=1000") as r:
        ids = [s["session_id"] for s in json.load(r)["sessions"]]
    if not ids:
        sys.exit("no sessions in the store")
    sample = random.sample(ids, min(args.sessions, len(ids)))
    q = urllib.parse.quote("SELECT session_id, count(*) AS n FROM agent_actions WHERE session_id = '%s' GROUP BY 1" % sample[0])
    pages = {
        "overview (last day)": ["/?range=day"] * args.repeat,
        "overview (all time)": ["/?range=all"] * args.repeat,
        "sessions": ["/sessions"] * args.repeat,
        "sessions, search": ["/sessions?q=curl"] * args.repeat,
        "session": ["/sessions/" + urllib.parse.quote(s) for s in sample],
        "chain (api)": ["/api/sessions/" + urllib.parse.quote(s) for s in sample],
        "findings": ["/findings"] * args.repeat,
        "rules": ["/rules"] * args.repeat,
        "sql (one session)": ["/sql?q=" + q] * args.repeat,
    }
    print(f"{'page':<22} {'n':>3} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'KiB':>6}")
    for name, urls in pages.items():
        if args.only not in name:
            continue
        fetch(base + urls[0])  # warm
        times, size = [], 0
        for u in urls:
            ms, status, n = fetch(base + u)
            if status != 200:
                sys.exit(f"{u}: HTTP {status}")
            times.append(ms)
            size = n
        print(f"{name:<22} {len(times):>3} {statistics.median(times):>8.1f} {pct(times, 99):>8.1f} {max(times):>8.1f} {size / 1024:>6.0f}")


if __name__ == "__main__":
    main()
