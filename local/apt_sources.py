"""The Debian mirror this machine's apt already uses, for debootstrap (local/image.py and
local/lambda_runtime/arm64_toolchain.py).

No archive address is written into the code: a machine that reaches Debian only through its own
mirror or proxy builds the arm64 trees from there, as its apt does. The mirror is the first
enabled `deb` source, in apt's reading order, whose suites include the host's own release
(VERSION_CODENAME in /etc/os-release): that excludes the security archive and third-party
repositories, whose suites are other names.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

APT_DIR = Path("/etc/apt")
OS_RELEASE = Path("/etc/os-release")


class NoDebianMirror(ValueError):
    """This machine's apt sources name no Debian mirror; the message says what was read."""


def debian_mirror(apt_dir: Path = APT_DIR, os_release: Path = OS_RELEASE) -> str:
    """The URI of the Debian archive apt uses here, without a trailing slash."""
    release = _os_release(os_release)
    distribution, codename = release.get("ID", "?"), release.get("VERSION_CODENAME", "")
    if distribution != "debian" or not codename:
        raise NoDebianMirror(
            f"debootstrap takes its Debian mirror from this machine's apt sources, but "
            f"{os_release} says this is not a Debian release "
            f"(ID={distribution}, VERSION_CODENAME={codename or '?'})")
    for uri, suites in deb_sources(apt_dir):
        if codename in suites:
            return uri.rstrip("/")
    raise NoDebianMirror(
        f"no enabled `deb` source for Debian {codename} in {apt_dir / 'sources.list'} or "
        f"{apt_dir / 'sources.list.d'}/*.list|*.sources: debootstrap uses the mirror apt uses; "
        f"add that mirror for {codename} to apt's sources")


def deb_sources(apt_dir: Path = APT_DIR) -> Iterator[tuple[str, list[str]]]:
    """(URI, suites) of each enabled binary (`deb`) source, in the order apt reads the files."""
    files = [apt_dir / "sources.list"]
    parts = apt_dir / "sources.list.d"
    if parts.is_dir():
        # apt ignores other names (e.g. `*.list.disabled`): so does this.
        files += sorted(p for p in parts.iterdir() if p.suffix in (".list", ".sources"))
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        yield from (_deb822(text) if path.suffix == ".sources" else _one_line(text))


def _one_line(text: str) -> Iterator[tuple[str, list[str]]]:
    """`deb [option=value ...] URI SUITE [COMPONENT ...]` lines."""
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):
            while words and not words[0].endswith("]"):
                words = words[1:]
            words = words[1:]  # the option block's closing word
        if len(words) >= 2:
            yield words[0], [words[1]]


def _deb822(text: str) -> Iterator[tuple[str, list[str]]]:
    """Stanzas of `Field: value` lines (continuation lines start with a space), blank-line apart."""
    for stanza in _stanzas(text):
        if stanza.get("enabled", "yes").strip().lower() == "no":
            continue
        if "deb" not in stanza.get("types", "").split():
            continue
        uris, suites = stanza.get("uris", "").split(), stanza.get("suites", "").split()
        if uris:
            yield uris[0], suites


def _stanzas(text: str) -> Iterator[dict[str, str]]:
    fields: dict[str, str] = {}
    last = None
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            if fields:
                yield fields
            fields, last = {}, None
        elif line[0] in " \t" and last is not None:
            fields[last] += " " + line.strip()
        elif ":" in line:
            name, value = line.split(":", 1)
            last = name.strip().lower()
            fields[last] = value.strip()
    if fields:
        yield fields


def _os_release(path: Path) -> dict[str, str]:
    values = {}
    if path.is_file():
        for line in path.read_text(errors="replace").splitlines():
            name, sep, value = line.partition("=")
            if sep:
                values[name.strip()] = value.strip().strip('"')
    return values
