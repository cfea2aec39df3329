"""Markdown tables for ``benchmarks.scale`` results, and the machine they were measured on."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path


def machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    mem_kib = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
                   if ln.startswith("MemTotal"))
    versions = {}
    for pkg in ("torch", "onnxruntime", "faiss-cpu", "sentence-transformers", "langchain-community", "bm25s"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "-"
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem_kib / 2**20, 1),
            "python": platform.python_version(), "versions": versions}


def _ms(lat: dict | None) -> str:
    return f"{lat['p50']:.0f} / {lat['p95']:.0f}" if lat else "–"


def _ratio(peer: float | None, ours: float | None) -> str:
    return f"{peer / ours:.1f}×" if peer and ours else "–"


def _sizes(results: dict) -> list[tuple[str, dict]]:
    """(row label, result) per measured size; stand-in rows say so and sort after the real one."""
    rows = [(int(k.split("-")[0]), k.endswith("standin"), v) for k, v in results.items() if k[:1].isdigit()]
    return [(f"{n:,}" + (" (stand-in vectors)" if s else ""), v) for n, s, v in sorted(rows, key=lambda r: r[:2])]


def _hit(r: dict, value: float) -> str:
    return "–" if r.get("stand_in") else f"{value:.3f}"


def _table(title: str, *columns: str) -> list[str]:
    return [f"\n#### {title}\n", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]


def render(results: dict) -> str:
    out: list[str] = []
    m = results.get("machine", {})
    if m:
        v = m["versions"]
        out.append(f"Machine: {m['nproc']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, Python {m['python']}, "
                   f"torch {v['torch']}, onnxruntime {v['onnxruntime']}, faiss {v['faiss-cpu']}, "
                   f"langchain-community {v['langchain-community']}. Load average (1 min) before → after "
                   "each size is in the last column: the machine is shared, so compare within a row.\n")
    out += _table("Build (ours)", "items", "chunks", "build", "chunks/s", "of which embedding",
                  "build without model", "index on disk", "build peak RSS", "load")
    for n, r in _sizes(results):
        b, idx = r.get("build"), r.get("index_mib", {})
        if not b:
            continue
        chunks = b.get("chunks", 0)
        state = "" if b["done"] else " (unfinished)"
        sessions = f", {b['sessions']} sessions" if b["sessions"] > 1 else ""
        disk = f"{sum(idx.values()):.0f} MiB (vectors {idx.get('vectors.faiss', 0):.0f}, bm25 {idx.get('bm25', 0):.0f})"
        re_s = r.get("reindex", {}).get("seconds")
        out.append(f"| {n} | {chunks:,} | {b['seconds']:.0f} s{state}{sessions} | {chunks / b['seconds']:.1f} | "
                   f"{b['embed_seconds']:.0f} s ({b['backend']}) | {f'{re_s:.0f} s' if re_s else '–'} | {disk} | "
                   f"{b['peak_rss_mib']:.0f} MiB | {r.get('load_before', 0):.1f} → {r.get('load_after', 0):.1f} |")
    out += _table("Serving (ours; 200 title questions + 300 RGB questions, after warm-up; ms p50 / p95)",
                  "items", "bot ready", "search", "ask", "serving peak RSS", "title hit@5", "answered")
    for n, r in _sizes(results):
        s = r.get("serve")
        if s:
            out.append(f"| {n} | {s['ready_s']:.1f} s (load {s['load_s']:.1f}, warm-up {s['warm_up_s']:.1f}) | "
                       f"{_ms(s['search'])} | {_ms(s['ask'])} | {s['peak_rss_mib']:.0f} MiB | {_hit(r, s['hit5'])} | "
                       f"{s['found']}/{s['search']['n']} |")
    out += _table("Peer: Langchain-Chatchat's ensemble retrieval on the same chunks and vectors "
                  "(ratio = peer ÷ ours)", "items", "index build from vectors: peer / ours",
                  "search p50 / p95 ms: peer (ours)", "p95 ratio", "as Chatchat runs it (BM25 rebuilt per query) p50",
                  "peak RSS: peer / ours", "title hit@5 peer (ours)", "from-scratch build: peer / ours")
    for n, r in _sizes(results):
        p, s, b = r.get("peer", {}), r.get("serve", {}), r.get("build", {})
        c = p.get("cached")
        if not c or not s:
            continue
        re_s = r.get("reindex", {}).get("seconds")
        pq, sc = p.get("per-query"), p.get("scratch")
        per_query = f"{pq['search']['p50']:,.0f} ms ({_ratio(pq['search']['p50'], s['search']['p50'])})" if pq else "–"
        scratch = (f"{sc['build_s']:.0f} s ({sc['backend']}) / {b['seconds']:.0f} s ({b['backend']})"
                   if sc and b else "–")
        out.append(
            f"| {n} | {c['build_s']:.0f} s / {re_s or 0:.0f} s ({_ratio(c['build_s'], re_s)}) | "
            f"{_ms(c['search'])} ({_ms(s['search'])}) | {_ratio(c['search']['p95'], s['search']['p95'])} | "
            f"{per_query} | "
            f"{c['peak_rss_mib']:.0f} / {s['peak_rss_mib']:.0f} MiB ({_ratio(c['peak_rss_mib'], s['peak_rss_mib'])}) | "
            f"{_hit(r, c['hit5'])} ({_hit(r, s['hit5'])}) | "
            f"{scratch} |")
    out += _table("Adding one page while questions are answered (asks in a second thread; ms p50 / p95)",
                  "items", "update + swap", "asks before", "asks during", "asks after", "longest wait for an answer",
                  "chunks embedded / re-tokenised")
    for n, r in _sizes(results):
        u = r.get("update")
        if u:
            out.append(f"| {n} | {u['seconds']:.1f} s | {_ms(u['before'])} | {_ms(u['during'])} "
                       f"({u['during']['n']} asks) | {_ms(u['after'])} | {u['longest_gap_ms']:,.0f} ms | "
                       f"{u['embedded']} / {u.get('tokenized', '–')} ({u['page']}) |")
    return "\n".join(out) + "\n"


def write_section(path: Path, body: str, name: str = "scale") -> None:
    """Replace the text between ``<!-- name:begin -->`` and ``<!-- name:end -->`` in ``path``
    (the file and the markers are added if missing)."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmarks\n"
    if begin not in text:
        text += f"\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1] if end in rest else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{head}{begin}\n{body}{end}{tail}", encoding="utf-8")
