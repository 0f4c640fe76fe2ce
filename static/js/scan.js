// The merchant's scanner: camera, or a photo of the card, decoded in the page with the vendored
// ZXing WebAssembly build (works in WeChat and on phones without Google services). A decoded code
// opens the card at the till: /m/card?ref=<what the QR holds>.
const root = document.getElementById("scanner");
const statusLine = document.getElementById("scan-status");
const errorLine = document.getElementById("scan-error");
const cameraBox = root.querySelector(".camera");
const video = document.getElementById("camera");
const startButton = document.getElementById("camera-start");
const photo = document.getElementById("photo");
const problem = document.getElementById("camera-problem");
const problemText = document.getElementById("camera-why");

let detectorPromise = null;
let stream = null;

function say(text) {
  if (statusLine) statusLine.textContent = text;
}

function fail(text) {
  errorLine.textContent = text;
  errorLine.hidden = false;
}

function detector() {
  // Point the library at our copy of the .wasm before the constructor starts loading it;
  // otherwise it would fetch it from a public CDN.
  if (!detectorPromise) {
    detectorPromise = import(root.dataset.ponyfill).then((lib) => {
      lib.setZXingModuleOverrides({
        locateFile: (path, prefix) => (path.endsWith(".wasm") ? root.dataset.wasm : prefix + path),
      });
      return new lib.BarcodeDetector({ formats: ["qr_code"] });
    });
  }
  return detectorPromise;
}

function open(rawValue) {
  if (stream) stream.getTracks().forEach((track) => track.stop());
  say(root.dataset.found || "…");
  const url = new URL(root.dataset.cardUrl, window.location.href);
  url.searchParams.set("ref", rawValue.trim());
  window.location.assign(url.toString());
}

async function scanLoop(found) {
  const d = await detector();
  let busy = false;
  const tick = async () => {
    if (!stream) return;
    if (!busy && video.readyState >= 2) {
      busy = true;
      try {
        const codes = await d.detect(video);
        if (codes.length) {
          found(codes[0].rawValue);
          return;
        }
      } catch (e) {
        console.warn("detect failed", e);
      }
      busy = false;
    }
    window.setTimeout(tick, 150);
  };
  tick();
}

// Why the camera did not start, by the name of the error getUserMedia gave (or what is missing),
// as the key of a data-why-* message on the scanner. A retry can help only some of them.
const REASONS = {
  NotAllowedError: "whyDenied",
  PermissionDeniedError: "whyDenied",
  SecurityError: "whyDenied",
  NotFoundError: "whyNone",
  DevicesNotFoundError: "whyNone",
  OverconstrainedError: "whyNone",
  NotReadableError: "whyBusy",
  TrackStartError: "whyBusy",
  AbortError: "whyBusy",
};
const RETRYABLE = new Set(["whyDenied", "whyBusy", "whyOther"]);

function cannotStart(reason) {
  if (problem) {
    problemText.textContent = root.dataset[reason] || root.dataset.whyOther;
    problem.hidden = false;
  }
  say("");
  if (startButton) startButton.hidden = !RETRYABLE.has(reason);
  return false;
}

async function startCamera() {
  if (!window.isSecureContext) return cannotStart("whyInsecure");
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return cannotStart("whyUnsupported");
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 } },
      audio: false,
    });
  } catch (e) {
    console.warn("camera refused", e);
    return cannotStart(REASONS[e && e.name] || "whyOther");
  }
  if (problem) problem.hidden = true;
  cameraBox.hidden = false;
  if (startButton) startButton.hidden = true;
  video.srcObject = stream;
  await video.play();
  scanLoop(open);
  return true;
}

photo.addEventListener("change", async () => {
  const file = photo.files && photo.files[0];
  if (!file) return;
  errorLine.hidden = true;
  say(photo.dataset.reading || "…");
  try {
    const codes = await (await detector()).detect(file);
    if (codes.length) {
      open(codes[0].rawValue);
    } else {
      fail(root.dataset.noCode);
    }
  } catch (e) {
    console.warn("photo decode failed", e);
    fail(root.dataset.noCode);
  }
  photo.value = "";
});

if (cameraBox) {
  detector(); // start loading the decoder while the camera warms up
  startCamera();
  if (startButton) startButton.addEventListener("click", startCamera);
}
