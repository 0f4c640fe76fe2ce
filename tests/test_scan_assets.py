"""The vendored QR decoder is complete, matches its published hash, and is served correctly."""

import hashlib
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"
WASM = STATIC / "vendor/zxing-wasm-3.1.3/zxing_reader.wasm"
PONYFILL = STATIC / "vendor/barcode-detector-3.2.2/ponyfill.js"
EXPORTED = STATIC / "vendor/barcode-detector-3.2.2/zxing-exported.js"


def test_the_wasm_is_the_one_the_library_expects():
    digest = hashlib.sha256(WASM.read_bytes()).hexdigest()
    assert digest in EXPORTED.read_text()  # the library's ZXING_WASM_SHA256


def test_the_vendored_files_carry_their_licences():
    for folder in (WASM.parent, PONYFILL.parent):
        assert "MIT License" in (folder / "LICENSE").read_text()


def test_the_ponyfill_imports_only_its_sibling():
    assert 'from "./zxing-exported.js"' in PONYFILL.read_text()
    assert not re.search(r"^\s*import\b", EXPORTED.read_text(), re.MULTILINE)


def test_the_wasm_is_served_as_application_wasm(client):
    with client.get("/static/vendor/zxing-wasm-3.1.3/zxing_reader.wasm") as response:
        assert response.status_code == 200
        assert response.mimetype == "application/wasm"


def test_the_scanner_points_the_library_at_our_wasm_before_constructing_it():
    script = (STATIC / "js/scan.js").read_text()
    assert script.index("setZXingModuleOverrides") < script.index("new lib.BarcodeDetector")
    assert not re.search(r"https?://", script)
