"""Runs a PromQL corpus against two Prometheus-compatible APIs and compares the answers.

Each query runs as an instant query at three times and as a range query over the
last hour at two steps (five answers per query). The first URL is the reference
(Prometheus), the second the candidate (infersight).

Two answers match when both are errors of the same errorType, or both succeed
with the same resultType, the same set of label sets, the same timestamps and
values equal within --rel-tol (relative) or --abs-tol (absolute); NaN equals NaN
and infinities equal themselves. Series order counts only for instant queries
whose outermost call is sort() or sort_desc(), and then only as the order of
the values, since Prometheus orders ties arbitrarily.

Usage: compare.py --reference URL --candidate URL --meta meta.json
                  [--queries queries.txt] [--known known_differences.tsv] [--out DIR]
Exit status: 0 if every answer matches or each differing query is listed in
the known-differences file, 1 otherwise, 2 on a usage or setup error.
"""

import argparse
import collections
import concurrent.futures
import json
import math
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def load_queries(path):
    queries, seen = [], set()
    with open(path) as lines:
        for number, line in enumerate(lines, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            if "\t" not in line:
                sys.exit(f"{path}:{number}: expected id<TAB>query")
            query_id, query = line.split("\t", 1)
            if query_id in seen:
                sys.exit(f"{path}:{number}: duplicate query id {query_id}")
            seen.add(query_id)
            queries.append((query_id, query))
    return queries


def load_known(path):
    known = {}
    if not path or not os.path.exists(path):
        return known
    with open(path) as lines:
        for number, line in enumerate(lines, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            query_id, _, reason = line.partition("\t")
            if not reason.strip():
                sys.exit(f"{path}:{number}: expected query_id<TAB>reason")
            known[query_id] = reason.strip()
    return known


def modes(meta):
    """The five evaluations of every query, as (name, endpoint, params)."""
    start_s = meta["start_ms"] / 1000
    # A few seconds after the last grid scrape, so every instance's offset
    # and jittered last scrape is in the past.
    end_s = meta["end_ms"] / 1000 + 5
    instants = [("instant@end", end_s),
                ("instant@end-23m17.5s", end_s - 23 * 60 - 17.5),
                ("instant@start+77m3s", start_s + 77 * 60 + 3)]
    out = [(name, "query", {"time": f"{t:.3f}"}) for name, t in instants]
    for step in (15, 60):
        out.append((f"range[1h:{step}s]", "query_range",
                    {"start": f"{end_s - 3600:.3f}", "end": f"{end_s:.3f}", "step": str(step)}))
    return out


def substitute(query, meta):
    """Fills {{START}}, {{END}} and {{MID}} with times (seconds) inside the data."""
    start_s, end_s = meta["start_ms"] / 1000, meta["end_ms"] / 1000
    return (query.replace("{{START}}", f"{start_s:.3f}")
            .replace("{{END}}", f"{end_s:.3f}")
            .replace("{{MID}}", f"{(start_s + end_s) / 2:.3f}"))


def ask(base_url, endpoint, params, timeout):
    """One API call; returns the decoded JSON envelope or a synthetic error envelope."""
    body = urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(
        f"{base_url}/api/v1/{endpoint}", data=body, method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, text = err.code, err.read()
    except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
        return {"status": "error", "errorType": "client",
                "error": f"request failed: {err}"}
    try:
        envelope = json.loads(text)
        if not isinstance(envelope, dict) or "status" not in envelope:
            raise ValueError("no status field")
    except ValueError:
        return {"status": "error", "errorType": f"http_{status}",
                "error": f"not a Prometheus API response: {text[:200]!r}"}
    return envelope


def parse_value(text):
    return float(text)  # Python reads "NaN", "+Inf" and "-Inf" as Go writes them


def labels_key(metric):
    return tuple(sorted(metric.items()))


def show_labels(key):
    labels = dict(key)
    name = labels.pop("__name__", "")
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}" if inner or not name else name


def show_value(value):
    return repr(value) if not math.isnan(value) else "NaN"


def same_value(a, b, rel_tol, abs_tol):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:
        return True
    if math.isinf(a) or math.isinf(b):
        return False
    return abs(a - b) <= max(rel_tol * max(abs(a), abs(b)), abs_tol)


def ms(timestamp):
    return round(float(timestamp) * 1000)


def outermost_call(query):
    """The function name if the whole query is one call `f(...)`, else None."""
    query = query.strip()
    name_end = 0
    while name_end < len(query) and (query[name_end].isalnum() or query[name_end] == "_"):
        name_end += 1
    rest = query[name_end:].lstrip()
    if not name_end or not rest.startswith("("):
        return None
    depth, quote, i = 0, None, len(query) - len(rest)
    while i < len(query):
        ch = query[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return query[:name_end] if not query[i + 1:].strip() else None
        i += 1
    return None


_TOPK_PREFIX = re.compile(r"^\s*(topk|bottomk)\s*(?:(by|without)\s*\(([^)]*)\))?\s*\(", re.S)
_GROUPING_SUFFIX = re.compile(r"\)\s*(by|without)\s*\(([^)]*)\)\s*$", re.S)


def topk_grouping(query):
    """For a query that is one topk/bottomk, its grouping as (by|without|None, labels), else None."""
    prefix = _TOPK_PREFIX.match(query)
    if not prefix:
        return None
    if prefix.group(2):
        kind, names = prefix.group(2), prefix.group(3)
    else:
        suffix = _GROUPING_SUFFIX.search(query)
        if suffix:
            kind, names = suffix.group(1), suffix.group(2)
        elif outermost_call(query) in ("topk", "bottomk"):
            kind, names = None, ""
        else:
            return None
    return kind, [name.strip() for name in names.split(",") if name.strip()]


def same_up_to_ties(reference, candidate, grouping, rel_tol, abs_tol):
    """True when two topk/bottomk answers pick the same values in every group at every
    timestamp, and so differ at most in which of several equal series they chose."""
    kind, names = grouping

    def group_key(metric):
        if kind == "by":
            return tuple((name, metric.get(name, "")) for name in names)
        if kind == "without":
            return tuple(sorted((k, v) for k, v in metric.items()
                                if k not in names and k != "__name__"))
        return ()

    def picks(envelope):
        out = collections.defaultdict(list)
        for item in envelope["data"]["result"]:
            points = [item["value"]] if "value" in item else item.get("values", [])
            for t, v in points:
                out[(group_key(item["metric"]), ms(t))].append(parse_value(v))
        return {key: sorted(values, key=lambda x: (math.isnan(x), x))
                for key, values in out.items()}

    ref, cand = picks(reference), picks(candidate)
    return ref.keys() == cand.keys() and all(
        len(ref[k]) == len(cand[k])
        and all(same_value(a, b, rel_tol, abs_tol) for a, b in zip(ref[k], cand[k]))
        for k in ref)


class Diff:
    """What differs between two answers: a kind and a few lines of detail."""

    def __init__(self, kind, lines):
        self.kind, self.lines = kind, lines


def compare(reference, candidate, ordered, rel_tol, abs_tol, grouping=None):
    """Returns None when the answers match, else a Diff.

    grouping, for a topk/bottomk query (see topk_grouping), makes the answers
    match also when they chose different series among equal values: Prometheus
    breaks such ties by the order its heap happens to see the series in.
    """
    diff = compare_strict(reference, candidate, ordered, rel_tol, abs_tol)
    if (diff is not None and grouping is not None and diff.kind in ("series_set", "timestamps")
            and reference["data"]["resultType"] in ("vector", "matrix")
            and same_up_to_ties(reference, candidate, grouping, rel_tol, abs_tol)):
        return None
    return diff


def compare_strict(reference, candidate, ordered, rel_tol, abs_tol):
    """compare() without the allowance for topk/bottomk ties."""
    ref_ok = reference.get("status") == "success"
    cand_ok = candidate.get("status") == "success"
    if not ref_ok or not cand_ok:
        if ref_ok != cand_ok:
            def describe(env):
                if env.get("status") == "success":
                    return f"success ({env['data'].get('resultType')})"
                return f"{env.get('errorType')}: {str(env.get('error'))[:300]}"
            return Diff("error_mismatch", [f"prometheus: {describe(reference)}",
                                           f"infersight: {describe(candidate)}"])
        if reference.get("errorType") != candidate.get("errorType"):
            return Diff("error_type", [
                f"prometheus: {reference.get('errorType')}: {str(reference.get('error'))[:300]}",
                f"infersight: {candidate.get('errorType')}: {str(candidate.get('error'))[:300]}"])
        return None

    ref_type, cand_type = reference["data"]["resultType"], candidate["data"]["resultType"]
    if ref_type != cand_type:
        return Diff("result_type", [f"prometheus: {ref_type}", f"infersight: {cand_type}"])
    ref_result, cand_result = reference["data"]["result"], candidate["data"]["result"]

    if ref_type in ("scalar", "string"):
        lines = []
        if ms(ref_result[0]) != ms(cand_result[0]):
            lines.append(f"timestamp: prometheus {ref_result[0]} infersight {cand_result[0]}")
        if ref_type == "scalar":
            a, b = parse_value(ref_result[1]), parse_value(cand_result[1])
            if not same_value(a, b, rel_tol, abs_tol):
                lines.append(f"value: prometheus {show_value(a)} infersight {show_value(b)}")
        elif ref_result[1] != cand_result[1]:
            lines.append(f"value: prometheus {ref_result[1]!r} infersight {cand_result[1]!r}")
        return Diff("value", lines) if lines else None

    def index(result, points_key):
        series, duplicates = {}, []
        for item in result:
            key = labels_key(item["metric"])
            if key in series:
                duplicates.append(key)
            if points_key == "value":
                points = [item["value"]]
            else:
                points = item.get("values", [])
            series[key] = [(ms(t), parse_value(v)) for t, v in points]
        return series, duplicates

    points_key = "value" if ref_type == "vector" else "values"
    ref_series, _ = index(ref_result, points_key)
    cand_series, cand_dups = index(cand_result, points_key)
    if cand_dups:
        return Diff("duplicate_series",
                    [f"infersight returned {show_labels(k)} more than once" for k in cand_dups[:3]])

    missing = [k for k in ref_series if k not in cand_series]
    extra = [k for k in cand_series if k not in ref_series]
    if missing or extra:
        lines = [f"prometheus {len(ref_series)} series, infersight {len(cand_series)}"]
        lines += [f"only in prometheus: {show_labels(k)}" for k in sorted(missing)[:3]]
        if len(missing) > 3:
            lines.append(f"... and {len(missing) - 3} more only in prometheus")
        lines += [f"only in infersight: {show_labels(k)}" for k in sorted(extra)[:3]]
        if len(extra) > 3:
            lines.append(f"... and {len(extra) - 3} more only in infersight")
        return Diff("series_set", lines)

    timestamp_lines, value_lines, n_value_series = [], [], 0
    for key, ref_points in sorted(ref_series.items()):
        cand_points = cand_series[key]
        ref_times = [t for t, _ in ref_points]
        cand_times = [t for t, _ in cand_points]
        if ref_times != cand_times:
            only_ref = sorted(set(ref_times) - set(cand_times))
            only_cand = sorted(set(cand_times) - set(ref_times))
            timestamp_lines.append(
                f"{show_labels(key)}: {len(ref_times)} vs {len(cand_times)} points; "
                f"only in prometheus at {[t / 1000 for t in only_ref[:3]]}, "
                f"only in infersight at {[t / 1000 for t in only_cand[:3]]}")
            continue
        bad = [(t, a, b) for (t, a), (_, b) in zip(ref_points, cand_points)
               if not same_value(a, b, rel_tol, abs_tol)]
        if bad:
            n_value_series += 1
            if len(value_lines) < 3:
                t, a, b = bad[0]
                value_lines.append(
                    f"{show_labels(key)} @{t / 1000:.3f}: prometheus {show_value(a)} "
                    f"infersight {show_value(b)}" + (f" (+{len(bad) - 1} more points)"
                                                     if len(bad) > 1 else ""))
    if timestamp_lines:
        return Diff("timestamps", timestamp_lines[:3] + (
            [f"... {len(timestamp_lines) - 3} more series"] if len(timestamp_lines) > 3 else []))
    if value_lines:
        return Diff("value", [f"{n_value_series} of {len(ref_series)} series differ"]
                    + value_lines)

    if ordered and ref_type == "vector":
        ref_values = [parse_value(item["value"][1]) for item in ref_result]
        cand_values = [parse_value(item["value"][1]) for item in cand_result]
        if not all(same_value(a, b, rel_tol, abs_tol) for a, b in zip(ref_values, cand_values)):
            return Diff("order", [f"prometheus values in order: {ref_values[:8]}",
                                  f"infersight values in order: {cand_values[:8]}"])
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True, help="Prometheus base URL")
    parser.add_argument("--candidate", required=True, help="infersight base URL")
    parser.add_argument("--meta", required=True, help="meta.json written by generate.py")
    parser.add_argument("--queries", default=os.path.join(HERE, "queries.txt"))
    parser.add_argument("--known", default=os.path.join(HERE, "known_differences.tsv"))
    parser.add_argument("--out", help="directory for differences.txt and answers.jsonl")
    parser.add_argument("--only", help="run only query ids starting with this prefix")
    parser.add_argument("--rel-tol", type=float, default=1e-9)
    parser.add_argument("--abs-tol", type=float, default=1e-12,
                        help="absolute tolerance, for results that should be 0")
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()

    with open(args.meta) as f:
        meta = json.load(f)
    queries = load_queries(args.queries)
    if args.only:
        queries = [q for q in queries if q[0].startswith(args.only)]
    known = load_known(args.known)
    plan = modes(meta)

    def run(task):
        (query_id, raw_query), (mode, endpoint, params) = task
        query = substitute(raw_query, meta)
        params = {"query": query, **params}
        reference = ask(args.reference, endpoint, params, args.timeout)
        candidate = ask(args.candidate, endpoint, params, args.timeout)
        ordered = endpoint == "query" and outermost_call(query) in ("sort", "sort_desc")
        grouping = topk_grouping(query)
        diff = compare(reference, candidate, ordered, args.rel_tol, args.abs_tol, grouping)
        tie = diff is None and grouping is not None and compare_strict(
            reference, candidate, ordered, args.rel_tol, args.abs_tol) is not None
        return query_id, query, mode, reference, candidate, diff, tie

    tasks = [(q, m) for q in queries for m in plan]
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(run, tasks))

    answers_out = None
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        answers_out = open(os.path.join(args.out, "answers.jsonl"), "w")

    per_mode = collections.OrderedDict((m[0], collections.Counter()) for m in plan)
    per_kind = collections.Counter()
    by_query = collections.OrderedDict()
    ref_errors = 0
    n_ties = 0
    for query_id, query, mode, reference, candidate, diff, tie in results:
        counter = per_mode[mode]
        counter["answers"] += 1
        n_ties += tie
        ref_errors += reference.get("status") != "success"
        if answers_out:
            answers_out.write(json.dumps({"id": query_id, "mode": mode, "query": query,
                                          "prometheus": reference, "infersight": candidate,
                                          "diff": diff and diff.kind}) + "\n")
        if diff is None:
            counter["match"] += 1
            continue
        counter["known" if query_id in known else "differ"] += 1
        per_kind[diff.kind] += 1
        by_query.setdefault((query_id, query), []).append((mode, diff))
    if answers_out:
        answers_out.close()

    report = []
    emit = report.append
    n_answers = len(results)
    n_match = sum(c["match"] for c in per_mode.values())
    emit(f"{len(queries)} queries x {len(plan)} evaluations = {n_answers} answers compared "
         f"(Prometheus answered {ref_errors} of them with an error)")
    emit("")
    emit(f"{'evaluation':<24}{'answers':>9}{'match':>9}{'differ':>9}{'known':>9}{'match %':>10}")
    for mode, c in per_mode.items():
        pct = 100 * c["match"] / c["answers"] if c["answers"] else 100
        emit(f"{mode:<24}{c['answers']:>9}{c['match']:>9}{c['differ']:>9}{c['known']:>9}"
             f"{pct:>9.2f}%")
    total_known = sum(c["known"] for c in per_mode.values())
    total_differ = sum(c["differ"] for c in per_mode.values())
    pct = 100 * n_match / n_answers if n_answers else 100
    emit(f"{'total':<24}{n_answers:>9}{n_match:>9}{total_differ:>9}{total_known:>9}"
         f"{pct:>9.2f}%")
    if n_ties:
        emit(f"{n_ties} of the matching answers (topk/bottomk) match only up to ties "
             "between equal values")
    n_bad_queries = sum(1 for (qid, _) in by_query if qid not in known)
    emit(f"queries with an unlisted difference: {n_bad_queries} of {len(queries)}; "
         f"with a difference listed as known: "
         f"{sum(1 for (qid, _) in by_query if qid in known)}")
    if per_kind:
        emit("")
        emit("differences by kind: " + ", ".join(f"{k} {n}" for k, n in per_kind.most_common()))

    # Unlisted differences first: they are what fails the run.
    details = []
    for heading, listed in (("DIFFERENCES", False), ("KNOWN DIFFERENCES", True)):
        section = [(key, diffs) for key, diffs in by_query.items() if (key[0] in known) == listed]
        if not section:
            continue
        details += ["", heading, ""]
        for (query_id, query), diffs in section:
            tag = f"  [known: {known[query_id]}]" if listed else ""
            details.append(f"--- {query_id}{tag}")
            details.append(f"    {query}")
            for mode, diff in diffs:
                details.append(f"    {mode}: {diff.kind}")
                details.extend(f"        {line}" for line in diff.lines)
    ran = {query_id for query_id, _ in queries}
    stale = sorted(qid for qid in known if qid in ran and qid not in {q for q, _ in by_query})
    if stale:
        details.append("")
        details.append("listed as known but matching now (remove from the list): "
                       + ", ".join(stale))

    print("\n".join(report + details))
    if args.out:
        with open(os.path.join(args.out, "differences.txt"), "w") as out:
            out.write("\n".join(report + details) + "\n")
    sys.exit(1 if n_bad_queries else 0)


if __name__ == "__main__":
    main()
