"""The brief as PDF: printed by headless Chromium, where one is installed.

``find_browser`` looks for Debian's ``chromium`` (then ``chromium-browser``, ``google-chrome``,
``google-chrome-stable``) on the ``PATH``. ``print_pdf`` runs it with ``--headless
--print-to-pdf`` on the HTML file, in a fresh profile folder of its own, and writes the PDF
atomically. The page has no scripts and loads nothing from elsewhere, so Chromium only lays it
out; running as root, Chromium needs ``--no-sandbox`` to start at all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from simulator.errors import UsageError, printable
from simulator.files import atomic_write

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_SECONDS = 120
NO_BROWSER = (f"no Chromium found (looked for {', '.join(BROWSERS)} on the PATH), so no PDF was made; install "
              "Debian's 'chromium' package, or open the HTML brief in a browser and print it")


def find_browser() -> str | None:
    """The path of the first Chromium on the ``PATH``, or None."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(html_file: str | Path, pdf_file: str | Path, browser: str, timeout: float = TIMEOUT_SECONDS) -> Path:
    """Print ``html_file`` to ``pdf_file`` (A4, as the page's print style sets) with ``browser``.

    Raises:
        UsageError: Chromium failed, timed out or wrote no PDF (its last lines of output named).
    """
    page = Path(html_file).resolve()
    with tempfile.TemporaryDirectory(prefix="geosim-pdf-") as tmp:
        out = Path(tmp) / "brief.pdf"
        command = [browser, "--headless", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                   "--no-default-browser-check", "--disable-extensions", f"--user-data-dir={Path(tmp) / 'profile'}",
                   "--no-pdf-header-footer", f"--print-to-pdf={out}", page.as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")
        try:
            done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise UsageError(f"Chromium ('{printable(browser)}') did not finish the PDF within {timeout:.0f} s") from None
        except OSError as exc:
            raise UsageError(f"cannot start Chromium ('{printable(browser)}'): {exc.strerror}") from None
        data = out.read_bytes() if out.is_file() else b""
        if not data.startswith(b"%PDF"):
            said = " ".join(done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:])
            raise UsageError(f"Chromium ('{printable(browser)}') made no PDF (exit status {done.returncode}"
                             + (f": {printable(said, 300)}" if said else "") + ")")
        return atomic_write(pdf_file, data)
