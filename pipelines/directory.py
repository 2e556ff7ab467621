"""Walking input folders and mirroring them into an output folder, never into or over the inputs."""
from __future__ import annotations

from pathlib import Path

from pipelines.image_io import IMAGE_SUFFIXES
from redact.core.errors import UsageError

PDF_SUFFIXES = {".pdf"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"}
ALL_KINDS = ("image", "pdf", "video")
TEMP_MARK = ".redact-tmp"  # in the name of every file being written; renamed away when it is complete


def file_kind(path: Path) -> str | None:
    """'image', 'pdf', 'video' or None (not ours), by extension; the content is checked when it is read."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in PDF_SUFFIXES:
        return "pdf"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    return None


def output_name(path: Path) -> str:
    """The output file's name: the input's, but videos are always written as MP4 (H.264)."""
    if file_kind(path) == "video":
        return path.stem + ".mp4" if path.suffix.lower() != ".mp4" else path.name
    return path.name


def check_paths(inputs: list[Path], out_dir: Path) -> None:
    """Refuse an output folder that is, contains, or lies inside an input: outputs must never touch inputs."""
    out = out_dir.resolve()
    for src in inputs:
        s = src.resolve()
        if not src.exists():
            raise UsageError(f"{src}: no such file or folder")
        if s == out or (src.is_dir() and s in out.parents) or out in s.parents:
            raise UsageError(f"output folder {out_dir} overlaps input {src}; choose an output outside the inputs")


def same_file(out: Path, src: Path) -> bool:
    """Whether writing ``out`` would write over ``src`` (the same path once links and ``..`` are resolved)."""
    return out.resolve() == src.resolve()


def check_output_file(src: Path, out: Path) -> None:
    """Refuse a single-file job whose output is its input."""
    if same_file(out, src):
        raise UsageError("the output must not be the input; choose another -o")


def plan(inputs: list[Path], out_dir: Path, kinds: set[str]) -> list[tuple[Path, Path]]:
    """(input file, output file) pairs for every file of the given kinds, mirroring each input's tree."""
    check_paths(inputs, out_dir)
    pairs: list[tuple[Path, Path]] = []
    for src in inputs:
        base = src.parent if src.is_file() or len(inputs) > 1 else src
        for f in input_files(src):
            if file_kind(f) in kinds:
                if out_dir.resolve() in f.resolve().parents:  # a link to a file the output would replace
                    raise UsageError(f"input {f} links to {f.resolve()}, inside the output folder {out_dir}; "
                                     f"choose an output outside the inputs")
                rel = f.relative_to(base)
                pairs.append((f, out_dir / rel.parent / output_name(f)))
    first_input: dict[Path, Path] = {}
    for f, dst in pairs:  # clip.mov and clip.mp4, or two input folders of the same name
        other = first_input.setdefault(dst, f)
        if other != f:
            raise UsageError(f"inputs {other} and {f} would both be written to {dst}; rename one, or redact them "
                             f"into different output folders")
    return pairs


def input_files(src: Path) -> list[Path]:
    """``src`` itself, or every file under the folder ``src`` (hidden files and our temporary files aside)."""
    files = [src] if src.is_file() else sorted(p for p in src.rglob("*") if p.is_file()
                                               and not p.name.startswith("."))
    return [f for f in files if TEMP_MARK not in f.name]


def unsupported(inputs: list[Path], kinds: set[str]) -> list[Path]:
    """Files under the inputs that this job does not handle (by extension): neither redacted nor copied."""
    return [f for src in inputs for f in input_files(src) if file_kind(f) not in kinds]


def unsupported_message(files: list[Path], kinds: set[str]) -> str:
    more = f" and {len(files) - 1} more" if len(files) > 1 else ""
    what = {"image": "images", "pdf": "PDFs", "video": "videos"}
    names = ", ".join(what[k] for k in sorted(kinds))
    hint = "" if kinds == set(ALL_KINDS) else "; `redact run` takes images, PDFs and videos"
    return f"not redacted and not copied (this job takes {names}, by extension): {files[0]}{more}{hint}"


def temp_path(dst: Path) -> Path:
    """Where ``dst`` is written before it is complete (same folder, so the final rename is atomic)."""
    return dst.with_name(f".{dst.stem}{TEMP_MARK}{dst.suffix}")
