"""Check that the built HTML loads nothing from the network: no external script, stylesheet,
image or iframe (links to other sites are fine; loading from them is not).

    python docs/check_offline.py docs/_build/html

Prints each external resource and exits 1 if there is any. ``.ci/run`` runs it after the build.
"""
import pathlib
import re
import sys

# src= or href= of the tags that load something, when it names a network location.
_LOADING = re.compile(
    r"<(script|img|iframe|source|link)\b[^>]*?\b(src|href)\s*=\s*[\"']((?:https?:)?//[^\"']+)",
    re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import\s+(?:url\()?[\"']?((?:https?:)?//[^\"')]+)", re.IGNORECASE)


def external_resources(html):
    """The network URLs that a page's HTML would load (a ``<link>`` only if a stylesheet,
    preload or icon)."""
    found = []
    for match in _LOADING.finditer(html):
        tag, _, url = match.groups()
        if tag.lower() == "link":
            whole = html[match.start():html.find(">", match.start()) + 1]
            if not re.search(r"rel\s*=\s*[\"'][^\"']*(stylesheet|preload|icon)", whole, re.I):
                continue
        found.append(url)
    found += _CSS_IMPORT.findall(html)
    return found


def check_site(root):
    problems = []
    for path in sorted(pathlib.Path(root).rglob("*")):
        if path.suffix in (".html", ".css"):
            for url in external_resources(path.read_text(encoding="utf-8", errors="replace")):
                problems.append(f"{path}: {url}")
    return problems


if __name__ == "__main__":
    root = sys.argv[1] if len(sys.argv) > 1 else "docs/_build/html"
    pages = list(pathlib.Path(root).rglob("*.html"))
    if not pages:
        sys.exit(f"no HTML under {root}: build the docs first")
    problems = check_site(root)
    for line in problems:
        print("external resource:", line)
    print(f"{len(pages)} pages, {len(problems)} external resources")
    sys.exit(1 if problems else 0)
