#!/usr/bin/env python3
"""Checks that every panel query of dashboards/grafana/*.json returns data.

Usage: scripts/grafana-check.py [BASE_URL]   (default http://127.0.0.1:8490)

Point it at a running `infersight demo`. Template variables are replaced as
Grafana replaces them with "All" selected (`$model` → `.*`), and
`$__rate_interval` with 1m; each query runs through /api/v1/query. Prints
one line per panel and exits 1 if any query fails or returns nothing.
"""
import glob
import json
import os
import re
import sys
import urllib.parse
import urllib.request

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8490"
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dashboards", "grafana")


def substitute(expr):
    expr = expr.replace("$__rate_interval", "1m").replace("${__rate_interval}", "1m")
    return re.sub(r"\$\{?(\w+)(:\w+)?\}?", ".*", expr)


def query(expr):
    url = f"{BASE}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            body = json.load(response)
    except urllib.error.HTTPError as error:
        body = json.load(error)
    if body.get("status") != "success":
        raise RuntimeError(body.get("error"))
    return body["data"]["result"]


def panels(dashboard):
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def main():
    failed = total = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "*.json"))):
        dashboard = json.load(open(path))
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                expr = target.get("expr")
                if not expr:
                    continue
                total += 1
                try:
                    n = len(query(substitute(expr)))
                    status = "ok  " if n else "EMPTY"
                except Exception as error:  # noqa: BLE001 - reported per query
                    n, status = 0, f"FAIL ({error})"
                failed += n == 0
                print(f"{status} {os.path.basename(path)}: {panel.get('title')}: {n} series")
    print(f"{total - failed}/{total} panel queries returned data")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
