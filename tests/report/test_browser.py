"""The HTML report as a reader sees it: rendered by headless Chromium (Debian's
``chromium`` package), with every figure decoded, every heading laid out, and the numbers in
the rendered text equal to the result's. Skipped, with the reason, only where no Chromium or
Chrome binary exists."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
BROWSER = next((path for path in map(shutil.which, BROWSERS) if path), None)
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium or Chrome binary on PATH (Debian: apt-get install "
    "chromium; .ci/run installs it when it can)")

# Appended to a copy of the report (the report itself has no script): after every image has
# loaded, write what the page shows into a <pre> that --dump-dom returns.
PROBE = """<script>
window.addEventListener('load', () => {
  const seen = e => e.getBoundingClientRect().width > 0 && e.getBoundingClientRect().height > 0;
  const probe = {
    images: [...document.images].map(i => ({alt: i.alt, complete: i.complete,
      width: i.naturalWidth, height: i.naturalHeight, shown: seen(i),
      right: i.getBoundingClientRect().right})),
    viewport: document.documentElement.clientWidth,
    pageWidth: document.documentElement.scrollWidth,
    headings: [...document.querySelectorAll('h2')].filter(seen).map(h => h.innerText),
    text: document.body.innerText,
  };
  const out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify(probe);
  document.body.appendChild(out);
});
</script>"""


def run_browser(*arguments: str, profile) -> str:
    command = [BROWSER, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
               f"--user-data-dir={profile}", *arguments]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def rendered(pls_fits, ecsi_report, tmp_path_factory):
    """The ECSI PLS report rendered: (probe dictionary, screenshot path, result)."""
    result = pls_fits["ecsi"]
    report = ecsi_report[0] / "report.html"
    folder = tmp_path_factory.mktemp("browser")
    # The probe copy sits beside the report so that relative paths would resolve alike.
    probed = ecsi_report[0] / "probed.html"
    probed.write_text(ecsi_report[1].replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = run_browser("--virtual-time-budget=10000", "--window-size=1000,2000", "--dump-dom",
                      probed.as_uri(),
                      profile=folder / "profile")
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert match, "the page never finished loading"
    screenshot = folder / "report.png"
    run_browser(f"--screenshot={screenshot}", "--window-size=1200,2400", report.as_uri(),
                profile=folder / "profile")
    return json.loads(html.unescape(match.group(1))), screenshot, result


def test_every_figure_loads_and_is_shown(rendered) -> None:
    probe, _, _ = rendered
    images = probe["images"]
    assert len(images) == 4
    for image in images:
        assert image["complete"] and image["shown"], image["alt"]
        assert image["width"] > 300 and image["height"] > 150, image
    diagram = next(i for i in images if i["alt"].startswith("Path diagram"))
    # The model file's publication layout: near a page's aspect (it was 2.4:1).
    assert 1.1 * diagram["height"] < diagram["width"] < 2.0 * diagram["height"]


def test_every_figure_fits_the_page_at_1000_px(rendered) -> None:
    """No figure runs past the window's right edge, and the page never scrolls sideways
    (wide tables scroll inside their own box)."""
    probe, _, _ = rendered
    assert probe["viewport"] <= 1000
    for image in probe["images"]:
        assert image["right"] <= probe["viewport"], image["alt"]
    assert probe["pageWidth"] <= probe["viewport"]


def test_the_reader_sees_headings_and_the_result_numbers(rendered) -> None:
    probe, _, result = rendered
    assert probe["headings"] == ["Model and data", "Warnings and notes", "Fit indices",
                                 "Path diagram", "Estimates", "Measurement quality",
                                 "0-100 indices", "Mediation", "Bootstrap"]
    text = probe["text"]
    row = result.parameters.query("lhs == 'Satisfaction' and op == '~' and rhs == 'Quality'")
    line = next(line for line in text.splitlines() if line.startswith("Satisfaction ← Quality"))
    cells = line.split("\t")
    assert cells[1] == f"{row['est'].iloc[0]:.3f}" and cells[-1] == "***"
    assert f"{result.index['Loyalty']:.1f}" in text
    assert "Respondents used\t250" in text


def test_the_screenshot_is_not_blank(rendered) -> None:
    from PIL import Image

    _, screenshot, _ = rendered
    pixels = np.asarray(Image.open(screenshot).convert("L"), dtype=float)
    assert pixels.shape == (2400, 1200)
    inked = (pixels < 200).mean()
    assert 0.01 < inked < 0.6  # text and figures, neither empty nor a solid block
    assert pixels.std() > 20


def test_the_report_prints_to_pdf_a_section_a_page(tmp_path, capsys) -> None:
    from acsi_sem.cli.main import main

    folder = tmp_path / "report"
    assert main(["report", "ecsi", "--estimator", "pls", "--out", str(folder), "--pdf"]) == 0
    document = (folder / "report.pdf").read_bytes()
    assert document.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", document))
    sections = len(re.findall(r"<section ", (folder / "report.html").read_text()))
    assert pages >= sections  # each section starts a page
    assert "report.pdf" in capsys.readouterr().out
