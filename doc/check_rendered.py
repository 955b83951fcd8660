"""Check the built HTML documentation in a real headless browser.

Opens every page of a Sphinx build in Debian's ``chromium`` (headless), and
reports, per page:

* code blocks wider than their box (lines that run past the page edge:
  ``scrollWidth > clientWidth`` of every ``pre``, measured after layout at
  a 1200 px wide window);
* API pages without an "Examples" section, and API pages that list
  dunder or private members;

then saves screenshots of a few representative pages to look at.

    python -m sphinx -W -b html doc doc/_build/html
    python doc/check_rendered.py doc/_build/html --shots /tmp/doc_shots

Exit status 1 if any page has a problem. Needs ``chromium`` on the PATH (on
Debian: ``apt install chromium``); it is not part of the test suite because
CI machines have no browser.
"""

import argparse
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--hide-scrollbars", "--window-size=1200,2600"]

PROBE = """<script>
window.addEventListener("load", function () {
  var bad = [];
  document.querySelectorAll("pre").forEach(function (p) {
    if (p.scrollWidth > p.clientWidth + 1) { bad.push(p.textContent.split("\\n")[0]); }
  });
  var out = document.createElement("div");
  out.id = "overflow-report";
  out.setAttribute("data-count", String(bad.length));
  out.textContent = JSON.stringify(bad.slice(0, 3));
  document.body.appendChild(out);
});
</script>"""

SHOTS = ["index.html", "user_guide.html", "api.html",
         "generated/skexplain.explainers.SmoothGrad.html",
         "generated/skexplain.explainers.Explanation.html",
         "generated/skexplain.plotting.BeeswarmDisplay.html",
         "auto_examples/plot_quickstart.html", "auto_examples/plot_explanations.html"]


def chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        sys.exit("chromium is not installed (Debian: apt install chromium)")
    return exe


def overflowing_code(exe, page, profile):
    """First lines of the code blocks of ``page`` that are wider than their box."""
    html = page.read_text(encoding="utf-8")
    probe = page.with_name(f".probe_{page.name}")
    probe.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    try:
        dom = subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                              "--virtual-time-budget=3000", "--dump-dom", probe.as_uri()],
                             capture_output=True, text=True, timeout=120).stdout
    finally:
        probe.unlink()
    m = re.search(r'id="overflow-report" data-count="(\d+)">(.*?)</div>', dom)
    if m is None:
        return ["(the page did not finish loading)"]
    return [] if m.group(1) == "0" else [m.group(2)]


def api_page_problems(page):
    """Static checks of an API page: an Examples section, no private members."""
    html = page.read_text(encoding="utf-8")
    problems = []
    if "Examples" not in html:
        problems.append("no Examples section")
    ids = re.findall(r'<dt class="sig sig-object py" id="([^"]+)"', html)
    hidden = [i for i in ids if re.search(r"\.(_[^.]*)$", i)]
    if hidden:
        problems.append(f"lists private or dunder members: {hidden[:5]}")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", nargs="?", default="doc/_build/html")
    parser.add_argument("--shots", default=None, help="directory for screenshots")
    args = parser.parse_args(argv)
    root = pathlib.Path(args.build).resolve()
    exe = chromium()
    failures = 0
    with tempfile.TemporaryDirectory() as profile:
        pages = sorted(p for p in root.rglob("*.html")
                       if "_static" not in p.parts and "_sources" not in p.parts
                       and p.name not in ("genindex.html", "search.html", "py-modindex.html"))
        for page in pages:
            rel = page.relative_to(root).as_posix()
            problems = [f"code wider than the page: {line}"
                        for line in overflowing_code(exe, page, profile)]
            if rel.startswith("generated/"):
                problems += api_page_problems(page)
            for problem in problems:
                print(f"{rel}: {problem}")
            failures += bool(problems)
        print(f"{len(pages)} pages checked, {failures} with problems")
        if args.shots:
            out = pathlib.Path(args.shots)
            out.mkdir(parents=True, exist_ok=True)
            for rel in SHOTS:
                target = out / (rel.replace("/", "_").replace(".html", ".png"))
                subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                f"--screenshot={target}", (root / rel).as_uri()],
                               capture_output=True, timeout=120)
                print("screenshot:", target)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
