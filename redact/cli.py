"""The ``redact`` command line (a click group): each job command parses its options into ``Settings``, calls the
library API (``redact.api``) and exits with the report's code. Errors become one line and their exit code in one
place, ``handle_errors``. Exit codes: ``redact.core.errors.ExitCode`` and the README."""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from redact import __version__
from redact.core.console import Console
from redact.core.errors import ExitCode, UsageError, exit_code_of, one_line
from redact.core.registry import DETECTORS, FILLS
from redact.core.settings import Settings, parse_detect

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


def job_options(f):
    """Options shared by every job command; they fill a ``Settings``."""
    opts = [
        click.option("--detect", "detect", default=None, metavar="LIST",
                     help=f"Detectors: any of {','.join(DETECTORS.names())}. Default: faces for photos and videos, "
                          "names,pii,faces for documents."),
        click.option("--style", default=None, type=click.Choice(FILLS.names()),
                     help="How regions are removed (default: inpaint, RFR-Net; telea: OpenCV, 10-80x faster)."),
        click.option("--device", default=None, type=click.Choice(["auto", "cpu", "cuda"]),
                     help="Where models run (default auto: CUDA when present)."),
        click.option("--pad", default=None, type=float, help=f"Pixels added around every region (default {Settings.pad:g})."),
        click.option("--logos", default=None, type=click.Path(exists=True, file_okay=False), metavar="DIR",
                     help="Reference logos to remove (PNG, JPEG, SVG); adds the logos detector to the defaults."),
        click.option("--logo-threshold", "logo_threshold", default=None, type=click.FloatRange(0, 1),
                     help=f"Minimum probability that a logo match is the reference, 0-1 (default {Settings.logo_threshold})."),
        click.option("--weights", default=None, type=click.Path(dir_okay=False),
                     help="RFR-Net checkpoint for --style inpaint."),
        click.option("--terms", "terms", default=None, type=click.Path(exists=True, dir_okay=False),
                     help="File of strings (one a line) that must always be removed; matched ignoring case and "
                          "small OCR errors."),
        click.option("--allow", "allow", default=None, type=click.Path(exists=True, dir_okay=False),
                     help="File of strings (one a line) that must stay, e.g. your organisation's own name."),
        click.option("--audit", "audit_path", default=None, type=click.Path(dir_okay=False),
                     help="Audit file (JSON Lines). Default: audit.jsonl in the output folder."),
        click.option("--log-json", is_flag=True, help="Print messages as JSON lines (for machines)."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def pdf_options(f):
    """Options of the PDF job (``redact pdf`` and PDFs inside ``redact run``)."""
    opts = [
        click.option("--dpi", default=None, type=click.IntRange(36, 1200),
                     help="Resolution PDF pages are rendered, searched and written at (default 200)."),
        click.option("--password", default=None, envvar="REDACT_PDF_PASSWORD", show_envvar=True,
                     help="Password of encrypted PDFs (or set it in the environment variable)."),
        click.option("--ocr-layer", "ocr_layer", is_flag=True, default=None,
                     help="Add an invisible searchable text layer to output PDFs, holding only words that were "
                          "not redacted (OCR'd from the redacted pages)."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def make_settings(base: Settings | None = None, **options) -> Settings:
    """Settings from defaults (or a config's), overridden by the options given on the command line."""
    s = base or Settings()
    for name, value in options.items():
        if value is None or name not in Settings.field_names():
            continue
        if name == "detect":
            value = parse_detect(value)
        elif name in ("terms", "allow"):
            value = read_lines(value)
        setattr(s, name, value)
    return s


def read_lines(path) -> tuple[str, ...]:
    """The non-empty lines of a --terms or --allow file (lines starting with # are comments)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#"))


def handle_errors(f):
    """Map typed errors to one-line messages and exit codes; never a traceback."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            code = f(*args, **kwargs)
        except KeyboardInterrupt:
            click.echo("redact: interrupted", err=True)
            sys.exit(ExitCode.INTERRUPTED)
        except Exception as exc:  # typed errors carry their exit code; others (a model that cannot load): 1
            click.echo(f"redact: error: {one_line(exc)}", err=True)
            sys.exit(exit_code_of(exc))
        sys.exit(int(code or 0))

    return wrapper


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="redact")
def main():
    """Find faces, names, personal data and logos in images, PDFs and videos, and remove them."""


@main.command(context_settings=CONTEXT)
@click.argument("in_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (mirrors IN_DIR).")
@job_options
@handle_errors
def images(in_dir, out_dir, audit_path, log_json, **options):
    """Redact every image under IN_DIR (PNG, JPEG, TIFF, WebP, BMP) into OUT_DIR, same formats, no metadata."""
    from redact.api import redact_paths

    return redact_paths([in_dir], out_dir, make_settings(**options), incremental=False, audit=audit_path,
                        kinds={"image"}, console=Console(log_json=log_json), command="images").exit_code


@main.command(context_settings=CONTEXT)
@click.argument("inputs", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", "out_dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (mirrors the inputs).")
@click.option("--config", "config_path", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TOML file holding any of these options (and inputs, output); the command line overrides it.")
@click.option("--force", is_flag=True, default=None, help="Redo every file, even those unchanged since the last run.")
@click.option("--cluster", default=None, metavar="ADDRESS",
              help="Redact the files on a Ray cluster: auto (the cluster this machine joined with `ray start`), "
                   "local (a Ray instance for this job), or HOST:PORT. Inputs and output must be on storage every "
                   "node sees.")
@job_options
@pdf_options
@handle_errors
def run(inputs, out_dir, config_path, force, cluster, audit_path, log_json, **options):
    """Redact mixed folders: images, PDFs and videos, each by its own job.

    Incremental and resumable: a file is skipped while its content and the settings are unchanged since it was
    done; a run killed at any point is finished by the next one. One run at a time per output folder (exit code
    3 when another holds it). Quiet unless something failed, for cron.
    """
    from redact.config import load_config

    base, conf = load_config(config_path) if config_path else (Settings(), {})
    inputs = list(inputs) or conf.get("inputs") or []
    out_dir = out_dir or conf.get("output")
    if not inputs:
        raise UsageError("no inputs: give folders or files to redact, or 'inputs' in the config")
    if out_dir is None:
        raise UsageError("no output folder: give -o OUT, or 'output' in the config")
    for src in inputs:
        if not src.exists():
            raise UsageError(f"{src}: no such file or folder")
    settings = make_settings(base, **options)
    audit, force = audit_path or conf.get("audit"), force or conf.get("force", False)
    console = Console(log_json=log_json or conf.get("log_json", False))
    cluster = cluster or conf.get("cluster")
    if cluster:
        from redact.cluster import redact_on_cluster

        return redact_on_cluster(inputs, out_dir, settings, address=cluster, audit=audit, force=force,
                                 console=console).exit_code
    from redact.api import redact_paths

    return redact_paths(inputs, out_dir, settings, incremental=True, audit=audit, force=force, console=console,
                        command="run").exit_code


@main.command(context_settings=CONTEXT)
@click.argument("src", metavar="IN.pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The redacted PDF to write (a new PDF of image pages).")
@job_options
@pdf_options
@handle_errors
def pdf(src, out, audit_path, log_json, **options):
    """Redact one PDF into a new PDF of redacted page images: same pages, sizes and rotation, nothing else.

    No text, fonts, metadata, annotations, form fields, scripts, attachments or outlines of IN.pdf survive.
    """
    from redact.api import redact_file

    return redact_file(src, out, make_settings(**options), audit=audit_path, console=Console(log_json=log_json),
                       command="pdf").exit_code


@main.command(context_settings=CONTEXT)
@click.argument("src", metavar="IN", type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(path_type=Path),
              help="The redacted video (.mp4), or a folder (for a folder IN, or to keep IN's name).")
@click.option("--crf", default=None, type=click.IntRange(0, 51),
              help="H.264 quality: 0 lossless, 18 (default) visually lossless, 23 smaller files.")
@click.option("--no-audio", "no_audio", is_flag=True, help="Drop the audio (default: copied unchanged).")
@click.option("--detect-side", "video_detect_side", default=None, type=click.IntRange(0),
              help="Longest side of the frames the detectors see (default 480; 0: full size, slower).")
@click.option("--logo-every", "video_logo_every", default=None, type=click.FloatRange(0),
              help="Seconds between the frames the logo detector sees (default 0.2; 0: every frame, slower); "
                   "logos are tracked across the frames in between.")
@click.option("--logo-side", "video_logo_side", default=None, type=click.IntRange(0),
              help="Longest side of the frames the logo detector sees (default 0: full size).")
@job_options
@handle_errors
def video(src, out, no_audio, audit_path, log_json, **options):
    """Redact faces in every frame of a video (or of every video in a folder) into H.264 MP4.

    Same size, frame rate, timestamps, frame count and rotation; audio copied unchanged. Faces are tracked
    across frames, so frames where the detector misses a face are masked too.
    """
    from pipelines.directory import VIDEO_SUFFIXES, output_name
    from redact.api import redact_file, redact_paths

    settings = make_settings(audio=False if no_audio else None, **options)
    if not settings.logos and (options.get("video_logo_every") is not None
                               or options.get("video_logo_side") is not None):
        raise UsageError("--logo-every and --logo-side tune the logo detector: give --logos DIR too")
    console = Console(log_json=log_json)
    if src.is_dir():
        return redact_paths([src], out, settings, incremental=False, audit=audit_path, kinds={"video"},
                            console=console, command="video").exit_code
    if out.is_dir() or out.suffix.lower() not in VIDEO_SUFFIXES:
        out = out / output_name(src)
    return redact_file(src, out, settings, audit=audit_path, console=console, command="video").exit_code


@main.command(context_settings=CONTEXT)
@click.argument("audit_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="The HTML report to write (self-contained: open it in any browser, mail it, archive it).")
@click.option("--csv", "csv_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a CSV with one row per file (status, reason, counts by kind, hashes).")
@handle_errors
def report(audit_file, out, csv_path):
    """Render AUDIT_FILE as a report people can read: settings, models, counts, failures, thumbnails.

    Thumbnails show the redacted outputs with the removed regions outlined, never the originals. Exit code 1
    when the audit's hash chain does not verify (the report says where).
    """
    from redact.report import build_report, write_csv, write_html

    if out is None and csv_path is None:
        raise UsageError("give -o REPORT.html, --csv REPORT.csv, or both")
    data = build_report(audit_file)
    if out is not None:
        write_html(data, out)
    if csv_path is not None:
        write_csv(data, csv_path)
    return ExitCode.OK if data.chain_ok else ExitCode.FILES_FAILED


@main.command("inpaint", context_settings=CONTEXT)
@click.argument("image", type=click.Path(exists=True, path_type=Path))
@click.option("--mask", "mask", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="8-bit mask image of the same size, white = remove.")
@click.option("--mask-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="With IMAGE a folder: masks matched by file name.")
@click.option("-o", "--output", "out", required=True, type=click.Path(path_type=Path))
@job_options
@handle_errors
def inpaint_cmd(image, mask, mask_dir, out, audit_path, log_json, **options):
    """Manual redaction: remove the white pixels of MASK from IMAGE (or every image of a folder)."""
    from redact.api import redact_with_masks

    settings = make_settings(**options)
    if (mask is None) == (mask_dir is None):
        raise UsageError("give exactly one of --mask (one image) or --mask-dir (a folder of images)")
    return redact_with_masks(image, out, mask=mask, mask_dir=mask_dir, settings=settings, audit=audit_path,
                             console=Console(log_json=log_json), command="inpaint").exit_code


def weights_path(name: str | None) -> Path | None:
    """A checkpoint path, or the shipped model of a domain (``photo``, ``page``)."""
    if name is None or Path(name).is_file():
        return None if name is None else Path(name)
    from inpaint.checkpoint import shipped_weights

    shipped = shipped_weights()
    if name in shipped:
        return shipped[name]
    raise UsageError(f"{name}: no such checkpoint file" + (f" (shipped models: {', '.join(sorted(shipped))})"
                                                          if shipped else ""))


def model_data_options(out_help: str, domain_help: str):
    """DATA_DIR, -o and --domain: the shape of ``train`` and ``eval``."""
    def wrap(f):
        f = click.option("--domain", default="photo", show_default=True, type=click.Choice(["photo", "page"]),
                         help=domain_help)(f)
        f = click.option("-o", "--output", "out_dir", required=True,
                         type=click.Path(file_okay=False, path_type=Path), help=out_help)(f)
        return click.argument("data_dir", required=False,
                              type=click.Path(exists=True, file_okay=False, path_type=Path))(f)
    return wrap


@main.command("train", context_settings=CONTEXT)
@model_data_options("Folder for checkpoints (latest.pth, final.pth) and train_log.jsonl.",
                    "photo: crops of the images under DATA_DIR; page: synthetic scanned pages plus crops of the "
                    "scans under DATA_DIR.")
@click.option("--steps", default=1000, show_default=True, help="Optimiser steps to run (after a resumed step).")
@click.option("--minutes", default=None, type=float, help="Stop (and save) after this much wall time.")
@click.option("--batch-size", default=8, show_default=True)
@click.option("--size", default=128, show_default=True, help="Crop side in pixels (a multiple of 16).")
@click.option("--width", default=32, show_default=True, help="Network width: 64 official, 32 narrow.")
@click.option("--finetune", is_flag=True, help="Freeze BatchNorm and use the lower learning rate (5e-5).")
@click.option("--lr", default=None, type=float, help="Learning rate (default 2e-4, 5e-5 with --finetune).")
@click.option("--vgg", is_flag=True, help="Add the official perceptual and style terms (random-weight VGG16).")
@click.option("--init", default=None, help="Start from these weights: a checkpoint (ours or the official "
              "format), or `photo` / `page` for the shipped model.")
@click.option("--resume", default=None, help="Continue this checkpoint (weights, optimiser, step, images seen, CPU "
              "hours), or `photo` / `page`: the shipped model and its counts.")
@click.option("--device", default="auto", type=click.Choice(["auto", "cpu", "cuda"]))
@click.option("--threads", default=None, type=int, help="CPU threads for the network (default: all).")
@click.option("--workers", default=0, show_default=True,
              help="Processes making training samples (for a GPU; 0: made between steps, as on a small CPU).")
@click.option("--save-every", default=500, show_default=True)
@click.option("--log-every", default=50, show_default=True)
@click.option("--half", is_flag=True, help="Write final.pth in float16 (the narrow net then fits in 16 MiB).")
@click.option("--seed", default=0, show_default=True)
@handle_errors
def train_cmd(data_dir, out_dir, domain, steps, minutes, batch_size, size, width, finetune, lr, vgg, init, resume,
              device, threads, workers, save_every, log_every, half, seed):
    """Train RFR-Net for one domain; masks are drawn on the fly. Stops cleanly on Ctrl-C or SIGTERM."""
    import torch

    from inpaint.train import train
    from redact.core.device import resolve_device

    if threads:
        torch.set_num_threads(threads)
    init, resume = (weights_path(w) for w in (init, resume))
    summary = train(data_dir, out_dir, steps, batch_size, size, width, finetune, lr, init, resume, domain,
                    resolve_device(device), seed, save_every, log_every, half, minutes, vgg, workers,
                    Console(verbose=True))
    click.echo(f"{summary['steps']} steps, {summary['images_seen']} images seen, {summary['cpu_hours']} CPU hours; "
               f"weights: {summary['weights']} (sha256 {summary['sha256'][:12]})")


@main.command("eval", context_settings=CONTEXT)
@model_data_options("Folder for metrics.json and examples.png.",
                    "photo: mask-ratio buckets on the images under DATA_DIR; page: removed personal data on "
                    "synthetic pages never trained on.")
@click.option("--weights", default=None,
              help="RFR-Net checkpoint to evaluate, or `photo` / `page` for the shipped model (without it: "
                   "OpenCV Telea and Navier-Stokes only).")
@click.option("--size", default=256, show_default=True)
@click.option("--limit", default=None, type=int, help="Use at most this many images (pages).")
@click.option("--device", default="auto", type=click.Choice(["auto", "cpu", "cuda"]))
@click.option("--seed", default=0, show_default=True)
@handle_errors
def eval_cmd(data_dir, out_dir, domain, weights, size, limit, device, seed):
    """Inpainting quality: PSNR / SSIM / L1 per mask-ratio bucket (photo), or the page targets (page)."""
    from inpaint.evaluate import format_page_table, format_table, run_eval
    from redact.core.device import resolve_device

    record = run_eval(data_dir, out_dir, weights_path(weights), size, limit, resolve_device(device), seed, domain,
                      Console(verbose=True))
    if domain == "page":
        click.echo(format_page_table(record["methods"]))
        click.echo(f"{record['pages']} page(s) at {record['dpi']} dpi; sheet: {Path(out_dir) / 'examples.png'}")
    else:
        click.echo(format_table(record["buckets"]))
        click.echo(f"{record['images']} image(s); sheet: {Path(out_dir) / 'examples.png'}")


@main.group(context_settings=CONTEXT)
def audit():
    """Audit files: check their hash chain."""


@audit.command("verify", context_settings=CONTEXT)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def audit_verify(file):
    """Check that no record of FILE was altered, removed or reordered."""
    from redact.audit import verify

    ok, n, message = verify(file)
    click.echo(f"{file}: {message}", err=not ok)
    sys.exit(ExitCode.OK if ok else ExitCode.FILES_FAILED)


if __name__ == "__main__":
    main()
