"""The ``redact`` command line (a click group). Exit codes: see ``redact.errors.ExitCode`` and the README."""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from redact import __version__
from redact.console import Console
from redact.errors import ExitCode, RedactError, UsageError, one_line
from redact.settings import Settings, parse_detect

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


def job_options(f):
    """Options shared by every job command; they fill a ``Settings``."""
    opts = [
        click.option("--detect", "detect", default=None, metavar="LIST",
                     help="Detectors: any of faces,names,pii,logos. Default: faces for photos and videos, "
                          "names,pii,faces for documents."),
        click.option("--style", default=None, type=click.Choice(["inpaint", "telea", "ns", "box", "blur", "pixelate"]),
                     help="How regions are removed (default: telea)."),
        click.option("--device", default=None, type=click.Choice(["auto", "cpu", "cuda"]),
                     help="Where models run (default auto: CUDA when present)."),
        click.option("--pad", default=None, type=float, help="Pixels added around every region (default 2)."),
        click.option("--weights", default=None, type=click.Path(dir_okay=False),
                     help="RFR-Net checkpoint for --style inpaint."),
        click.option("--audit", "audit_path", default=None, type=click.Path(dir_okay=False),
                     help="Audit file (JSON Lines). Default: audit.jsonl in the output folder."),
        click.option("--log-json", is_flag=True, help="Print messages as JSON lines (for machines)."),
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
        setattr(s, name, value)
    return s


def handle_errors(f):
    """Map typed errors to one-line messages and exit codes; never a traceback."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            code = f(*args, **kwargs)
        except (UsageError, ValueError) as exc:
            click.echo(f"redact: error: {exc}", err=True)
            sys.exit(ExitCode.USAGE)
        except RedactError as exc:
            click.echo(f"redact: error: {exc}", err=True)
            sys.exit(ExitCode.FILES_FAILED)
        except KeyboardInterrupt:
            click.echo("redact: interrupted", err=True)
            sys.exit(ExitCode.INTERRUPTED)
        except Exception as exc:  # a job-level failure (e.g. a model that cannot load): one line, no traceback
            click.echo(f"redact: error: {one_line(exc)}", err=True)
            sys.exit(ExitCode.FILES_FAILED)
        sys.exit(int(code or 0))

    return wrapper


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="redact")
def main():
    """Find faces, names, personal data and logos in images, PDFs and videos, and remove them."""


def run_job(inputs: list[Path], out_dir: Path, kinds: set[str], settings: Settings, audit_path, log_json: bool,
            command: str) -> ExitCode:
    from pipelines.directory import plan
    from redact.job import Job

    pairs = plan(inputs, out_dir, kinds)
    console = Console(log_json=log_json)
    if not pairs:
        console.warn("no files to redact in " + ", ".join(map(str, inputs)))
        return ExitCode.OK
    job = Job(settings, Path(audit_path) if audit_path else out_dir / "audit.jsonl", console, command)
    return job.run(pairs)


@main.command(context_settings=CONTEXT)
@click.argument("in_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (mirrors IN_DIR).")
@job_options
@handle_errors
def images(in_dir, out_dir, audit_path, log_json, **options):
    """Redact every image under IN_DIR (PNG, JPEG, TIFF, WebP, BMP) into OUT_DIR, same formats, no metadata."""
    return run_job([in_dir], out_dir, {"image"}, make_settings(**options), audit_path, log_json, "images")


@main.command(context_settings=CONTEXT)
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (mirrors the inputs).")
@job_options
@handle_errors
def run(inputs, out_dir, audit_path, log_json, **options):
    """Redact mixed folders: images, PDFs and videos, each by its own job."""
    return run_job(list(inputs), out_dir, {"image", "pdf", "video"}, make_settings(**options), audit_path,
                   log_json, "run")


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
    from pipelines.manual import redact_with_masks

    settings = make_settings(**options)
    if (mask is None) == (mask_dir is None):
        raise UsageError("give exactly one of --mask (one image) or --mask-dir (a folder of images)")
    return redact_with_masks(image, mask, mask_dir, out, settings, audit_path, Console(log_json=log_json))


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
