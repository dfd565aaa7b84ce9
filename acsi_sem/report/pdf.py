"""The HTML report printed to PDF by a headless Chromium or Chrome, where one is installed
(its print style sheet breaks pages between sections and never inside a table or figure)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from acsi_sem.errors import AcsiSemError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
TIMEOUT_SECONDS = 120


def find_browser() -> str | None:
    """The path of a Chromium or Chrome binary on PATH, or None."""
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def print_to_pdf(page: Path, target: Path) -> Path:
    """Print the HTML file ``page`` to ``target`` (A4, the page's print style sheet).

    Raises:
        AcsiSemError: no browser is installed, or it failed.
    """
    browser = find_browser()
    if browser is None:
        raise AcsiSemError("--pdf needs Chromium or Chrome (Debian: apt-get install chromium); "
                           f"open {page} in a browser and print it to PDF instead")
    with tempfile.TemporaryDirectory() as profile:
        command = [browser, "--headless", "--disable-gpu", "--no-sandbox",
                   f"--user-data-dir={profile}", "--no-pdf-header-footer",
                   f"--print-to-pdf={target}", page.resolve().as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True,
                                  timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired as error:
            raise AcsiSemError(f"{browser} did not print {page} within "
                               f"{TIMEOUT_SECONDS} s") from error
    if done.returncode != 0 or not target.exists():
        raise AcsiSemError(f"{browser} could not print {page} to PDF: "
                           f"{done.stderr.strip()[-300:]}")
    return target
