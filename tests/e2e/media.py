"""Pictures for the browser: a card's QR as a PNG, a fake camera's video of it, and decoding."""

import io
from pathlib import Path

import qrcode
import zxingcpp
from PIL import Image


def qr_image(text: str) -> Image.Image:
    """Draw `text` as a QR code the way a card's is printed (error level M, box 10, border 4)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(text)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def camera_file(picture: Image.Image, path: Path, size=(640, 480), frames=10) -> Path:
    """Write a Y4M video (what Chromium's fake camera plays, in a loop) of `picture` on white.

    4:2:0 YCbCr, 10 frames a second; the same frame repeated: a card held still in front of
    the camera.
    """
    width, height = size
    frame = Image.new("RGB", size, "white")
    picture = picture.copy()
    picture.thumbnail((height - 40, height - 40))
    frame.paste(picture, ((width - picture.width) // 2, (height - picture.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    data = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + data)
    return path


def png_bytes(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def decode(picture: Image.Image | bytes) -> list[str]:
    """Return the text of every QR code in a picture (a PIL image or PNG bytes)."""
    if isinstance(picture, bytes):
        picture = Image.open(io.BytesIO(picture))
    return [
        result.text
        for result in zxingcpp.read_barcodes(picture, formats=zxingcpp.BarcodeFormat.QRCode)
    ]
