"""Before/after previews: one small pair per sampled image, and a contact sheet of the pairs."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

PREVIEW_SIDE = 192
PREVIEWS_FOLDER = "previews"


def thumbnail(image: Image.Image, side: int = PREVIEW_SIDE) -> Image.Image:
    small = image.copy() if image.mode == "RGB" else image.convert("RGB")
    small.thumbnail((side, side), Image.Resampling.BICUBIC, reducing_gap=2.0)
    return small


def preview_pair(before: Image.Image, after: Image.Image) -> Image.Image:
    """Before (left) and after (right), each at most PREVIEW_SIDE pixels."""
    left, right = thumbnail(before), thumbnail(after)
    pair = Image.new("RGB", (left.width + right.width + 4, max(left.height, right.height)), "white")
    pair.paste(left, (0, 0))
    pair.paste(right, (left.width + 4, 0))
    return pair


def build_contact_sheet(pairs: list[Path], out: Path, columns: int = 2, caption_height: int = 14) -> Path | None:
    """Tile the preview pairs (captioned with their file names) into one PNG; None if there are none."""
    images = [(path, Image.open(path).convert("RGB")) for path in pairs if path.is_file()]
    if not images:
        return None
    cell_w = max(im.width for _, im in images) + 8
    cell_h = max(im.height for _, im in images) + caption_height + 8
    rows = (len(images) + columns - 1) // columns
    sheet = Image.new("RGB", (cell_w * min(columns, len(images)), cell_h * rows), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (path, image) in enumerate(images):
        x, y = (index % columns) * cell_w + 4, (index // columns) * cell_h + 4
        draw.text((x, y), path.stem[:60], fill="black")
        sheet.paste(image, (x, y + caption_height))
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    sheet.save(temporary, format="PNG")
    temporary.replace(out)
    return out
