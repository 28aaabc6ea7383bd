"""debootstrap's Debian mirror is the one this machine's apt uses (local/apt_sources.py), never an
address written into the code (issue 25)."""

from __future__ import annotations

from pathlib import Path

import pytest

from local import image
from local.apt_sources import NoDebianMirror, debian_mirror

BOOKWORM = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_CODENAME=bookworm\n'


def machine(tmp_path: Path, os_release: str = BOOKWORM, **files: str) -> tuple[Path, Path]:
    """An /etc/apt with `files` (relative paths, `__` for `/`) and an os-release."""
    apt = tmp_path / "apt"
    (apt / "sources.list.d").mkdir(parents=True)
    for name, text in files.items():
        (apt / name.replace("__", "/")).write_text(text)
    release = tmp_path / "os-release"
    release.write_text(os_release)
    return apt, release


def test_a_deb822_source_for_the_hosts_release_is_used_whatever_its_path(tmp_path):
    apt, release = machine(tmp_path, **{"sources.list.d__debian.sources": """\
Types: deb
# a comment inside the stanza
URIs: http://mirror.internal.example/apt-proxy/
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.internal.example/security
Suites: bookworm-security
Components: main
"""})
    assert debian_mirror(apt, release) == "http://mirror.internal.example/apt-proxy"


def test_security_third_party_disabled_and_source_only_entries_are_passed_over(tmp_path):
    apt, release = machine(tmp_path, **{
        "sources.list": "deb-src http://src.example/debian bookworm main\n"
                        "deb http://security.example/debian-security bookworm-security main\n",
        "sources.list.d__a-nodesource.sources":
            "Types: deb\nURIs: https://node.example/node_20.x\nSuites: nodistro\n",
        "sources.list.d__b-google.list":
            "deb https://cloud.example/apt cloud-sdk-bookworm main\n",
        "sources.list.d__c-off.sources":
            "Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nEnabled: no\n",
        "sources.list.d__d-old.list.disabled": "deb http://old.example/debian bookworm main\n",
        "sources.list.d__e-debian.list":
            "deb [arch=amd64 signed-by=/usr/share/keyrings/debian.gpg] "
            "http://here.example/debian bookworm main  # the archive\n",
    })
    assert debian_mirror(apt, release) == "http://here.example/debian"


def test_no_source_for_the_release_is_an_error_that_says_what_was_read(tmp_path):
    apt, release = machine(tmp_path, **{
        "sources.list": "deb http://security.example/debian-security bookworm-security main\n"})
    with pytest.raises(NoDebianMirror) as refused:
        debian_mirror(apt, release)
    message = str(refused.value)
    assert "no enabled `deb` source for Debian bookworm" in message
    assert str(apt / "sources.list") in message and "http" not in message


def test_a_host_that_is_not_debian_is_refused(tmp_path):
    apt, release = machine(tmp_path, os_release="ID=ubuntu\nVERSION_CODENAME=noble\n",
                           **{"sources.list": "deb http://archive.example/ubuntu noble main\n"})
    with pytest.raises(NoDebianMirror, match=r"not a Debian release \(ID=ubuntu"):
        debian_mirror(apt, release)


def test_the_image_build_has_no_mirror_address_of_its_own():
    source = Path(image.__file__).read_text() + Path(debian_mirror.__code__.co_filename).read_text()
    assert "debian.org" not in source
    assert image.debian_mirror is debian_mirror  # what arm64_toolchain.py calls


def test_the_image_command_reports_a_missing_mirror_in_one_line(monkeypatch, capsys):
    def no_mirror():
        raise NoDebianMirror("no enabled `deb` source for Debian bookworm")

    monkeypatch.setattr(image.os, "geteuid", lambda: 0)
    monkeypatch.setattr(image, "build", lambda **_: no_mirror())
    assert image.main(["build"]) == 1
    assert capsys.readouterr().err.strip() == (
        "[local.image] failed: no enabled `deb` source for Debian bookworm")
