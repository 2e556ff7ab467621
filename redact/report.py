"""``redact report``: an audit file rendered for people (one self-contained HTML page) and for spreadsheets (CSV).

The page shows whether the audit's hash chain verifies, the job's settings and model versions, the runs the
audit covers, counts by kind and by file, the failures with their reasons, and for each file a thumbnail of its
REDACTED output with the removed regions outlined and labelled by kind. The original is never shown (the report
never reads the inputs) and nothing recognised is ever written (the audit holds none). Everything is inline:
CSS in the page, thumbnails as ``data:`` URIs, so the file can be mailed and archived as it is.

An audit can span many runs (``redact run`` from cron appends to one file): each file is reported by its latest
record, with the regions of the run that last produced its output.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from redact.audit import sha256_file, verify

THUMB_SIDE = 300  # longest side of a thumbnail, CSS pixels
THUMB_DPI = 50  # PDF pages are rendered at this resolution for thumbnails

KIND_COLOURS = {
    "face": "#d7263d", "person": "#1b4fd8", "email": "#7b2cbf", "phone": "#0a8f9e", "ssn": "#b45309",
    "payment_card": "#c0267a", "iban": "#4d7c0f", "date_of_birth": "#c2410c", "address": "#0f766e",
    "term": "#52525b", "logo": "#a16207", "manual": "#334155",
}
_SPARE = ["#e11d48", "#2563eb", "#059669", "#9333ea", "#d97706", "#0284c7"]


def kind_colour(kind: str) -> str:
    return KIND_COLOURS.get(kind) or _SPARE[int(hashlib.md5(kind.encode()).hexdigest(), 16) % len(_SPARE)]


@dataclass
class FileEntry:
    """One input file as the audit last saw it."""

    input: str
    latest: dict  # its last ``file`` record (ok, failed or skipped)
    last_ok: dict | None = None  # the last ``file`` record that wrote its output
    job: dict | None = None  # the ``job`` record of the run that wrote that output
    regions: list[dict] = field(default_factory=list)  # of that run
    tracks: list[dict] = field(default_factory=list)
    thumbnail: str = ""  # inline SVG, or "" when there is none
    note: str = ""  # why there is no thumbnail

    @property
    def status(self) -> str:
        return {"ok": "redacted", "skipped": "unchanged", "failed": "failed"}.get(self.latest.get("status"),
                                                                                 str(self.latest.get("status")))

    @property
    def kinds(self) -> Counter:
        c = Counter(r.get("kind", "?") for r in self.regions)
        c.update(t.get("kind", "track") for t in self.tracks)
        return c

    @property
    def output(self) -> str | None:
        return (self.last_ok or {}).get("output") or self.latest.get("output")


@dataclass
class Run:
    job: dict
    end: dict | None = None  # None: the run was interrupted (or is still running)


@dataclass
class ReportData:
    audit_path: Path
    chain_ok: bool
    chain_message: str
    records: int
    runs: list[Run]
    files: list[FileEntry]
    generated: str

    @property
    def failures(self) -> list[FileEntry]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def kinds(self) -> Counter:
        total = Counter()
        for f in self.files:
            total.update(f.kinds)
        return total

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.files)


def _read(path: Path) -> list[dict]:
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # verify() reports it; the report still shows the rest
            if isinstance(rec, dict):
                out.append(rec)
    return out


def build_report(audit_path: Path, thumbnails: bool = True) -> ReportData:
    audit_path = Path(audit_path)
    chain_ok, n, message = verify(audit_path)
    runs: list[Run] = []
    files: dict[str, FileEntry] = {}
    pending: list[dict] = []  # region/track records waiting for their file record
    job: dict | None = None
    for rec in _read(audit_path):
        kind = rec.get("type")
        if kind == "job":
            job, pending = rec, []  # regions left from an interrupted run belong to no finished file
            runs.append(Run(rec))
        elif kind in ("region", "track"):
            pending.append(rec)
        elif kind == "end" and runs:
            runs[-1].end = rec
        elif kind == "file":
            name = str(rec.get("input"))
            entry = files.get(name)
            if entry is None:
                entry = files[name] = FileEntry(name, rec)
            entry.latest = rec
            if rec.get("status") == "ok":
                entry.last_ok, entry.job = rec, job
                mine = [r for r in pending if r.get("file") == name]
                entry.regions = [r for r in mine if r.get("type") == "region"]
                entry.tracks = [r for r in mine if r.get("type") == "track"]
            pending = []
    data = ReportData(audit_path, chain_ok, message, n, runs, sorted(files.values(), key=lambda e: e.input),
                      time.strftime("%Y-%m-%d %H:%M:%S %Z"))
    if thumbnails:
        for entry in data.files:
            _add_thumbnail(entry)
    return data


# ---------------------------------------------------------------- thumbnails of the redacted outputs


def _locate(entry: FileEntry) -> Path | None:
    """The output file on disk: its recorded path, or that path under the run's working folder."""
    out = (entry.last_ok or {}).get("output")
    if not out:
        return None
    path = Path(out)
    if not path.exists() and not path.is_absolute() and entry.job and entry.job.get("cwd"):
        path = Path(entry.job["cwd"]) / path
    return path if path.exists() else None


def _busiest_index(regions: list[dict]) -> int:
    """The page or frame with the most regions (the first one when there are none)."""
    counts = Counter(int(r.get("index", 0)) for r in regions)
    return min(counts, key=lambda i: (-counts[i], i)) if counts else 0


def _render(path: Path, index: int, entry: FileEntry):
    """(RGB image of page/frame ``index`` of the output, scale from region pixels to its pixels, caption)."""
    from pipelines.directory import file_kind

    kind = file_kind(path)
    if kind == "image":
        from pipelines.image_io import read_image

        pages = read_image(path).pages
        index = min(index, len(pages) - 1)
        caption = f"page {index + 1} of {len(pages)}" if len(pages) > 1 else ""
        return pages[index], 1.0, caption
    if kind == "pdf":
        import numpy as np
        from pdf2image import convert_from_path, pdfinfo_from_path

        n = int(pdfinfo_from_path(str(path)).get("Pages", 1))
        index = min(index, n - 1)
        page = convert_from_path(str(path), dpi=THUMB_DPI, first_page=index + 1, last_page=index + 1)[0]
        dpi = float(((entry.job or {}).get("settings") or {}).get("dpi") or 200)
        return np.asarray(page.convert("RGB")), THUMB_DPI / dpi, f"page {index + 1} of {n}"
    if kind == "video":
        import av

        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            rate = float(stream.average_rate or 25)
            target = index / rate
            if target > 1 and stream.time_base:
                container.seek(int(target / stream.time_base), stream=stream, backward=True)
            frame = None
            for frame in container.decode(stream):
                if frame.time is None or frame.time >= target - 0.5 / rate:
                    break
            if frame is None:
                raise ValueError("no video frames")
            return frame.to_ndarray(format="rgb24"), 1.0, f"frame {index} ({target:.1f} s)"
    raise ValueError("not an image, PDF or video")


def _add_thumbnail(entry: FileEntry) -> None:
    if entry.last_ok is None:
        entry.note = "no output (the file failed)" if entry.status == "failed" else "no output recorded"
        return
    path = _locate(entry)
    if path is None:
        entry.note = "output no longer exists"
        return
    try:
        if entry.last_ok.get("output_sha256") and sha256_file(path) != entry.last_ok["output_sha256"]:
            entry.note = "output changed since it was redacted: not shown"
            return
        boxes = [r for r in entry.regions if "box" in r] + [t for t in entry.tracks if "box" in t]
        index = _busiest_index(boxes)
        spans = [t for t in entry.tracks if "first_frame" in t and "last_frame" in t]
        if spans and not boxes:  # video tracks without per-frame boxes: show the middle of the longest track
            longest = max(spans, key=lambda t: int(t["last_frame"]) - int(t["first_frame"]))
            index = (int(longest["first_frame"]) + int(longest["last_frame"])) // 2
        image, scale, caption = _render(path, index, entry)
        if spans:
            caption += "; " + ", ".join(f"{t.get('kind', 'track')} track frames {t['first_frame']}-{t['last_frame']}"
                                        for t in spans[:6]) + (" ..." if len(spans) > 6 else "")
            if not boxes:
                caption += " (the audit holds no per-frame boxes to outline)"
        entry.thumbnail = _svg(image, [r for r in boxes if int(r.get("index", 0)) == index], scale, caption)
    except Exception as exc:  # a preview must never stop the report
        entry.note = f"no preview: {' '.join(str(exc).split())[:120] or exc.__class__.__name__}"


def _svg(image, regions: list[dict], scale: float, caption: str) -> str:
    """The image scaled to a thumbnail with each region outlined and labelled by kind, as inline SVG."""
    from PIL import Image

    h, w = image.shape[:2]
    f = min(1.0, THUMB_SIDE / max(h, w))
    tw, th = max(1, round(w * f)), max(1, round(h * f))
    buf = io.BytesIO()
    Image.fromarray(image).resize((tw, th), Image.LANCZOS).save(buf, "JPEG", quality=80)
    uri = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
    parts = [f'<svg class="thumb" viewBox="0 0 {tw} {th}" width="{tw}" height="{th}" role="img" '
             f'aria-label="redacted output with {len(regions)} outlined region(s)">',
             f'<image href="{uri}" width="{tw}" height="{th}"/>']
    s = scale * f
    for r in regions:
        x0, y0, x1, y1 = (float(v) * s for v in r["box"])
        x0, y0 = max(0.0, x0), max(0.0, y0)
        x1, y1 = min(float(tw), x1), min(float(th), y1)
        if x1 <= x0 or y1 <= y0:
            continue
        kind = str(r.get("kind", "?"))
        text = kind + (f": {r['label']}" if r.get("label") else "")
        colour = kind_colour(kind)
        ly = y0 - 1 if y0 >= 11 else y1 + 10
        parts.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" '
                     f'fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<text x="{x0 + 1:.1f}" y="{ly:.1f}" class="lbl" fill="{colour}">{html.escape(text)}</text>')
    parts.append("</svg>")
    if caption:
        parts.append(f'<div class="cap">{html.escape(caption)}</div>')
    return "".join(parts)


# ---------------------------------------------------------------- HTML

CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;color:#1f2937;background:#f4f5f7;
margin:0;padding:28px 36px}
main{max-width:1180px;margin:0 auto}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:17px;margin:30px 0 10px;padding-bottom:5px;border-bottom:2px solid #d1d5db}
.sub{color:#4b5563;margin:0 0 16px}
.mono{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
.banner{padding:10px 14px;border-radius:6px;font-weight:600;margin:12px 0}
.banner.ok{background:#e7f6ec;color:#14532d;border:1px solid #86efac}
.banner.bad{background:#fdecec;color:#7f1d1d;border:1px solid #fca5a5}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:8px 0}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px 16px;min-width:150px}
.card b{display:block;font-size:26px;line-height:1.1}
.card span{color:#4b5563}
.card.failed b{color:#b91c1c}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #e5e7eb}
th,td{padding:7px 10px;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top}
th{background:#f9fafb;font-weight:600;color:#374151}
td.num,th.num{text-align:right}
.two{display:grid;grid-template-columns:1fr 1fr;gap:18px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.badge.redacted{background:#dcfce7;color:#166534}
.badge.unchanged{background:#e0e7ff;color:#3730a3}
.badge.failed{background:#fee2e2;color:#991b1b}
.chip{display:inline-block;margin:0 4px 3px 0;padding:0 7px;border-radius:9px;font-size:12px;color:#fff}
.swatch{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.files td.thumbcell{width:330px}
svg.thumb{display:block;max-width:100%;height:auto;border:1px solid #d1d5db;background:#fff}
svg .lbl{font:bold 10px "DejaVu Sans",Arial,sans-serif;paint-order:stroke;stroke:#fff;stroke-width:3px}
.cap,.note{color:#6b7280;font-size:12px;margin-top:3px}
.reason{color:#991b1b}
.fname{font-weight:600;word-break:break-all}
footer{margin-top:30px;color:#6b7280;font-size:12px}
@media print{body{background:#fff;padding:0}.card,table{border-color:#bbb}tr{page-break-inside:avoid}}
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _chips(kinds: Counter) -> str:
    if not kinds:
        return '<span class="note">nothing found</span>'
    return "".join(f'<span class="chip" style="background:{kind_colour(k)}">{_e(k)} {n}</span>'
                   for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))


def _settings_table(job: dict) -> str:
    settings = job.get("settings") or {}
    rows = "".join(f"<tr><th>{_e(k)}</th><td class=mono>{_e(json.dumps(v) if isinstance(v, (list, dict)) else v)}"
                   f"</td></tr>" for k, v in settings.items())
    return f"<table>{rows}</table>"


def _models_table(data: ReportData) -> str:
    models: dict[str, str] = {}
    for run in data.runs:
        models.update(run.job.get("models") or {})
    for f in data.files:  # detectors load as files need them, so file records name them
        models.update((f.last_ok or {}).get("models") or {})
    rows = "".join(f"<tr><th>{_e(k)}</th><td class=mono>{_e(v)}</td></tr>" for k, v in sorted(models.items()))
    job = data.runs[-1].job if data.runs else {}
    rows += "".join(f"<tr><th>{label}</th><td class=mono>{_e(job.get(key))}</td></tr>"
                    for label, key in (("redact version", "version"), ("settings fingerprint", "fingerprint"),
                                       ("device", "device"), ("host", "host"), ("python", "python")))
    return f"<table>{rows}</table>"


def _runs_table(data: ReportData) -> str:
    rows = []
    for run in data.runs[::-1]:
        end = run.end
        counts = (f"<td class=num>{end.get('files_ok', 0)}</td><td class=num>{end.get('files_skipped', 0)}</td>"
                  f"<td class=num>{end.get('files_failed', 0)}</td>") if end else \
            '<td colspan=3 class="reason">interrupted (resumed by the next run)</td>'
        rows.append(f"<tr><td>{_e(run.job.get('time'))}</td><td>{_e(run.job.get('command'))}</td>"
                    f"<td class=mono>{_e(run.job.get('version'))}</td><td class=mono>{_e(run.job.get('fingerprint'))}"
                    f"</td>{counts}</tr>")
    return ("<table><tr><th>Started</th><th>Command</th><th>Version</th><th>Settings fingerprint</th>"
            "<th class=num>Redacted</th><th class=num>Unchanged</th><th class=num>Failed</th></tr>"
            + "".join(rows) + "</table>")


def _file_row(f: FileEntry) -> str:
    rec = f.latest
    when = (f.last_ok or rec).get("time")
    details = [f'<div class="fname">{_e(f.input)}</div>']
    if f.output:
        details.append(f'<div class="note">output: <span class=mono>{_e(f.output)}</span></div>')
    details.append(f'<div style="margin:6px 0"><span class="badge {_e(f.status)}">{_e(f.status)}</span></div>')
    if f.status == "failed":
        details.append(f'<div class="reason">{_e(rec.get("error"))}</div>')
        if f.last_ok:
            details.append(f'<div class="note">an output from {_e(f.last_ok.get("time"))} remains</div>')
    elif f.status == "unchanged":
        details.append(f'<div class="note">skipped on {_e(rec.get("time"))}: input and settings unchanged; '
                       f'redacted {_e(when)}</div>')
    else:
        details.append(f'<div class="note">redacted {_e(when)}</div>')
    if f.last_ok:
        pages = f.last_ok.get("pages")
        details.append(f'<div style="margin-top:6px">{_chips(f.kinds)}</div>')
        details.append(f'<div class="note">{sum(f.kinds.values())} region(s)'
                       f'{f", {pages} page(s)" if pages else ""}; style {_e((f.job or {}).get("settings", {}).get("style"))}'
                       f'</div>')
        details.append(f'<div class="note">input sha256 <span class=mono>{_e(str(f.last_ok.get("input_sha256"))[:16])}'
                       f'…</span> output sha256 <span class=mono>{_e(str(f.last_ok.get("output_sha256"))[:16])}…</span>'
                       f'</div>')
    thumb = f.thumbnail or f'<div class="note">{_e(f.note)}</div>'
    return f'<tr><td class="thumbcell">{thumb}</td><td>{"".join(details)}</td></tr>'


def _counts_by_file(data: ReportData) -> str:
    kinds = sorted(data.kinds)
    head = "".join(f'<th class=num><span class="swatch" style="background:{kind_colour(k)}"></span>{_e(k)}</th>'
                   for k in kinds)
    rows = []
    for f in data.files:
        c = f.kinds
        cells = "".join(f"<td class=num>{c.get(k, 0) or ''}</td>" for k in kinds)
        rows.append(f'<tr><td class="mono">{_e(f.input)}</td><td><span class="badge {_e(f.status)}">{_e(f.status)}'
                    f'</span></td><td class=num>{sum(c.values()) if f.last_ok else ""}</td>{cells}</tr>')
    return (f"<table><tr><th>File</th><th>Status</th><th class=num>Regions</th>{head}</tr>{''.join(rows)}</table>")


def render_html(data: ReportData) -> str:
    total = len(data.files)
    kinds = data.kinds
    files_with = Counter()
    for f in data.files:
        files_with.update(set(f.kinds))
    period = f"{data.runs[0].job.get('time')} to {data.runs[-1].job.get('time')}" if data.runs else "no runs"
    banner = (f'<div class="banner ok">Audit chain verified: {data.records} records, none altered, removed or '
              f'reordered.</div>' if data.chain_ok else
              f'<div class="banner bad">Audit chain does NOT verify: {_e(data.chain_message)}. Records after that '
              f'point cannot be trusted.</div>')
    cards = "".join(f'<div class="card {cls}"><b>{n}</b><span>{label}</span></div>' for n, label, cls in (
        (total, "files", ""), (data.count("redacted"), "redacted", ""),
        (data.count("unchanged"), "unchanged (skipped)", ""), (len(data.failures), "failed", "failed"),
        (sum(kinds.values()), "regions removed", "")))
    kind_rows = "".join(f'<tr><td><span class="swatch" style="background:{kind_colour(k)}"></span>{_e(k)}</td>'
                        f'<td class=num>{n}</td><td class=num>{files_with[k]}</td></tr>'
                        for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
    kind_table = (f"<table><tr><th>Kind</th><th class=num>Regions</th><th class=num>Files</th></tr>{kind_rows}</table>"
                  if kinds else '<p class="note">No regions were removed.</p>')
    if data.failures:
        failures = ("<table><tr><th>File</th><th>Reason</th><th>When</th></tr>" + "".join(
            f'<tr><td class="fname">{_e(f.input)}</td><td class="reason">{_e(f.latest.get("error"))}</td>'
            f'<td>{_e(f.latest.get("time"))}</td></tr>' for f in data.failures) + "</table>"
            + '<p class="note">No output was written for a failed file.</p>')
    else:
        failures = '<p>None: every file was redacted or was unchanged.</p>'
    latest_job = data.runs[-1].job if data.runs else {}
    body = f"""<main>
<h1>Redaction report</h1>
<p class="sub">Audit <span class=mono>{_e(data.audit_path)}</span> &middot; {len(data.runs)} run(s), {_e(period)}
&middot; generated {_e(data.generated)}</p>
{banner}
<p>This report lists every file that <span class=mono>redact</span> processed for this audit, what was removed
from it (by kind: faces, names, personal data, logos), which settings and model versions removed it, and which files
failed and why. It is built from the audit record alone and shows only redacted outputs.</p>
<div class="cards">{cards}</div>
<h2>Failures ({len(data.failures)})</h2>
{failures}
<h2>Removed regions by kind</h2>
{kind_table}
<div class="two"><div><h2>Settings of the latest run</h2>{_settings_table(latest_job)}</div>
<div><h2>Models and software</h2>{_models_table(data)}</div></div>
<h2>Runs</h2>
{_runs_table(data)}
<h2>Counts by file</h2>
{_counts_by_file(data)}
<h2>Files ({total})</h2>
<p class="note">Each thumbnail shows the redacted output (never the original) with every removed region outlined
and labelled by kind; for documents and videos the page or frame with the most regions is shown.</p>
<table class="files"><tr><th>Redacted output</th><th>File</th></tr>
{"".join(_file_row(f) for f in data.files)}
</table>
<footer>Produced by <span class=mono>redact report</span>. The audit holds no recognised text and no pixels; this
report shows only redacted outputs.</footer>
</main>"""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Redaction report - '
            f'{_e(data.audit_path.name)}</title><meta name="viewport" content="width=device-width">'
            f'<style>{CSS}</style></head><body>{body}</body></html>')


def write_html(data: ReportData, path: Path) -> None:
    Path(path).write_text(render_html(data), encoding="utf-8")


# ---------------------------------------------------------------- CSV


def write_csv(data: ReportData, path: Path) -> None:
    """One row per file: status, reason, counts by kind, hashes, models."""
    kinds = sorted(data.kinds)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["input", "output", "status", "reason", "time", "redacted_at", "regions", *kinds, "pages",
                    "input_sha256", "output_sha256", "fingerprint", "models"])
        for e in data.files:
            rec, ok = e.latest, e.last_ok or {}
            reason = rec.get("error") if e.status == "failed" else rec.get("reason", "")
            counts = e.kinds
            w.writerow([e.input, e.output or "", e.status, reason or "", rec.get("time", ""), ok.get("time", ""),
                        sum(counts.values()), *[counts.get(k, 0) for k in kinds], ok.get("pages") or "",
                        ok.get("input_sha256") or rec.get("input_sha256") or "", ok.get("output_sha256", ""),
                        ok.get("fingerprint", ""), json.dumps(ok.get("models") or {}, sort_keys=True)])
