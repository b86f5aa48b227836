"""Build static/vendor/lucide/icons.svg, a sprite of the Lucide icons the site uses.

    npm pack lucide-static@1.87.0 && tar xzf lucide-static-1.87.0.tgz
    python scripts/vendor-icons.py package/icons

One file of <symbol>s: every page references it (`<use href="…icons.svg#house">`), so the
browser fetches and caches it once. Add a name to ICONS and run this again to add one.
"""

import re
import sys
from pathlib import Path

ICONS = [
    "house", "compass", "search", "square-plus", "message-circle", "circle-user", "bell",
    "bookmark", "users", "settings", "log-out", "menu", "heart", "shield", "grid-3x3",
    "wifi-off", "send", "image",
]  # fmt: skip
OUT = Path(__file__).resolve().parent.parent / "static" / "vendor" / "lucide" / "icons.svg"


def main(source: Path) -> None:
    symbols = []
    for name in ICONS:
        svg = (source / f"{name}.svg").read_text()
        body = re.search(r"<svg[^>]*>(.*)</svg>", svg, re.S).group(1)
        body = " ".join(line.strip() for line in body.splitlines() if line.strip())
        symbols.append(f'<symbol id="{name}" viewBox="0 0 24 24">{body}</symbol>')
    OUT.write_text(
        "<!-- Lucide icons (lucide-static 1.87.0, ISC licence: LICENSE beside this file) -->\n"
        '<svg xmlns="http://www.w3.org/2000/svg">\n' + "\n".join(symbols) + "\n</svg>\n"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
