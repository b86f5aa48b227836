"""Draw the app icons (static/img/): two overlapping rings, as static/img/icon.svg.

    .venv/bin/python scripts/make-app-icons.py

Drawn with Pillow at 4x and scaled down (smooth edges); the maskable icon keeps the rings
inside the central 80 % that every launcher mask shows.
"""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "static" / "img"
BACKGROUND = (255, 255, 255, 255)
RINGS = [((12, 16), (124, 92, 255)), ((20, 16), (255, 92, 138))]  # centres on a 32 grid


def draw(size: int, *, background=BACKGROUND, scale: float = 1.0) -> Image.Image:
    big = size * 4
    image = Image.new("RGBA", (big, big), background)
    pen = ImageDraw.Draw(image)
    unit = big / 32 * scale
    offset = big * (1 - scale) / 2
    for (cx, cy), colour in RINGS:
        x, y, r = offset + cx * unit, offset + cy * unit, 9 * unit
        pen.ellipse([x - r, y - r, x + r, y + r], outline=colour, width=max(1, round(3 * unit)))
    return image.resize((size, size), Image.LANCZOS)


def main() -> None:
    draw(192).save(OUT / "icon-192.png", optimize=True)
    draw(512).save(OUT / "icon-512.png", optimize=True)
    draw(512, scale=0.7).save(OUT / "icon-maskable-512.png", optimize=True)
    draw(180).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)
    favicon = draw(48, background=(0, 0, 0, 0))
    favicon.save(OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])


if __name__ == "__main__":
    main()
